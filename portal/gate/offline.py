"""The gate when the network is down: what a gate device keeps for offline use
(`bootstrap`) and how its offline scans are replayed when it reconnects (`sync`).

A bootstrap holds the passes that may be used from now to the end of tomorrow (estate
time) with their visitor codes and the SHA-256 of their QR tokens (the raw token never
leaves the server), the active bans, the residents and who is inside now. It is built
with a constant number of queries.

`sync` replays the device's offline scans through the same rules as a live scan
(find_pass, then admit or let_out with `now` = the scan's time), oldest first, each in
its own transaction, and answers every item APPLIED, DUPLICATE or REJECTED with a code.
An offline scan is believable only inside the device's offline window: not before its
last contact with the server (portal/gate/contact.py) nor older than OFFLINE_MAX_AGE,
not in the future, each give or take OFFLINE_CLOCK_SKEW; anything else is REJECTED with
EVENT_OUTSIDE_OFFLINE_WINDOW and kept in the estate's audit log for its admins."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload, selectinload

from portal import audit
from portal.accounts.devices import short_device
from portal.errors import DomainError
from portal.extensions import db
from portal.gate import contact
from portal.gate.service import (
    DEFAULT_GATE,
    Actor,
    GateContext,
    _duplicate,
    admit,
    deny,
    find_pass,
    let_out,
)
from portal.models import (
    AuditLog,
    Ban,
    BanScope,
    Estate,
    GateEvent,
    GateEventType,
    GateMethod,
    Resident,
    Unit,
    User,
    Visit,
)
from portal.visits.bans import _active as _active_ban
from portal.visits.rules import REFUSAL_MESSAGES

MAX_ITEMS = 500
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # before it, an offline time is a broken clock (and near year 1, a crash)
RECENTLY_ENDED = timedelta(days=1)  # ended passes kept offline, to deny them with the right reason
EVENT_TYPES = ("ENTRY", "EXIT")

APPLIED = "APPLIED"
DUPLICATE = "DUPLICATE"
REJECTED = "REJECTED"
VALIDATION_ERROR = "VALIDATION_ERROR"
OUTSIDE_WINDOW = "EVENT_OUTSIDE_OFFLINE_WINDOW"
OUTSIDE_WINDOW_MESSAGE = _l("This scan's time is outside this device's time offline, so it was not recorded. "
                            "A supervisor can see it in the audit log.")


class TooManyItems(DomainError):
    code = VALIDATION_ERROR
    http_status = 422

    def __init__(self):
        super().__init__(_l("Send at most %(max)d items at a time.", max=MAX_ITEMS))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def _hhmm(value) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def token_digest(qr_token: str) -> str:
    return hashlib.sha256(qr_token.encode()).hexdigest()


def _visitors(visit: Visit) -> list[dict]:
    return [{"name": g.full_name, "phone": g.phone, "plate": g.plate} for g in visit.visitors]


def _host(visit: Visit) -> dict | None:
    return {"id": visit.host.id, "name": visit.host.full_name} if visit.host is not None else None


def _pass(visit: Visit) -> dict:
    return {
        "id": visit.id,
        "visitor_code": visit.visitor_code,
        "status": visit.status.value,
        "qr_token_sha256": token_digest(visit.qr_token),
        "pass_type": visit.pass_type.value,
        "valid_from": _iso(visit.valid_from),
        "valid_until": _iso(visit.valid_until),
        "weekdays": visit.weekdays or "",
        "daily_start": _hhmm(visit.daily_start),
        "daily_end": _hhmm(visit.daily_end),
        "max_entries": visit.max_entries,
        "entries_used": visit.entries_used,
        "people_inside": visit.people_inside,
        "host": _host(visit),
        "unit": visit.unit.number,
        "visitors": _visitors(visit),
    }


def _end_of_tomorrow(estate: Estate, now: datetime) -> datetime:
    zone = ZoneInfo(estate.timezone)
    local = now.astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    day_after = (start.date() + timedelta(days=2))
    return datetime(day_after.year, day_after.month, day_after.day, tzinfo=zone).astimezone(UTC)


def _visits():
    return sa.select(Visit).options(selectinload(Visit.visitors), joinedload(Visit.unit), joinedload(Visit.host))


def bootstrap(estate: Estate, now: datetime, device_id: str | None = None) -> dict:
    """Everything a gate device needs to keep working offline until the end of tomorrow.
    Passes that ended in the last day, and revoked or cancelled ones, come too (with their
    `status`), so that offline the guard sees "expired" or "revoked" rather than "no pass
    matches". Five queries, however many rows, and the device's contact noted."""
    contact.record(estate.id, device_id, now)
    until = _end_of_tomorrow(estate, now)
    passes = db.session.scalars(
        _visits()
        .where(Visit.estate_id == estate.id, Visit.valid_from < until, Visit.valid_until > now - RECENTLY_ENDED)
        .order_by(Visit.valid_from, Visit.id)
    ).unique().all()
    bans = db.session.scalars(
        sa.select(Ban).where(Ban.estate_id == estate.id, _active_ban(now)).order_by(Ban.id)
    ).all()
    residents = db.session.execute(
        sa.select(Resident.full_name, Resident.phone, Unit.number)
        .join(Unit, Unit.id == Resident.unit_id)
        .where(Resident.estate_id == estate.id, Unit.estate_id == estate.id, Resident.move_out_date.is_(None),
               Unit.archived_at.is_(None))
        .order_by(Unit.sort_key, Resident.full_name, Resident.id)
    ).all()
    entered = (
        sa.select(sa.func.max(GateEvent.occurred_at))
        .where(GateEvent.visit_id == Visit.id, GateEvent.estate_id == estate.id,
               GateEvent.event_type == GateEventType.ENTRY)
        .correlate(Visit)
        .scalar_subquery()
    )
    inside = db.session.execute(
        sa.select(Visit, entered.label("since"))
        .options(selectinload(Visit.visitors), joinedload(Visit.unit), joinedload(Visit.host))
        .where(Visit.estate_id == estate.id, Visit.people_inside.is_(True))
        .order_by(entered.asc().nulls_first(), Visit.id)
    ).unique().all()
    data = {
        "generated_at": _iso(now),
        "valid_until": _iso(until),
        "estate": {"slug": estate.slug, "name": estate.name, "timezone": estate.timezone},
        "passes": [_pass(v) for v in passes],
        "bans": [
            {"phone": b.phone, "scope": b.scope.value, "owner_user_id": b.owner_user_id if b.scope == BanScope.PERSONAL
             else None, "reason": b.reason, "severity": b.severity, "expires_at": _iso(b.expires_at)}
            for b in bans
        ],
        "residents": [{"name": name, "unit": number, "phone": phone} for name, phone, number in residents],
        "inside": [
            {"visit_id": v.id, "visitors": _visitors(v), "unit": v.unit.number, "host": _host(v), "since": _iso(since)}
            for v, since in inside
        ],
    }
    db.session.commit()  # the contact
    return data


# --- sync -------------------------------------------------------------------------------


def _result(client_event_id, status: str, code: str | None = None, message=None, visit_id: int | None = None) -> dict:
    return {"client_event_id": client_event_id, "status": status, "code": code,
            "message": str(message) if message is not None else None, "visit_id": visit_id}


def parse_time(raw) -> datetime | None:
    """An ISO-8601 time with a zone, as aware UTC; None if it is not one, or is before EARLIEST."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
        if value.tzinfo is None or value.utcoffset() is None:
            return None
        value = value.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 east of UTC, year 9999 west of it
        return None
    return value if value >= EARLIEST else None


def _validate(item) -> tuple[dict | None, str | None]:
    """(clean item, None) or (None, translated message)."""
    if not isinstance(item, dict):
        return None, _l("Each item must be an object.")
    event_id = item.get("client_event_id")
    if not isinstance(event_id, str) or not 8 <= len(event_id.strip()) <= 100:
        return None, _l("client_event_id must be 8 to 100 characters.")
    event_type = item.get("event_type")
    if event_type not in EVENT_TYPES:
        return None, _l("event_type must be ENTRY or EXIT.")
    occurred_at = parse_time(item.get("occurred_at"))
    if occurred_at is None:
        return None, _l("occurred_at must be an ISO-8601 time with a time zone, from the year 2000 on.")
    qr_token, code = item.get("qr_token"), item.get("visitor_code")
    qr_token = qr_token.strip() if isinstance(qr_token, str) else ""
    code = code.strip() if isinstance(code, str) else ""
    if bool(qr_token) == bool(code):
        return None, _l("Give either qr_token or visitor_code.")
    if len(qr_token) > 200 or len(code) > 40:
        return None, _l("This code is too long.")
    gate = item.get("gate")
    gate = gate.strip() if isinstance(gate, str) and 0 < len(gate.strip()) <= 60 else None
    return {"client_event_id": event_id.strip(), "event_type": event_type, "occurred_at": occurred_at,
            "qr_token": qr_token or None, "visitor_code": code or None, "gate": gate}, None


def _context(device_id: str | None, gate: str, item: dict) -> GateContext:
    return GateContext(gate=item["gate"] or gate or DEFAULT_GATE, device_id=device_id, method=GateMethod.OFFLINE,
                       client_event_id=item["client_event_id"])


def _window(estate: Estate, device_id: str | None, now: datetime) -> tuple[datetime, datetime]:
    """(earliest, latest) believable time of this device's offline scans."""
    skew = timedelta(seconds=current_app.config["OFFLINE_CLOCK_SKEW"])
    earliest = now - timedelta(seconds=current_app.config["OFFLINE_MAX_AGE"])
    last = contact.last(estate.id, device_id)
    if last is not None:
        earliest = max(earliest, last - skew)
    return earliest, now + skew


def _outside(actor: Actor, estate: Estate, device_id: str | None, gate: str, item: dict) -> dict:
    """An item outside the offline window: a retry of one already recorded answers as
    before (DUPLICATE); anything else is refused, and written in the audit log."""
    duplicate = _duplicate(estate, _context(device_id, gate, item), item["event_type"])
    if duplicate is not None:
        refusal = duplicate.refusal
        return _result(item["client_event_id"], DUPLICATE, refusal.value if refusal else None,
                       REFUSAL_MESSAGES[refusal] if refusal else None,
                       duplicate.visit.id if duplicate.visit is not None else None)
    audit.record(REFUSED_ACTION, estate, actor_id=actor.id, estate_id=estate.id, after={
        "code": OUTSIDE_WINDOW, "client_event_id": item["client_event_id"], "event_type": item["event_type"],
        "occurred_at": _iso(item["occurred_at"]), "visitor_code": item["visitor_code"],
        "qr_token": bool(item["qr_token"]), "gate": item["gate"] or gate, "device": short_device(device_id),
    })
    db.session.commit()
    return _result(item["client_event_id"], REJECTED, OUTSIDE_WINDOW, OUTSIDE_WINDOW_MESSAGE)


def _replay(actor: Actor, estate: Estate, device_id: str | None, gate: str, item: dict) -> dict:
    ctx = _context(device_id, gate, item)
    when = item["occurred_at"]
    entry = item["event_type"] == "ENTRY"
    found = find_pass(estate, qr_token=item["qr_token"], code=item["visitor_code"],
                      now=when if entry else None)  # an entry's bans at the scan's time, in the lookup
    if found.visit is None:
        found.action = item["event_type"]
        decision = deny(actor, estate, found, ctx, when)
    elif entry:
        decision = admit(actor, estate, found.visit, ctx, when, found)
    else:
        decision = let_out(actor, estate, found.visit, ctx, when)
    visit_id = decision.visit.id if decision.visit is not None else None
    refusal = decision.refusal
    if decision.duplicate:
        return _result(item["client_event_id"], DUPLICATE, refusal.value if refusal else None,
                       REFUSAL_MESSAGES[refusal] if refusal else None, visit_id)
    if refusal is not None:
        return _result(item["client_event_id"], REJECTED, refusal.value, REFUSAL_MESSAGES[refusal], visit_id)
    return _result(item["client_event_id"], APPLIED, visit_id=visit_id)


def sync(actor: Actor, estate: Estate, device_id: str | None, gate: str, items: list[dict],
         now: datetime) -> list[dict]:
    """Replay a gate device's offline scans, oldest first, each through the live rules
    and in its own transaction. Answers per item, in the order given. Raises
    TooManyItems beyond MAX_ITEMS."""
    if not isinstance(items, list):
        raise DomainError(_l("items must be a list."), code=VALIDATION_ERROR, http_status=422)
    if len(items) > MAX_ITEMS:
        raise TooManyItems()
    earliest, latest = _window(estate, device_id, now)
    contact.record(estate.id, device_id, now)
    db.session.commit()
    results: list[dict | None] = [None] * len(items)
    valid: list[tuple[int, dict]] = []
    for index, raw in enumerate(items):
        clean, problem = _validate(raw)
        if clean is None:
            event_id = raw.get("client_event_id") if isinstance(raw, dict) else None
            results[index] = _result(event_id if isinstance(event_id, str | int) else None, REJECTED,
                                     VALIDATION_ERROR, problem)
        else:
            valid.append((index, clean))
    valid.sort(key=lambda pair: (pair[1]["occurred_at"], pair[0]))
    for index, item in valid:
        if earliest <= item["occurred_at"] <= latest:
            results[index] = _replay(actor, estate, device_id, gate, item)
        else:
            results[index] = _outside(actor, estate, device_id, gate, item)
    return results  # type: ignore[return-value]


# --- refused offline scans, for supervisors -------------------------------------------------

REFUSED_ACTION = "gate.offline_event_rejected"


@dataclass(frozen=True)
class RefusedScan:
    """An offline scan refused as outside its device's offline window."""

    recorded_at: datetime
    occurred_at: datetime | None
    event_type: str
    visitor_code: str | None
    gate: str | None
    device: str | None
    guard_name: str


def refused_scans(estate: Estate, page: int = 1, per_page: int = 25) -> tuple[Pagination, list[RefusedScan]]:
    """The estate's refused offline scans, newest first, with the guard who sent each (two
    queries a page, on the audit log's (estate, action, created_at) index)."""
    stmt = (sa.select(AuditLog).where(AuditLog.estate_id == estate.id, AuditLog.action == REFUSED_ACTION)
            .order_by(AuditLog.created_at.desc(), AuditLog.id.desc()))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    actor_ids = {log.actor_user_id for log in pagination.items if log.actor_user_id}
    names = {}
    if actor_ids:
        names = dict(db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(actor_ids))).all())
    rows = []
    for log in pagination.items:
        after = log.after or {}
        try:
            occurred = datetime.fromisoformat(str(after.get("occurred_at")).replace("Z", "+00:00"))
        except ValueError:
            occurred = None
        rows.append(RefusedScan(log.created_at, occurred, str(after.get("event_type") or ""),
                                after.get("visitor_code"), after.get("gate"), after.get("device"),
                                names.get(log.actor_user_id, "")))
    return pagination, rows
