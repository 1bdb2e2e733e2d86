"""Helpers for the amenity tests: an amenity with sensible rules, times in Lagos, booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from portal.extensions import db
from portal.models import Amenity, AmenityType, FeeMode

LAGOS = ZoneInfo("Africa/Lagos")
# "Now" in the service tests: Monday 7 December 2026, 09:00 in Lagos.
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
EVERY_DAY = {str(d): [["06:00", "22:00"]] for d in range(7)}


def add_amenity(app, estate, name: str = "Tennis court", **fields) -> int:
    values = dict(amenity_type=AmenityType.COURT, capacity=4, exclusive=True, opening_hours=EVERY_DAY,
                  slot_minutes=60, min_minutes=60, max_minutes=120, advance_days=30, cancel_cutoff_hours=0,
                  fee_mode=FeeMode.FREE, fee_minor=0, max_guests=3, currency=estate.currency)
    values.update(fields)
    with app.app_context():
        amenity = Amenity(estate_id=estate.id, name=name, **values)
        db.session.add(amenity)
        db.session.commit()
        return amenity.id


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A Lagos wall-clock time in December 2026, as an aware datetime."""
    return datetime(2026, month, day, hour, minute, tzinfo=LAGOS)


def window(day: int, hour: int, hours: int = 1) -> tuple[datetime, datetime]:
    start = at(day, hour)
    return start, start + timedelta(hours=hours)
