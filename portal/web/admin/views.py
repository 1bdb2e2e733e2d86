from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import devices
from portal.audit import browse as audit_log
from portal.errors import DomainError, NotFound
from portal.estates import service
from portal.gate import log as gate_log
from portal.models import utcnow
from portal.units import service as units
from portal.web.admin import bp
from portal.web.admin.forms import UnitForm
from portal.web.inputs import page_arg
from portal.web.ui import render


@bp.get("/")
def home():
    return render(
        "admin/home.html",
        counts=service.estate_counts(g.estate),
        recent=audit_log.recent(g.estate),
        today=gate_log.today_numbers(g.estate, utcnow()),
        device_requests=devices.pending_device_changes(g.estate),
    )


@bp.get("/units/")
def units_list():
    filters = units.UnitFilters(
        q=request.args.get("q", ""),
        block=request.args.get("block", ""),
        status=request.args.get("status", ""),
        unit_type=request.args.get("type", ""),
    )
    page = page_arg()
    return render(
        "admin/units.html",
        block="unit_table",
        units=units.list_units(g.estate, filters, page=page),
        filters=filters,
        blocks=units.blocks(g.estate),
    )


@bp.route("/units/new", methods=["GET", "POST"])
def unit_new():
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = units.create_unit(current_user, g.estate, form.data_for_service())
        except DomainError as exc:
            form.number.errors.append(exc.message)
        else:
            flash(_("Unit %(number)s was added.", number=unit.number), "success")
            return redirect(url_for("admin.units_list"))
    return render("admin/unit_form.html", form=form, unit=None), 422 if form.errors else 200


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def unit_edit(unit_id: int):
    unit = units.get_unit(g.estate, unit_id)
    form = UnitForm(obj=unit if request.method == "GET" else None)
    if request.method == "GET":
        form.unit_type.data = unit.unit_type.value
    if form.validate_on_submit():
        try:
            unit = units.update_unit(current_user, g.estate, unit_id, form.data_for_service())
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            form.number.errors.append(exc.message)
        else:
            flash(_("Unit %(number)s was saved.", number=unit.number), "success")
            return redirect(url_for("admin.units_list"))
    return render("admin/unit_form.html", form=form, unit=unit), 422 if form.errors else 200


@bp.post("/units/<int:unit_id>/archive")
def unit_archive(unit_id: int):
    try:
        unit = units.archive_unit(current_user, g.estate, unit_id)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Unit %(number)s was archived. Its history is kept.", number=unit.number), "success")
    return redirect(url_for("admin.units_list"))


@bp.post("/units/<int:unit_id>/restore")
def unit_restore(unit_id: int):
    unit = units.restore_unit(current_user, g.estate, unit_id)
    flash(_("Unit %(number)s was restored.", number=unit.number), "success")
    return redirect(url_for("admin.units_list", status="ARCHIVED"))
