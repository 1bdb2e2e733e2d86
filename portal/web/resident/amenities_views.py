"""Residents' amenities: the list, a day's slot grid (HTMX as the date changes), the week,
booking (price shown before confirming), their bookings, cancelling, the .ics file."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Response, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.amenities import availability, bookings, calendar, photos
from portal.amenities.bookings import BookingRequest, SlotTaken
from portal.amenities.catalogue import closures_of, get_amenity, list_amenities
from portal.amenities.schedule import week_start
from portal.errors import DomainError, FieldErrors
from portal.models import utcnow
from portal.web.inputs import MAX_DATE, MIN_DATE, page_arg
from portal.web.photo_pages import photo_response
from portal.web.resident import bp
from portal.web.ui import render

MAX_GUESTS_INPUT = 10_000


def _today() -> date:
    return utcnow().astimezone(bookings.estate_zone(g.estate)).date()


def _day_arg(name: str = "date") -> date:
    """The day asked for (YYYY-MM-DD), today when missing or unreadable."""
    try:
        day = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return _today()
    return day if MIN_DATE <= day <= MAX_DATE else _today()


def _my_unit_ids() -> list[int]:
    return [u.id for u in bookings.resident_units(current_user, g.estate)]


@bp.get("/amenities/")
def amenities_list():
    return render("resident/amenities.html", amenities=list_amenities(g.estate))


def _amenity_page(amenity, day: date, status: int = 200, **extra):
    now = utcnow()
    units = bookings.resident_units(current_user, g.estate)
    slots = availability.day_grid(amenity, day, bookings.estate_zone(g.estate), now, [u.id for u in units])
    context = dict(amenity=amenity, day=day, slots=slots, units=units, today=_today(),
                   closures=closures_of(amenity, now), photos=photos.photos_of(amenity), selected=set(), guests=0, notes="", errors={},
                   alternatives=[], max_day=_today() + timedelta(days=amenity.advance_days),
                   prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1))
    context.update(extra)
    return render("resident/amenity.html", block="slot_grid", **context), status


@bp.get("/amenities/<int:amenity_id>/")
def amenity_detail(amenity_id: int):
    return _amenity_page(get_amenity(g.estate, amenity_id), _day_arg())


@bp.get("/amenities/<int:amenity_id>/photos/<int:photo_id>")
def amenity_photo(amenity_id: int, photo_id: int):
    return photo_response(*photos.get_photo(g.estate, amenity_id, photo_id))


@bp.get("/amenities/<int:amenity_id>/week")
def amenity_week(amenity_id: int):
    amenity = get_amenity(g.estate, amenity_id)
    monday = week_start(_day_arg("start"))
    week = availability.week_grid(amenity, monday, bookings.estate_zone(g.estate), utcnow(), _my_unit_ids())
    return render("resident/amenity_week.html", block="week_grid", amenity=amenity, week=week, monday=monday,
                  prev_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7), today=_today())


def _slot_starts() -> list[datetime]:
    starts = []
    for value in request.form.getlist("slot")[:200]:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise FieldErrors({"slots": _("Choose a time: tap one slot, or several next to each other.")}) from None
        if moment.tzinfo is None:
            raise FieldErrors({"slots": _("Choose a time: tap one slot, or several next to each other.")})
        starts.append(moment)
    return starts


def _whole(name: str) -> int:
    text = (request.form.get(name) or "0").strip() or "0"
    if not text.isdigit() or int(text) > MAX_GUESTS_INPUT:
        raise FieldErrors({"guests": _("Enter the number of guests as a whole number.")})
    return int(text)


@bp.post("/amenities/<int:amenity_id>/book")
def amenity_book(amenity_id: int):
    """Without `confirm`: check everything and show the price; with it: book."""
    amenity = get_amenity(g.estate, amenity_id)
    day = _day_arg()
    starts: list[datetime] = []
    guests, notes = 0, (request.form.get("notes") or "")[:2000]
    try:
        starts = _slot_starts()
        guests = _whole("guests")
        start, end = bookings.window_from_slots(amenity, starts)
        unit_id = request.form.get("unit_id", type=int)
        req = BookingRequest(start, end, guests, notes, unit_id)
        if request.form.get("confirm") != "1":
            quote = bookings.quote(current_user, g.estate, amenity.id, req)
            return render("resident/booking_confirm.html", quote=quote, day=day,
                          slots=[s.isoformat() for s in sorted(starts)])
        booking = bookings.book(current_user, g.estate, amenity.id, req)
    except SlotTaken as exc:
        amenity = get_amenity(g.estate, amenity_id)
        return _amenity_page(amenity, day, 409, errors={"slots": exc.message}, alternatives=exc.alternatives,
                             guests=guests, notes=notes)
    except FieldErrors as exc:
        amenity = get_amenity(g.estate, amenity_id)
        return _amenity_page(amenity, day, 422, errors=exc.errors, selected={s.isoformat() for s in starts},
                             guests=guests, notes=notes)
    except DomainError as exc:
        if exc.http_status == 404:
            raise
        amenity = get_amenity(g.estate, amenity_id)
        return _amenity_page(amenity, day, exc.http_status, errors={"slots": exc.message},
                             selected={s.isoformat() for s in starts}, guests=guests, notes=notes)
    if booking.status.value == "PENDING":
        flash(_("Your request was sent. The estate's admin will approve or decline it."), "success")
    else:
        flash(_("Booked. See you there!"), "success")
    return redirect(url_for("resident.booking_detail", booking_id=booking.id))


@bp.get("/bookings/")
def bookings_list():
    when = "past" if request.args.get("when") == "past" else "upcoming"
    now = utcnow()
    return render("resident/bookings.html", block="booking_list", when=when, now=now,
                  items=bookings.list_for_resident(current_user, g.estate, when, now, page=page_arg()))


@bp.get("/bookings/<int:booking_id>")
def booking_detail(booking_id: int):
    booking = bookings.get_for_resident(current_user, g.estate, booking_id)
    now = utcnow()
    allowed, refund = bookings.can_cancel(booking, now)
    return render("resident/booking_detail.html", booking=booking, can_cancel=allowed, refund=refund)


@bp.post("/bookings/<int:booking_id>/cancel")
def booking_cancel(booking_id: int):
    try:
        bookings.cancel_by_resident(current_user, g.estate, booking_id)
    except DomainError as exc:
        if exc.http_status == 404:
            raise
        flash(str(exc.message), "error")
    else:
        flash(_("Your booking was cancelled."), "success")
    return redirect(url_for("resident.booking_detail", booking_id=booking_id))


@bp.get("/bookings/<int:booking_id>/booking.ics")
def booking_ics(booking_id: int):
    booking = bookings.get_for_resident(current_user, g.estate, booking_id)
    body = calendar.booking_ics(booking, g.estate)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="booking-{booking.id}.ics"'})
