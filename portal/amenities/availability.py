"""What is free when: the day grid, the week view and the next free times.

Each answer costs two queries whatever the number of slots or bookings: the holding
bookings (with their units) and the closures that overlap the span asked for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from portal.amenities.schedule import Slot, day_bounds, day_slots
from portal.extensions import db
from portal.models import HOLDING, Amenity, AmenityClosure, Booking, Unit

FREE, MINE, BOOKED, FULL, CLOSED, PAST = "free", "mine", "booked", "full", "closed", "past"


@dataclass
class SlotView:
    starts_at: datetime
    ends_at: datetime
    state: str
    left: int = 0  # places left (shared amenities)
    units: list[str] = field(default_factory=list)  # the units holding it (shown to admins only)
    reason: str = ""  # a closure's reason

    @property
    def bookable(self) -> bool:
        return self.state == FREE


@dataclass
class Busy:
    bookings: list[Booking]
    closures: list[AmenityClosure]


def busy_between(amenity: Amenity, start: datetime, end: datetime, *, exclude_id: int | None = None) -> Busy:
    """The holding bookings (units loaded) and closures of `amenity` that overlap [start, end)."""
    stmt = (sa.select(Booking).join(Unit, Unit.id == Booking.unit_id).options(contains_eager(Booking.unit))
            .where(Booking.amenity_id == amenity.id, Booking.status.in_(HOLDING), Booking.starts_at < end,
                   Booking.ends_at > start).order_by(Booking.starts_at, Booking.id))
    if exclude_id is not None:
        stmt = stmt.where(Booking.id != exclude_id)
    return Busy(list(db.session.scalars(stmt)), busy_closures(amenity, start, end))


def busy_closures(amenity: Amenity, start: datetime, end: datetime) -> list[AmenityClosure]:
    return list(db.session.scalars(sa.select(AmenityClosure).where(
        AmenityClosure.amenity_id == amenity.id, AmenityClosure.starts_at < end, AmenityClosure.ends_at > start)
        .order_by(AmenityClosure.starts_at)))


def _overlapping(items: Iterable, start: datetime, end: datetime) -> list:
    return [i for i in items if i.starts_at < end and i.ends_at > start]


def used_places(amenity: Amenity, bookings: list[Booking], start: datetime, end: datetime) -> int:
    """The most places taken at any moment of [start, end) (slots are the unit of time)."""
    overlapping = _overlapping(bookings, start, end)
    if amenity.exclusive:
        return amenity.capacity if overlapping else 0
    if not overlapping:
        return 0
    moments = sorted({start, *[b.starts_at for b in overlapping if start < b.starts_at < end]})
    return max(sum(b.places for b in overlapping if b.starts_at <= moment < b.ends_at) for moment in moments)


def view_slot(amenity: Amenity, slot: Slot, busy: Busy, now: datetime, mine: set[int]) -> SlotView:
    start, end = slot.starts_at, slot.ends_at
    holding = _overlapping(busy.bookings, start, end)
    units = [b.unit.number for b in holding]
    closure = next(iter(_overlapping(busy.closures, start, end)), None)
    if start <= now:
        return SlotView(start, end, PAST, units=units)
    if closure is not None:
        return SlotView(start, end, CLOSED, units=units, reason=closure.reason)
    if any(b.unit_id in mine for b in holding):
        return SlotView(start, end, MINE, units=units)
    left = amenity.capacity - used_places(amenity, busy.bookings, start, end)
    if left <= 0:
        return SlotView(start, end, BOOKED if amenity.exclusive else FULL, units=units)
    return SlotView(start, end, FREE, left=left, units=units)


def day_grid(amenity: Amenity, day: date, tz: ZoneInfo, now: datetime, mine: Iterable[int] = ()) -> list[SlotView]:
    """Every slot of `day` (local) with its state (two queries)."""
    start, end = day_bounds(day, tz)
    busy = busy_between(amenity, start, end)
    return [view_slot(amenity, slot, busy, now, set(mine)) for slot in day_slots(amenity, day, tz)]


@dataclass
class DaySummary:
    day: date
    free: int
    total: int
    reason: str = ""  # the reason of a closure that covers the whole day


def week_grid(amenity: Amenity, monday: date, tz: ZoneInfo, now: datetime,
              mine: Iterable[int] = ()) -> list[tuple[DaySummary, list[SlotView]]]:
    """Seven days from `monday`, each with its slots and how many are free (two queries)."""
    start, _ = day_bounds(monday, tz)
    _, end = day_bounds(monday + timedelta(days=6), tz)
    busy = busy_between(amenity, start, end)
    mine = set(mine)
    week = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        views = [view_slot(amenity, slot, busy, now, mine) for slot in day_slots(amenity, day, tz)]
        reasons = {v.reason for v in views if v.state == CLOSED}
        whole = bool(views) and all(v.state == CLOSED for v in views)
        week.append((DaySummary(day, sum(v.bookable for v in views), len(views),
                                next(iter(reasons)) if whole else ""), views))
    return week


def next_free(amenity: Amenity, starts_at: datetime, length: timedelta, places: int, tz: ZoneInfo,
              now: datetime, count: int = 3, days: int = 7) -> list[Slot]:
    """The next `count` times, from the day of `starts_at` on, where a booking of `length`
    for `places` people fits (two queries)."""
    first = starts_at.astimezone(tz).date()
    span_start, _ = day_bounds(first, tz)
    _, span_end = day_bounds(first + timedelta(days=days - 1), tz)
    busy = busy_between(amenity, span_start, span_end)
    found: list[Slot] = []
    steps = max(1, int(length / timedelta(minutes=amenity.slot_minutes)))
    for offset in range(days):
        slots = day_slots(amenity, first + timedelta(days=offset), tz)
        for index in range(len(slots) - steps + 1):
            run = slots[index:index + steps]
            if any(b.ends_at != a.starts_at for a, b in zip(run, run[1:], strict=False)):
                continue
            start, end = run[0].starts_at, run[-1].ends_at
            if start <= now or start == starts_at or _overlapping(busy.closures, start, end):
                continue
            if amenity.capacity - used_places(amenity, busy.bookings, start, end) >= places:
                found.append(Slot(start, end))
                if len(found) == count:
                    return found
    return found
