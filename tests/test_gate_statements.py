"""What one gate scan costs the database: the SQL statements and transactions of a kiosk
scan (QR and typed code), a checkout, and the gate page's check, entry and exit. A rule
added to the scan path must not quietly add round trips: these budgets fail when they grow.

Counted: every statement sent to the database (the test's SAVEPOINTs that stand in for
transactions are not), and the commits (each a RELEASE SAVEPOINT here). PostgreSQL writes
the conditional UPDATE, the gate event, the device's last contact and the audit record in
one statement (a data-modifying WITH); SQLite runs the same steps one by one."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from portal.extensions import db
from tests.test_api_kiosk import kiosk_for

# Statements of each request (the token check included for the kiosk), per database.
BUDGET = {
    "postgresql": {"scan": 9, "manual": 9, "checkout": 6, "page check": 9, "page entry": 22, "page exit": 19},
    "sqlite": {"scan": 9, "manual": 9, "checkout": 6, "page check": 9, "page entry": 22, "page exit": 19},
}
PAGE_HEADERS = {"X-Gate-Device": "tablet-0123456789abcdef", "HX-Request": "true"}


@pytest.fixture
def sql(app):
    """`with sql() as seen:` the statements of the block (seen.statements) and its commits."""

    @contextmanager
    def _watch():
        seen = type("Seen", (), {})()
        seen.statements, seen.commits = [], 0

        def before(_conn, _cursor, statement, *_args):
            text = " ".join(statement.split())
            if text.upper().startswith("RELEASE SAVEPOINT"):
                seen.commits += 1
            elif not text.upper().startswith(("SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
                seen.statements.append(text)

        def commit(_conn):
            seen.commits += 1

        with app.app_context():
            engine = db.engine
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


def test_a_kiosk_scan_manual_check_in_and_checkout_stay_within_budget(estate_pair, make, client, sql, budget):
    a = estate_pair.alpha
    kiosk = kiosk_for(client, a.estate, a.guard)
    by_qr = make.visit(a.estate, a.unit, a.resident)
    by_code = make.visit(a.estate, a.unit, a.resident)
    with sql() as seen:
        assert kiosk.post("/checkin/scan", {"qr_token": by_qr.qr_token}).status_code == 200
    _within(seen, budget, "scan")
    with sql() as seen:
        assert kiosk.post("/checkin/manual", {"visitor_code": by_code.visitor_code}).status_code == 200
    _within(seen, budget, "manual")
    with sql() as seen:
        assert kiosk.post("/checkin/checkout", {"qr_token": by_qr.qr_token}).status_code == 200
    _within(seen, budget, "checkout")


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
