"""Offline gate: the bootstrap a device keeps, and the sync that replays its offline scans
through the live rules (APPLIED once, DUPLICATE on a repeat, REJECTED with its code)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.gate import offline
from portal.models import (
    Ban,
    BanScope,
    Estate,
    GateEvent,
    GateEventType,
    GateMethod,
    PassType,
    User,
    Visit,
    VisitStatus,
)
from tests.test_api_kiosk import DEVICE, _error, kiosk_for


@pytest.fixture
def world(estate_pair, make, client):
    a = estate_pair.alpha
    return SimpleNamespace(a=a, b=estate_pair.beta, make=make, kiosk=kiosk_for(client, a.estate, a.guard))


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def item(event_id: str, event_type: str, when: datetime, **kw) -> dict:
    return {"client_event_id": event_id, "event_type": event_type, "occurred_at": iso(when), **kw}


def sync(world, items, **extra):
    response = world.kiosk.post("/offline/sync", {"items": items, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]["results"]


# --- bootstrap ----------------------------------------------------------------------------


def test_bootstrap_holds_todays_and_tomorrows_passes_bans_residents_and_inside(world, dbs):
    a, make = world.a, world.make
    today = make.visit(a.estate, a.unit, a.resident, guests=(("Ngozi Eze", "+2348090000011", "LAG1"),))
    tomorrow = make.visit(a.estate, a.unit, a.resident, starts=timedelta(hours=20), ends=timedelta(hours=22))
    later = make.visit(a.estate, a.unit, a.resident, starts=timedelta(days=3), ends=timedelta(days=4))
    expired = make.visit(a.estate, a.unit, a.resident, starts=timedelta(hours=-5), ends=timedelta(hours=-1))
    revoked = make.visit(a.estate, a.unit, a.resident, status=VisitStatus.REVOKED)
    recurring = make.visit(a.estate, a.unit, a.resident, pass_type=PassType.RECURRING, weekdays="12345",
                           daily_start=time(8, 0), daily_end=time(18, 30), ends=timedelta(days=30))
    inside = make.visit(a.estate, a.unit, a.resident, people_inside=True, entries_used=1,
                        guests=(("Inside Person", None, None),))
    theirs = make.visit(world.b.estate, world.b.unit, world.b.resident)
    make.resident(a.estate, a.unit, "Moved Out", move_out_date=datetime.now(UTC).date())
    now = datetime.now(UTC)
    with dbs() as s:
        s.add_all([
            Ban(estate_id=a.estate.id, phone="+2348090000050", scope=BanScope.ESTATE, reason="Fight", severity="HIGH"),
            Ban(estate_id=a.estate.id, phone="+2348090000051", scope=BanScope.PERSONAL, owner_user_id=a.resident.id,
                reason="Ex"),
            Ban(estate_id=a.estate.id, phone="+2348090000052", scope=BanScope.ESTATE, reason="Lifted", lifted_at=now),
            Ban(estate_id=a.estate.id, phone="+2348090000053", scope=BanScope.ESTATE, reason="Over",
                expires_at=now - timedelta(days=1)),
            Ban(estate_id=world.b.estate.id, phone="+2348090000054", scope=BanScope.ESTATE, reason="Beta"),
        ])
        s.add(GateEvent(estate_id=a.estate.id, visit_id=inside.id, event_type=GateEventType.ENTRY,
                        method=GateMethod.QR, gate="Main gate", occurred_at=now - timedelta(minutes=30)))
        s.commit()
    response = world.kiosk.get("/offline/bootstrap")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["estate"] == {"slug": "alpha", "name": "Alpha Court", "timezone": "Africa/Lagos"}
    assert data["generated_at"].endswith("Z")
    ids = {p["id"] for p in data["passes"]}
    assert {today.id, tomorrow.id, recurring.id, inside.id} <= ids
    assert not ids & {later.id, theirs.id}
    # Just ended and revoked passes come along, so offline they are denied for the right reason.
    statuses = {p["id"]: (p["status"], p["valid_until"]) for p in data["passes"]}
    assert statuses[revoked.id][0] == "REVOKED" and statuses[today.id][0] == "ACTIVE"
    assert statuses[expired.id][0] == "ACTIVE" and statuses[expired.id][1] < data["generated_at"]
    first = next(p for p in data["passes"] if p["id"] == today.id)
    assert first["visitor_code"] == today.visitor_code
    assert first["qr_token_sha256"] == hashlib.sha256(today.qr_token.encode()).hexdigest()
    assert today.qr_token not in response.get_data(as_text=True)
    assert first["visitors"] == [{"name": "Ngozi Eze", "phone": "+2348090000011", "plate": "LAG1"}]
    assert (first["host"]["id"], first["unit"], first["max_entries"], first["entries_used"]) == (
        a.resident.id, "A1", 1, 0)
    rec = next(p for p in data["passes"] if p["id"] == recurring.id)
    assert (rec["weekdays"], rec["daily_start"], rec["daily_end"]) == ("12345", "08:00", "18:30")
    assert sorted(b["reason"] for b in data["bans"]) == ["Ex", "Fight"]
    personal = next(b for b in data["bans"] if b["scope"] == "PERSONAL")
    assert personal["owner_user_id"] == a.resident.id
    assert data["residents"] == [{"name": "Resident of alpha", "unit": "A1", "phone": None}]
    assert [(r["visit_id"], r["visitors"][0]["name"]) for r in data["inside"]] == [(inside.id, "Inside Person")]
    assert data["inside"][0]["since"].endswith("Z")


def test_bootstrap_query_count_is_constant(app, world, count_queries):
    a, make = world.a, world.make

    def measure() -> int:
        with app.app_context():
            estate = db.session.get(Estate, a.estate.id)
            with count_queries() as counter:
                offline.bootstrap(estate, datetime.now(UTC))
            return counter.count

    make.visit(a.estate, a.unit, a.resident)
    make.visit(a.estate, a.unit, a.resident, people_inside=True)
    small = measure()
    assert small <= 6
    other = make.user("host2@alpha.test")
    for n in range(6):
        make.visit(a.estate, make.unit(a.estate), other if n % 2 else a.resident, people_inside=bool(n % 3),
                   guests=[(f"G{n}{k}", None, None) for k in range(3)])
        make.resident(a.estate, a.unit, f"R{n}")
    assert measure() == small


# --- sync ---------------------------------------------------------------------------------


def test_offline_scans_are_applied_once_duplicates_reported_and_rule_breakers_rejected(world, dbs):
    a, make = world.a, world.make
    single = make.visit(a.estate, a.unit, a.resident)
    expired = make.visit(a.estate, a.unit, a.resident, starts=timedelta(hours=-5), ends=timedelta(hours=-2))
    t = datetime.now(UTC) - timedelta(minutes=40)
    items = [
        item("dev1-0000001", "ENTRY", t, qr_token=single.qr_token),
        item("dev1-0000002", "EXIT", t + timedelta(minutes=10), visitor_code=single.visitor_code),
        item("dev1-0000003", "ENTRY", t + timedelta(minutes=20), visitor_code=single.visitor_code),  # 2nd entry
        item("dev1-0000004", "ENTRY", t + timedelta(minutes=5), qr_token=expired.qr_token),
    ]
    results = sync(world, items)
    assert [(r["client_event_id"], r["status"], r["code"]) for r in results] == [
        ("dev1-0000001", "APPLIED", None), ("dev1-0000002", "APPLIED", None),
        ("dev1-0000003", "REJECTED", "PASS_EXHAUSTED"), ("dev1-0000004", "REJECTED", "PASS_EXPIRED"),
    ]
    assert results[2]["message"] == "This pass has no entries left."
    assert results[0]["visit_id"] == single.id and results[3]["visit_id"] == expired.id

    # The device sends everything again (it never saw the answer): nothing is applied twice.
    again = sync(world, items)
    assert [r["status"] for r in again] == ["DUPLICATE"] * 4
    assert again[2]["code"] == "PASS_EXHAUSTED"

    with dbs() as s:
        visit = s.get(Visit, single.id)
        assert (visit.entries_used, visit.people_inside) == (1, False)
        events = s.execute(sa.select(GateEvent.event_type, GateEvent.method, GateEvent.occurred_at,
                                     GateEvent.guard_user_id, GateEvent.device_id)
                           .where(GateEvent.visit_id == single.id).order_by(GateEvent.occurred_at)).all()
        assert [(e[0], e[1]) for e in events] == [
            (GateEventType.ENTRY, GateMethod.OFFLINE), (GateEventType.EXIT, GateMethod.OFFLINE),
            (GateEventType.DENIED, GateMethod.OFFLINE)]
        assert events[0][2] == t.replace(microsecond=t.microsecond)  # the scan's own time, not the sync's
        assert {(e[3], e[4]) for e in events} == {(a.guard.id, DEVICE)}


def test_items_are_replayed_in_occurred_at_order(world, dbs):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    t = datetime.now(UTC) - timedelta(minutes=30)
    results = sync(world, [
        item("order-exit-01", "EXIT", t + timedelta(minutes=15), qr_token=visit.qr_token),
        item("order-entry-1", "ENTRY", t, qr_token=visit.qr_token),
    ])
    assert [(r["client_event_id"], r["status"]) for r in results] == [
        ("order-exit-01", "APPLIED"), ("order-entry-1", "APPLIED")]
    with dbs() as s:
        assert s.get(Visit, visit.id).people_inside is False


def test_a_duplicate_within_one_batch_is_reported(world, dbs):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident, pass_type=PassType.MULTI_ENTRY, max_entries=5)
    t = datetime.now(UTC) - timedelta(minutes=5)
    entry = item("same-id-0001", "ENTRY", t, qr_token=visit.qr_token)
    results = sync(world, [entry, entry])
    assert [r["status"] for r in results] == ["APPLIED", "DUPLICATE"]
    with dbs() as s:
        assert s.get(Visit, visit.id).entries_used == 1


def test_rules_are_judged_at_the_scan_time(world):
    a = world.a
    # Valid only in the past hour: scanned while valid, synced after it ended.
    visit = world.make.visit(a.estate, a.unit, a.resident, starts=timedelta(hours=-2), ends=timedelta(minutes=-10))
    results = sync(world, [item("late-sync-001", "ENTRY", datetime.now(UTC) - timedelta(minutes=30),
                                visitor_code=visit.visitor_code)])
    assert results[0]["status"] == "APPLIED"


def test_banned_unknown_and_not_inside_are_rejected(world, dbs):
    a = world.a
    banned = world.make.visit(a.estate, a.unit, a.resident, guests=(("B", "+2348090000077", None),))
    outside = world.make.visit(a.estate, a.unit, a.resident)
    theirs = world.make.visit(world.b.estate, world.b.unit, world.b.resident)
    with dbs() as s:
        s.add(Ban(estate_id=a.estate.id, phone="+2348090000077", scope=BanScope.ESTATE, reason="No"))
        s.commit()
    t = datetime.now(UTC) - timedelta(minutes=3)
    results = sync(world, [
        item("ban-00000001", "ENTRY", t, qr_token=banned.qr_token),
        item("unknown-0001", "ENTRY", t, visitor_code="ZZZZZZZZ"),
        item("notin-000001", "EXIT", t, visitor_code=outside.visitor_code),
        item("theirs-00001", "ENTRY", t, qr_token=theirs.qr_token),
    ])
    assert [(r["status"], r["code"]) for r in results] == [
        ("REJECTED", "VISITOR_BANNED"), ("REJECTED", "NOT_FOUND"), ("REJECTED", "NOT_INSIDE"),
        ("REJECTED", "WRONG_ESTATE")]
    assert results[3]["visit_id"] is None


@pytest.mark.parametrize("bad", [
    {"client_event_id": "short", "event_type": "ENTRY", "occurred_at": "2030-01-01T00:00:00Z", "visitor_code": "X"},
    {"client_event_id": "x" * 101, "event_type": "ENTRY", "occurred_at": "2020-01-01T00:00:00Z",
     "visitor_code": "X"},
    {"client_event_id": "valid-id-01", "event_type": "DENIED", "occurred_at": "2020-01-01T00:00:00Z",
     "visitor_code": "X"},
    {"client_event_id": "valid-id-01", "event_type": "ENTRY", "occurred_at": "2020-01-01T00:00:00",
     "visitor_code": "X"},  # no zone
    {"client_event_id": "valid-id-01", "event_type": "ENTRY", "occurred_at": "yesterday", "visitor_code": "X"},
    {"client_event_id": "valid-id-01", "event_type": "ENTRY", "occurred_at": "2020-01-01T00:00:00Z"},
    {"client_event_id": "valid-id-01", "event_type": "ENTRY", "occurred_at": "2020-01-01T00:00:00Z",
     "visitor_code": "X", "qr_token": "Y"},
    "not an object",
])
def test_invalid_items_are_rejected_with_validation_error(world, bad):
    results = sync(world, [bad])
    assert (results[0]["status"], results[0]["code"]) == ("REJECTED", "VALIDATION_ERROR")
    assert results[0]["message"]


def test_items_far_in_the_future_are_rejected_but_a_little_clock_skew_is_fine(world):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    now = datetime.now(UTC)
    results = sync(world, [
        item("future-00001", "ENTRY", now + timedelta(minutes=10), qr_token=visit.qr_token),
        item("skew-000001", "ENTRY", now + timedelta(minutes=2), qr_token=visit.qr_token),
    ])
    assert [(r["status"], r["code"]) for r in results] == [("REJECTED", "EVENT_OUTSIDE_OFFLINE_WINDOW"),
                                                          ("APPLIED", None)]


def test_sync_body_is_validated(world):
    error = _error(world.kiosk.post("/offline/sync", {}), 422, "VALIDATION_ERROR")
    assert "items" in error["details"]
    error = _error(world.kiosk.post("/offline/sync", {"items": [{}] * 501}), 422, "VALIDATION_ERROR")
    assert "items" in error["details"]
    _error(world.kiosk.post("/offline/sync", {"items": [], "device_id": "another-device-1"}), 403, "DEVICE_MISMATCH")
    assert sync(world, []) == []


def test_sync_uses_the_given_gate(world, dbs):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    sync(world, [item("gate-test-01", "ENTRY", datetime.now(UTC), qr_token=visit.qr_token)], gate="East gate")
    with dbs() as s:
        assert s.scalar(sa.select(GateEvent.gate).where(GateEvent.visit_id == visit.id)) == "East gate"


def test_sync_service_directly(app, world):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    with app.test_request_context():
        estate = db.session.get(Estate, a.estate.id)
        guard = db.session.get(User, a.guard.id)
        now = datetime.now(UTC)
        results = offline.sync(guard, estate, DEVICE, "Main gate",
                               [item("service-0001", "ENTRY", now, visitor_code=visit.visitor_code)], now)
        assert results == [{"client_event_id": "service-0001", "status": "APPLIED", "code": None, "message": None,
                            "visit_id": visit.id}]
        with pytest.raises(offline.TooManyItems):
            offline.sync(guard, estate, DEVICE, "Main gate", [{}] * 501, now)
