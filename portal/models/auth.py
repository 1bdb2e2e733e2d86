from __future__ import annotations

import enum
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum, utcnow
from portal.models.user import User


class OneTimeCode(TimestampMixin, Base):
    """A 6-digit sign-in code sent by SMS; only its hash is kept."""

    __tablename__ = "one_time_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class PasswordResetToken(TimestampMixin, Base):
    """A single-use password reset link; only the token's hash is kept."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class MessageStatus(enum.StrEnum):
    QUEUED = "QUEUED"  # waiting for a worker (first try, or a retry once next_attempt_at is due)
    SENDING = "SENDING"  # claimed by a worker until next_attempt_at (then it counts as lost)
    SENT = "SENT"  # the provider took it (provider_message_id)
    FAILED = "FAILED"  # given up: last_error says why


# A message nobody picked up within this long is found by the sweep (portal.integrations.delivery).
SWEEP_AFTER = timedelta(minutes=1)


def _sweep_deadline() -> datetime:
    return utcnow() + SWEEP_AFTER


class OutboxMessage(TimestampMixin, Base):
    """Every email and SMS the portal sends, written in the transaction of the change it
    tells of and delivered by a worker after the commit (portal.integrations.delivery).
    Subject and body are written in the recipient's language; `language`, `estate_id`
    and `reason` let the worker frame an email (estate name and colour, why it was sent)."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.Index("ix_outbox_message_status_next_attempt", "status", "next_attempt_at"),
        # The latest sign-in codes, and one number's (portal.accounts.signin.code_delivery):
        # over sign-in codes only, so the other messages (a gate scan's notices among them)
        # cost these indexes nothing.
        sa.Index("ix_outbox_message_sign_in_created", "created_at",
                 postgresql_where=sa.text("reason = 'sign_in_code'"), sqlite_where=sa.text("reason = 'sign_in_code'")),
        sa.Index("ix_outbox_message_sign_in_recipient", "recipient",
                 postgresql_where=sa.text("reason = 'sign_in_code'"), sqlite_where=sa.text("reason = 'sign_in_code'")),
        # The delivery log (portal.integrations.delivery_log): an estate's messages newest
        # first and by date, the same filtered by status (what failed), the platform's.
        sa.Index("ix_outbox_message_estate_created", "estate_id", "created_at"),
        sa.Index("ix_outbox_message_estate_status_created", "estate_id", "status", "created_at"),
        sa.Index("ix_outbox_message_created", "created_at"),
        # Test messages only (the foreign key's ON DELETE): the other rows, a gate scan's
        # notices among them, cost this index nothing.
        sa.Index("ix_outbox_message_provider_setting_id", "provider_setting_id",
                 postgresql_where=sa.text("provider_setting_id IS NOT NULL"),
                 sqlite_where=sa.text("provider_setting_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10))  # EMAIL | SMS
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estate.id"))
    language: Mapped[str] = mapped_column(sa.String(8), default="", server_default="")
    reason: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus, 10), default=MessageStatus.QUEUED,
                                                  server_default=MessageStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # QUEUED: when the sweep may (re)try it; SENDING: when the worker's claim lapses.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=_sweep_deadline)
    provider: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(255))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A test message from the integration status page: sent through this provider only.
    provider_setting_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("integration_setting.id", ondelete="SET NULL"))
