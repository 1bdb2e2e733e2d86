"""Opening hours, slots and prices: pure functions of an amenity and the estate's timezone.

Opening hours are kept as {"0": [["08:00", "12:00"], …], …} (Monday = "0"), local times;
"24:00" closes at midnight. Slots start at each range's opening and last `slot_minutes`;
a booking is a run of whole slots inside one range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.models import Amenity, FeeMode

_HHMM = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_RANGE = re.compile(r"^\s*(\S+)\s*[-–]\s*(\S+)\s*$")
DAY = 24 * 60


class HoursError(ValueError):
    """A line of opening hours that cannot be read (the message says which part)."""


def to_minutes(text: str) -> int:
    match = _HHMM.match(text.strip())
    if not match:
        raise HoursError(text)
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > DAY:
        raise HoursError(text)
    return minutes


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_ranges(text: str) -> list[list[str]]:
    """"08:00-12:00, 14:00-20:00" → [["08:00", "12:00"], ["14:00", "20:00"]] (sorted, not
    overlapping); "" → [] (closed that day). Raises HoursError."""
    ranges: list[tuple[int, int]] = []
    for part in re.split(r"[,;]", text or ""):
        if not part.strip():
            continue
        match = _RANGE.match(part)
        if not match:
            raise HoursError(part.strip())
        start, end = to_minutes(match.group(1)), to_minutes(match.group(2))
        if end <= start:
            raise HoursError(part.strip())
        ranges.append((start, end))
    ranges.sort()
    for (_s1, e1), (s2, _e2) in zip(ranges, ranges[1:], strict=False):
        if s2 < e1:
            raise HoursError(f"{hhmm(s2)}")
    return [[hhmm(s), hhmm(e)] for s, e in ranges]


def ranges_text(ranges: list[list[str]]) -> str:
    return ", ".join(f"{start}–{end}" for start, end in ranges)


def day_ranges(amenity: Amenity, day: date) -> list[tuple[int, int]]:
    """The opening ranges of `day` in minutes after local midnight."""
    return [(to_minutes(s), to_minutes(e)) for s, e in (amenity.opening_hours or {}).get(str(day.weekday()), [])]


def local_moment(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minutes)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of `day`, as aware datetimes."""
    return local_moment(day, 0, tz), local_moment(day + timedelta(days=1), 0, tz)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # aware, in the estate's zone
    ends_at: datetime


def day_slots(amenity: Amenity, day: date, tz: ZoneInfo) -> list[Slot]:
    step = amenity.slot_minutes
    slots = []
    for start, end in day_ranges(amenity, day):
        at = start
        while at + step <= end:
            slots.append(Slot(local_moment(day, at, tz), local_moment(day, at + step, tz)))
            at += step
    return slots


def fits_hours(amenity: Amenity, starts_at: datetime, ends_at: datetime, tz: ZoneInfo) -> bool:
    """Does [starts_at, ends_at) lie inside one opening range of its day, on slot boundaries?"""
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    day = start.date()
    start_min = start.hour * 60 + start.minute
    end_min = DAY if end == local_moment(day + timedelta(days=1), 0, tz) else (
        end.hour * 60 + end.minute if end.date() == day else -1)
    if start.second or end.second or end_min <= start_min:
        return False
    return any(low <= start_min and end_min <= high and (start_min - low) % amenity.slot_minutes == 0
               and (end_min - start_min) % amenity.slot_minutes == 0 for low, high in day_ranges(amenity, day))


def fee_for(amenity: Amenity, starts_at: datetime, ends_at: datetime, tz: ZoneInfo) -> int:
    """The fee in minor units: per hour (pro rata by the minute, rounded down), per local day
    touched, once per booking, or nothing."""
    if amenity.fee_mode == FeeMode.PER_HOUR:
        minutes = int((ends_at - starts_at).total_seconds()) // 60
        return amenity.fee_minor * minutes // 60
    if amenity.fee_mode == FeeMode.PER_DAY:
        first = starts_at.astimezone(tz).date()
        last = (ends_at.astimezone(tz) - timedelta(microseconds=1)).date()
        return amenity.fee_minor * ((last - first).days + 1)
    if amenity.fee_mode == FeeMode.FLAT:
        return amenity.fee_minor
    return 0


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following
