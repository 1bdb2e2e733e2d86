"""Residents' amenity pages: reachable from home and the menu, the day grid (states, HTMX,
constant queries), the price before confirming, booking, refusals on the page, the taken
slot with the next free times, my bookings, cancelling, the .ics file."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from portal.extensions import db
from portal.models import Booking, BookingStatus, FeeMode, Role, utcnow
from tests.amenity_support import add_amenity

LAGOS = ZoneInfo("Africa/Lagos")


def _tomorrow():
    return (utcnow().astimezone(LAGOS) + timedelta(days=1)).date()


def _slot(day, hour: int) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LAGOS).isoformat()


@pytest.fixture
def alpha(estate_pair, make):
    a = estate_pair.alpha
    a.neighbour = make.user("neighbour@alpha.test", estate=a.estate, role=Role.RESIDENT)
    make.resident(a.estate, make.unit(a.estate, "A-101"), "Neighbour", user=a.neighbour)
    return a


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_home_and_menu_lead_to_the_amenities(client, alpha, app, login):
    add_amenity(app, alpha.estate, "Tennis court")
    login("resident@alpha.test")
    home = _html(client.get("/e/alpha/home/"))
    assert 'id="home-amenities"' in home and 'id="nav-amenities"' in home
    listing = _html(client.get("/e/alpha/home/amenities/"))
    assert "Tennis court" in listing and "Free" in listing


def test_the_day_grid_shows_states_and_hides_other_units(client, alpha, app, login):
    court = add_amenity(app, alpha.estate, "Tennis court")
    day = _tomorrow()
    login("neighbour@alpha.test")
    assert client.post(f"/e/alpha/home/amenities/{court}/book?date={day}", data={
        "slot": [_slot(day, 10)], "confirm": "1"}).status_code == 302
    other = app.test_client()
    login("resident@alpha.test", as_client=other)
    html = _html(other.get(f"/e/alpha/home/amenities/{court}/?date={day}"))
    assert re.search(r'class="slot slot-booked" data-start="10:00', html)
    assert "A-101" not in html and "Booked" in html
    assert re.search(r'class="slot slot-free" data-start="11:00', html)
    fragment = _html(other.get(f"/e/alpha/home/amenities/{court}/?date={day}", headers={"HX-Request": "true"}))
    assert "<html" not in fragment and 'id="slots"' in fragment
    mine = _html(client.get(f"/e/alpha/home/amenities/{court}/?date={day}"))
    assert re.search(r'class="slot slot-mine" data-start="10:00', mine)


def test_the_day_grid_costs_the_same_queries_however_many_bookings(client, alpha, app, login, count_queries):
    pool = add_amenity(app, alpha.estate, "Pool", exclusive=False, capacity=20, max_guests=5)
    day = _tomorrow()
    login("resident@alpha.test")
    url = f"/e/alpha/home/amenities/{pool}/?date={day}"
    client.get(url)
    with count_queries() as few:
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    with app.app_context():
        unit_id = db.session.scalar(sa.select(Booking.unit_id)) or alpha.unit.id
        for hour in range(6, 21):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=LAGOS)
            db.session.add(Booking(estate_id=alpha.estate.id, amenity_id=pool, unit_id=unit_id, starts_at=start,
                                   ends_at=start + timedelta(hours=1), guests=1, places=2, exclusive=False,
                                   status=BookingStatus.CONFIRMED, currency="NGN"))
        db.session.commit()
    with count_queries() as many:
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    assert many.count == few.count
    with count_queries() as page:
        client.get(url)
    with count_queries() as week:
        client.get(f"/e/alpha/home/amenities/{pool}/week?start={day}")
    assert page.count <= few.count + 4 and week.count <= page.count


def test_the_price_is_shown_before_confirming_and_nothing_is_booked_until_then(client, alpha, app, login):
    pool = add_amenity(app, alpha.estate, "Pool", exclusive=False, capacity=20, fee_mode=FeeMode.PER_HOUR,
                       fee_minor=150_000, max_guests=4)
    day = _tomorrow()
    login("resident@alpha.test")
    preview = client.post(f"/e/alpha/home/amenities/{pool}/book?date={day}",
                          data={"slot": [_slot(day, 10), _slot(day, 11)], "guests": "2", "notes": "Swim"})
    html = _html(preview)
    assert preview.status_code == 200 and "₦3,000.00" in html and 'id="confirm-booking"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0
    done = client.post(f"/e/alpha/home/amenities/{pool}/book?date={day}", data={
        "slot": [_slot(day, 10), _slot(day, 11)], "guests": "2", "notes": "Swim", "confirm": "1"})
    assert done.status_code == 302
    detail = _html(client.get(done.headers["Location"], follow_redirects=True))
    assert "Booked. See you there!" in detail and "Confirmed" in detail and "₦3,000.00" in detail
    mine = _html(client.get("/e/alpha/home/bookings/"))
    assert "Pool" in mine and "2 guests" in mine


def test_slots_must_follow_each_other(client, alpha, app, login):
    court = add_amenity(app, alpha.estate, "Tennis court", max_minutes=180)
    day = _tomorrow()
    login("resident@alpha.test")
    response = client.post(f"/e/alpha/home/amenities/{court}/book?date={day}",
                           data={"slot": [_slot(day, 10), _slot(day, 12)]})
    assert response.status_code == 422
    assert "Choose slots next to each other: a booking is one stretch of time." in _html(response)


def test_a_refusal_is_shown_on_the_page_in_spanish(client, alpha, app, login, dbs):
    court = add_amenity(app, alpha.estate, "Cancha", max_guests=1)
    day = _tomorrow()
    login("resident@alpha.test")
    client.post("/language", data={"lang": "es", "next": "/"})
    response = client.post(f"/e/alpha/home/amenities/{court}/book?date={day}",
                           data={"slot": [_slot(day, 10)], "guests": "3"})
    assert response.status_code == 409
    assert "Puede llevar como máximo 1 invitado a Cancha." in _html(response)


def test_a_slot_taken_meanwhile_offers_the_next_free_times(client, alpha, app, login):
    court = add_amenity(app, alpha.estate, "Tennis court")
    day = _tomorrow()
    login("resident@alpha.test")
    other = app.test_client()
    login("neighbour@alpha.test", as_client=other)
    other.post(f"/e/alpha/home/amenities/{court}/book?date={day}", data={"slot": [_slot(day, 10)], "confirm": "1"})
    response = client.post(f"/e/alpha/home/amenities/{court}/book?date={day}",
                           data={"slot": [_slot(day, 10)], "confirm": "1"})
    html = _html(response)
    assert response.status_code == 409
    assert "Sorry, that time was just taken by someone else. Nothing was booked." in html
    assert 'id="alternatives"' in html and "9:00" in html.split('id="alternatives"')[1]


def test_cancel_and_the_calendar_file(client, alpha, app, login):
    court = add_amenity(app, alpha.estate, "Tennis court")
    day = _tomorrow() + timedelta(days=1)
    login("resident@alpha.test")
    done = client.post(f"/e/alpha/home/amenities/{court}/book?date={day}",
                       data={"slot": [_slot(day, 18)], "confirm": "1"})
    booking_id = int(done.headers["Location"].rstrip("/").split("/")[-1])
    ics = client.get(f"/e/alpha/home/bookings/{booking_id}/booking.ics")
    assert ics.mimetype == "text/calendar"
    event = next(c for c in Calendar.from_ical(ics.data).walk() if c.name == "VEVENT")
    start = event.decoded("dtstart")
    assert (start.hour, str(start.tzinfo)) == (18, "Africa/Lagos")
    assert "Tennis court" in str(event.get("summary"))
    detail = _html(client.get(f"/e/alpha/home/bookings/{booking_id}"))
    assert 'id="cancel-booking"' in detail and "danger" in detail
    cancelled = client.post(f"/e/alpha/home/bookings/{booking_id}/cancel", follow_redirects=True)
    assert "Your booking was cancelled." in _html(cancelled)
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == BookingStatus.CANCELLED


def test_someone_elses_booking_is_a_404(client, alpha, app, login, estate_pair):
    court = add_amenity(app, alpha.estate, "Tennis court")
    day = _tomorrow()
    login("neighbour@alpha.test")
    done = client.post(f"/e/alpha/home/amenities/{court}/book?date={day}",
                       data={"slot": [_slot(day, 10)], "confirm": "1"})
    booking_id = int(done.headers["Location"].rstrip("/").split("/")[-1])
    other = app.test_client()
    login("resident@alpha.test", as_client=other)
    assert other.get(f"/e/alpha/home/bookings/{booking_id}").status_code == 404
    assert other.post(f"/e/alpha/home/bookings/{booking_id}/cancel").status_code == 404
    beta = app.test_client()
    login("resident@beta.test", as_client=beta)
    assert beta.get(f"/e/beta/home/amenities/{court}/").status_code == 404
