"""The estate's audit log: browse with filters, export as CSV or JSON."""

from zoneinfo import ZoneInfo

from flask import g, request

from portal.audit import browse as service
from portal.web.admin import bp
from portal.web.audit_pages import export_response, filters_from_args
from portal.web.audit_sentences import action_choices
from portal.web.inputs import page_arg
from portal.web.ui import render


@bp.get("/audit/")
def audit_list():
    filters, errors = filters_from_args(request.args)
    page = page_arg()
    actions, target_types = service.choices(g.estate)
    body = render(
        "admin/audit.html", block="audit_table", filters=filters, errors=errors, actions=action_choices(actions),
        target_types=target_types, list_endpoint="admin.audit_list",
        entries=service.list_entries(g.estate, filters, ZoneInfo(g.estate.timezone), page=page),
    )
    return body, 422 if errors else 200


@bp.get("/audit/export.csv")
def audit_export_csv():
    filters, _errors = filters_from_args(request.args)
    return export_response(g.estate, filters, ZoneInfo(g.estate.timezone), "csv", g.estate.slug)


@bp.get("/audit/export.json")
def audit_export_json():
    filters, _errors = filters_from_args(request.args)
    return export_response(g.estate, filters, ZoneInfo(g.estate.timezone), "json", g.estate.slug)
