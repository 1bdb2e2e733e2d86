"""Estate settings (gate names, access card limit), its profile, and the incidents logged at the gate."""

from __future__ import annotations

from flask import Response, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import FieldErrors, InvalidValue
from portal.estates import settings
from portal.incidents import service as incidents
from portal.web.admin import bp
from portal.web.admin.forms import ProfileForm, SettingsForm
from portal.web.inputs import date_range, page_arg
from portal.web.ui import render


@bp.route("/settings", methods=["GET", "POST"])
def settings_edit():
    form = SettingsForm()
    if request.method == "GET":
        form.gate_names.data = "\n".join(settings.gate_names(g.estate))
        form.access_card_limit.data = g.estate.access_card_limit
    elif form.validate_on_submit():
        data = settings.SettingsData(gate_names=form.gate_names.data or "",
                                     access_card_limit=form.access_card_limit.data)
        try:
            settings.update_settings(current_user, g.estate, data)
        except InvalidValue as exc:
            getattr(form, exc.field).errors.append(exc.message)
        else:
            flash(_("The estate settings were saved."), "success")
            return redirect(url_for("admin.settings_edit"))
    return render("admin/settings.html", form=form), 422 if form.errors else 200


@bp.route("/settings/profile", methods=["GET", "POST"])
def settings_profile():
    form = ProfileForm()
    if request.method == "GET":
        estate = g.estate
        form.process(data={"name": estate.name, "address": estate.address, "city": estate.city,
                           "contact_email": estate.contact_email, "contact_phone": estate.contact_phone,
                           "brand_color": estate.brand_color})
    elif form.validate_on_submit():
        try:
            settings.update_profile(current_user, g.estate, form.data_for_service())
        except FieldErrors as exc:
            for field, message in exc.errors.items():
                form[field].errors = [*form[field].errors, message]
        else:
            flash(_("The estate's profile was saved."), "success")
            return redirect(url_for("admin.settings_profile"))
    return render("admin/settings_profile.html", form=form), 422 if form.errors else 200


@bp.get("/incidents")
def incidents_list():
    errors: dict = {}
    date_from, date_to = date_range(request.args, errors)
    filters = incidents.IncidentFilters(incident_type=request.args.get("type", ""), date_from=date_from,
                                        date_to=date_to)
    page = page_arg()
    query = {"type": filters.incident_type, "from": request.args.get("from", ""), "to": request.args.get("to", "")}
    return render("admin/incidents.html", block="incident_table", filters=filters, errors=errors,
                  query={k: v for k, v in query.items() if v},
                  incidents=incidents.list_incidents(g.estate, filters, page=page))


@bp.get("/incidents/<int:incident_id>/photo")
def incident_photo(incident_id: int):
    data, mime = incidents.get_photo(g.estate, incident_id, thumb=request.args.get("thumb") == "1")
    response = Response(data, mimetype=mime)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
