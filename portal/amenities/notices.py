"""Telling a resident that an admin approved, declined or cancelled their booking: email,
SMS and push as they chose for "booking_decided" (portal.accounts.profile), in their
language, written to the messaging outbox in the transaction of the decision, so it is
sent after the commit, and once (the decision is a conditional update: a second admin
acting at once changes nothing and writes nothing)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal import links
from portal.accounts.profile import wants_notification
from portal.extensions import db
from portal.integrations import messaging
from portal.integrations.push import PushNotice
from portal.models import Booking, BookingStatus, Estate, User

EVENT = "booking_decided"
SUBJECTS = {
    "approved": _l("Your booking of %(amenity)s is confirmed"),
    "rejected": _l("Your booking of %(amenity)s was declined"),
    "cancelled": _l("Your booking of %(amenity)s was cancelled"),
}
BODIES = {
    "approved": _l("%(estate)s approved your booking of %(amenity)s on %(when)s."),
    "rejected": _l("%(estate)s declined your booking of %(amenity)s on %(when)s. Reason: %(reason)s"),
    "cancelled": _l("%(estate)s cancelled your booking of %(amenity)s on %(when)s. Reason: %(reason)s"),
}
SEE = _l("See your booking: %(link)s")
DECISIONS = {BookingStatus.CONFIRMED: "approved", BookingStatus.REJECTED: "rejected",
             BookingStatus.CANCELLED: "cancelled"}



def tell_resident(estate: Estate, booking: Booking) -> None:
    """The admin's decision on `booking` (its status now), to the resident who booked it;
    in the caller's transaction. Nothing when nobody booked it or they want none of it."""
    decision = DECISIONS.get(booking.status)
    user = db.session.get(User, booking.user_id) if booking.user_id else None
    if decision is None or user is None:
        return
    language = messaging.language_for(user.preferred_language, estate)
    link = links.booking_for_resident(estate, booking.id)
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    absolute = f"{base}{link}" if base and link.startswith("/") else link
    with force_locale(language):
        when = format_datetime(booking.starts_at, "EEEE d MMMM, HH:mm", tzinfo=ZoneInfo(estate.timezone),
                               locale=language)
        params = {"estate": estate.name, "amenity": booking.amenity.name, "when": when,
                  "reason": booking.reason or "—"}
        subject = str(SUBJECTS[decision] % params)
        body = str(BODIES[decision] % params)
        see = str(SEE % {"link": absolute})
    messages = []
    if user.email and wants_notification(user, EVENT, "email"):
        messages.append(("EMAIL", user.email, subject, f"{body}\n\n{see}"))
    if user.phone and wants_notification(user, EVENT, "sms"):
        messages.append(("SMS", user.phone, "", f"{body} {absolute}"))
    push = (PushNotice(user.id, subject, body, link, tag=f"booking-{booking.id}")
            if wants_notification(user, EVENT, "push") else None)
    messaging.send_many(messages, push=push, estate=estate, language=language, reason=EVENT)
