"""The day-before reminder: each confirmed booking starting within the next 24 hours gets
one message (email, else SMS) to the resident who made it, in their language, through the
messaging outbox. Run every 15 minutes by the job worker (portal/jobs.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_datetime
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, selectinload

from portal import audit
from portal.extensions import db
from portal.integrations import messaging
from portal.models import Amenity, Booking, BookingStatus, Estate, utcnow

AHEAD = timedelta(hours=24)
BATCH = 200


def _text(booking: Booking, estate: Estate, language: str) -> tuple[str, str]:
    tz = ZoneInfo(estate.timezone)
    with force_locale(language):
        when = format_datetime(booking.starts_at, "EEEE d MMMM, HH:mm", tzinfo=tz, locale=language)
        subject = str(_l("Reminder: %(amenity)s tomorrow", amenity=booking.amenity.name))
        body = str(_l("Your booking of %(amenity)s at %(estate)s starts %(when)s (%(guests)s guests). To cancel, "
                      "open My bookings.", amenity=booking.amenity.name, estate=estate.name, when=when,
                      guests=booking.guests))
    return subject, body


def send_reminders(now: datetime | None = None) -> int:
    """Remind each booking once (a conditional update claims it); how many were sent."""
    now = now or utcnow()
    due = list(db.session.scalars(
        sa.select(Booking).join(Amenity, Amenity.id == Booking.amenity_id)
        .options(contains_eager(Booking.amenity), selectinload(Booking.user))
        .where(Booking.status == BookingStatus.CONFIRMED, Booking.reminded_at.is_(None),
               Booking.starts_at > now, Booking.starts_at <= now + AHEAD)
        .order_by(Booking.starts_at).limit(BATCH)))
    sent = 0
    estates: dict[int, Estate] = {}
    for booking in due:
        claimed = db.session.execute(
            sa.update(Booking).where(Booking.id == booking.id, Booking.reminded_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)).rowcount
        if not claimed:
            continue
        estate = estates.get(booking.estate_id) or estates.setdefault(booking.estate_id,
                                                                       db.session.get(Estate, booking.estate_id))
        user = booking.user
        channel = ""
        if user is not None and (user.email or user.phone):
            language = (user.preferred_language or estate.default_language
                        or current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))
            subject, body = _text(booking, estate, language)
            about = {"estate": estate, "language": language, "reason": "booking_reminder"}
            if user.email:
                messaging.send_email(user.email, subject, body, **about)
                channel = "EMAIL"
            else:
                messaging.send_sms(user.phone, body, **about)
                channel = "SMS"
            sent += 1
        audit.record("booking.reminded", booking, actor_id=None,
                     after={"name": f"{booking.amenity.name} · {booking.starts_at.isoformat()}", "channel": channel})
        db.session.commit()
    return sent
