"""Estate admins: the residents directory and each unit's household (members, vehicles,
access cards)."""

from flask import flash, g, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.billing import restrictions
from portal.errors import DomainError, NotFound
from portal.households import service as households
from portal.households.service import InvalidValue
from portal.units import service as units
from portal.web.admin import bp
from portal.web.admin.dues_forms import DuesOverrideForm
from portal.web.admin.people_forms import (
    CardIssueForm,
    CardRequestForm,
    MemberForm,
    MoveOutForm,
    VehicleForm,
)
from portal.web.inputs import page_arg
from portal.web.ui import render


def _attach(form, exc: DomainError, default: str) -> None:
    """A refusal shown next to the field it is about."""
    name = exc.field if isinstance(exc, InvalidValue) and exc.field in form else default
    form[name].errors = [*form[name].errors, exc.message]


def _member_page(form, unit, member):
    country = get_locale().territories.get(g.estate.country, g.estate.country)
    return render("admin/member_form.html", form=form, unit=unit, member=member, country_name=country), \
        422 if form.errors else 200


@bp.get("/residents/")
def residents_list():
    filters = households.ResidentFilters(
        q=request.args.get("q", ""),
        resident_type=request.args.get("type", ""),
        status=request.args.get("status", ""),
    )
    page = page_arg()
    return render(
        "admin/residents.html",
        block="resident_table",
        residents=households.list_residents(g.estate, filters, page=page),
        filters=filters,
    )


def _household_page(unit_id: int, status: int = 200, **forms):
    household = households.get_household(g.estate, unit_id)
    forms.setdefault("vehicle_form", VehicleForm(formdata=None))
    forms.setdefault("card_form", CardRequestForm(formdata=None, members=household.current))
    forms.setdefault("issue_errors", {})
    forms.setdefault("card_error", None)
    forms.setdefault("override_form", DuesOverrideForm(formdata=None))
    return render("admin/household.html", household=household, unit=household.unit,
                  dues=restrictions.unit_dues(g.estate, household.unit), **forms), status


@bp.get("/units/<int:unit_id>/")
def household(unit_id: int):
    return _household_page(unit_id)


@bp.route("/units/<int:unit_id>/members/new", methods=["GET", "POST"])
def member_new(unit_id: int):
    unit = units.get_unit(g.estate, unit_id)
    form = MemberForm(region=g.estate.country)
    if form.validate_on_submit():
        try:
            member = households.add_member(current_user, g.estate, unit_id, form.data_for_service())
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            _attach(form, exc, "full_name")
        else:
            flash(_("%(name)s was added to unit %(number)s.", name=member.full_name, number=unit.number), "success")
            return redirect(url_for("admin.household", unit_id=unit_id))
    return _member_page(form, unit, None)


@bp.route("/units/<int:unit_id>/members/<int:resident_id>/edit", methods=["GET", "POST"])
def member_edit(unit_id: int, resident_id: int):
    member = households.get_member(g.estate, unit_id, resident_id)
    form = MemberForm(obj=member if request.method == "GET" else None, region=g.estate.country)
    if request.method == "GET":
        form.resident_type.data = member.resident_type.value
    if form.validate_on_submit():
        try:
            member = households.update_member(current_user, g.estate, unit_id, resident_id,
                                              form.data_for_service())
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            _attach(form, exc, "full_name")
        else:
            flash(_("The details of %(name)s were saved.", name=member.full_name), "success")
            return redirect(url_for("admin.household", unit_id=unit_id))
    return _member_page(form, member.unit, member)


@bp.route("/units/<int:unit_id>/members/<int:resident_id>/move-out", methods=["GET", "POST"])
def member_move_out(unit_id: int, resident_id: int):
    member = households.get_member(g.estate, unit_id, resident_id)
    if member.move_out_date is not None:
        flash(_("%(name)s has already moved out.", name=member.full_name), "info")
        return redirect(url_for("admin.household", unit_id=unit_id))
    form = MoveOutForm()
    if request.method == "GET":
        form.move_out_date.data = households.estate_today(g.estate)
    if form.validate_on_submit():
        try:
            result = households.move_out_member(current_user, g.estate, unit_id, resident_id,
                                                form.move_out_date.data)
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            _attach(form, exc, "move_out_date")
        else:
            if result.access_removed:
                flash(_("%(name)s has moved out and can no longer sign in to this estate as a resident. "
                        "Their history is kept.", name=member.full_name), "success")
            else:
                flash(_("%(name)s has moved out. Their history is kept.", name=member.full_name), "success")
            return redirect(url_for("admin.household", unit_id=unit_id))
    return render("admin/move_out.html", form=form, unit=member.unit, member=member), 422 if form.errors else 200


@bp.post("/units/<int:unit_id>/vehicles")
def vehicle_add(unit_id: int):
    units.get_unit(g.estate, unit_id)
    form = VehicleForm()
    if form.validate_on_submit():
        try:
            vehicle = households.add_vehicle(current_user, g.estate, unit_id, form.data_for_service())
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            _attach(form, exc, "plate")
        else:
            flash(_("Vehicle %(plate)s was added.", plate=vehicle.plate), "success")
            return redirect(url_for("admin.household", unit_id=unit_id, _anchor="vehicles"))
    return _household_page(unit_id, 422, vehicle_form=form)


@bp.post("/units/<int:unit_id>/vehicles/<int:vehicle_id>/remove")
def vehicle_remove(unit_id: int, vehicle_id: int):
    vehicle = households.remove_vehicle(current_user, g.estate, unit_id, vehicle_id)
    flash(_("Vehicle %(plate)s was removed.", plate=vehicle.plate), "success")
    return redirect(url_for("admin.household", unit_id=unit_id, _anchor="vehicles"))


@bp.post("/units/<int:unit_id>/cards")
def card_request(unit_id: int):
    household = households.get_household(g.estate, unit_id)
    form = CardRequestForm(members=household.current)
    if form.validate_on_submit():
        holder = int(form.holder.data) if form.holder.data else None
        try:
            households.request_card(current_user, g.estate, unit_id, holder)
        except InvalidValue as exc:
            _attach(form, exc, "holder")
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            return _household_page(unit_id, exc.http_status, card_form=form, card_error=exc.message)
        else:
            flash(_("An access card was requested for unit %(number)s.", number=household.unit.number), "success")
            return redirect(url_for("admin.household", unit_id=unit_id, _anchor="cards"))
    return _household_page(unit_id, 422, card_form=form)


@bp.post("/units/<int:unit_id>/cards/<int:card_id>/issue")
def card_issue(unit_id: int, card_id: int):
    form = CardIssueForm()
    if form.validate_on_submit():
        try:
            card = households.issue_card(current_user, g.estate, unit_id, card_id, form.card_number.data)
        except InvalidValue as exc:
            form.card_number.errors = [exc.message]
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            flash(str(exc.message), "error")
            return redirect(url_for("admin.household", unit_id=unit_id, _anchor="cards"))
        else:
            flash(_("Access card %(number)s was issued.", number=card.card_number), "success")
            return redirect(url_for("admin.household", unit_id=unit_id, _anchor="cards"))
    households.get_card(g.estate, unit_id, card_id)  # another estate's or unit's card: 404
    return _household_page(unit_id, 422, issue_errors={card_id: (form.card_number.data or "", form.card_number.errors)})


@bp.post("/units/<int:unit_id>/cards/<int:card_id>/deactivate")
def card_deactivate(unit_id: int, card_id: int):
    card = households.deactivate_card(current_user, g.estate, unit_id, card_id)
    if card.card_number:
        flash(_("Access card %(number)s was deactivated.", number=card.card_number), "success")
    else:
        flash(_("The card request was cancelled."), "success")
    return redirect(url_for("admin.household", unit_id=unit_id, _anchor="cards"))
