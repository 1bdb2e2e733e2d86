"""Walk-in requests, guard incidents, in-app notifications and kiosk API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum
from portal.models.people import Unit
from portal.models.user import User
from portal.models.visits import Visit


class WalkInStatus(enum.StrEnum):
    PENDING = "PENDING"  # the guard asked; the host has not answered
    APPROVED = "APPROVED"  # the host let them in: `visit_id` is their single-use pass
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"  # the guard withdrew it (the visitor left)
    EXPIRED = "EXPIRED"  # nobody answered in time


class WalkIn(TimestampMixin, Base):
    """An unannounced visitor at the gate, waiting for a resident of the unit to answer.

    On approval a SINGLE_USE visit is created for them and linked here, so the entry
    goes through the same gate rules as every other pass."""

    __tablename__ = "walk_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    guard_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    gate: Mapped[str] = mapped_column(sa.String(60), default="")
    visitor_name: Mapped[str] = mapped_column(sa.String(160))
    phone: Mapped[str | None] = mapped_column(sa.String(20))  # E.164
    plate: Mapped[str | None] = mapped_column(sa.String(20))
    purpose: Mapped[str] = mapped_column(sa.String(200), default="")
    people_count: Mapped[int] = mapped_column(default=1)
    status: Mapped[WalkInStatus] = mapped_column(str_enum(WalkInStatus), default=WalkInStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"))

    unit: Mapped[Unit] = relationship()
    guard: Mapped[User | None] = relationship(foreign_keys=[guard_user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    visit: Mapped[Visit | None] = relationship()

    __table_args__ = (
        sa.Index("ix_walk_in_estate_status_created", "estate_id", "status", "created_at"),
        sa.Index("ix_walk_in_unit_status", "unit_id", "status"),
        sa.Index("ix_walk_in_estate_created", "estate_id", "created_at"),  # the day's walk-ins, any status
    )


class IncidentType(enum.StrEnum):
    SUSPICIOUS_PERSON = "SUSPICIOUS_PERSON"
    FORCED_ENTRY = "FORCED_ENTRY"
    VEHICLE = "VEHICLE"
    DAMAGE = "DAMAGE"
    MEDICAL = "MEDICAL"
    FIRE = "FIRE"
    OTHER = "OTHER"


class Incident(TimestampMixin, Base):
    """Something a guard logged at the gate, with an optional photo (kept in the row)."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    gate: Mapped[str] = mapped_column(sa.String(60), default="")
    incident_type: Mapped[IncidentType] = mapped_column(str_enum(IncidentType))
    description: Mapped[str] = mapped_column(sa.Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    photo: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    photo_type: Mapped[str | None] = mapped_column(sa.String(40))  # image/jpeg, image/png, image/webp

    reported_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_incident_estate_occurred", "estate_id", "occurred_at"),)


class Notification(Base):
    """An in-app notification. The text is made when shown, in the reader's language,
    from `kind` and `params`; `link` is a path inside the portal."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estate.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))  # visitor_arrived, walk_in_request, …
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    link: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.Index("ix_notification_user_read_created", "user_id", "read_at", "created_at"),)


class KioskToken(Base):
    """A bearer token issued to a guard's gate device by POST /api/v1/kiosk/token.
    The JWT carries `jti`; a token is good while its row is unrevoked and unexpired."""

    __tablename__ = "kiosk_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(sa.String(64), unique=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    membership_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    device_id: Mapped[str] = mapped_column(sa.String(100))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
