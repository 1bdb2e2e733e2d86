"""The estate admin's visit log (filters, export, a visit's detail with revoke) and gate
events log. The rules live in portal/gate/log.py; revoking reuses the gate's revoke_visit."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _

from portal.gate import log
from portal.gate import service as gate
from portal.models import GateEventType, GateMethod, PassType, utcnow
from portal.visits.rules import REFUSAL_MESSAGES
from portal.visits.service import pass_state
from portal.web.admin import bp
from portal.web.inputs import date_range, db_int, page_arg
from portal.web.ui import render


def _choice(args, name: str, allowed) -> str:
    value = (args.get(name) or "").strip().upper()
    return value if value in allowed else ""


def _visit_filters(args) -> tuple[log.VisitLogFilters, dict]:
    errors: dict = {}
    date_from, date_to = date_range(args, errors)
    return log.VisitLogFilters(
        q=args.get("q", "")[:100], date_from=date_from, date_to=date_to, unit_id=args.get("unit", type=db_int),
        status=_choice(args, "status", log.VISIT_STATUS_FILTERS), pass_type=_choice(args, "type", PassType.__members__),
        host=args.get("host", "")[:100],
    ), errors


def _event_filters(args) -> tuple[log.EventFilters, dict]:
    errors: dict = {}
    date_from, date_to = date_range(args, errors)
    return log.EventFilters(
        date_from=date_from, date_to=date_to, unit_id=args.get("unit", type=db_int),
        event_type=_choice(args, "type", GateEventType.__members__), reason=_choice(args, "reason", log.DENIAL_REASONS),
        gate=args.get("gate", "").strip()[:60], guard_id=args.get("guard", type=db_int),
        method=_choice(args, "method", GateMethod.__members__),
    ), errors


def _csv_response(body, filename: str) -> Response:
    return Response(
        stream_with_context(body), mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff",
                 "Cache-Control": "no-store"},
    )


@bp.get("/visits/")
def visits_list():
    filters, errors = _visit_filters(request.args)
    now = utcnow()
    body = render(
        "admin/visit_log.html", block="visit_table", filters=filters, errors=errors, now=now,
        units=log.estate_units(g.estate), status_labels=log.VISIT_STATUS_FILTERS,
        today=log.today_numbers(g.estate, now),
        visits=log.list_visits(g.estate, filters, now, page=page_arg()),
    )
    return body, 422 if errors else 200


@bp.get("/visits/export.csv")
def visits_export_csv():
    filters, _errors = _visit_filters(request.args)
    now = utcnow()
    rows = log.iter_visits(g.estate, filters, now)
    return _csv_response(log.visits_csv(g.estate, rows, now), log.export_filename("visits", g.estate, now))


@bp.get("/visits/<int:visit_id>")
def visit_detail(visit_id: int):
    visit = log.get_visit(g.estate, visit_id)
    if visit is None:
        abort(404)
    now = utcnow()
    return render("admin/visit_log_detail.html", visit=visit, now=now,
                  state=pass_state(visit, now, g.estate.timezone), events=log.visit_events(g.estate, visit),
                  event_labels=log.EVENT_TYPE_LABELS, method_labels=log.METHOD_LABELS,
                  refusal_labels=REFUSAL_MESSAGES)


@bp.post("/visits/<int:visit_id>/revoke")
def visit_revoke(visit_id: int):
    visit, done = gate.revoke_visit(g.access, visit_id)
    if done:
        flash(_("Pass %(code)s was revoked. It will be refused at the next scan.", code=visit.visitor_code), "success")
    else:
        flash(str(gate.ALREADY_ENDED), "warning")
    return redirect(url_for("admin.visit_detail", visit_id=visit.id))


@bp.get("/gate-events/")
def gate_events_list():
    filters, errors = _event_filters(request.args)
    gates, guards = log.event_choices(g.estate, filters)
    body = render(
        "admin/gate_events.html", block="event_table", filters=filters, errors=errors, gates=gates, guards=guards,
        units=log.estate_units(g.estate), event_labels=log.EVENT_TYPE_LABELS, method_labels=log.METHOD_LABELS,
        reasons=log.DENIAL_REASONS, refusal_labels=REFUSAL_MESSAGES,
        events=log.list_events(g.estate, filters, page=page_arg()),
    )
    return body, 422 if errors else 200


@bp.get("/gate-events/export.csv")
def gate_events_export_csv():
    filters, _errors = _event_filters(request.args)
    rows = log.iter_events(g.estate, filters)
    return _csv_response(log.events_csv(g.estate, rows), log.export_filename("gate-events", g.estate, utcnow()))
