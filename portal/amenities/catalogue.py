"""The estate's amenities (create, edit, open/close) and their closures (blackouts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal import audit
from portal.amenities.schedule import HoursError, local_moment, parse_ranges
from portal.errors import FieldErrors, NotFound
from portal.extensions import db
from portal.models import (
    Amenity,
    AmenityClosure,
    AmenityStatus,
    AmenityType,
    Estate,
    FeeMode,
    User,
)

NAME_MAX = 120
TEXT_MAX = 4000
REASON_MAX = 200


@dataclass
class AmenityData:
    name: str
    amenity_type: AmenityType = AmenityType.OTHER
    description: str = ""
    rules: str = ""
    capacity: int = 1
    exclusive: bool = True
    hours: dict[str, str] = field(default_factory=dict)  # "0".."6" → "08:00-12:00, 14:00-20:00"
    slot_minutes: int = 60
    min_minutes: int = 60
    max_minutes: int = 120
    advance_days: int = 30
    cancel_cutoff_hours: int = 0
    late_cancel_keeps_fee: bool = False
    fee_mode: FeeMode = FeeMode.FREE
    fee_minor: int = 0
    deposit_minor: int = 0
    requires_approval: bool = False
    max_bookings_week: int | None = None
    max_bookings_month: int | None = None
    max_hours_week: int | None = None
    max_guests: int = 0
    status: AmenityStatus = AmenityStatus.AVAILABLE


def _check(data: AmenityData) -> dict[str, list[list[str]]]:
    errors: dict = {}
    if not data.name.strip():
        errors["name"] = _l("This field is required.")
    elif len(data.name.strip()) > NAME_MAX:
        errors["name"] = _l("Use at most %(max)d characters.", max=NAME_MAX)
    for key in ("description", "rules"):
        if len(getattr(data, key)) > TEXT_MAX:
            errors[key] = _l("Use at most %(max)d characters.", max=TEXT_MAX)
    if data.capacity < 1:
        errors["capacity"] = _l("At least one person must fit.")
    if data.slot_minutes < 5 or data.slot_minutes > 24 * 60:
        errors["slot_minutes"] = _l("A slot lasts between 5 minutes and 24 hours.")
    elif data.min_minutes < data.slot_minutes or data.min_minutes % data.slot_minutes:
        errors["min_minutes"] = _l("The shortest booking is a whole number of slots.")
    elif data.max_minutes < data.min_minutes or data.max_minutes % data.slot_minutes:
        errors["max_minutes"] = _l("The longest booking is a whole number of slots, no shorter than the shortest.")
    if data.advance_days < 0 or data.advance_days > 730:
        errors["advance_days"] = _l("Enter a number of days between 0 and 730.")
    if data.cancel_cutoff_hours < 0 or data.cancel_cutoff_hours > 24 * 60:
        errors["cancel_cutoff_hours"] = _l("Enter a number of hours between 0 and 1440.")
    if data.fee_minor < 0:
        errors["fee"] = _l("The amount cannot be negative.")
    elif data.fee_mode != FeeMode.FREE and data.fee_minor == 0:
        errors["fee"] = _l("Enter the fee, or choose Free.")
    if data.deposit_minor < 0:
        errors["deposit"] = _l("The amount cannot be negative.")
    for key in ("max_bookings_week", "max_bookings_month", "max_hours_week"):
        value = getattr(data, key)
        if value is not None and value < 1:
            errors[key] = _l("Leave it empty for no limit, or enter 1 or more.")
    if data.max_guests < 0:
        errors["max_guests"] = _l("The amount cannot be negative.")
    hours: dict[str, list[list[str]]] = {}
    for day in range(7):
        try:
            hours[str(day)] = parse_ranges(data.hours.get(str(day), ""))
        except HoursError as exc:
            errors[f"hours_{day}"] = _l("Write the hours as 08:00-12:00, 14:00-20:00 (could not read “%(part)s”).",
                                        part=str(exc))
    if not errors and not any(hours.values()):
        errors["hours_0"] = _l("Give the opening hours of at least one day.")
    if errors:
        raise FieldErrors(errors)
    return hours


def snapshot(amenity: Amenity) -> dict:
    return {
        "name": amenity.name, "type": amenity.amenity_type.value, "capacity": amenity.capacity,
        "exclusive": amenity.exclusive, "opening_hours": amenity.opening_hours, "slot_minutes": amenity.slot_minutes,
        "min_minutes": amenity.min_minutes, "max_minutes": amenity.max_minutes, "advance_days": amenity.advance_days,
        "cancel_cutoff_hours": amenity.cancel_cutoff_hours, "late_cancel_keeps_fee": amenity.late_cancel_keeps_fee,
        "fee_mode": amenity.fee_mode.value, "fee_minor": amenity.fee_minor, "deposit_minor": amenity.deposit_minor,
        "currency": amenity.currency, "requires_approval": amenity.requires_approval,
        "max_bookings_week": amenity.max_bookings_week, "max_bookings_month": amenity.max_bookings_month,
        "max_hours_week": amenity.max_hours_week, "max_guests": amenity.max_guests, "status": amenity.status.value,
        "description": amenity.description, "rules": amenity.rules,
    }


def _apply(amenity: Amenity, data: AmenityData, hours: dict) -> None:
    amenity.name = data.name.strip()
    amenity.amenity_type = data.amenity_type
    amenity.description = data.description.strip()
    amenity.rules = data.rules.strip()
    amenity.capacity = data.capacity
    amenity.exclusive = data.exclusive
    amenity.opening_hours = hours
    amenity.slot_minutes, amenity.min_minutes, amenity.max_minutes = (data.slot_minutes, data.min_minutes,
                                                                      data.max_minutes)
    amenity.advance_days = data.advance_days
    amenity.cancel_cutoff_hours = data.cancel_cutoff_hours
    amenity.late_cancel_keeps_fee = data.late_cancel_keeps_fee
    amenity.fee_mode = data.fee_mode
    amenity.fee_minor = 0 if data.fee_mode == FeeMode.FREE else data.fee_minor
    amenity.deposit_minor = data.deposit_minor
    amenity.requires_approval = data.requires_approval
    amenity.max_bookings_week = data.max_bookings_week
    amenity.max_bookings_month = data.max_bookings_month
    amenity.max_hours_week = data.max_hours_week
    amenity.max_guests = data.max_guests
    amenity.status = data.status


def create_amenity(actor: User, estate: Estate, data: AmenityData) -> Amenity:
    hours = _check(data)
    amenity = Amenity(estate_id=estate.id, currency=estate.currency)
    _apply(amenity, data, hours)
    db.session.add(amenity)
    db.session.flush()
    audit.record("amenity.created", amenity, actor_id=actor.id, after=snapshot(amenity))
    db.session.commit()
    return amenity


def update_amenity(actor: User, estate: Estate, amenity_id: int, data: AmenityData) -> Amenity:
    amenity = get_amenity(estate, amenity_id)
    hours = _check(data)
    before = snapshot(amenity)
    _apply(amenity, data, hours)
    after = snapshot(amenity)
    if after != before:
        audit.record("amenity.updated", amenity, actor_id=actor.id, before=before, after=after)
    db.session.commit()
    return amenity


def set_status(actor: User, estate: Estate, amenity_id: int, status: AmenityStatus) -> Amenity:
    amenity = get_amenity(estate, amenity_id)
    if amenity.status != status:
        before = amenity.status.value
        amenity.status = status
        audit.record("amenity.opened" if status == AmenityStatus.AVAILABLE else "amenity.closed", amenity,
                     actor_id=actor.id, before={"name": amenity.name, "status": before},
                     after={"name": amenity.name, "status": status.value})
        db.session.commit()
    return amenity


def get_amenity(estate: Estate, amenity_id: int) -> Amenity:
    amenity = db.session.scalar(sa.select(Amenity).where(Amenity.id == amenity_id, Amenity.estate_id == estate.id))
    if amenity is None:
        raise NotFound()
    return amenity


def list_amenities(estate: Estate, *, available_only: bool = False) -> list[Amenity]:
    stmt = sa.select(Amenity).where(Amenity.estate_id == estate.id)
    if available_only:
        stmt = stmt.where(Amenity.status == AmenityStatus.AVAILABLE)
    return list(db.session.scalars(stmt.order_by(Amenity.name, Amenity.id)))


# --- closures ---------------------------------------------------------------------------------


@dataclass
class ClosureData:
    start_day: date | None
    end_day: date | None  # inclusive
    start_time: str = ""  # "HH:MM", empty: the whole day
    end_time: str = ""
    reason: str = ""


def add_closure(actor: User, estate: Estate, amenity_id: int, data: ClosureData, tz) -> AmenityClosure:
    """Close an amenity from start_day (start_time) to end_day (end_time), local times."""
    from portal.amenities.schedule import to_minutes

    amenity = get_amenity(estate, amenity_id)
    errors: dict = {}
    reason = data.reason.strip()
    if not reason:
        errors["reason"] = _l("Say why, for the residents: it is shown to them.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _l("Use at most %(max)d characters.", max=REASON_MAX)
    if data.start_day is None:
        errors["start_day"] = _l("This field is required.")
    end_day = data.end_day or data.start_day
    try:
        start_min = to_minutes(data.start_time) if data.start_time.strip() else 0
        end_min = to_minutes(data.end_time) if data.end_time.strip() else 24 * 60
    except HoursError:
        errors["start_time"] = _l("Enter times as HH:MM.")
        start_min, end_min = 0, 24 * 60
    starts_at = ends_at = None
    if data.start_day is not None and "start_time" not in errors:
        starts_at = local_moment(data.start_day, start_min, tz)
        ends_at = local_moment(end_day, end_min, tz)
        if ends_at <= starts_at:
            errors["end_day"] = _l("The closure must end after it starts.")
    if errors:
        raise FieldErrors(errors)
    closure = AmenityClosure(estate_id=estate.id, amenity_id=amenity.id, starts_at=starts_at, ends_at=ends_at,
                             reason=reason, created_by_id=actor.id)
    db.session.add(closure)
    db.session.flush()
    audit.record("amenity.closure_added", closure, actor_id=actor.id,
                 after={"name": amenity.name, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                        "reason": reason})
    db.session.commit()
    return closure


def remove_closure(actor: User, estate: Estate, amenity_id: int, closure_id: int) -> None:
    amenity = get_amenity(estate, amenity_id)
    closure = db.session.scalar(sa.select(AmenityClosure).where(
        AmenityClosure.id == closure_id, AmenityClosure.amenity_id == amenity.id,
        AmenityClosure.estate_id == estate.id))
    if closure is None:
        raise NotFound()
    audit.record("amenity.closure_removed", closure, actor_id=actor.id,
                 before={"name": amenity.name, "starts_at": closure.starts_at.isoformat(),
                         "ends_at": closure.ends_at.isoformat(), "reason": closure.reason})
    db.session.delete(closure)
    db.session.commit()


def closures_of(amenity: Amenity, now: datetime) -> list[AmenityClosure]:
    """The closures not over yet, soonest first."""
    return list(db.session.scalars(sa.select(AmenityClosure).where(
        AmenityClosure.amenity_id == amenity.id, AmenityClosure.ends_at > now).order_by(AmenityClosure.starts_at)))

