"""Gate page extras: which gate this device is at, and the incident log."""

from __future__ import annotations

from flask import Response, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import InvalidValue
from portal.estates import settings
from portal.incidents import service as incidents
from portal.models import utcnow
from portal.web.gate import bp
from portal.web.gate.incident_forms import IncidentForm
from portal.web.inputs import page_arg
from portal.web.supervision import may_manage_gate
from portal.web.ui import render


@bp.post("/gate-name")
def gate_choose():
    """The guard picks the gate they are at (kept in the session for their scans)."""
    try:
        session["gate_name"] = settings.choose_gate(g.estate, request.form.get("gate"))
    except InvalidValue as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("You are at %(gate)s.", gate=session["gate_name"]), "success")
    return redirect(url_for("gate.home"))


def incidents_page(form: IncidentForm, status: int = 200):
    page = page_arg()
    return render("gate/incidents.html", block="incident_list", form=form,
                  incidents=incidents.list_incidents(g.estate, page=page, per_page=10),
                  can_manage=may_manage_gate(),
                  gate_name=settings.current_gate(g.estate, session.get("gate_name"))), status


@bp.route("/incidents", methods=["GET", "POST"])
def incidents_new():
    form = IncidentForm()
    if request.method == "POST":
        if form.validate_on_submit():
            gate = settings.current_gate(g.estate, session.get("gate_name"))
            try:
                incidents.create_incident(current_user, g.estate, form.data_for_service(g.estate.timezone, gate),
                                          utcnow())
            except InvalidValue as exc:
                getattr(form, exc.field).errors.append(exc.message)
            else:
                flash(_("The incident was logged."), "success")
                return redirect(url_for("gate.incidents_new"))
        return incidents_page(form, 422)
    return incidents_page(form)


@bp.get("/incidents/<int:incident_id>/photo")
def incident_photo(incident_id: int):
    data, mime = incidents.get_photo(g.estate, incident_id, thumb=request.args.get("thumb") == "1")
    response = Response(data, mimetype=mime)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
