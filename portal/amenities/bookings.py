"""Booking an amenity: every rule checked here, on the server, each refusal a translated
sentence; the race for the last place decided in the database; approval, cancellation,
the outcome; the fee as a one-off charge to the unit.

The race: `book` first bumps the amenity's `lock_seq` (an UPDATE, so a row lock held to
the end of the transaction on PostgreSQL, and the write lock of the whole database on
SQLite), then checks the room left and inserts. A second booking of the same amenity
waits for the first to commit and then sees it. On PostgreSQL an exclusion constraint
backs exclusive amenities (migration 0020_amenities): an overlap that got past the lock
would fail there, and is answered like a taken slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from portal import audit
from portal.amenities import availability, notices
from portal.amenities.catalogue import get_amenity
from portal.amenities.schedule import (
    Slot,
    day_ranges,
    fee_for,
    fits_hours,
    hhmm,
    local_moment,
    month_bounds,
    week_start,
)
from portal.billing.restrictions import Restriction, restriction_for
from portal.errors import Conflict, FieldErrors, NotFound
from portal.extensions import db
from portal.models import (
    HOLDING,
    Amenity,
    Booking,
    BookingStatus,
    Estate,
    Resident,
    Unit,
    UnitCharge,
    User,
    utcnow,
)

NOTES_MAX = 500
REASON_MAX = 300
PER_PAGE = 20
# What counts towards a unit's limits: bookings that hold their time or were used.
COUNTED = (*HOLDING, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


class BookingRefused(Conflict):
    """A rule of the amenity says no; `message` says which and why."""

    code = "BOOKING_REFUSED"


class SlotTaken(Conflict):
    """The time is no longer free (someone else got there first). `alternatives`: the
    next times where the same booking fits."""

    code = "SLOT_TAKEN"

    def __init__(self, alternatives: list[Slot]):
        super().__init__(_l("Sorry, that time was just taken by someone else. Nothing was booked."))
        self.alternatives = alternatives


@dataclass
class BookingRequest:
    starts_at: datetime | None
    ends_at: datetime | None
    guests: int = 0
    notes: str = ""
    unit_id: int | None = None


@dataclass(frozen=True)
class Quote:
    amenity: Amenity
    unit: Unit
    starts_at: datetime
    ends_at: datetime
    guests: int
    places: int
    fee_minor: int
    deposit_minor: int
    currency: str
    needs_approval: bool
    notes: str


def estate_zone(estate: Estate) -> ZoneInfo:
    return ZoneInfo(estate.timezone)


def duration_text(minutes: int):
    """"2 hours" or "90 minutes", lazy (read in the language of whoever reads it)."""
    if minutes % 60 == 0:
        return lazy_ngettext("%(num)d hour", "%(num)d hours", minutes // 60)
    return lazy_ngettext("%(num)d minute", "%(num)d minutes", minutes)


# --- the dues restriction (one call site) ---------------------------------------------------


def dues_restriction(unit: Unit, now: datetime | None = None) -> Restriction | None:
    """The single place where a unit in arrears is refused a booking: its dues restriction
    (portal.billing.restrictions: only when the estate turned the rule on, after the grace
    period, and unless an admin lifted it), or None."""
    restriction = restriction_for(unit, now)
    return restriction if restriction is not None and restriction.restricted else None


# --- who books for which unit ----------------------------------------------------------------


def resident_units(user: User, estate: Estate) -> list[Unit]:
    """The units the user lives in, in this estate (one query)."""
    return list(db.session.scalars(
        sa.select(Unit).join(Resident, Resident.unit_id == Unit.id)
        .where(Unit.estate_id == estate.id, Resident.estate_id == estate.id, Resident.user_id == user.id,
               Resident.move_out_date.is_(None), Unit.archived_at.is_(None))
        .order_by(Unit.block, Unit.sort_key).distinct()))


def _unit_ids(user: User, estate: Estate):
    return sa.select(Resident.unit_id).where(Resident.estate_id == estate.id, Resident.user_id == user.id,
                                             Resident.move_out_date.is_(None))


def _unit_for(user: User, estate: Estate, unit_id: int | None) -> Unit:
    units = resident_units(user, estate)
    if not units:
        raise BookingRefused(_l("You are not linked to a unit yet. Ask your estate's admin to add you to "
                                "your household."))
    unit = units[0] if unit_id is None else next((u for u in units if u.id == unit_id), None)
    if unit is None:
        raise FieldErrors({"unit_id": _l("Choose one of your units.")})
    return unit


# --- the rules ---------------------------------------------------------------------------------


def _check_request(amenity: Amenity, req: BookingRequest) -> tuple[datetime, datetime, str]:
    errors: dict = {}
    if req.starts_at is None or req.ends_at is None:
        errors["slots"] = _l("Choose a time: tap one slot, or several next to each other.")
    if req.guests < 0:
        errors["guests"] = _l("The number of guests cannot be negative.")
    notes = (req.notes or "").strip()
    if len(notes) > NOTES_MAX:
        errors["notes"] = _l("Use at most %(max)d characters.", max=NOTES_MAX)
    if errors:
        raise FieldErrors(errors)
    return req.starts_at, req.ends_at, notes


def _check_rules(amenity: Amenity, unit: Unit, starts_at: datetime, ends_at: datetime, guests: int,
                 now: datetime, tz: ZoneInfo) -> None:
    """Every rule but the room left; raises BookingRefused with the reason."""
    name = amenity.name
    if not amenity.is_open:
        raise BookingRefused(_l("%(name)s is closed for bookings at the moment.", name=name))
    if starts_at <= now:
        raise BookingRefused(_l("That time has passed. Choose a later one."))
    if starts_at > now + timedelta(days=amenity.advance_days):
        raise BookingRefused(lazy_ngettext("%(name)s can be booked at most %(num)d day ahead.",
                                "%(name)s can be booked at most %(num)d days ahead.", amenity.advance_days,
                                name=name))
    if not fits_hours(amenity, starts_at, ends_at, tz):
        local = starts_at.astimezone(tz).date()
        ranges = ", ".join(f"{hhmm(s)}–{hhmm(e)}" for s, e in day_ranges(amenity, local))
        if not ranges:
            raise BookingRefused(_l("%(name)s is not open that day.", name=name))
        raise BookingRefused(_l("%(name)s is open %(hours)s that day, in slots of %(slot)s. Choose a time "
                                "inside those hours.", name=name, hours=ranges,
                                slot=duration_text(amenity.slot_minutes)))
    minutes = int((ends_at - starts_at).total_seconds()) // 60
    if minutes < amenity.min_minutes:
        raise BookingRefused(_l("Book %(name)s for at least %(length)s.", name=name,
                                length=duration_text(amenity.min_minutes)))
    if minutes > amenity.max_minutes:
        raise BookingRefused(_l("Book %(name)s for at most %(length)s.", name=name,
                                length=duration_text(amenity.max_minutes)))
    if guests > amenity.max_guests:
        if amenity.max_guests == 0:
            raise BookingRefused(_l("%(name)s takes no guests: come on your own.", name=name))
        raise BookingRefused(lazy_ngettext("You may bring at most %(num)d guest to %(name)s.",
                                "You may bring at most %(num)d guests to %(name)s.", amenity.max_guests, name=name))
    if 1 + guests > amenity.capacity:
        raise BookingRefused(lazy_ngettext("%(name)s holds at most %(num)d person at once.",
                                "%(name)s holds at most %(num)d people at once.", amenity.capacity, name=name))
    closure = next(iter(availability.busy_closures(amenity, starts_at, ends_at)), None)
    if closure is not None:
        raise BookingRefused(_l("%(name)s is closed then: %(reason)s", name=name, reason=closure.reason))
    restriction = dues_restriction(unit, now)
    if restriction is not None:
        raise BookingRefused(restriction.booking_refusal)
    _check_limits(amenity, unit, starts_at, minutes, tz)


def _check_limits(amenity: Amenity, unit: Unit, starts_at: datetime, minutes: int, tz: ZoneInfo) -> None:
    if not (amenity.max_bookings_week or amenity.max_bookings_month or amenity.max_hours_week):
        return
    local = starts_at.astimezone(tz).date()
    monday = week_start(local)
    month_first, month_next = month_bounds(local)
    week = (local_moment(monday, 0, tz), local_moment(monday + timedelta(days=7), 0, tz))
    month = (local_moment(month_first, 0, tz), local_moment(month_next, 0, tz))
    rows = db.session.execute(sa.select(Booking.starts_at, Booking.ends_at).where(
        Booking.amenity_id == amenity.id, Booking.unit_id == unit.id, Booking.status.in_(COUNTED),
        Booking.starts_at >= min(week[0], month[0]), Booking.starts_at < max(week[1], month[1]))).all()
    in_week = [(s, e) for s, e in rows if week[0] <= s < week[1]]
    in_month = [(s, e) for s, e in rows if month[0] <= s < month[1]]
    name = amenity.name
    if amenity.max_bookings_week and len(in_week) >= amenity.max_bookings_week:
        raise BookingRefused(lazy_ngettext("Your unit already has %(num)d booking of %(name)s that week, the most allowed.",
                                "Your unit already has %(num)d bookings of %(name)s that week, the most allowed.",
                                len(in_week), name=name))
    if amenity.max_bookings_month and len(in_month) >= amenity.max_bookings_month:
        raise BookingRefused(lazy_ngettext("Your unit already has %(num)d booking of %(name)s that month, the most allowed.",
                                "Your unit already has %(num)d bookings of %(name)s that month, the most allowed.",
                                len(in_month), name=name))
    if amenity.max_hours_week:
        used = sum(int((e - s).total_seconds()) // 60 for s, e in in_week)
        if used + minutes > amenity.max_hours_week * 60:
            raise BookingRefused(_l("Your unit may book %(name)s for %(limit)s a week; %(used)s of it are "
                                    "booked already that week.", name=name,
                                    limit=duration_text(amenity.max_hours_week * 60), used=duration_text(used)))


def window_from_slots(amenity: Amenity, slot_starts: list[datetime]) -> tuple[datetime | None, datetime | None]:
    """The booking window of the slots a resident ticked: they must follow each other."""
    starts = sorted(set(slot_starts))
    if not starts:
        return None, None
    step = timedelta(minutes=amenity.slot_minutes)
    if any(b - a != step for a, b in zip(starts, starts[1:], strict=False)):
        raise FieldErrors({"slots": _l("Choose slots next to each other: a booking is one stretch of time.")})
    return starts[0], starts[-1] + step


def _places(amenity: Amenity, guests: int) -> int:
    return 1 + guests


def quote(user: User, estate: Estate, amenity_id: int, req: BookingRequest, now: datetime | None = None) -> Quote:
    """Check every rule (the room left too, as things stand) and say what it would cost."""
    now = now or utcnow()
    tz = estate_zone(estate)
    amenity = get_amenity(estate, amenity_id)
    unit = _unit_for(user, estate, req.unit_id)
    starts_at, ends_at, notes = _check_request(amenity, req)
    _check_rules(amenity, unit, starts_at, ends_at, req.guests, now, tz)
    _check_room(amenity, starts_at, ends_at, _places(amenity, req.guests), now, tz)
    return Quote(amenity, unit, starts_at, ends_at, req.guests, _places(amenity, req.guests),
                 fee_for(amenity, starts_at, ends_at, tz), amenity.deposit_minor, amenity.currency,
                 amenity.requires_approval, notes)


def _check_room(amenity: Amenity, starts_at: datetime, ends_at: datetime, places: int, now: datetime,
                tz: ZoneInfo) -> None:
    busy = availability.busy_between(amenity, starts_at, ends_at)
    if amenity.capacity - availability.used_places(amenity, busy.bookings, starts_at, ends_at) < places:
        raise SlotTaken(availability.next_free(amenity, starts_at, ends_at - starts_at, places, tz, now))


def _lock(amenity: Amenity) -> None:
    db.session.execute(sa.update(Amenity).where(Amenity.id == amenity.id)
                       .values(lock_seq=Amenity.lock_seq + 1).execution_options(synchronize_session=False))


def booking_snapshot(booking: Booking, amenity: Amenity, unit: Unit) -> dict:
    return {"name": f"{amenity.name} · {unit.number}", "amenity": amenity.name, "unit": unit.number,
            "starts_at": booking.starts_at.isoformat(), "ends_at": booking.ends_at.isoformat(),
            "guests": booking.guests, "status": booking.status.value, "fee_minor": booking.fee_minor,
            "currency": booking.currency, "reason": booking.reason}


def book(user: User, estate: Estate, amenity_id: int, req: BookingRequest, now: datetime | None = None) -> Booking:
    """Book: PENDING when the amenity needs an admin's approval, else CONFIRMED (and its fee
    charged to the unit). Raises BookingRefused, FieldErrors or SlotTaken; writes nothing then."""
    now = now or utcnow()
    tz = estate_zone(estate)
    amenity = get_amenity(estate, amenity_id)
    unit = _unit_for(user, estate, req.unit_id)
    starts_at, ends_at, notes = _check_request(amenity, req)
    _lock(amenity)
    try:
        _check_rules(amenity, unit, starts_at, ends_at, req.guests, now, tz)
        places = _places(amenity, req.guests)
        _check_room(amenity, starts_at, ends_at, places, now, tz)
        status = BookingStatus.PENDING if amenity.requires_approval else BookingStatus.CONFIRMED
        booking = Booking(estate_id=estate.id, amenity_id=amenity.id, unit_id=unit.id, user_id=user.id,
                          starts_at=starts_at, ends_at=ends_at, guests=req.guests, places=places,
                          exclusive=amenity.exclusive, notes=notes, status=status,
                          fee_minor=fee_for(amenity, starts_at, ends_at, tz), deposit_minor=amenity.deposit_minor,
                          currency=amenity.currency, created_at=now)
        db.session.add(booking)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:  # the exclusion constraint (PostgreSQL): an overlap got past the lock
            raise SlotTaken(availability.next_free(amenity, starts_at, ends_at - starts_at, places, tz,
                                                   now)) from None
    except Exception:
        db.session.rollback()
        raise
    if status == BookingStatus.CONFIRMED:
        _charge(booking, amenity, unit, user.id, tz, now)
    audit.record("booking.created" if status == BookingStatus.CONFIRMED else "booking.requested", booking,
                 actor_id=user.id, after=booking_snapshot(booking, amenity, unit))
    db.session.commit()
    return booking


# --- the fee --------------------------------------------------------------------------------------


def _charge(booking: Booking, amenity: Amenity, unit: Unit, actor_id: int | None, tz: ZoneInfo,
            now: datetime) -> None:
    """The fee as a one-off charge to the unit, on its next generated invoice."""
    if booking.fee_minor <= 0:
        return
    local = booking.starts_at.astimezone(tz)
    description = f"{amenity.name} {local:%Y-%m-%d %H:%M}–{booking.ends_at.astimezone(tz):%H:%M}"[:200]
    item = UnitCharge(estate_id=booking.estate_id, unit_id=unit.id, description=description,
                      amount_minor=booking.fee_minor, currency=booking.currency, charge_date=now.astimezone(tz).date(),
                      created_by_id=actor_id)
    db.session.add(item)
    db.session.flush()
    booking.unit_charge_id = item.id
    audit.record("unit_charge.created", item, actor_id=actor_id,
                 after={"unit": unit.number, "description": description, "amount_minor": item.amount_minor,
                        "currency": item.currency, "charge_date": item.charge_date.isoformat(),
                        "booking_id": booking.id})


def _reverse_charge(booking: Booking, actor_id: int | None, now: datetime) -> bool:
    """Cancel the booking's charge if it is not on an invoice yet; whether it was."""
    if booking.unit_charge_id is None:
        return False
    done = db.session.execute(
        sa.update(UnitCharge).where(UnitCharge.id == booking.unit_charge_id, UnitCharge.invoice_id.is_(None),
                                    UnitCharge.cancelled_at.is_(None))
        .values(cancelled_at=now).execution_options(synchronize_session=False)).rowcount
    if done:
        item = db.session.get(UnitCharge, booking.unit_charge_id)
        db.session.refresh(item)
        audit.record("unit_charge.cancelled", item, actor_id=actor_id,
                     after={"description": item.description, "amount_minor": item.amount_minor,
                            "booking_id": booking.id})
    return bool(done)


# --- changing a booking's status -------------------------------------------------------------------


def _move(booking: Booking, from_statuses: tuple, to: BookingStatus, **values) -> None:
    """A conditional update, so that two admins (or an admin and the resident) acting at once
    change a booking once."""
    done = db.session.execute(
        sa.update(Booking).where(Booking.id == booking.id, Booking.status.in_(from_statuses))
        .values(status=to, **values).execution_options(synchronize_session=False)).rowcount
    if not done:
        db.session.rollback()
        raise Conflict(_l("This booking was changed in the meantime. Nothing was done; look at it again."))
    db.session.refresh(booking)


def _reason(reason: str, required: bool = True) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise FieldErrors({"reason": _l("Give a reason: the resident sees it.")})
    if len(reason) > REASON_MAX:
        raise FieldErrors({"reason": _l("Use at most %(max)d characters.", max=REASON_MAX)})
    return reason


def get_booking(estate: Estate, booking_id: int) -> Booking:
    booking = db.session.scalar(
        sa.select(Booking).join(Unit, Unit.id == Booking.unit_id).join(Amenity, Amenity.id == Booking.amenity_id)
        .options(contains_eager(Booking.unit), contains_eager(Booking.amenity))
        .where(Booking.id == booking_id, Booking.estate_id == estate.id))
    if booking is None:
        raise NotFound()
    return booking


def get_for_resident(user: User, estate: Estate, booking_id: int) -> Booking:
    booking = get_booking(estate, booking_id)
    if booking.unit_id not in set(db.session.scalars(_unit_ids(user, estate))):
        raise NotFound()
    return booking


def can_cancel(booking: Booking, now: datetime) -> tuple[bool, bool]:
    """(may the resident cancel it now, would the fee be given back)."""
    if booking.status not in HOLDING or booking.starts_at <= now:
        return False, False
    before_cutoff = now <= booking.starts_at - timedelta(hours=booking.amenity.cancel_cutoff_hours)
    if before_cutoff:
        return True, True
    return booking.amenity.late_cancel_keeps_fee, False


def cancel_by_resident(user: User, estate: Estate, booking_id: int, now: datetime | None = None) -> Booking:
    now = now or utcnow()
    booking = get_for_resident(user, estate, booking_id)
    amenity = booking.amenity
    if booking.status not in HOLDING:
        raise Conflict(_l("This booking is no longer active, so there is nothing to cancel."))
    if booking.starts_at <= now:
        raise BookingRefused(_l("This booking has started already; it can no longer be cancelled."))
    allowed, refund = can_cancel(booking, now)
    if not allowed:
        raise BookingRefused(lazy_ngettext("Bookings of %(name)s can be cancelled up to %(num)d hour before they start. "
                                "Ask the estate's admin.",
                                "Bookings of %(name)s can be cancelled up to %(num)d hours before they start. "
                                "Ask the estate's admin.", amenity.cancel_cutoff_hours, name=amenity.name))
    before = booking_snapshot(booking, amenity, booking.unit)
    _move(booking, HOLDING, BookingStatus.CANCELLED, cancelled_at=now, cancelled_by_id=user.id)
    if refund:
        _reverse_charge(booking, user.id, now)
    audit.record("booking.cancelled", booking, actor_id=user.id, before=before,
                 after=booking_snapshot(booking, amenity, booking.unit))
    db.session.commit()
    return booking


def cancel_by_admin(actor: User, estate: Estate, booking_id: int, reason: str, now: datetime | None = None) -> Booking:
    now = now or utcnow()
    booking = get_booking(estate, booking_id)
    reason = _reason(reason)
    if booking.status not in HOLDING:
        raise Conflict(_l("This booking is no longer active, so there is nothing to cancel."))
    before = booking_snapshot(booking, booking.amenity, booking.unit)
    _move(booking, HOLDING, BookingStatus.CANCELLED, cancelled_at=now, cancelled_by_id=actor.id, reason=reason)
    _reverse_charge(booking, actor.id, now)
    audit.record("booking.cancelled_by_admin", booking, actor_id=actor.id, before=before,
                 after=booking_snapshot(booking, booking.amenity, booking.unit))
    notices.tell_resident(estate, booking)
    db.session.commit()
    return booking


def approve(actor: User, estate: Estate, booking_id: int, now: datetime | None = None) -> Booking:
    now = now or utcnow()
    booking = get_booking(estate, booking_id)
    if booking.status != BookingStatus.PENDING:
        raise Conflict(_l("Only a booking waiting for approval can be approved."))
    before = booking_snapshot(booking, booking.amenity, booking.unit)
    _move(booking, (BookingStatus.PENDING,), BookingStatus.CONFIRMED, decided_at=now, decided_by_id=actor.id)
    _charge(booking, booking.amenity, booking.unit, actor.id, estate_zone(estate), now)
    audit.record("booking.approved", booking, actor_id=actor.id, before=before,
                 after=booking_snapshot(booking, booking.amenity, booking.unit))
    notices.tell_resident(estate, booking)
    db.session.commit()
    return booking


def reject(actor: User, estate: Estate, booking_id: int, reason: str, now: datetime | None = None) -> Booking:
    now = now or utcnow()
    booking = get_booking(estate, booking_id)
    reason = _reason(reason)
    if booking.status != BookingStatus.PENDING:
        raise Conflict(_l("Only a booking waiting for approval can be declined."))
    before = booking_snapshot(booking, booking.amenity, booking.unit)
    _move(booking, (BookingStatus.PENDING,), BookingStatus.REJECTED, decided_at=now, decided_by_id=actor.id,
          reason=reason)
    audit.record("booking.rejected", booking, actor_id=actor.id, before=before,
                 after=booking_snapshot(booking, booking.amenity, booking.unit))
    notices.tell_resident(estate, booking)
    db.session.commit()
    return booking


def mark_outcome(actor: User, estate: Estate, booking_id: int, outcome: BookingStatus,
                 now: datetime | None = None) -> Booking:
    """COMPLETED or NO_SHOW, once the booking has started."""
    now = now or utcnow()
    if outcome not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        raise FieldErrors({"outcome": _l("Choose completed or no-show.")})
    booking = get_booking(estate, booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict(_l("Only a confirmed booking can be marked completed or no-show."))
    if booking.starts_at > now:
        raise Conflict(_l("This booking has not started yet."))
    before = booking_snapshot(booking, booking.amenity, booking.unit)
    _move(booking, (BookingStatus.CONFIRMED,), outcome, decided_at=now, decided_by_id=actor.id)
    audit.record("booking.completed" if outcome == BookingStatus.COMPLETED else "booking.no_show", booking,
                 actor_id=actor.id, before=before, after=booking_snapshot(booking, booking.amenity, booking.unit))
    db.session.commit()
    return booking


# --- lists -----------------------------------------------------------------------------------------


def _listing():
    return (sa.select(Booking).join(Unit, Unit.id == Booking.unit_id).join(Amenity, Amenity.id == Booking.amenity_id)
            .options(contains_eager(Booking.unit), contains_eager(Booking.amenity)))


def list_for_resident(user: User, estate: Estate, when: str, now: datetime, page: int = 1) -> Pagination:
    """The bookings of the user's units: upcoming (soonest first) or past (latest first)."""
    stmt = _listing().where(Booking.estate_id == estate.id, Booking.unit_id.in_(_unit_ids(user, estate)))
    if when == "past":
        stmt = stmt.where(Booking.ends_at <= now).order_by(Booking.starts_at.desc(), Booking.id.desc())
    else:
        stmt = stmt.where(Booking.ends_at > now).order_by(Booking.starts_at, Booking.id)
    return db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False, max_per_page=100)


@dataclass
class BookingFilters:
    amenity_id: int | None = None
    status: str = ""
    unit: str = ""
    start: datetime | None = None  # from (UTC), inclusive
    end: datetime | None = None  # to (UTC), exclusive


def list_for_admin(estate: Estate, filters: BookingFilters, page: int = 1) -> Pagination:
    stmt = _listing().where(Booking.estate_id == estate.id)
    if filters.amenity_id:
        stmt = stmt.where(Booking.amenity_id == filters.amenity_id)
    if filters.status in BookingStatus.__members__:
        stmt = stmt.where(Booking.status == BookingStatus(filters.status))
    if filters.unit.strip():
        stmt = stmt.where(sa.func.lower(Unit.number) == filters.unit.strip().lower())
    if filters.start is not None:
        stmt = stmt.where(Booking.starts_at >= filters.start)
    if filters.end is not None:
        stmt = stmt.where(Booking.starts_at < filters.end)
    stmt = stmt.order_by(sa.case((Booking.status == BookingStatus.PENDING, 0), else_=1), Booking.starts_at.desc(),
                         Booking.id.desc())
    return db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False, max_per_page=100)


def pending_count(estate: Estate) -> int:
    return db.session.scalar(sa.select(sa.func.count(Booking.id)).where(
        Booking.estate_id == estate.id, Booking.status == BookingStatus.PENDING)) or 0


def between(amenity: Amenity, start: datetime, end: datetime) -> list[Booking]:
    """Every booking of an amenity that overlaps [start, end) but refused/cancelled ones,
    with its unit (the admin's calendar; one query)."""
    return list(db.session.scalars(
        sa.select(Booking).join(Unit, Unit.id == Booking.unit_id).options(contains_eager(Booking.unit))
        .where(Booking.amenity_id == amenity.id, Booking.starts_at < end, Booking.ends_at > start,
               Booking.status.in_((*HOLDING, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)))
        .order_by(Booking.starts_at, Booking.id)))


def today_at_gate(estate: Estate, now: datetime, limit: int = 50) -> list[Booking]:
    """Today's confirmed bookings (local day), for the guards: who may come, with how many guests."""
    tz = estate_zone(estate)
    start = local_moment(now.astimezone(tz).date(), 0, tz)
    end = start + timedelta(days=1)
    return list(db.session.scalars(
        _listing().options(selectinload(Booking.user))
        .where(Booking.estate_id == estate.id, Booking.status == BookingStatus.CONFIRMED,
               Booking.starts_at < end, Booking.ends_at > start)
        .order_by(Booking.starts_at, Booking.id).limit(limit)))
