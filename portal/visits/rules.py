"""Whether a pass lets someone in now: the one place the validity rules live.

Judged in the estate's timezone. Used by the gate, the kiosk API, offline bootstrap
and the resident's pages, so they can never disagree."""

from __future__ import annotations

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from portal.models import PassType, Visit, VisitStatus


class Refusal(enum.StrEnum):
    """Why a pass is refused; the values are the kiosk API's error codes."""

    PASS_EXPIRED = "PASS_EXPIRED"
    PASS_NOT_YET_VALID = "PASS_NOT_YET_VALID"
    PASS_EXHAUSTED = "PASS_EXHAUSTED"
    PASS_REVOKED = "PASS_REVOKED"
    VISITOR_BANNED = "VISITOR_BANNED"
    ALREADY_INSIDE = "ALREADY_INSIDE"
    NOT_INSIDE = "NOT_INSIDE"
    WRONG_ESTATE = "WRONG_ESTATE"
    NOT_FOUND = "NOT_FOUND"


REFUSAL_MESSAGES = {
    Refusal.PASS_EXPIRED: _l("This pass has expired."),
    Refusal.PASS_NOT_YET_VALID: _l("This pass is not valid yet."),
    Refusal.PASS_EXHAUSTED: _l("This pass has no entries left."),
    Refusal.PASS_REVOKED: _l("This pass was cancelled or revoked."),
    Refusal.VISITOR_BANNED: _l("This visitor is banned from the estate."),
    Refusal.ALREADY_INSIDE: _l("This visitor is already inside."),
    Refusal.NOT_INSIDE: _l("This visitor is not inside."),
    Refusal.WRONG_ESTATE: _l("This pass is for another estate."),
    Refusal.NOT_FOUND: _l("No pass matches this code."),
}


def entry_refusal(visit: Visit, now: datetime, timezone: str) -> Refusal | None:
    """None if the pass may enter at `now` (aware UTC), else why not.
    Bans are checked by the caller (they need a query)."""
    if visit.status != VisitStatus.ACTIVE:
        return Refusal.PASS_REVOKED
    if now < visit.valid_from:
        return Refusal.PASS_NOT_YET_VALID
    if now >= visit.valid_until:
        return Refusal.PASS_EXPIRED
    if visit.pass_type == PassType.RECURRING:
        local = now.astimezone(ZoneInfo(timezone))
        if str(local.isoweekday()) not in (visit.weekdays or ""):
            return Refusal.PASS_NOT_YET_VALID
        if visit.daily_start and local.time() < visit.daily_start:
            return Refusal.PASS_NOT_YET_VALID
        if visit.daily_end and local.time() >= visit.daily_end:
            return Refusal.PASS_EXPIRED
    if visit.people_inside:
        return Refusal.ALREADY_INSIDE
    if visit.max_entries is not None and visit.entries_used >= visit.max_entries:
        return Refusal.PASS_EXHAUSTED
    return None


def exit_refusal(visit: Visit) -> Refusal | None:
    return None if visit.people_inside else Refusal.NOT_INSIDE
