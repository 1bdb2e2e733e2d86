"""What the estate admin's and the enterprise's delivery logs share: the filters of the
query string (portal.integrations.delivery_log reads them)."""

from __future__ import annotations

import re

from portal.integrations import delivery_log as service
from portal.web.inputs import date_range, db_int

_REASON = re.compile(r"-|[a-z_]{1,40}")


def _choice(args, name: str, allowed) -> str:
    value = (args.get(name) or "").strip().upper()
    return value if value in allowed else ""


def filters_from_args(args, with_estate: bool = False) -> tuple[service.LogFilters, dict]:
    """The filters of the query string, and a message per bad date (those are ignored; a
    value that is no channel, status or reason is ignored too)."""
    errors: dict = {}
    date_from, date_to = date_range(args, errors)
    reason = (args.get("reason") or "").strip()
    return service.LogFilters(
        channel=_choice(args, "channel", service.CHANNELS), status=_choice(args, "status", service.STATUSES),
        reason=reason if _REASON.fullmatch(reason) else "", q=(args.get("q") or "")[:100],
        date_from=date_from, date_to=date_to,
        estate_id=args.get("estate", type=db_int) if with_estate else None,
    ), errors
