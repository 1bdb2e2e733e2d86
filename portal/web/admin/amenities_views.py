"""Amenities for estate admins: the catalogue (with closures), the bookings (filters,
approve, decline, cancel, completed / no-show) and a printable day/week calendar."""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.amenities import availability, bookings, catalogue, photos
from portal.amenities.photos import MAX_PHOTOS, PHOTO_MAX_BYTES
from portal.amenities.schedule import day_bounds, week_start
from portal.billing import money
from portal.errors import DomainError, FieldErrors, InvalidValue
from portal.models import AmenityStatus, BookingStatus, utcnow
from portal.web.admin import bp
from portal.web.admin.amenities_forms import AmenityForm, ClosureForm, PhotoForm, ReasonForm
from portal.web.i18n import formatting_locale
from portal.web.inputs import date_arg, db_int, page_arg
from portal.web.photo_pages import photo_response
from portal.web.ui import render


def _zone():
    return bookings.estate_zone(g.estate)


def _today() -> date:
    return utcnow().astimezone(_zone()).date()


def _amounts(form: AmenityForm) -> tuple[int, int] | None:
    values = []
    for field in (form.fee, form.deposit):
        text = (field.data or "").strip()
        if not text:
            values.append(0)
            continue
        try:
            values.append(money.parse_amount(text, g.estate.currency, formatting_locale()))
        except InvalidValue as exc:
            field.errors = [*field.errors, exc.message]
            return None
    return values[0], values[1]


def _show_errors(form, exc: FieldErrors) -> None:
    for name, message in exc.errors.items():
        target = getattr(form, name, None) or form.name
        target.errors = [*target.errors, message]


@bp.get("/amenities/")
def amenities_list():
    return render("admin/amenities/list.html", amenities=catalogue.list_amenities(g.estate),
                  pending=bookings.pending_count(g.estate))


def _form_page(form: AmenityForm, amenity=None, status: int = 200):
    closures = catalogue.closures_of(amenity, utcnow()) if amenity else []
    return render("admin/amenities/form.html", form=form, amenity=amenity, closures=closures,
                  photos=photos.photos_of(amenity) if amenity else [], photo_form=PhotoForm(), max_photos=MAX_PHOTOS,
                  closure_form=ClosureForm(), example=money.as_input(150_000, g.estate.currency,
                                                                     formatting_locale())), status


def _save(form: AmenityForm, amenity_id: int | None):
    if not form.validate_on_submit():
        return None
    amounts = _amounts(form)
    if amounts is None:
        return None
    data = form.data_for_service(*amounts)
    try:
        if amenity_id is None:
            return catalogue.create_amenity(current_user, g.estate, data)
        return catalogue.update_amenity(current_user, g.estate, amenity_id, data)
    except FieldErrors as exc:
        _show_errors(form, exc)
        return None


@bp.route("/amenities/new", methods=["GET", "POST"])
def amenity_new():
    form = AmenityForm()
    if request.method == "GET":
        for day in range(7):
            getattr(form, f"hours_{day}").data = "08:00-20:00"
    amenity = _save(form, None) if request.method == "POST" else None
    if amenity is not None:
        flash(_("%(name)s was added.", name=amenity.name), "success")
        return redirect(url_for("admin.amenity_edit", amenity_id=amenity.id))
    return _form_page(form, status=422 if request.method == "POST" else 200)


@bp.route("/amenities/<int:amenity_id>/edit", methods=["GET", "POST"])
def amenity_edit(amenity_id: int):
    amenity = catalogue.get_amenity(g.estate, amenity_id)
    form = AmenityForm()
    if request.method == "GET":
        locale = formatting_locale()
        form.fill(amenity, money.as_input(amenity.fee_minor, amenity.currency, locale) if amenity.fee_minor else "",
                  money.as_input(amenity.deposit_minor, amenity.currency, locale) if amenity.deposit_minor else "")
        return _form_page(form, amenity)
    saved = _save(form, amenity.id)
    if saved is not None:
        flash(_("Your changes to %(name)s were saved.", name=saved.name), "success")
        return redirect(url_for("admin.amenity_edit", amenity_id=saved.id))
    return _form_page(form, catalogue.get_amenity(g.estate, amenity_id), 422)


@bp.post("/amenities/<int:amenity_id>/status")
def amenity_status(amenity_id: int):
    status = AmenityStatus.CLOSED if request.form.get("status") == "CLOSED" else AmenityStatus.AVAILABLE
    amenity = catalogue.set_status(current_user, g.estate, amenity_id, status)
    flash(_("%(name)s is open for bookings.", name=amenity.name) if amenity.is_open
          else _("%(name)s is closed for bookings.", name=amenity.name), "success")
    return redirect(url_for("admin.amenity_edit", amenity_id=amenity_id))


@bp.post("/amenities/<int:amenity_id>/closures")
def amenity_closure_add(amenity_id: int):
    amenity = catalogue.get_amenity(g.estate, amenity_id)
    form = ClosureForm()
    if form.validate_on_submit():
        try:
            catalogue.add_closure(current_user, g.estate, amenity.id, form.data_for_service(), _zone())
        except FieldErrors as exc:
            flash(" ".join(str(m) for m in exc.errors.values()), "error")
        else:
            flash(_("The closure was added; residents see its reason."), "success")
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("admin.amenity_edit", amenity_id=amenity.id) + "#closures")


@bp.post("/amenities/<int:amenity_id>/closures/<int:closure_id>/remove")
def amenity_closure_remove(amenity_id: int, closure_id: int):
    catalogue.remove_closure(current_user, g.estate, amenity_id, closure_id)
    flash(_("The closure was removed."), "success")
    return redirect(url_for("admin.amenity_edit", amenity_id=amenity_id) + "#closures")


@bp.post("/amenities/<int:amenity_id>/photos")
def amenity_photo_add(amenity_id: int):
    amenity = catalogue.get_amenity(g.estate, amenity_id)
    form = PhotoForm()
    if form.validate_on_submit():
        upload = form.photo.data
        # At most one byte past the limit is read: enough to refuse it.
        content = upload.read(PHOTO_MAX_BYTES + 1) if upload and getattr(upload, "filename", "") else b""
        try:
            photos.add_photo(current_user, g.estate, amenity.id, content)
        except InvalidValue as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("The photo was added; residents see it on the amenity's page."), "success")
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("admin.amenity_edit", amenity_id=amenity.id) + "#photos")


@bp.post("/amenities/<int:amenity_id>/photos/<int:photo_id>/remove")
def amenity_photo_remove(amenity_id: int, photo_id: int):
    photos.remove_photo(current_user, g.estate, amenity_id, photo_id)
    flash(_("The photo was removed."), "success")
    return redirect(url_for("admin.amenity_edit", amenity_id=amenity_id) + "#photos")


@bp.get("/amenities/<int:amenity_id>/photos/<int:photo_id>")
def amenity_photo(amenity_id: int, photo_id: int):
    return photo_response(*photos.get_photo(g.estate, amenity_id, photo_id))


# --- bookings -------------------------------------------------------------------------------------


@bp.get("/bookings/")
def bookings_list():
    errors: dict = {}
    start_day, end_day = date_arg(request.args, "from", errors), date_arg(request.args, "to", errors)
    tz = _zone()
    filters = bookings.BookingFilters(
        amenity_id=request.args.get("amenity", type=db_int), status=request.args.get("status", ""),
        unit=request.args.get("unit", "")[:40],
        start=day_bounds(start_day, tz)[0] if start_day else None,
        end=day_bounds(end_day, tz)[1] if end_day else None)
    return render("admin/amenities/bookings.html", block="booking_table",
                  items=bookings.list_for_admin(g.estate, filters, page=page_arg()), filters=filters,
                  start_day=start_day, end_day=end_day, errors=errors, amenities=catalogue.list_amenities(g.estate))


@bp.get("/bookings/<int:booking_id>")
def booking_detail(booking_id: int):
    booking = bookings.get_booking(g.estate, booking_id)
    return render("admin/amenities/booking.html", booking=booking, form=ReasonForm(), now=utcnow())


def _decide(booking_id: int, act, done: str):
    try:
        act()
    except DomainError as exc:
        if exc.http_status == 404:
            raise
        flash(str(exc.message), "error")
    else:
        flash(done, "success")
    return redirect(url_for("admin.booking_detail", booking_id=booking_id))


def _reason() -> str:
    return (request.form.get("reason") or "")[:2000]  # the service says if it is missing or too long


@bp.post("/bookings/<int:booking_id>/approve")
def booking_approve(booking_id: int):
    return _decide(booking_id, lambda: bookings.approve(current_user, g.estate, booking_id),
                   _("The booking was approved; its fee goes on the unit's next bill."))


@bp.post("/bookings/<int:booking_id>/reject")
def booking_reject(booking_id: int):
    return _decide(booking_id, lambda: bookings.reject(current_user, g.estate, booking_id, _reason()),
                   _("The booking was declined."))


@bp.post("/bookings/<int:booking_id>/cancel")
def booking_cancel(booking_id: int):
    return _decide(booking_id, lambda: bookings.cancel_by_admin(current_user, g.estate, booking_id, _reason()),
                   _("The booking was cancelled."))


@bp.post("/bookings/<int:booking_id>/completed")
def booking_completed(booking_id: int):
    return _decide(booking_id, lambda: bookings.mark_outcome(current_user, g.estate, booking_id,
                                                             BookingStatus.COMPLETED), _("The booking was marked."))


@bp.post("/bookings/<int:booking_id>/no-show")
def booking_no_show(booking_id: int):
    return _decide(booking_id, lambda: bookings.mark_outcome(current_user, g.estate, booking_id,
                                                             BookingStatus.NO_SHOW), _("The booking was marked."))


@bp.get("/amenities/<int:amenity_id>/calendar")
def amenity_calendar(amenity_id: int):
    """A day (with each slot and who holds it) or a week (each day's bookings); printable."""
    amenity = catalogue.get_amenity(g.estate, amenity_id)
    errors: dict = {}
    day = date_arg(request.args, "date", errors) or _today()
    view = "week" if request.args.get("view") == "week" else "day"
    tz = _zone()
    if view == "week":
        monday = week_start(day)
        start, end = day_bounds(monday, tz)[0], day_bounds(monday + timedelta(days=6), tz)[1]
        items = bookings.between(amenity, start, end)
        days = [(monday + timedelta(days=n), [b for b in items if b.starts_at.astimezone(tz).date()
                                              == monday + timedelta(days=n)]) for n in range(7)]
        return render("admin/amenities/calendar.html", amenity=amenity, view=view, day=monday, days=days,
                      prev_day=monday - timedelta(days=7), next_day=monday + timedelta(days=7), slots=[],
                      items=items)
    start, end = day_bounds(day, tz)
    return render("admin/amenities/calendar.html", amenity=amenity, view=view, day=day, days=[],
                  slots=availability.day_grid(amenity, day, tz, utcnow()), items=bookings.between(amenity, start, end),
                  prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1))
