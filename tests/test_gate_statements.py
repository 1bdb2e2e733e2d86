"""What one gate scan costs the database: the SQL statements and transactions of a kiosk
scan (QR and typed code), a checkout, and the gate page's check, entry and exit. A rule
added to the scan path must not quietly add round trips: these budgets fail when they grow.

Counted: every statement sent to the database (the test's SAVEPOINTs that stand in for
transactions are not), and the commits (each a RELEASE SAVEPOINT here); on PostgreSQL read
off the wire (tests/wire_support.py). On PostgreSQL a kiosk scan takes the lean path
(portal/gate/lean.py): one data-modifying WITH checks the token, reads the pass with its
ban, takes the entry and writes the gate event, the device's last contact, the audit
record and the host's notices; a checkout is a SELECT, then a WITH. SQLite runs the general path's steps one by one.
The last test counts the round trips of the production path (its own autocommit
connection: no BEGIN, COMMIT or pre-ping)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.gate import lean
from portal.models import AuditLog, GateEvent, GateEventType, GateMethod, Membership, Visit
from tests.test_api_kiosk import kiosk_for
from tests.wire_support import traced

# Statements of each request (the token check included for the kiosk), per database.
BUDGET = {
    "postgresql": {"scan": 1, "manual": 1, "checkout": 2, "page check": 5, "page entry": 6, "page exit": 6},
    "sqlite": {"scan": 8, "manual": 8, "checkout": 6, "page check": 5, "page entry": 11, "page exit": 9},
}
PAGE_HEADERS = {"X-Gate-Device": "tablet-0123456789abcdef", "HX-Request": "true"}


@pytest.fixture
def sql(app):
    """`with sql() as seen:` the statements of the block (seen.statements) and its commits.
    On PostgreSQL they are read off the wire (libpq's trace of the test's connection: what
    SQLAlchemy sends and what the lean gate path sends through psycopg alike); on SQLite
    from SQLAlchemy's cursor events."""

    @contextmanager
    def _watch():
        seen = type("Seen", (), {})()
        seen.statements, seen.commits = [], 0
        with app.app_context():
            engine = db.engine
        if engine.dialect.name == "postgresql":
            bound = db.session.session_factory.kw["bind"].connection.driver_connection
            with traced([bound]) as wire:
                yield seen
            seen.statements = wire.sql()
            seen.commits = sum(s.upper().startswith("RELEASE SAVEPOINT") for s in wire.statements)
            return

        def before(_conn, _cursor, statement, *_args):
            text = " ".join(statement.split())
            if text.upper().startswith("RELEASE SAVEPOINT"):
                seen.commits += 1
            elif not text.upper().startswith(("SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
                seen.statements.append(text)

        def commit(_conn):
            seen.commits += 1

        sa.event.listen(engine, "before_cursor_execute", before)
        sa.event.listen(engine, "commit", commit)
        try:
            yield seen
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)
            sa.event.remove(engine, "commit", commit)

    return _watch


@pytest.fixture
def budget(app):
    with app.app_context():
        return BUDGET[db.engine.dialect.name]


def _within(seen, budget: dict, name: str, commits: int = 1) -> None:
    listing = "\n".join(f"  {s[:160]}" for s in seen.statements)
    print(f"{name}: {len(seen.statements)} statements, {seen.commits} commit(s)\n{listing}")
    assert len(seen.statements) <= budget[name], f"{name}: {len(seen.statements)} statements\n{listing}"
    assert seen.commits == commits, f"{name}: {seen.commits} commits, {commits} expected"


def test_a_kiosk_scan_manual_check_in_and_checkout_stay_within_budget(estate_pair, make, client, sql, budget, dbs):
    a = estate_pair.alpha
    kiosk = kiosk_for(client, a.estate, a.guard)
    by_qr = make.visit(a.estate, a.unit, a.resident)
    by_code = make.visit(a.estate, a.unit, a.resident)
    with sql() as seen:
        answer = kiosk.post("/checkin/scan", {"qr_token": by_qr.qr_token})
        assert answer.status_code == 200
    _within(seen, budget, "scan")
    with sql() as seen:
        assert kiosk.post("/checkin/manual", {"visitor_code": by_code.visitor_code}).status_code == 200
    _within(seen, budget, "manual")
    with sql() as seen:
        out = kiosk.post("/checkin/checkout", {"qr_token": by_qr.qr_token, "gate": "Back gate"})
        assert out.status_code == 200
    _within(seen, budget, "checkout")
    # What the one statement wrote (PostgreSQL) is what the four write (SQLite).
    scanned = kiosk.post("/checkin/scan", {"qr_token": by_qr.qr_token, "gate": "Side gate"})
    assert scanned.status_code == 409  # single use: no entries left
    entry_id = answer.get_json()["data"]["event"]["id"]
    exit_id = out.get_json()["data"]["event"]["id"]
    with dbs() as s:
        events = {e.id: e for e in s.scalars(sa.select(GateEvent).where(GateEvent.visit_id == by_qr.id))}
        assert [(e.event_type, e.gate, e.method, e.device_id, e.reason) for e in events.values()] == [
            (GateEventType.ENTRY, "Main gate", GateMethod.QR, kiosk.device_id, None),
            (GateEventType.EXIT, "Back gate", GateMethod.QR, kiosk.device_id, None),
            (GateEventType.DENIED, "Side gate", GateMethod.QR, kiosk.device_id, "PASS_EXHAUSTED")]
        assert set(events) > {entry_id, exit_id}
        audits = list(s.scalars(sa.select(AuditLog).where(AuditLog.target_type == "Visit",
                                                          AuditLog.target_id == by_qr.id).order_by(AuditLog.id)))
        assert [(x.action, x.after, x.actor_user_id, x.estate_id) for x in audits] == [
            ("visit.entered", {"entries_used": 1, "gate": "Main gate", "method": "QR", "event_id": entry_id},
             a.guard.id, a.estate.id),
            ("visit.exited", {"gate": "Back gate", "method": "QR", "event_id": exit_id}, a.guard.id, a.estate.id)]
        assert audits[0].before is None and audits[0].created_at is not None
        visit = s.get(Visit, by_qr.id)
        assert (visit.entries_used, visit.people_inside) == (1, False)
        contact = s.scalar(sa.select(Membership.device_contact_at).where(Membership.user_id == a.guard.id))
        assert contact is not None


def test_the_gate_page_check_entry_and_exit_stay_within_budget(estate_pair, make, client, login, sql, budget):
    a = estate_pair.alpha
    login("guard@alpha.test")
    visit = make.visit(a.estate, a.unit, a.resident)
    first = make.visit(a.estate, a.unit, a.resident)  # the device's first scan binds it: not counted
    assert client.post("/e/alpha/gate/check", data={"code": first.visitor_code}, headers=PAGE_HEADERS).status_code == 200
    with sql() as seen:
        assert client.post("/e/alpha/gate/check", data={"code": visit.visitor_code},
                           headers=PAGE_HEADERS).status_code == 200
    _within(seen, budget, "page check", commits=0)  # an admissible pass: nothing written yet
    with sql() as seen:
        assert client.post(f"/e/alpha/gate/visits/{visit.id}/entry", data={"method": "CODE"},
                           headers=PAGE_HEADERS).status_code == 200
    _within(seen, budget, "page entry")
    with sql() as seen:
        assert client.post(f"/e/alpha/gate/visits/{visit.id}/exit", data={"method": "SEARCH"},
                           headers=PAGE_HEADERS).status_code == 200
    _within(seen, budget, "page exit")


def test_the_lookup_answers_bans_as_active_ban_does(estate_pair, make, dbs):
    """The kiosk's lookup finds the pass and its strongest active ban in one statement: the
    same answer as `active_ban`, for this pass's visitors only."""
    from datetime import UTC, datetime, timedelta

    from portal.gate import service
    from portal.models import Ban, BanScope, Estate, Role
    from portal.visits.bans import active_ban

    alpha = estate_pair.alpha
    other = make.user("neighbour@alpha.test", estate=alpha.estate, role=Role.RESIDENT)
    now = datetime.now(UTC)
    mine = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=[("X", "+2348090000009", None), ("Y", None, None)])
    theirs = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=[("Z", "+2348090000077", None)])

    def both(s, estate, code):
        found = service.find_pass(estate, code=code, now=now)
        visit = found.visit
        expected = active_ban(estate, [g.phone for g in visit.visitors], visit.host_user_id, now)
        assert found.bans_known and found.ban == expected
        return found.ban

    with dbs() as s:
        estate = s.get(Estate, alpha.estate.id)
        s.add_all([
            Ban(estate_id=estate.id, phone="+2348090000077", scope=BanScope.ESTATE, reason="their visitor"),
            Ban(estate_id=estate.id, phone="+2348090000009", scope=BanScope.ESTATE, reason="old",
                expires_at=now - timedelta(minutes=1)),
            Ban(estate_id=estate.id, phone="+2348090000009", scope=BanScope.ESTATE, reason="lifted",
                lifted_at=now - timedelta(minutes=1)),
            Ban(estate_id=estate.id, phone="+2348090000009", scope=BanScope.PERSONAL, owner_user_id=other.id),
            Ban(estate_id=estate_pair.beta.estate.id, phone="+2348090000009", scope=BanScope.ESTATE,
                reason="other estate"),
        ])
        s.commit()
        assert both(s, estate, mine.visitor_code) is None
        assert both(s, estate, theirs.visitor_code).reason == "their visitor"
        s.add(Ban(estate_id=estate.id, phone="+2348090000009", scope=BanScope.PERSONAL,
                  owner_user_id=alpha.resident.id, severity="HIGH", reason="my ex"))
        s.commit()
        assert both(s, estate, mine.visitor_code).reason == "my ex"
        s.add(Ban(estate_id=estate.id, phone="+2348090000009", scope=BanScope.ESTATE, severity="LOW",
                  reason="estate-wide"))
        s.commit()
        assert both(s, estate, mine.visitor_code).reason == "estate-wide"  # ESTATE bans first
        decision = service.check(estate, service.find_pass(estate, code=mine.visitor_code).visit, now)
        assert decision.ban.reason == "estate-wide"


@pytest.mark.real_commits
def test_in_production_a_kiosk_scan_is_one_round_trip_and_a_checkout_two_on_postgresql(app, estate_pair, make,
                                                                                       client):
    """Outside a test's transaction (the production path): a scan is one statement (the
    token, the pass and its ban, the take, its records and the host's notices) and a
    checkout two (the lookup, then the take and its records), each its own transaction;
    nothing else crosses the wire (no BEGIN, COMMIT or pre-ping)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the lean path is PostgreSQL's (SQLite takes the general path, counted above)")
    a = estate_pair.alpha
    kiosk = kiosk_for(client, a.estate, a.guard)
    warm, warm2, *visits = [make.visit(a.estate, a.unit, a.resident) for _ in range(5)]
    # Warm up: each statement is prepared on its first use on a connection (one more round trip, once).
    for path, body in (("/checkin/scan", {"qr_token": warm.qr_token}), ("/checkin/checkout", {"visit_id": warm.id}),
                       ("/checkin/manual", {"visitor_code": warm2.visitor_code})):
        assert kiosk.post(path, body).status_code == 200
    for name, path, body, statements in (
            ("scan", "/checkin/scan", {"qr_token": visits[1].qr_token}, ["WITH found AS"]),
            ("manual", "/checkin/manual", {"visitor_code": visits[2].visitor_code}, ["WITH found AS"]),
            ("checkout", "/checkin/checkout", {"visit_id": visits[2].id}, ["SELECT kiosk_token.", "WITH taken AS"])):
        with app.app_context():
            own = lean._connection()  # this thread's connection of the lean path (the test client's too)
        with traced([own]) as wire:
            answer = kiosk.post(path, body)
        assert answer.status_code == 200, answer.get_json()
        listing = "\n".join(f"  {s[:120]}" for s in wire.statements)
        assert wire.round_trips == len(statements), f"{name}: {wire.round_trips} round trips\n{listing}"
        assert len(wire.statements) == len(statements), listing
        assert all(sent.startswith(start) for sent, start in zip(wire.statements, statements, strict=True)), listing
