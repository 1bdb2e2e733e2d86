"""Every booking rule, checked on the server, each refusal a clear sentence (in English and
Spanish), and nothing written when it says no."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.amenities import bookings
from portal.amenities.bookings import BookingRefused, BookingRequest, SlotTaken
from portal.extensions import db
from portal.models import (
    AmenityClosure,
    AmenityStatus,
    AuditLog,
    Booking,
    BookingStatus,
    Estate,
    FeeMode,
    Role,
    UnitCharge,
    User,
)
from tests.amenity_support import NOW, add_amenity, at, window


@pytest.fixture
def world(app, estate_pair, make):
    a = estate_pair.alpha
    neighbour = make.user("neighbour@alpha.test", estate=a.estate, role=Role.RESIDENT)
    make.resident(a.estate, make.unit(a.estate, "A2"), "Neighbour", user=neighbour)
    a.neighbour = neighbour
    return a


def _book(app, world, amenity_id, start, end, guests=0, notes="", user=None, now=NOW):
    with app.app_context():
        person = db.session.get(User, (user or world.resident).id)
        estate = db.session.get(Estate, world.estate.id)
        booking = bookings.book(person, estate, amenity_id, BookingRequest(start, end, guests, notes), now=now)
        return booking.id, booking.status, booking.fee_minor


def _refusal(app, world, amenity_id, start, end, guests=0, user=None, now=NOW, lang="en",
             error=BookingRefused) -> str:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count(Booking.id)))
        with force_locale(lang):
            with pytest.raises(error) as caught:
                _book(app, world, amenity_id, start, end, guests, user=user, now=now)
            message = str(caught.value.message)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == count  # nothing written
    return message


def test_a_free_slot_is_booked_and_confirmed_and_audited(app, world):
    court = add_amenity(app, world.estate)
    booking_id, status, fee = _book(app, world, court, *window(8, 10))
    assert status == BookingStatus.CONFIRMED and fee == 0
    with app.app_context():
        assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == booking_id,
                                                                  AuditLog.target_type == "Booking")) \
            == "booking.created"


def test_closed_amenity(app, world):
    court = add_amenity(app, world.estate, status=AmenityStatus.CLOSED)
    assert _refusal(app, world, court, *window(8, 10)) == "Tennis court is closed for bookings at the moment."
    assert _refusal(app, world, court, *window(8, 10), lang="es") == \
        "Tennis court está cerrado para reservas por ahora."


def test_past_time(app, world):
    court = add_amenity(app, world.estate)
    assert _refusal(app, world, court, *window(7, 8)) == "That time has passed. Choose a later one."


def test_advance_window(app, world):
    court = add_amenity(app, world.estate, advance_days=14)
    assert _refusal(app, world, court, *window(28, 10)) == "Tennis court can be booked at most 14 days ahead."
    assert _refusal(app, world, court, *window(28, 10), lang="es") == \
        "Tennis court se puede reservar con un máximo de 14 días de anticipación."


def test_opening_hours(app, world):
    court = add_amenity(app, world.estate, opening_hours={"1": [["08:00", "12:00"], ["14:00", "18:00"]]})
    # Tuesday 8 December: open 08–12 and 14–18; 12:00–13:00 is outside.
    assert _refusal(app, world, court, *window(8, 12)) == (
        "Tennis court is open 08:00–12:00, 14:00–18:00 that day, in slots of 1 hour. Choose a time inside "
        "those hours.")
    assert _refusal(app, world, court, at(8, 9, 30), at(8, 10, 30)).startswith("Tennis court is open")
    assert _refusal(app, world, court, *window(9, 10)) == "Tennis court is not open that day."
    assert _book(app, world, court, *window(8, 14))[1] == BookingStatus.CONFIRMED


def test_shortest_and_longest(app, world):
    hall = add_amenity(app, world.estate, "Event hall", min_minutes=120, max_minutes=240)
    assert _refusal(app, world, hall, *window(8, 10)) == "Book Event hall for at least 2 hours."
    assert _refusal(app, world, hall, *window(8, 10, hours=5)) == "Book Event hall for at most 4 hours."
    assert _refusal(app, world, hall, *window(8, 10, hours=5), lang="es") == \
        "Reserve Event hall por un máximo de 4 horas."


def test_guests(app, world):
    court = add_amenity(app, world.estate, max_guests=3)
    assert _refusal(app, world, court, *window(8, 10), guests=4) == "You may bring at most 3 guests to Tennis court."
    gym = add_amenity(app, world.estate, "Gym", max_guests=0)
    assert _refusal(app, world, gym, *window(8, 10), guests=1) == "Gym takes no guests: come on your own."
    small = add_amenity(app, world.estate, "Sauna", capacity=2, max_guests=5)
    assert _refusal(app, world, small, *window(8, 10), guests=2) == "Sauna holds at most 2 people at once."


def test_blackout_shows_its_reason(app, world):
    court = add_amenity(app, world.estate)
    with app.app_context():
        db.session.add(AmenityClosure(estate_id=world.estate.id, amenity_id=court, starts_at=at(8, 0),
                                      ends_at=at(9, 0), reason="Resurfacing the court"))
        db.session.commit()
    assert _refusal(app, world, court, *window(8, 10)) == "Tennis court is closed then: Resurfacing the court"


def test_weekly_and_monthly_limits_per_unit(app, world):
    court = add_amenity(app, world.estate, max_bookings_week=2)
    _book(app, world, court, *window(8, 10))
    _book(app, world, court, *window(9, 10))
    assert _refusal(app, world, court, *window(10, 10)) == \
        "Your unit already has 2 bookings of Tennis court that week, the most allowed."
    assert _refusal(app, world, court, *window(10, 10), lang="es") == \
        "Su unidad ya tiene 2 reservas de Tennis court esa semana, el máximo permitido."
    assert _book(app, world, court, *window(14, 10))[1] == BookingStatus.CONFIRMED  # the next week
    assert _book(app, world, court, *window(10, 10), user=world.neighbour)[1] == BookingStatus.CONFIRMED
    pool = add_amenity(app, world.estate, "Pool", max_bookings_month=1)
    _book(app, world, pool, *window(8, 10))
    assert _refusal(app, world, pool, *window(20, 10)) == \
        "Your unit already has 1 booking of Pool that month, the most allowed."


def test_hours_per_week(app, world):
    court = add_amenity(app, world.estate, max_hours_week=3)
    _book(app, world, court, *window(8, 10, hours=2))
    assert _refusal(app, world, court, *window(9, 10, hours=2)) == \
        "Your unit may book Tennis court for 3 hours a week; 2 hours of it are booked already that week."


def test_not_linked_to_a_unit(app, world, make):
    court = add_amenity(app, world.estate)
    loner = make.user("loner@alpha.test", estate=world.estate, role=Role.RESIDENT)
    assert _refusal(app, world, court, *window(8, 10), user=loner) == (
        "You are not linked to a unit yet. Ask your estate's admin to add you to your household.")


def test_unit_in_arrears_goes_through_the_single_hook(app, world, monkeypatch):
    court = add_amenity(app, world.estate)
    monkeypatch.setattr(bookings, "restriction_for", lambda unit, now: SimpleNamespace(
        restricted=True, booking_refusal="Unit A1 is restricted for unpaid dues."))
    assert _refusal(app, world, court, *window(8, 10)) == "Unit A1 is restricted for unpaid dues."
    monkeypatch.setattr(bookings, "restriction_for", lambda unit, now: SimpleNamespace(restricted=False))
    assert _book(app, world, court, *window(8, 10))[1] == BookingStatus.CONFIRMED  # a warning only


def test_a_taken_slot_offers_the_next_free_times(app, world):
    court = add_amenity(app, world.estate)
    _book(app, world, court, *window(8, 10), user=world.neighbour)
    _book(app, world, court, *window(8, 11), user=world.neighbour)
    with app.app_context(), pytest.raises(SlotTaken) as caught:
        _book(app, world, court, *window(8, 10))
    assert str(caught.value.message) == "Sorry, that time was just taken by someone else. Nothing was booked."
    assert [s.starts_at for s in caught.value.alternatives] == [at(8, 6), at(8, 7), at(8, 8)]


def test_next_free_times_come_after_now_and_skip_taken_ones(app, world):
    court = add_amenity(app, world.estate)
    _book(app, world, court, *window(8, 10), user=world.neighbour)
    _book(app, world, court, *window(8, 11), user=world.neighbour)
    with app.app_context(), pytest.raises(SlotTaken) as caught:
        _book(app, world, court, *window(8, 10), now=at(8, 9, 30))
    assert [s.starts_at for s in caught.value.alternatives] == [at(8, 12), at(8, 13), at(8, 14)]


def test_shared_capacity_counts_places(app, world):
    pool = add_amenity(app, world.estate, "Pool", exclusive=False, capacity=5, max_guests=4)
    _book(app, world, pool, *window(8, 10), guests=3, user=world.neighbour)  # 4 places
    assert _book(app, world, pool, *window(8, 10))[1] == BookingStatus.CONFIRMED  # the 5th
    _refusal(app, world, pool, *window(8, 10), error=SlotTaken)


def test_approval_fee_charge_and_cancel_reverses_it(app, world):
    hall = add_amenity(app, world.estate, "Event hall", requires_approval=True, fee_mode=FeeMode.PER_DAY,
                       fee_minor=5_000_000, min_minutes=60, max_minutes=16 * 60, cancel_cutoff_hours=24)
    booking_id, status, fee = _book(app, world, hall, *window(12, 10, hours=6))
    assert status == BookingStatus.PENDING and fee == 5_000_000
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(UnitCharge.id))) == 0  # not before approval
        admin = db.session.get(User, world.admin.id)
        estate = db.session.get(Estate, world.estate.id)
        booking = bookings.approve(admin, estate, booking_id, now=NOW)
        assert booking.status == BookingStatus.CONFIRMED
        charge = db.session.get(UnitCharge, booking.unit_charge_id)
        assert (charge.amount_minor, charge.unit_id, charge.invoice_id) == (5_000_000, world.unit.id, None)
        resident = db.session.get(User, world.resident.id)
        bookings.cancel_by_resident(resident, estate, booking_id, now=NOW)
        db.session.refresh(charge)
        assert charge.cancelled_at is not None


def test_cancel_after_the_cutoff_is_refused_or_keeps_the_fee(app, world):
    hall = add_amenity(app, world.estate, "Event hall", fee_mode=FeeMode.FLAT, fee_minor=100_000,
                       cancel_cutoff_hours=24)
    booking_id, *_ = _book(app, world, hall, *window(8, 10))
    with app.app_context():
        resident = db.session.get(User, world.resident.id)
        estate = db.session.get(Estate, world.estate.id)
        with pytest.raises(BookingRefused) as caught:
            bookings.cancel_by_resident(resident, estate, booking_id, now=at(8, 1))
        assert str(caught.value.message) == (
            "Bookings of Event hall can be cancelled up to 24 hours before they start. Ask the estate's admin.")
        assert db.session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
    late = add_amenity(app, world.estate, "BBQ", fee_mode=FeeMode.FLAT, fee_minor=100_000, cancel_cutoff_hours=24,
                       late_cancel_keeps_fee=True)
    booking_id, *_ = _book(app, world, late, *window(8, 10))
    with app.app_context():
        resident = db.session.get(User, world.resident.id)
        estate = db.session.get(Estate, world.estate.id)
        booking = bookings.cancel_by_resident(resident, estate, booking_id, now=at(8, 1))
        assert booking.status == BookingStatus.CANCELLED
        assert db.session.get(UnitCharge, booking.unit_charge_id).cancelled_at is None  # the fee stays


def test_reject_needs_a_reason_and_outcomes_after_the_start(app, world):
    hall = add_amenity(app, world.estate, "Event hall", requires_approval=True)
    booking_id, *_ = _book(app, world, hall, *window(8, 10))
    with app.app_context():
        admin = db.session.get(User, world.admin.id)
        estate = db.session.get(Estate, world.estate.id)
        from portal.errors import Conflict, FieldErrors

        with pytest.raises(FieldErrors) as caught:
            bookings.reject(admin, estate, booking_id, " ", now=NOW)
        assert str(caught.value.errors["reason"]) == "Give a reason: the resident sees it."
        bookings.approve(admin, estate, booking_id, now=NOW)
        with pytest.raises(Conflict) as early:
            bookings.mark_outcome(admin, estate, booking_id, BookingStatus.COMPLETED, now=NOW)
        assert str(early.value.message) == "This booking has not started yet."
        done = bookings.mark_outcome(admin, estate, booking_id, BookingStatus.NO_SHOW, now=at(8, 11))
        assert done.status == BookingStatus.NO_SHOW


def test_another_estates_booking_is_not_found(app, world, estate_pair):
    court = add_amenity(app, world.estate)
    booking_id, *_ = _book(app, world, court, *window(8, 10))
    from portal.errors import NotFound

    with app.app_context():
        beta = db.session.get(Estate, estate_pair.beta.estate.id)
        with pytest.raises(NotFound):
            bookings.get_booking(beta, booking_id)
        with pytest.raises(NotFound):
            bookings.book(db.session.get(User, estate_pair.beta.resident.id), beta, court,
                          BookingRequest(*window(8, 12)), now=NOW)


def test_the_fee_per_hour_is_whole_minor_units(app, world):
    pool = add_amenity(app, world.estate, "Pool", exclusive=False, capacity=20, fee_mode=FeeMode.PER_HOUR,
                       fee_minor=150_000, slot_minutes=30, min_minutes=30, max_minutes=180)
    assert _book(app, world, pool, at(8, 10), at(8, 11, 30))[2] == 225_000


def test_postgresql_refuses_overlapping_holding_bookings_of_an_exclusive_amenity(app, world):
    """The exclusion constraint backs the row lock: two holding bookings of an exclusive
    amenity cannot overlap even when written without the service; cancelled ones may."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the exclusion constraint is PostgreSQL's")
    court = add_amenity(app, world.estate)
    start, end = window(8, 10, hours=2)

    def insert(status, offset_hours=0):
        from datetime import timedelta

        with app.app_context():
            db.session.add(Booking(estate_id=world.estate.id, amenity_id=court, unit_id=world.unit.id,
                                   starts_at=start + timedelta(hours=offset_hours),
                                   ends_at=end + timedelta(hours=offset_hours), status=status, currency="NGN",
                                   exclusive=True))
            db.session.commit()

    insert(BookingStatus.CONFIRMED)
    insert(BookingStatus.CANCELLED, 1)  # does not hold its time
    insert(BookingStatus.PENDING, 2)  # touches, does not overlap ([) ranges)
    with pytest.raises(sa.exc.IntegrityError):
        insert(BookingStatus.PENDING, 1)
