"""The gate sees today's bookings; the day-before reminder goes once, in the resident's
language, through the outbox; the demo data has the issue's amenities."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.amenities.reminders import send_reminders
from portal.extensions import db
from portal.models import AuditLog, Booking, BookingStatus, OutboxMessage, User, utcnow
from tests.amenity_support import add_amenity

LAGOS = ZoneInfo("Africa/Lagos")


def _booking(app, estate, amenity_id, unit, user, start, status=BookingStatus.CONFIRMED, guests=3) -> int:
    with app.app_context():
        booking = Booking(estate_id=estate.id, amenity_id=amenity_id, unit_id=unit.id, user_id=user.id,
                          starts_at=start, ends_at=start + timedelta(hours=2), guests=guests, places=guests + 1,
                          exclusive=True, status=status, currency="NGN", notes="Birthday")
        db.session.add(booking)
        db.session.commit()
        return booking.id


def test_guards_see_todays_bookings_with_guests(client, estate_pair, app, login):
    a = estate_pair.alpha
    hall = add_amenity(app, a.estate, "Event hall")
    now = utcnow()
    today = _booking(app, a.estate, hall, a.unit, a.resident, now - timedelta(minutes=10))  # on now: today
    later = _booking(app, a.estate, hall, a.unit, a.resident, now + timedelta(days=2))
    pending = _booking(app, a.estate, hall, a.unit, a.resident, now - timedelta(hours=4),
                       status=BookingStatus.PENDING)
    login("guard@alpha.test")
    html = client.get("/e/alpha/gate/").get_data(as_text=True)
    assert f'id="gate-booking-{today}"' in html and "Event hall" in html and "3 guests" in html
    assert f'id="gate-booking-{later}"' not in html and f'id="gate-booking-{pending}"' not in html


def test_the_reminder_goes_once_in_the_residents_language(app, estate_pair):
    a = estate_pair.alpha
    court = add_amenity(app, a.estate, "Cancha de tenis")
    with app.app_context():
        db.session.get(User, a.resident.id).preferred_language = "es"
        db.session.commit()
    start = datetime(2026, 12, 8, 18, tzinfo=LAGOS)
    booking_id = _booking(app, a.estate, court, a.unit, a.resident, start)
    _booking(app, a.estate, court, a.unit, a.resident, start + timedelta(days=3))  # not yet
    with app.app_context():
        assert send_reminders(now=start - timedelta(hours=20)) == 1
        assert send_reminders(now=start - timedelta(hours=19)) == 0
        message = db.session.scalar(sa.select(OutboxMessage))
        assert message.recipient == "resident@alpha.test" and message.language == "es"
        assert message.subject == "Recordatorio: Cancha de tenis mañana"
        assert "martes 8 diciembre, 18:00" in message.body and "3 invitados" in message.body
        assert db.session.get(Booking, booking_id).reminded_at is not None
        assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == booking_id)) \
            == "booking.reminded"


def test_the_demo_has_the_issues_amenities(app):
    from portal.demo import seed_demo
    from portal.models import Amenity, Estate, FeeMode

    with app.app_context():
        seed_demo()
        found = {(e.slug, a.name): a for a, e in db.session.execute(
            sa.select(Amenity, Estate).join(Estate, Estate.id == Amenity.estate_id))}
        pool, hall, court = (found[("greenpark", n)] for n in ("Swimming pool", "Event hall", "Tennis court"))
        assert (pool.exclusive, pool.capacity, pool.fee_mode, pool.fee_minor) == (False, 20, FeeMode.PER_HOUR, 150_000)
        assert (hall.exclusive, hall.requires_approval, hall.fee_mode, hall.fee_minor, hall.cancel_cutoff_hours) == \
            (True, True, FeeMode.PER_DAY, 5_000_000, 24)
        assert (court.fee_mode, court.slot_minutes, court.max_bookings_week) == (FeeMode.FREE, 60, 2)
        assert found[("lasflores", "Piscina")].currency == "GTQ"
        assert found[("lasflores", "Salón social")].currency == "GTQ"
        now = utcnow()
        past = db.session.scalar(sa.select(sa.func.count(Booking.id)).where(Booking.ends_at < now))
        future = db.session.scalar(sa.select(sa.func.count(Booking.id)).where(Booking.starts_at > now))
        assert past >= 10 and future >= 10
