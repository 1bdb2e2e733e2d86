"""The kiosk's lean scan path (PostgreSQL: portal/gate/lean.py) answers and writes what the
general path (portal/gate/service.py) does: the same answer, gate event, audit record and
host notices (email, SMS, push to each device, the bell), in the host's language. Each
test scans one pass on the lean path and its twin on the general path (a scan sent with an
`offline_event_id` always takes it) and compares. On SQLite both take the general path."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.gate import lean
from portal.models import AuditLog, GateEvent, Notification, OutboxMessage, PushSubscription, Role
from tests.test_api_kiosk import kiosk_for

GUESTS = (("Chidi Okafor", "+2348090000001", None), ("", None, "LAG123XY"), ("Ngozi Eze", None, None))


@pytest.fixture
def lean_answers(app, monkeypatch):
    """Whether each kiosk scan was answered by the lean path (True) or left to the general one."""
    seen: list[bool] = []
    for name in ("enter", "leave"):
        original = getattr(lean, name)

        def spy(*args, _original=original, **kwargs):
            taken = _original(*args, **kwargs)
            seen.append(taken is not None)
            return taken

        monkeypatch.setattr(lean, name, spy)
    with app.app_context():
        seen_on = db.engine.dialect.name
    return seen, seen_on == "postgresql"


def _same(text: str, visit_id: int) -> str:
    """A row's text with what differs between the twins blanked: the visit's id, the minute."""
    return re.sub(r"\b\d{1,2}:\d{2}\b", "HH:MM", re.sub(rf"\b{visit_id}\b", "<visit>", text))


def _body(message: OutboxMessage) -> str:
    """A message's text; a push's JSON payload as its content (PostgreSQL spaces it out)."""
    if message.channel != "PUSH":
        return message.body
    return json.dumps(json.loads(message.body), sort_keys=True, ensure_ascii=False)


def _last_message(dbs) -> int:
    with dbs() as s:
        return s.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboxMessage.id), 0)))


def _written(dbs, visit_id: int, messages: tuple[int, int]) -> dict:
    """What one scan wrote: its gate events, audit records, bell, and the outbox rows with
    ids in `messages` (after the first, up to the second)."""
    with dbs() as s:
        events = [(e.event_type.value, e.method.value, e.gate, e.device_id, e.reason) for e in s.scalars(
            sa.select(GateEvent).where(GateEvent.visit_id == visit_id).order_by(GateEvent.id))]
        audits = [(a.action, a.actor_user_id, {k: v for k, v in (a.after or {}).items() if k != "event_id"})
                  for a in s.scalars(sa.select(AuditLog).where(AuditLog.target_type == "Visit",
                                                               AuditLog.target_id == visit_id).order_by(AuditLog.id))]
        mine = list(s.scalars(sa.select(OutboxMessage).where(OutboxMessage.id > messages[0],
                                                             OutboxMessage.id <= messages[1])))
        bells = [(n.user_id, n.kind, _same(str(sorted(n.params.items())), visit_id), _same(n.link, visit_id))
                 for n in s.scalars(sa.select(Notification).order_by(Notification.id))
                 if n.params.get("visit_id") == visit_id]
        outbox = sorted((m.channel, m.recipient if m.channel != "PUSH" else "<device>", _same(m.subject, visit_id),
                         _same(_body(m), visit_id), m.language, m.reason, m.estate_id, m.status) for m in mine)
    return {"events": events, "audits": audits, "outbox": outbox, "bells": bells}


def _answer(response, visit_id: int) -> dict:
    data = response.get_json()["data"]
    event = {k: v for k, v in data["event"].items() if k not in ("id", "occurred_at", "client_event_id")}
    return {"visit": {**data["visit"], "id": "<visit>"}, "event": event}


def test_the_lean_path_answers_and_writes_what_the_general_path_does(estate_pair, make, client, dbs,
                                                                      lean_answers):
    seen, postgres = lean_answers
    a = estate_pair.alpha
    host = make.user("anfitriona@alpha.test", estate=a.estate, role=Role.RESIDENT, phone="+2348031112222",
                     preferred_language="es", full_name="Adaeze Nwosu")
    with dbs() as s:
        s.add(PushSubscription(user_id=host.id, estate_id=a.estate.id, endpoint=f"https://push.test/{uuid.uuid4()}",
                               p256dh="BP" + "x" * 85, auth="a" * 22, created_at=datetime.now(UTC)))
        s.commit()
    lean_visit = make.visit(a.estate, a.unit, host, guests=GUESTS)
    general_visit = make.visit(a.estate, a.unit, host, guests=GUESTS)
    kiosk = kiosk_for(client, a.estate, a.guard)

    before = _last_message(dbs)
    lean_in = kiosk.post("/checkin/manual", {"visitor_code": lean_visit.visitor_code.lower(), "gate": "Gate B"})
    between = _last_message(dbs)
    general_in = kiosk.post("/checkin/manual", {"visitor_code": general_visit.visitor_code.lower(), "gate": "Gate B",
                                                "offline_event_id": f"live-{uuid.uuid4()}"})
    after = _last_message(dbs)
    assert lean_in.status_code == general_in.status_code == 200, (lean_in.get_json(), general_in.get_json())
    assert _answer(lean_in, lean_visit.id) == _answer(general_in, general_visit.id)
    lean_out = kiosk.post("/checkin/checkout", {"visit_id": lean_visit.id})
    general_out = kiosk.post("/checkin/checkout", {"visit_id": general_visit.id,
                                                   "offline_event_id": f"live-{uuid.uuid4()}"})
    assert lean_out.status_code == general_out.status_code == 200
    assert _answer(lean_out, lean_visit.id) == _answer(general_out, general_visit.id)

    written_lean = _written(dbs, lean_visit.id, (before, between))
    written_general = _written(dbs, general_visit.id, (between, after))
    assert written_lean == written_general
    # What the host got, in Spanish: email, SMS, a push to the one device, and the bell.
    assert [row[:2] for row in written_lean["outbox"]] == [
        ("EMAIL", "anfitriona@alpha.test"), ("PUSH", "<device>"), ("SMS", "+2348031112222")]
    assert written_lean["outbox"][0][3] == "Chidi Okafor, Ngozi Eze llegó a Alpha Court (unidad A1) a las HH:MM."
    assert written_lean["outbox"][0][4] == "es" and len(written_lean["bells"]) == 1
    assert [e[0] for e in written_lean["events"]] == ["ENTRY", "EXIT"]

    # A refusal is the general path's to answer: scanned again, the used pass is refused alike.
    again = kiosk.post("/checkin/manual", {"visitor_code": lean_visit.visitor_code})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "PASS_EXHAUSTED"
    assert seen == ([True, True, False] if postgres else [])


def test_the_lean_path_admits_exactly_the_passes_the_rules_admit(app):
    """Every case of the rule table (tests/rule_cases.py: windows, recurring weekdays and
    hours in two time zones, entries, revocations, bans of every kind) scanned on the lean
    path: admitted exactly when `check` says ADMIT; anything else is left to the general path."""
    from datetime import timedelta

    from portal.gate.service import GateContext
    from portal.models import GateMethod, KioskToken, Membership, User, Visit
    from tests.rule_cases import ADMIT, CASES, build_cases

    with app.app_context():
        if not lean.available():
            pytest.skip("the lean path is PostgreSQL's")
    with app.test_request_context("/api/v1/checkin/manual"):
        built = build_cases()
        verdicts = {}
        for case, answer in zip(CASES, built, strict=True):
            visit = db.session.get(Visit, answer["input"]["pass"]["id"])
            device = f"rules-device-{visit.estate_id}"
            guard = User(full_name="Rule Guard", email=f"guard{visit.estate_id}@rules.test", password_hash="-")
            db.session.add(guard)
            db.session.flush()
            member = Membership(user_id=guard.id, estate_id=visit.estate_id, role=Role.GUARD, bound_device_id=device)
            db.session.add(member)
            db.session.flush()
            token = KioskToken(jti=uuid.uuid4().hex, estate_id=visit.estate_id, membership_id=member.id,
                               device_id=device, issued_at=case.now - timedelta(minutes=5),
                               expires_at=case.now + timedelta(hours=1))
            db.session.add(token)
            db.session.commit()
            claims = {"jti": token.jti, "sub": str(member.id), "device_id": device}
            taken = lean.enter(claims, "code", visit.visitor_code, GateContext(device_id=device, method=GateMethod.CODE),
                               case.now)
            verdicts[case.name] = (taken is not None, answer["verdict"] == ADMIT)
        db.session.rollback()
    wrong = {name: pair for name, pair in verdicts.items() if pair[0] != pair[1]}
    assert not wrong, f"lean (admitted, rules admit): {wrong}"
    assert sum(admitted for admitted, _ in verdicts.values()) >= 10


@pytest.mark.real_commits
def test_a_database_connection_ended_by_the_server_costs_the_guard_nothing(app, estate_pair, make, client):
    """The lean path keeps a connection per thread and sends no pre-ping; when the server
    ends it (a restart, or here its backend terminated), the next scan is still answered 200
    on a fresh connection, not a 500."""
    with app.app_context():
        if not lean.available():
            pytest.skip("the lean path is PostgreSQL's")
    a = estate_pair.alpha
    kiosk = kiosk_for(client, a.estate, a.guard)
    first, second = make.visit(a.estate, a.unit, a.resident), make.visit(a.estate, a.unit, a.resident)
    assert kiosk.post("/checkin/manual", {"visitor_code": first.visitor_code}).status_code == 200
    with app.app_context():
        old = lean._connection()
        backend = old.info.backend_pid
        db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        db.session.commit()
    import time

    time.sleep(0.2)  # the server's FATAL message reaches the socket
    answer = kiosk.post("/checkin/manual", {"visitor_code": second.visitor_code})
    assert answer.status_code == 200, answer.get_json()
    with app.app_context():
        assert lean._connection().info.backend_pid != backend
