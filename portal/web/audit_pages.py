"""What the admin and enterprise audit pages share: reading the filters from the query
string and streaming an export."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, stream_with_context

from portal.audit import browse as service
from portal.audit.browse import AuditFilters
from portal.web.inputs import date_range, db_int


def filters_from_args(args, with_estate: bool = False) -> tuple[AuditFilters, dict]:
    """The filters of the query string, and a message per bad field (those are ignored)."""
    errors: dict = {}
    date_from, date_to = date_range(args, errors)
    estate_id = args.get("estate", type=db_int) if with_estate else None
    return AuditFilters(
        actor=args.get("actor", "")[:100], action=args.get("action", "")[:60],
        target_type=args.get("type", "")[:40], date_from=date_from, date_to=date_to, estate_id=estate_id,
    ), errors


def export_response(estate, filters: AuditFilters, tz: ZoneInfo, fmt: str, name: str) -> Response:
    """The filtered rows as a streamed CSV or JSON download named after `name` and today."""
    rows = service.iter_entries(estate, filters, tz)
    if fmt == "csv":
        body, mimetype = service.export_csv(rows), "text/csv; charset=utf-8"
    else:
        body, mimetype = service.export_json(rows), "application/json"
    filename = service.export_filename(name, datetime.now(tz).date(), fmt)
    return Response(
        stream_with_context(body), mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff",
                 "Cache-Control": "no-store"},
    )
