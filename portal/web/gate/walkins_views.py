"""Walk-ins at the gate: the guard asks the unit, sees the answer arrive by itself
(pending rows poll every few seconds) and records the entry with one tap."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import DomainError, InvalidValue, NotFound
from portal.gate import service, walkins
from portal.models import WalkInStatus, utcnow
from portal.web.gate import bp
from portal.web.gate.walkin_forms import WalkInForm
from portal.web.inputs import page_arg
from portal.web.ui import render


@bp.context_processor
def walkin_helpers() -> dict:
    """A blank walk-in form for the gate desk, and the walk-in status values."""
    return {"new_walkin_form": lambda: WalkInForm(formdata=None), "WalkInStatus": WalkInStatus}


def _gate_name() -> str:
    return (session.get("gate_name") or service.DEFAULT_GATE).strip()[:60]


def _list_context() -> dict:
    now = utcnow()
    page = page_arg()
    return dict(walkins=walkins.list_today(g.estate, now, page=page), now=now, desk=request.args.get("desk") == "1",
                effective_status=walkins.effective_status)


@bp.get("/walk-ins/")
def walkins_list():
    """Today's walk-ins (a page of its own, and the list the gate desk loads)."""
    return render("gate/walkins.html", block="walkins", **_list_context())


@bp.get("/walk-ins/new")
def walkin_new():
    return render("gate/walkin_new.html", walkin_form=WalkInForm(formdata=None), form_error=None)


@bp.post("/walk-ins/")
def walkin_create():
    form = WalkInForm()
    htmx = bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")
    form_error = None
    if form.validate_on_submit():
        try:
            walk_in = walkins.create_walk_in(current_user, g.estate, form.data_for_service(_gate_name()), utcnow())
        except InvalidValue as exc:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        except DomainError as exc:
            form_error = exc.message
        else:
            flash(_("Asked unit %(unit)s about %(name)s. Wait for the answer below.", unit=walk_in.unit.number,
                    name=walk_in.visitor_name), "success")
            if htmx:
                response = render_template("gate/_walkin_form.html", walkin_form=WalkInForm(formdata=None),
                                           form_error=None)
                return response, 200, {"HX-Trigger": "walkins-refresh"}
            return redirect(url_for("gate.home"))
    if htmx:
        return render_template("gate/_walkin_form.html", walkin_form=form, form_error=form_error), 422
    return render("gate/walkin_new.html", walkin_form=form, form_error=form_error), 422


@bp.get("/walk-ins/<int:walk_in_id>")
def walkin_row(walk_in_id: int):
    """One walk-in's row: what a pending row polls to learn the answer."""
    now = utcnow()
    walk_in = walkins.get_walk_in(g.estate, walk_in_id, now)
    return render_template("gate/_walkin_row.html", w=walk_in, now=now, desk=request.args.get("desk") == "1",
                           effective_status=walkins.effective_status)


@bp.post("/walk-ins/<int:walk_in_id>/cancel")
def walkin_cancel(walk_in_id: int):
    try:
        walk_in = walkins.cancel(current_user, g.estate, walk_in_id, utcnow())
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Walk-in of %(name)s withdrawn.", name=walk_in.visitor_name), "success")
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        return render("gate/walkins.html", block="walkins", **_list_context())
    return redirect(url_for("gate.home"))
