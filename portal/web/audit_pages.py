"""What the admin and enterprise audit pages share: reading the filters from the query
string and streaming an export."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Response, stream_with_context
from flask_babel import lazy_gettext as _l

from portal.audit import browse as service
from portal.audit.browse import AuditFilters

BAD_DATE = _l("Enter a date as YYYY-MM-DD.")
DATES_REVERSED = _l("The end date is before the start date.")


def _date(raw: str | None, errors: dict, name: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = BAD_DATE
        return None


def filters_from_args(args, with_estate: bool = False) -> tuple[AuditFilters, dict]:
    """The filters of the query string, and a message per bad field (those are ignored)."""
    errors: dict = {}
    date_from = _date(args.get("from"), errors, "from")
    date_to = _date(args.get("to"), errors, "to")
    if date_from and date_to and date_to < date_from:
        errors["to"] = DATES_REVERSED
        date_to = None
    estate_id = args.get("estate", type=int) if with_estate else None
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
