"""Provider settings of the delivery channels, kept in the database (set in the portal's
pages, not in configuration): SMS gateways and SMTP servers, platform-wide or for one
estate, in the order they are tried. Their values (API keys, sender ids, passwords) are
one JSON object encrypted as a whole (portal.integrations.keys); the columns say only
what is not secret: which channel, which kind of provider, its place in the list, and
how its last deliveries went."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum, utcnow
from portal.models.estate import Estate


class IntegrationChannel(enum.StrEnum):
    SMS = "SMS"
    EMAIL = "EMAIL"


class IntegrationSetting(TimestampMixin, Base):
    """One provider of a channel. `estate_id` NULL: the platform's (used by every estate
    with none of its own for that channel); else the estate's own list, which replaces
    the platform's. Tried in `position` order (then id)."""

    __tablename__ = "integration_setting"
    __table_args__ = (
        sa.Index("ix_integration_setting_scope", "estate_id", "channel", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"))
    channel: Mapped[IntegrationChannel] = mapped_column(str_enum(IntegrationChannel, 10))
    kind: Mapped[str] = mapped_column(sa.String(30))  # termii | africastalking | twilio | http | smtp
    name: Mapped[str] = mapped_column(sa.String(80), default="", server_default="")
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # A Fernet token (MultiFernet: INTEGRATION_KEYS) of the provider's values as JSON.
    values_encrypted: Mapped[str] = mapped_column(sa.Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # Whose message the last failure was (NULL: a platform message): an estate admin sees
    # the error of a platform provider only when it was their estate's message.
    last_failure_estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estate.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    estate: Mapped[Estate | None] = relationship(foreign_keys=[estate_id])

    def __repr__(self) -> str:
        return f"<IntegrationSetting {self.id} {self.channel} {self.kind} estate={self.estate_id}>"
