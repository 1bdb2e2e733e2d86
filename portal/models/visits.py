"""Visits and the gate: passes with a QR token and a visitor code, gate events, bans."""

from __future__ import annotations

import enum
from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum
from portal.models.people import Unit
from portal.models.user import User


class PassType(enum.StrEnum):
    SINGLE_USE = "SINGLE_USE"  # one entry, one exit
    MULTI_ENTRY = "MULTI_ENTRY"  # max_entries entries within the window
    RECURRING = "RECURRING"  # weekdays + a daily time window, until valid_until
    DELIVERY = "DELIVERY"  # a short window, no name needed


class VisitStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"  # by the host
    REVOKED = "REVOKED"  # by an admin or guard supervisor


class Visit(TimestampMixin, Base):
    """One invitation: host, window, entry count, one QR token, one or more visitors.

    Windows are stored in UTC and judged in the estate's timezone; a RECURRING pass
    is valid on `weekdays` (ISO numbers "12345" = Mon–Fri) between `daily_start` and
    `daily_end` (estate local time) from valid_from to valid_until."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    host_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    pass_type: Mapped[PassType] = mapped_column(str_enum(PassType))
    status: Mapped[VisitStatus] = mapped_column(str_enum(VisitStatus), default=VisitStatus.ACTIVE)
    purpose: Mapped[str] = mapped_column(sa.String(200), default="")
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    weekdays: Mapped[str] = mapped_column(sa.String(7), default="")
    daily_start: Mapped[time | None] = mapped_column(sa.Time())
    daily_end: Mapped[time | None] = mapped_column(sa.Time())
    # NULL = unlimited (RECURRING); the check constraint backs the race-safe admit.
    max_entries: Mapped[int | None]
    entries_used: Mapped[int] = mapped_column(default=0)
    people_inside: Mapped[bool] = mapped_column(default=False)
    qr_token: Mapped[str] = mapped_column(sa.String(64), unique=True)  # >= 128 random bits
    visitor_code: Mapped[str] = mapped_column(sa.String(8))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    unit: Mapped[Unit] = relationship()
    host: Mapped[User | None] = relationship(foreign_keys=[host_user_id])
    visitors: Mapped[list[VisitGuest]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitGuest.id"
    )

    __table_args__ = (
        sa.UniqueConstraint("estate_id", "visitor_code"),
        sa.CheckConstraint("max_entries IS NULL OR entries_used <= max_entries", name="entries_within_max"),
        sa.Index("ix_visit_estate_status_until", "estate_id", "status", "valid_until"),
        sa.Index("ix_visit_estate_from", "estate_id", "valid_from"),
        sa.Index("ix_visit_estate_inside", "estate_id", "people_inside"),  # inside now, the log's INSIDE
    )


class VisitGuest(Base):
    """A visitor named on a visit (a DELIVERY may have an unnamed one)."""

    __tablename__ = "visit_guest"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    full_name: Mapped[str] = mapped_column(sa.String(160), default="")
    phone: Mapped[str | None] = mapped_column(sa.String(20))  # E.164
    plate: Mapped[str | None] = mapped_column(sa.String(20))  # upper-case, no spaces

    visit: Mapped[Visit] = relationship(back_populates="visitors")

    __table_args__ = (sa.Index("ix_visit_guest_estate_phone", "estate_id", "phone"),)


class GateEventType(enum.StrEnum):
    ENTRY = "ENTRY"
    EXIT = "EXIT"
    DENIED = "DENIED"


class GateMethod(enum.StrEnum):
    QR = "QR"
    CODE = "CODE"
    SEARCH = "SEARCH"
    OFFLINE = "OFFLINE"


class GateEvent(Base):
    """Every scan at a gate, admitted or denied, with who, where, how and why."""

    __tablename__ = "gate_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    guard_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    event_type: Mapped[GateEventType] = mapped_column(str_enum(GateEventType))
    method: Mapped[GateMethod] = mapped_column(str_enum(GateMethod))
    reason: Mapped[str | None] = mapped_column(sa.String(40))  # e.g. PASS_EXPIRED for a denial
    gate: Mapped[str] = mapped_column(sa.String(60), default="")
    device_id: Mapped[str | None] = mapped_column(sa.String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Offline scans are replayed once: the device's own id for the event.
    client_event_id: Mapped[str | None] = mapped_column(sa.String(100))

    visit: Mapped[Visit | None] = relationship()

    __table_args__ = (
        # An offline scan is replayed once; live scans (no client id) cost this index nothing.
        sa.Index("uq_gate_event_estate_id_client_event_id", "estate_id", "client_event_id", unique=True,
                 postgresql_where=sa.text("client_event_id IS NOT NULL"),
                 sqlite_where=sa.text("client_event_id IS NOT NULL")),
        sa.Index("ix_gate_event_estate_occurred", "estate_id", "occurred_at"),
        sa.Index("ix_gate_event_estate_type_occurred", "estate_id", "event_type", "occurred_at"),
        sa.Index("ix_gate_event_guard_occurred", "guard_user_id", "occurred_at"),  # the log's guard filter
    )


class BanScope(enum.StrEnum):
    PERSONAL = "PERSONAL"  # a resident's own ban: refuses their invitations
    ESTATE = "ESTATE"  # estate-wide, by an admin or guard supervisor


class Ban(TimestampMixin, Base):
    """A phone-keyed ban, as in SafeGuard: personal or estate-wide, optional expiry."""

    __tablename__ = "ban"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    phone: Mapped[str] = mapped_column(sa.String(20))  # E.164
    scope: Mapped[BanScope] = mapped_column(str_enum(BanScope))
    owner_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))  # PERSONAL
    severity: Mapped[str] = mapped_column(sa.String(10), default="MEDIUM")  # LOW | MEDIUM | HIGH
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    __table_args__ = (sa.Index("ix_ban_estate_phone", "estate_id", "phone"),)


class FrequentVisitor(TimestampMixin, Base):
    """A resident's saved visitor, for a one-tap re-invite."""

    __tablename__ = "frequent_visitor"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    host_user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    full_name: Mapped[str] = mapped_column(sa.String(160))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    plate: Mapped[str | None] = mapped_column(sa.String(20))
    purpose: Mapped[str] = mapped_column(sa.String(200), default="")
