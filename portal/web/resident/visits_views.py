"""Residents' visits: invite visitors, list, see a pass (QR, code, window, status, gate
history, share), edit, extend, cancel; frequent visitors; personal bans."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.errors import DomainError, InvalidValue, NotFound
from portal.models import utcnow
from portal.visits import bans
from portal.visits import service as visits
from portal.visits.rules import REFUSAL_MESSAGES
from portal.web.forms import VisitForm, attach_error, prefill_window
from portal.web.inputs import db_int, page_arg
from portal.web.resident import bp
from portal.web.resident.forms import ExtendForm, PersonalBanForm, VisitEditForm
from portal.web.ui import pass_last_day, qr_svg, render

EVENT_WORDS = {"ENTRY": _l("Entered"), "EXIT": _l("Left"), "DENIED": _l("Refused")}
# A pass in one of these states opens nothing: its page shows it void, without its QR
# code or the buttons to share it.
DEAD_STATES = ("CANCELLED", "REVOKED", "EXPIRED", "USED")


def _visit_form_page(form: VisitForm, units, status: int = 200):
    return render("resident/visit_form.html", form=form, units=units, admin=False,
                  back_url=url_for("resident.visits_list")), status


def _add_guest_row(form) -> bool:
    """The "add another visitor" button: one more row, nothing saved (works without JS)."""
    if "add_guest" in request.form and len(form.guests.entries) < visits.MAX_GUESTS:
        form.guests.append_entry()
        return True
    return False


@bp.get("/visits/")
def visits_list():
    when = request.args.get("when", "current")
    filters = visits.VisitFilters(q=request.args.get("q", ""), when=when if when in visits.VISIT_FILTERS else "current")
    page = page_arg()
    now = utcnow()
    listing = visits.list_visits(current_user, g.estate, filters, page=page)
    return render(
        "resident/visits.html", block="visit_table", visits=listing, filters=filters, now=now,
        pass_state=visits.pass_state, banned=bans.bans_for_visits(g.estate, listing.items, now),
    )


@bp.route("/visits/new", methods=["GET", "POST"])
def visit_new():
    units = visits.resident_units(current_user, g.estate)
    if not units:
        flash(_("You are not linked to a unit yet. Ask your estate's admin to add you to your household."), "warning")
        return redirect(url_for("resident.home"))
    form = VisitForm(units=units)
    if request.method == "GET":
        form.unit_id.data = units[0].id
        prefill_window(form, g.estate.timezone)
        frequent_id = request.args.get("frequent", type=db_int)
        if frequent_id:
            saved = visits.get_frequent_visitor(current_user, g.estate, frequent_id)
            guest = form.guests.entries[0].form
            guest.full_name.data, guest.phone.data, guest.plate.data = saved.full_name, saved.phone, saved.plate
            form.purpose.data = saved.purpose
            ban = bans.phone_ban(g.estate, saved.phone, current_user.id, utcnow())
            if ban is not None:  # say so now, not after the form is filled in
                guest.phone.errors = [visits.invite_refusal(ban)]
        return _visit_form_page(form, units)
    if _add_guest_row(form):
        return _visit_form_page(form, units)
    if form.validate_on_submit():
        try:
            visit = visits.create_visit(current_user, g.estate, form.unit_id.data, form.data_for_service())
        except DomainError as exc:
            attach_error(form, exc)
        else:
            flash(_("Your pass is ready. Share it with your visitor."), "success")
            return redirect(url_for("resident.visit_detail", visit_id=visit.id))
    return _visit_form_page(form, units, 422)


def _detail_page(visit, status: int = 200, **forms):
    if "extend_form" not in forms:
        end = pass_last_day(visit).astimezone(ZoneInfo(g.estate.timezone))
        forms["extend_form"] = ExtendForm(formdata=None, data={"end_date": end.date(), "end_time": end.time()})
    pass_url = url_for("passes.pass_page", qr_token=visit.qr_token, _external=True)
    now = utcnow()
    ban = bans.bans_for_visits(g.estate, [visit], now).get(visit.id)
    state = visits.pass_state(visit, now, g.estate.timezone, banned=ban is not None)
    return render(
        "resident/visit_detail.html", visit=visit, now=now, state=state, ban=ban,
        history=visits.gate_history(g.estate, visit), qr=None if state in DEAD_STATES else qr_svg(visit.qr_token),
        pass_url=pass_url, event_words=EVENT_WORDS, refusal_messages=REFUSAL_MESSAGES,
        share_text=_("Your visitor pass for %(estate)s. Code: %(code)s. Pass: %(url)s",
                     estate=g.estate.name, code=visit.visitor_code, url=pass_url),
        **forms,
    ), status


@bp.get("/visits/<int:visit_id>")
def visit_detail(visit_id: int):
    return _detail_page(visits.get_visit(current_user, g.estate, visit_id))


@bp.route("/visits/<int:visit_id>/edit", methods=["GET", "POST"])
def visit_edit(visit_id: int):
    visit = visits.get_visit(current_user, g.estate, visit_id)
    form = VisitEditForm(data={"purpose": visit.purpose, "guests": [
        {"full_name": v.full_name, "phone": v.phone or "", "plate": v.plate or ""} for v in visit.visitors
    ]} if request.method == "GET" else None)
    if request.method == "POST" and not _add_guest_row(form) and form.validate_on_submit():
        try:
            visits.update_visit(current_user, g.estate, visit_id, form.guest_data(), form.purpose.data or "")
        except InvalidValue as exc:
            attach_error(form, exc)
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            flash(str(exc.message), "error")
            return redirect(url_for("resident.visit_detail", visit_id=visit_id))
        else:
            flash(_("The visit was saved."), "success")
            return redirect(url_for("resident.visit_detail", visit_id=visit_id))
    failed = request.method == "POST" and "add_guest" not in request.form
    return render("resident/visit_edit.html", form=form, visit=visit), 422 if failed else 200


@bp.post("/visits/<int:visit_id>/extend")
def visit_extend(visit_id: int):
    visit = visits.get_visit(current_user, g.estate, visit_id)
    form = ExtendForm()
    if form.validate_on_submit():
        try:
            visits.extend_visit(current_user, g.estate, visit_id, form.end_date.data, form.end_time.data)
        except InvalidValue as exc:
            form[exc.field if exc.field in form else "end_date"].errors = [exc.message]
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            flash(str(exc.message), "error")
            return redirect(url_for("resident.visit_detail", visit_id=visit_id))
        else:
            flash(_("The pass now lasts longer."), "success")
            return redirect(url_for("resident.visit_detail", visit_id=visit_id))
    return _detail_page(visit, 422, extend_form=form)


@bp.post("/visits/<int:visit_id>/cancel")
def visit_cancel(visit_id: int):
    visits.cancel_visit(current_user, g.estate, visit_id)
    flash(_("The visit was cancelled. The gate will refuse this pass."), "success")
    return redirect(url_for("resident.visit_detail", visit_id=visit_id))


@bp.post("/visits/<int:visit_id>/visitors/<int:guest_id>/save")
def visit_guest_save(visit_id: int, guest_id: int):
    try:
        saved = visits.save_frequent_visitor(current_user, g.estate, visit_id, guest_id)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("%(name)s was saved as a frequent visitor.", name=saved.full_name), "success")
    return redirect(url_for("resident.visit_detail", visit_id=visit_id))


@bp.get("/visitors/")
def frequent_list():
    frequent = visits.list_frequent_visitors(current_user, g.estate)
    return render("resident/frequent.html", frequent=frequent,
                  banned=bans.bans_for_phones(g.estate, [p.phone for p in frequent], current_user.id, utcnow()))


@bp.post("/visitors/<int:frequent_id>/remove")
def frequent_remove(frequent_id: int):
    visits.remove_frequent_visitor(current_user, g.estate, frequent_id)
    flash(_("The visitor was removed from your list."), "success")
    return redirect(url_for("resident.frequent_list"))


def _bans_page(form: PersonalBanForm, status: int = 200):
    return render("resident/bans.html", form=form, bans=visits.list_personal_bans(current_user, g.estate)), status


@bp.route("/bans/", methods=["GET", "POST"])
def bans_list():
    form = PersonalBanForm()
    if request.method == "GET":
        return _bans_page(form)
    if form.validate_on_submit():
        try:
            visits.add_personal_ban(current_user, g.estate, form.phone.data or "", form.reason.data or "",
                                    form.expires_on.data)
        except DomainError as exc:
            field = getattr(exc, "field", "phone")
            form[field if field in form else "phone"].errors = [exc.message]
        else:
            flash(_("The number is banned from your invitations."), "success")
            return redirect(url_for("resident.bans_list"))
    return _bans_page(form, 422)


@bp.post("/bans/<int:ban_id>/lift")
def ban_lift(ban_id: int):
    visits.lift_personal_ban(current_user, g.estate, ban_id)
    flash(_("The ban was lifted."), "success")
    return redirect(url_for("resident.bans_list"))

