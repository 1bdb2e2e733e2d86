"""Amenities (pool, hall, court…) with their rules, closures, and the bookings of them.

Times are stored in UTC; opening hours are local times of the estate's timezone (judged
there). Fees are integer minor units in the estate's currency. Two bookings of an
exclusive amenity never overlap: the booking service takes a row lock on the amenity
(`lock_seq` is bumped first thing in its transaction), and on PostgreSQL an exclusion
constraint on tstzrange(starts_at, ends_at) backs it (migration 0020_amenities)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum, utcnow
from portal.models.people import Unit
from portal.models.user import User

Money = sa.BigInteger


class AmenityType(enum.StrEnum):
    POOL = "POOL"
    HALL = "HALL"
    GYM = "GYM"
    COURT = "COURT"
    BBQ = "BBQ"
    OTHER = "OTHER"


class AmenityStatus(enum.StrEnum):
    AVAILABLE = "AVAILABLE"
    CLOSED = "CLOSED"


class FeeMode(enum.StrEnum):
    FREE = "FREE"
    PER_HOUR = "PER_HOUR"
    PER_DAY = "PER_DAY"  # each day of the estate's calendar the booking touches
    FLAT = "FLAT"  # once per booking


class BookingStatus(enum.StrEnum):
    PENDING = "PENDING"  # waits for an admin's approval
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


# The bookings that hold their time (and count towards a unit's limits).
HOLDING = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class Amenity(TimestampMixin, Base):
    __tablename__ = "amenity"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    name: Mapped[str] = mapped_column(sa.String(120))
    amenity_type: Mapped[AmenityType] = mapped_column(str_enum(AmenityType), default=AmenityType.OTHER)
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    rules: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    capacity: Mapped[int] = mapped_column(default=1)  # people at once
    exclusive: Mapped[bool] = mapped_column(default=True)  # one booking at a time; else shared up to capacity
    # {"0": [["08:00", "12:00"], ["14:00", "20:00"]], …, "6": []}: Monday = "0", local times.
    opening_hours: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    slot_minutes: Mapped[int] = mapped_column(default=60)
    min_minutes: Mapped[int] = mapped_column(default=60)
    max_minutes: Mapped[int] = mapped_column(default=120)
    advance_days: Mapped[int] = mapped_column(default=30)  # how far ahead a booking may start
    cancel_cutoff_hours: Mapped[int] = mapped_column(default=0)  # residents cancel up to this before the start
    late_cancel_keeps_fee: Mapped[bool] = mapped_column(default=False)  # after the cutoff: allowed, fee kept
    fee_mode: Mapped[FeeMode] = mapped_column(str_enum(FeeMode), default=FeeMode.FREE)
    fee_minor: Mapped[int] = mapped_column(Money, default=0)
    deposit_minor: Mapped[int] = mapped_column(Money, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    requires_approval: Mapped[bool] = mapped_column(default=False)
    max_bookings_week: Mapped[int | None]  # per unit
    max_bookings_month: Mapped[int | None]
    max_hours_week: Mapped[int | None]
    max_guests: Mapped[int] = mapped_column(default=0)
    status: Mapped[AmenityStatus] = mapped_column(str_enum(AmenityStatus), default=AmenityStatus.AVAILABLE)
    lock_seq: Mapped[int] = mapped_column(default=0, server_default="0")  # bumped to lock the row

    __table_args__ = (
        sa.Index("ix_amenity_estate_status", "estate_id", "status"),
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint("slot_minutes >= 5 AND min_minutes >= slot_minutes AND max_minutes >= min_minutes",
                           name="lengths"),
        sa.CheckConstraint("fee_minor >= 0 AND deposit_minor >= 0", name="money_not_negative"),
    )

    @property
    def is_open(self) -> bool:
        return self.status == AmenityStatus.AVAILABLE


class AmenityClosure(Base):
    """A blackout: the amenity cannot be booked in [starts_at, ends_at) — maintenance, a
    holiday. The reason is shown to residents."""

    __tablename__ = "amenity_closure"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    amenity_id: Mapped[int] = mapped_column(sa.ForeignKey("amenity.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.String(200))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.Index("ix_amenity_closure_amenity_start", "amenity_id", "starts_at"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )


class Booking(Base):
    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    amenity_id: Mapped[int] = mapped_column(sa.ForeignKey("amenity.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)  # who booked
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    guests: Mapped[int] = mapped_column(default=0)
    places: Mapped[int] = mapped_column(default=1)  # people it brings: the resident and their guests
    # A copy of the amenity's `exclusive` when booked: the exclusion constraint reads it.
    exclusive: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus))
    fee_minor: Mapped[int] = mapped_column(Money, default=0)
    deposit_minor: Mapped[int] = mapped_column(Money, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    unit_charge_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit_charge.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")  # rejection/cancellation
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    amenity: Mapped[Amenity] = relationship()
    unit: Mapped[Unit] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        # The day grid, the overlap check and the calendar: an amenity's bookings by time.
        sa.Index("ix_booking_amenity_start", "amenity_id", "starts_at"),
        # A unit's limits and "my bookings".
        sa.Index("ix_booking_unit_start", "unit_id", "starts_at"),
        # The admin's list (filters by status and time), the gate's "today", reminders.
        sa.Index("ix_booking_estate_status_start", "estate_id", "status", "starts_at"),
        sa.Index("ix_booking_estate_start", "estate_id", "starts_at"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("guests >= 0 AND places >= 1", name="people"),
        sa.CheckConstraint("fee_minor >= 0 AND deposit_minor >= 0", name="money_not_negative"),
    )

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDING


class AmenityPhoto(Base):
    """A photo of an amenity (at most five), kept in the database like payment proofs and
    the estate's logo: every app server sees it, and it goes with the backups. The bytes
    are a JPEG, PNG or WebP image judged by Pillow (portal.amenities.photos)."""

    __tablename__ = "amenity_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    amenity_id: Mapped[int] = mapped_column(sa.ForeignKey("amenity.id", ondelete="CASCADE"))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))  # image/jpeg, image/png, image/webp
    size: Mapped[int]
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        # An amenity's photos in order; the photo route looks one up by (estate, id).
        sa.Index("ix_amenity_photo_amenity", "amenity_id", "id"),
        sa.Index("ix_amenity_photo_estate", "estate_id", "id"),
    )
