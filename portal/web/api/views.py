"""The kiosk endpoints: token, check-in and check-out, pass status, offline bootstrap and sync.

Thin: read the body, call the gate service, answer with the envelope. Refusals are 409
with the Refusal value as code; an unknown pass is 404."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g
from flask_babel import lazy_gettext as _l

from portal.accounts.kiosk_tokens import claims_or_none, issue, revoke
from portal.extensions import limiter
from portal.gate import lean, offline
from portal.gate import service as gate
from portal.gate.service import Decision, GateContext
from portal.models import GateEvent, GateMethod, Visit, utcnow
from portal.visits.rules import REFUSAL_MESSAGES, Refusal
from portal.web.api import bp, fail, ok
from portal.web.api.bearer import Body, ValidationFailed, bearer_token, kiosk_required


def _iso(value: datetime | None) -> str | None:
    return offline._iso(value)


def _visit_parts(visit: Visit) -> dict:
    """The parts of a visit that a scan does not change (read before it commits)."""
    return {
        "id": visit.id,
        "host": {"id": visit.host.id, "name": visit.host.full_name} if visit.host is not None else None,
        "unit": visit.unit.number,
        "visitors": [{"name": v.full_name, "phone": v.phone, "plate": v.plate} for v in visit.visitors],
        "pass_type": visit.pass_type.value,
    }


def _visit_data(parts: dict, visit: Visit) -> dict:
    return {**parts, "status": visit.status.value, "entries_used": visit.entries_used,
            "max_entries": visit.max_entries, "people_inside": visit.people_inside}


def _event_data(event: GateEvent) -> dict:
    return {"id": event.id, "type": event.event_type.value, "occurred_at": _iso(event.occurred_at),
            "gate": event.gate, "method": event.method.value, "client_event_id": event.client_event_id}


def _answer(decision: Decision, parts: dict | None):
    """200 with the visit and its event, or the refusal as an error envelope."""
    visit = decision.visit
    if visit is not None and (parts is None or parts["id"] != visit.id):
        parts = _visit_parts(visit)
    if decision.refusal is not None:
        status = 404 if decision.refusal == Refusal.NOT_FOUND else 409
        details = None
        if visit is not None:
            details = {"visit": _visit_data(parts, visit)}
            if decision.ban is not None:
                details["ban"] = {"reason": decision.ban.reason, "severity": decision.ban.severity}
                details["reason"] = decision.ban.reason
            if decision.event is not None:
                details["event"] = _event_data(decision.event)
        response = fail(decision.refusal.value, str(REFUSAL_MESSAGES[decision.refusal]), status, details)
    else:
        response = ok({"visit": _visit_data(parts, visit), "event": _event_data(decision.event)})
    if decision.duplicate:
        response[0].headers["Idempotent-Replayed"] = "true"
    return response


def _context(body: Body, method: GateMethod) -> GateContext:
    return GateContext(gate=body.gate(), device_id=g.kiosk.device_id, method=method,
                       client_event_id=body.offline_event_id())


def _enter(body: Body, method: GateMethod, *, qr_token: str | None = None, code: str | None = None):
    kiosk, now = g.kiosk, utcnow()
    found = gate.find_pass(kiosk.estate, qr_token=qr_token, code=code, now=now)  # with its bans
    ctx = _context(body, method)
    with gate.answer_from_memory():
        if found.visit is None:
            return _answer(gate.deny(kiosk.guard, kiosk.estate, found, ctx, now), None)
        parts = _visit_parts(found.visit)
        return _answer(gate.admit(kiosk.guard, kiosk.estate, found.visit, ctx, now, found), parts)


# --- token ------------------------------------------------------------------------------


@bp.post("/kiosk/token")
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"])
def kiosk_token():
    body = Body()
    estate = body.text("estate", required=True, max_len=60)
    login = body.text("login", required=True, max_len=254)
    password = body.data.get("password")
    if not isinstance(password, str) or not password:
        body.errors["password"] = _l("This field is required.")
    device_id = body.device_id()
    body.done()
    issued = issue(estate, login, password, device_id)
    return ok({"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in})


@bp.post("/kiosk/revoke")
@kiosk_required
def kiosk_revoke():
    revoke(g.kiosk)
    return ok({"revoked": True})


# --- check-in / check-out: the general path -------------------------------------------------


def _checkin(field: str, max_len: int, method: GateMethod):
    """Check-in by QR token or typed code: the same body and rules, another field."""
    body = Body()
    value = body.text(field, required=True, max_len=max_len)
    body.device_id()
    body.gate()
    body.offline_event_id()
    body.done()
    if method == GateMethod.QR:
        return _enter(body, method, qr_token=value)
    return _enter(body, method, code=value)


def _checkout_keys(body: Body) -> tuple[int | None, str | None, str | None]:
    """A checkout's pass: visit_id, qr_token or visitor_code (exactly one is sent)."""
    return body.integer("visit_id"), body.text("qr_token", max_len=200), body.text("visitor_code", max_len=40)


def _checkout():
    body = Body()
    visit_id, qr_token, code = _checkout_keys(body)
    body.device_id()
    body.gate()
    body.offline_event_id()
    if sum(x is not None for x in (visit_id, qr_token, code)) != 1 and not body.errors:
        body.errors["visit_id"] = _l("Send exactly one of visit_id, qr_token or visitor_code.")
    body.done()
    kiosk, now = g.kiosk, utcnow()
    if visit_id is not None:
        method = GateMethod.SEARCH
        visit = gate.find_visit(kiosk.estate, visit_id)
        found = Decision(visit, None if visit is not None else Refusal.NOT_FOUND)
    else:
        method = GateMethod.QR if qr_token else GateMethod.CODE
        found = gate.find_pass(kiosk.estate, qr_token=qr_token, code=code)
    ctx = _context(body, method)
    with gate.answer_from_memory():
        if found.visit is None:
            found.action = "EXIT"
            return _answer(gate.deny(kiosk.guard, kiosk.estate, found, ctx, now), None)
        parts = _visit_parts(found.visit)
        return _answer(gate.let_out(kiosk.guard, kiosk.estate, found.visit, ctx, now), parts)


# The general path of each scan: the token checked first (401), then the body (422), then
# the gate service, with every refusal's answer.
_general_checkin = kiosk_required(_checkin)
_general_checkout = kiosk_required(_checkout)


# --- the lean path (PostgreSQL): an admitted entry or exit in two statements ------------------


def _lean_body() -> tuple[Body, dict] | None:
    """The body and the token's claims, if the lean path may try this request: PostgreSQL,
    a well-signed unexpired token, a JSON object with a well-formed device id, a live scan
    (no offline_event_id). Else None, and the general path answers (with its errors)."""
    if not lean.available():
        return None
    raw = bearer_token()
    claims = claims_or_none(raw, utcnow()) if raw is not None else None
    if claims is None:
        return None
    try:
        body = Body()
    except ValidationFailed:
        return None
    body.device_id()
    body.gate()
    if body.offline_event_id() is not None or body.errors:
        return None
    return body, claims


def _lean_answer(taken: lean.Taken):
    """The answer of the general path (`_answer`) to the same admitted entry or exit."""
    visit, host = taken.visit, taken.visit.host
    return ok({
        "visit": {
            "id": visit.id,
            "host": {"id": host.id, "name": host.full_name} if host is not None else None,
            "unit": visit.unit_number,
            "visitors": [{"name": name, "phone": phone, "plate": plate} for name, phone, plate in visit.visitors],
            "pass_type": visit.pass_type, "status": visit.status, "entries_used": visit.entries_used,
            "max_entries": visit.max_entries, "people_inside": visit.people_inside,
        },
        "event": {"id": taken.event_id, "type": taken.action, "occurred_at": _iso(taken.occurred_at),
                  "gate": taken.gate, "method": taken.method, "client_event_id": None},
    })


def _lean_checkin(field: str, max_len: int, method: GateMethod):
    ready = _lean_body()
    if ready is None:
        return None
    body, claims = ready
    value = body.text(field, required=True, max_len=max_len)
    if value is None:
        return None
    if method == GateMethod.QR:
        kind, key = "qr", value
    else:
        kind, key = "code", gate.normalise_code(value)
        if len(key) != gate.CODE_LENGTH:
            return None
    taken = lean.enter(claims, kind, key, _context_of(body, method), utcnow())
    return _lean_answer(taken) if taken is not None else None


def _lean_checkout():
    ready = _lean_body()
    if ready is None:
        return None
    body, claims = ready
    visit_id, qr_token, code = _checkout_keys(body)
    if body.errors or sum(x is not None for x in (visit_id, qr_token, code)) != 1:
        return None
    if visit_id is not None:
        kind, key, method = "id", visit_id, GateMethod.SEARCH
    elif qr_token is not None:
        kind, key, method = "qr", qr_token, GateMethod.QR
    else:
        kind, key, method = "code", gate.normalise_code(code), GateMethod.CODE
        if len(key) != gate.CODE_LENGTH:
            return None
    taken = lean.leave(claims, kind, key, _context_of(body, method), utcnow())
    return _lean_answer(taken) if taken is not None else None


def _context_of(body: Body, method: GateMethod) -> GateContext:
    """The scan's context on the lean path: the device the body names (lean checks it is the token's)."""
    return GateContext(gate=body.gate(), device_id=body.data.get("device_id"), method=method)


# --- check-in / check-out: the endpoints ----------------------------------------------------


@bp.post("/checkin/scan")
def checkin_scan():
    return _lean_checkin("qr_token", 200, GateMethod.QR) or _general_checkin("qr_token", 200, GateMethod.QR)


@bp.post("/checkin/manual")
def checkin_manual():
    return (_lean_checkin("visitor_code", 40, GateMethod.CODE)
            or _general_checkin("visitor_code", 40, GateMethod.CODE))


@bp.post("/checkin/checkout")
def checkin_checkout():
    return _lean_checkout() or _general_checkout()


# --- pass status ----------------------------------------------------------------------------


@bp.get("/visits/<int:visit_id>/status")
@kiosk_required
def visit_status(visit_id: int):
    estate, now = g.kiosk.estate, utcnow()
    visit = gate.find_visit(estate, visit_id)
    if visit is None:
        return fail("NOT_FOUND", str(REFUSAL_MESSAGES[Refusal.NOT_FOUND]), 404)
    last_entry, last_exit = gate.last_entry_and_exit(estate, visit)
    decision = gate.check(estate, visit, now)
    refusal = decision.refusal
    return ok({
        **_visit_data(_visit_parts(visit), visit),
        "entry": _iso(last_entry),
        "exit": _iso(last_exit),
        "can_enter": refusal is None,
        "can_exit": visit.people_inside,
        "refusal": refusal.value if refusal else None,
        "message": str(REFUSAL_MESSAGES[refusal]) if refusal else None,
        "valid_from": _iso(visit.valid_from),
        "valid_until": _iso(visit.valid_until),
    })


# --- offline --------------------------------------------------------------------------------


@bp.get("/offline/bootstrap")
@kiosk_required
def offline_bootstrap():
    return ok(offline.bootstrap(g.kiosk.estate, utcnow(), g.kiosk.device_id))


@bp.post("/offline/sync")
@kiosk_required
def offline_sync():
    body = Body()
    device_id = body.device_id()
    gate_name = body.gate()
    items = body.data.get("items")
    if not isinstance(items, list):
        body.errors["items"] = _l("Send a list of items.")
    elif len(items) > offline.MAX_ITEMS:
        body.errors["items"] = _l("Send at most %(max)d items at a time.", max=offline.MAX_ITEMS)
    body.done()
    kiosk = g.kiosk
    return ok({"results": offline.sync(kiosk.guard, kiosk.estate, device_id, gate_name, items, utcnow())})
