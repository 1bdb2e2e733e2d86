"""Estate admins create a visit for any unit of the estate (same form and service as
residents'); the new pass opens on its public page, ready to share or print."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import DomainError
from portal.visits import service as visits
from portal.web.admin import bp
from portal.web.forms import VisitForm, attach_error, prefill_window
from portal.web.inputs import db_int
from portal.web.ui import render


@bp.route("/visits/new", methods=["GET", "POST"])
def visit_new():
    units = visits.estate_units(g.estate)
    form = VisitForm(units=units)
    status = 200
    if request.method == "GET":
        prefill_window(form, g.estate.timezone)
        unit_id = request.args.get("unit", type=db_int)
        if unit_id in {u.id for u in units}:
            form.unit_id.data = unit_id
    elif "add_guest" in request.form and len(form.guests.entries) < visits.MAX_GUESTS:
        form.guests.append_entry()
    else:
        if form.validate_on_submit():
            try:
                visit = visits.create_visit(current_user, g.estate, form.unit_id.data, form.data_for_service(),
                                            as_admin=True)
            except DomainError as exc:
                attach_error(form, exc)
            else:
                flash(_("The pass for unit %(number)s is ready. Code: %(code)s.",
                        number=visit.unit.number, code=visit.visitor_code), "success")
                return redirect(url_for("passes.pass_page", qr_token=visit.qr_token))
        status = 422
    return render("resident/visit_form.html", form=form, units=units, admin=True,
                  back_url=url_for("admin.home")), status
