"""Residents are told when an admin approves, declines or cancels their booking: through
the outbox, in their language, as they chose for "booking_decided", in the transaction of
the decision (nothing written when the decision fails), once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.amenities import bookings
from portal.errors import Conflict
from portal.extensions import db
from portal.models import Booking, BookingStatus, Estate, OutboxMessage, User
from tests.amenity_support import LAGOS, NOW, add_amenity

START = datetime(2026, 12, 12, 18, tzinfo=LAGOS)  # Saturday 12 December 2026, 18:00 in Lagos


def _pending(app, pair, amenity_id: int, status=BookingStatus.PENDING) -> int:
    a = pair.alpha
    with app.app_context():
        booking = Booking(estate_id=a.estate.id, amenity_id=amenity_id, unit_id=a.unit.id, user_id=a.resident.id,
                          starts_at=START, ends_at=START + timedelta(hours=3), guests=0, places=1, exclusive=True,
                          status=status, currency="NGN")
        db.session.add(booking)
        db.session.commit()
        return booking.id


def _outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def _decide(app, pair, action: str, booking_id: int, reason: str = "") -> None:
    with app.app_context():
        estate = db.session.get(Estate, pair.alpha.estate.id)
        admin = db.session.get(User, pair.alpha.admin.id)
        if action == "approve":
            bookings.approve(admin, estate, booking_id, now=NOW)
        elif action == "reject":
            bookings.reject(admin, estate, booking_id, reason, now=NOW)
        else:
            bookings.cancel_by_admin(admin, estate, booking_id, reason, now=NOW)


@pytest.mark.parametrize(("action", "reason", "subject", "sentence"), [
    ("approve", "", "Your booking of Event hall is confirmed",
     "Alpha Court approved your booking of Event hall on Saturday 12 December, 18:00."),
    ("reject", "Hall taken for the AGM", "Your booking of Event hall was declined",
     "Alpha Court declined your booking of Event hall on Saturday 12 December, 18:00. Reason: Hall taken for the AGM"),
    ("cancel", "Water leak", "Your booking of Event hall was cancelled",
     "Alpha Court cancelled your booking of Event hall on Saturday 12 December, 18:00. Reason: Water leak"),
])
def test_each_decision_is_told_once_by_email(app, estate_pair, action, reason, subject, sentence):
    hall = add_amenity(app, estate_pair.alpha.estate, "Event hall", requires_approval=True)
    booking_id = _pending(app, estate_pair, hall)
    _decide(app, estate_pair, action, booking_id, reason)
    with app.app_context():
        (message,) = _outbox()
        assert (message.channel, message.recipient, message.subject, message.language, message.reason) == (
            "EMAIL", "resident@alpha.test", subject, "en", "booking_decided")
        assert message.body.startswith(sentence)
        assert f"/e/alpha/home/bookings/{booking_id}" in message.body
        assert message.estate_id == estate_pair.alpha.estate.id
    # Deciding again changes nothing and tells nobody again.
    with pytest.raises(Conflict):
        _decide(app, estate_pair, action, booking_id, reason or "again")
    with app.app_context():
        assert len(_outbox()) == 1


def test_in_spanish_by_sms_too_when_the_resident_chose_it(app, estate_pair):
    with app.app_context():
        user = db.session.get(User, estate_pair.alpha.resident.id)
        user.preferred_language = "es"
        user.phone = "+2348030000001"
        user.notification_prefs = {"booking_decided": {"email": True, "sms": True, "push": False}}
        db.session.commit()
    hall = add_amenity(app, estate_pair.alpha.estate, "Salón social", requires_approval=True)
    booking_id = _pending(app, estate_pair, hall)
    _decide(app, estate_pair, "reject", booking_id, "Hay una asamblea")
    with app.app_context():
        email, sms = _outbox()
        assert email.language == sms.language == "es"
        assert email.subject == "Tu reserva de Salón social fue rechazada"
        assert email.body.startswith("Alpha Court rechazó tu reserva de Salón social para el sábado 12 diciembre, "
                                     "18:00. Motivo: Hay una asamblea")
        assert "Ve tu reserva:" in email.body
        assert (sms.channel, sms.recipient) == ("SMS", "+2348030000001")
        assert sms.body.startswith("Alpha Court rechazó tu reserva")


def test_nothing_when_the_resident_turned_it_off(app, estate_pair):
    with app.app_context():
        db.session.get(User, estate_pair.alpha.resident.id).notification_prefs = {
            "booking_decided": {"email": False, "sms": False, "push": False}}
        db.session.commit()
    hall = add_amenity(app, estate_pair.alpha.estate, "Event hall", requires_approval=True)
    booking_id = _pending(app, estate_pair, hall)
    _decide(app, estate_pair, "approve", booking_id)
    with app.app_context():
        assert _outbox() == []
        assert db.session.get(Booking, booking_id).status == BookingStatus.CONFIRMED


def test_a_refused_decision_writes_no_message(app, estate_pair):
    hall = add_amenity(app, estate_pair.alpha.estate, "Event hall", requires_approval=True)
    booking_id = _pending(app, estate_pair, hall)
    with pytest.raises(Exception):  # noqa: B017 - the reason is missing: FieldErrors
        _decide(app, estate_pair, "reject", booking_id, "")
    with app.app_context():
        assert _outbox() == []
        assert db.session.get(Booking, booking_id).status == BookingStatus.PENDING


def test_the_admin_page_decision_sends_it_after_the_commit(client, app, estate_pair, login):
    """Through the page: the message is in the outbox with the decision, and the resident
    can choose it among their notification preferences."""
    hall = add_amenity(app, estate_pair.alpha.estate, "Event hall", requires_approval=True)
    booking_id = _pending(app, estate_pair, hall)
    login("admin@alpha.test")
    assert client.post(f"/e/alpha/admin/bookings/{booking_id}/approve").status_code == 302
    with app.app_context():
        (message,) = _outbox()
        assert message.subject == "Your booking of Event hall is confirmed"
    client.post("/logout")
    login("resident@alpha.test")
    prefs = client.get("/account/").get_data(as_text=True)
    assert "A booking of mine is approved, declined or cancelled" in prefs
