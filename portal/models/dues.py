"""Dues follow-up: the payment reminders sent (once per invoice and step) and the admin's
overrides of a unit's dues-linked restriction."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.people import Unit


class PaymentReminder(Base):
    """One reminder step of one invoice, sent once: the row is claimed (INSERT … ON CONFLICT
    DO NOTHING on the unique pair) in the transaction that writes the messages, so two runs
    at once, or a run repeated, send nothing twice."""

    __tablename__ = "payment_reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(sa.String(20))  # portal.billing.reminders.STEPS
    messages: Mapped[int] = mapped_column(default=0, server_default="0")  # 0: nobody to tell (or no wish)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("invoice_id", "step"),)


class DuesOverride(Base):
    """An admin lifting a unit's dues-linked restriction, with a reason, until a day (or
    until ended). At most one in force per unit (ended_at NULL)."""

    __tablename__ = "dues_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    reason: Mapped[str] = mapped_column(sa.String(300))
    until: Mapped[date | None] = mapped_column(sa.Date())  # inclusive, in the estate's time zone
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    unit: Mapped[Unit] = relationship()

    __table_args__ = (
        sa.Index("uq_dues_override_unit_open", "unit_id", unique=True,
                 postgresql_where=sa.text("ended_at IS NULL"), sqlite_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_dues_override_unit_created", "unit_id", "created_at"),
    )
