"""Admins' amenity pages: the catalogue (create, edit, closures, close), the bookings (filters,
approve, decline, cancel with a reason, outcomes), the calendar with unit names, tenancy."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Amenity,
    AmenityClosure,
    AuditLog,
    Booking,
    BookingStatus,
    FeeMode,
    UnitCharge,
    utcnow,
)
from tests.amenity_support import add_amenity

LAGOS = ZoneInfo("Africa/Lagos")


def _html(response) -> str:
    return response.get_data(as_text=True)


def _day(offset: int = 1):
    return (utcnow().astimezone(LAGOS) + timedelta(days=offset)).date()


def _booking(app, estate, amenity_id, unit, day, hour, status=BookingStatus.CONFIRMED, hours=1, fee=0) -> int:
    start = datetime(day.year, day.month, day.day, hour, tzinfo=LAGOS)
    with app.app_context():
        booking = Booking(estate_id=estate.id, amenity_id=amenity_id, unit_id=unit.id, starts_at=start,
                          ends_at=start + timedelta(hours=hours), guests=2, places=3, exclusive=True, status=status,
                          fee_minor=fee, currency="NGN")
        db.session.add(booking)
        db.session.commit()
        return booking.id


@pytest.fixture
def admin(client, estate_pair, login):
    login("admin@alpha.test")
    return estate_pair.alpha


def _form(**overrides) -> dict:
    data = {"name": "Event hall", "amenity_type": "HALL", "status": "AVAILABLE", "description": "Big hall",
            "rules": "No music after 22:00", "exclusive": "1", "capacity": "100",
            **{f"hours_{d}": "08:00-12:00, 14:00-23:00" for d in range(7)}, "slot_minutes": "60",
            "min_minutes": "120", "max_minutes": "600", "advance_days": "60", "cancel_cutoff_hours": "24",
            "fee_mode": "PER_DAY", "fee": "50,000.00", "deposit": "20,000", "requires_approval": "y",
            "max_bookings_week": "", "max_bookings_month": "2", "max_hours_week": "", "max_guests": "99"}
    data.update(overrides)
    return data


def test_an_admin_adds_and_edits_an_amenity(client, admin, app):
    response = client.post("/e/alpha/admin/amenities/new", data=_form())
    assert response.status_code == 302
    with app.app_context():
        hall = db.session.scalar(sa.select(Amenity).where(Amenity.estate_id == admin.estate.id))
        assert (hall.fee_mode, hall.fee_minor, hall.deposit_minor, hall.currency) == (FeeMode.PER_DAY, 5_000_000,
                                                                                      2_000_000, "NGN")
        assert hall.opening_hours["0"] == [["08:00", "12:00"], ["14:00", "23:00"]]
        assert hall.requires_approval and hall.max_bookings_month == 2 and hall.max_bookings_week is None
        hall_id = hall.id
    edit = _html(client.get(f"/e/alpha/admin/amenities/{hall_id}/edit"))
    assert 'value="08:00–12:00, 14:00–23:00"' in edit and 'value="50,000.00"' in edit
    assert client.post(f"/e/alpha/admin/amenities/{hall_id}/edit",
                       data=_form(name="Great hall", hours_6="")).status_code == 302
    with app.app_context():
        hall = db.session.get(Amenity, hall_id)
        assert hall.name == "Great hall" and hall.opening_hours["6"] == []
        actions = set(db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_type == "Amenity")))
    assert actions == {"amenity.created", "amenity.updated"}
    listing = _html(client.get("/e/alpha/admin/amenities/"))
    assert "Great hall" in listing and 'id="nav-amenities"' in listing


def test_bad_hours_and_lengths_are_shown_next_to_their_fields(client, admin, app):
    response = client.post("/e/alpha/admin/amenities/new", data=_form(hours_2="8 to 12", min_minutes="90"))
    html = _html(response)
    assert response.status_code == 422
    assert "could not read “8 to 12”" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Amenity.id))) == 0


def test_closures_are_added_with_a_reason_and_removed(client, admin, app):
    court = add_amenity(app, admin.estate, "Tennis court")
    day = _day(3)
    client.post(f"/e/alpha/admin/amenities/{court}/closures",
                data={"start_day": day.isoformat(), "start_time": "", "end_day": "", "end_time": "",
                      "reason": "Resurfacing"})
    with app.app_context():
        closure = db.session.scalar(sa.select(AmenityClosure))
        assert closure.reason == "Resurfacing"
        assert closure.starts_at == datetime(day.year, day.month, day.day, tzinfo=LAGOS)
        assert closure.ends_at - closure.starts_at == timedelta(days=1)
        closure_id = closure.id
    assert "Resurfacing" in _html(client.get(f"/e/alpha/admin/amenities/{court}/edit"))
    client.post(f"/e/alpha/admin/amenities/{court}/closures/{closure_id}/remove")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AmenityClosure.id))) == 0


def test_the_bookings_list_filters_and_the_admin_decides(client, admin, app, make):
    hall = add_amenity(app, admin.estate, "Event hall", requires_approval=True, fee_mode=FeeMode.FLAT,
                       fee_minor=1_000_000)
    court = add_amenity(app, admin.estate, "Tennis court")
    other = make.unit(admin.estate, "A-101")
    pending = _booking(app, admin.estate, hall, admin.unit, _day(2), 10, BookingStatus.PENDING, fee=1_000_000)
    declined = _booking(app, admin.estate, hall, other, _day(3), 10, BookingStatus.PENDING, fee=1_000_000)
    _booking(app, admin.estate, court, other, _day(1), 9)
    everything = _html(client.get("/e/alpha/admin/bookings/"))
    assert "3 bookings" in everything
    only_hall = _html(client.get(f"/e/alpha/admin/bookings/?amenity={hall}&status=PENDING"))
    assert "2 bookings" in only_hall
    by_unit = _html(client.get("/e/alpha/admin/bookings/?unit=a-101"))
    assert "2 bookings" in by_unit
    by_day = _html(client.get(f"/e/alpha/admin/bookings/?from={_day(2)}&to={_day(2)}"))
    assert "1 booking" in by_day
    client.post(f"/e/alpha/admin/bookings/{pending}/approve")
    refused = client.post(f"/e/alpha/admin/bookings/{declined}/reject", data={"reason": ""}, follow_redirects=True)
    assert "Give a reason: the resident sees it." in _html(refused)
    client.post(f"/e/alpha/admin/bookings/{declined}/reject", data={"reason": "Hall booked for the AGM"})
    with app.app_context():
        approved = db.session.get(Booking, pending)
        assert approved.status == BookingStatus.CONFIRMED
        charge = db.session.get(UnitCharge, approved.unit_charge_id)
        assert charge.amount_minor == 1_000_000 and charge.invoice_id is None
        rejected = db.session.get(Booking, declined)
        assert (rejected.status, rejected.reason) == (BookingStatus.REJECTED, "Hall booked for the AGM")
    client.post(f"/e/alpha/admin/bookings/{pending}/cancel", data={"reason": "Water leak in the hall"})
    with app.app_context():
        cancelled = db.session.get(Booking, pending)
        assert (cancelled.status, cancelled.reason) == (BookingStatus.CANCELLED, "Water leak in the hall")
        assert db.session.get(UnitCharge, cancelled.unit_charge_id).cancelled_at is not None
        actions = list(db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_type == "Booking")
                                          .order_by(AuditLog.id)))
    assert actions == ["booking.approved", "booking.rejected", "booking.cancelled_by_admin"]


def test_outcomes_after_the_start(client, admin, app):
    court = add_amenity(app, admin.estate, "Tennis court")
    past = _booking(app, admin.estate, court, admin.unit, _day(-1), 9)
    client.post(f"/e/alpha/admin/bookings/{past}/no-show")
    with app.app_context():
        assert db.session.get(Booking, past).status == BookingStatus.NO_SHOW


def test_the_calendar_names_units_for_admins(client, admin, app, make):
    court = add_amenity(app, admin.estate, "Tennis court")
    other = make.unit(admin.estate, "A-101")
    day = _day(1)
    _booking(app, admin.estate, court, other, day, 10)
    html = _html(client.get(f"/e/alpha/admin/amenities/{court}/calendar?date={day}"))
    assert "Unit A-101" in html and "data-print" in html
    week = _html(client.get(f"/e/alpha/admin/amenities/{court}/calendar?date={day}&view=week"))
    assert "Unit A-101" in week


def test_another_estates_amenity_and_booking_are_404(client, admin, app, estate_pair):
    beta = estate_pair.beta
    court = add_amenity(app, beta.estate, "Beta court")
    booking = _booking(app, beta.estate, court, beta.unit, _day(1), 10)
    assert client.get(f"/e/alpha/admin/amenities/{court}/edit").status_code == 404
    assert client.get(f"/e/alpha/admin/amenities/{court}/calendar").status_code == 404
    assert client.get(f"/e/alpha/admin/bookings/{booking}").status_code == 404
    assert client.post(f"/e/alpha/admin/bookings/{booking}/approve").status_code == 404
