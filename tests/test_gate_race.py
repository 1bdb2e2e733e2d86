"""50 guards scan the same single-use pass at the same instant against a real gunicorn
(4 workers) on PostgreSQL: exactly one is admitted, the rest are denied, and the
database agrees (one ENTRY event, entries_used == 1).

Needs PostgreSQL: run with `make test-pg` (TEST_DATABASE_URL set)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.gunicorn_support import seeded_gunicorn

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                       reason="needs PostgreSQL: `make test-pg` sets TEST_DATABASE_URL and runs it"),
]

SCANS = 50
WORKERS = 4


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory):
    """(base URL, database URL) of the app under gunicorn with 4 workers on a fresh, seeded database."""
    with seeded_gunicorn("race", tmp_path_factory.mktemp("race-db"), workers=WORKERS) as server:
        yield server


def _single_use_pass(db_url: str) -> tuple[int, str]:
    """A fresh SINGLE_USE pass valid now in greenpark, written straight to the database."""
    engine = sa.create_engine(db_url)
    now = datetime.now(UTC)
    code = "".join(secrets.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(8))
    try:
        with engine.begin() as conn:
            estate_id, unit_id = conn.execute(sa.text(
                "SELECT e.id, u.id FROM estate e JOIN unit u ON u.estate_id = e.id "
                "WHERE e.slug = 'greenpark' ORDER BY u.id LIMIT 1")).one()
            visit_id = conn.execute(sa.text(
                "INSERT INTO visit (estate_id, unit_id, pass_type, status, purpose, valid_from, valid_until, weekdays, "
                "max_entries, entries_used, people_inside, qr_token, visitor_code, created_at) VALUES "
                "(:estate, :unit, 'SINGLE_USE', 'ACTIVE', 'race', :start, :end, '', 1, 0, false, :token, :code, :now) "
                "RETURNING id"),
                dict(estate=estate_id, unit=unit_id, start=now - timedelta(hours=1), end=now + timedelta(hours=6),
                     token=secrets.token_urlsafe(24), code=code, now=now)).scalar_one()
            conn.execute(sa.text("INSERT INTO visit_guest (visit_id, estate_id, full_name) VALUES (:v, :e, 'Racer')"),
                         dict(v=visit_id, e=estate_id))
    finally:
        engine.dispose()
    return visit_id, code


def _signed_in_opener(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A cookie-keeping opener signed in as the demo guard supervisor, and a CSRF token."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) \
        or re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = urllib.parse.urlencode({"csrf_token": token.group(1), "login": "supervisor@greenpark.test",
                                   "password": "demo1234"}).encode()
    opener.open(f"{base}/login", data=data, timeout=10).read()
    gate = opener.open(f"{base}/e/greenpark/gate/", timeout=10).read().decode()
    assert "Gate" in gate, gate[:500]
    return opener, re.search(r'data-csrf="([^"]+)"', gate).group(1)


def test_fifty_concurrent_scans_of_a_single_use_pass_admit_exactly_one(pg_server):
    base, db_url = pg_server
    visit_id, _code = _single_use_pass(db_url)
    opener, csrf = _signed_in_opener(base)
    body = urllib.parse.urlencode({"csrf_token": csrf, "method": "QR", "gate": "Race gate"}).encode()
    start = threading.Barrier(SCANS)
    results: list[str | Exception] = [""] * SCANS

    def scan(n: int) -> None:
        request = urllib.request.Request(f"{base}/e/greenpark/gate/visits/{visit_id}/entry", data=body,
                                         headers={"HX-Request": "true"})
        start.wait(timeout=30)
        try:
            with opener.open(request, timeout=60) as response:
                results[n] = response.read().decode()
        except Exception as exc:  # noqa: BLE001 - reported below
            results[n] = exc

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(SCANS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    errors = [r for r in results if not isinstance(r, str)]
    assert not errors, errors[:3]
    admitted = [r for r in results if "ENTRY RECORDED" in r]
    denied = [r for r in results if "DENY" in r]
    assert (len(admitted), len(denied)) == (1, SCANS - 1)
    assert all("This visitor is already inside." in r for r in denied)

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            entries_used, inside = conn.execute(
                sa.text("SELECT entries_used, people_inside FROM visit WHERE id = :id"), {"id": visit_id}).one()
            events = dict(conn.execute(sa.text(
                "SELECT event_type, count(*) FROM gate_event WHERE visit_id = :id GROUP BY event_type"),
                {"id": visit_id}).all())
    finally:
        engine.dispose()
    assert (entries_used, inside) == (1, True)
    assert events == {"ENTRY": 1, "DENIED": SCANS - 1}


def _kiosk_token(base: str, device_id: str) -> str:
    """A kiosk API token for the demo guard on `device_id`."""
    body = json.dumps({"estate": "greenpark", "login": "guard@greenpark.test", "password": "demo1234",
                       "device_id": device_id}).encode()
    request = urllib.request.Request(f"{base}/api/v1/kiosk/token", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]["access_token"]


def test_fifty_concurrent_api_scans_of_a_single_use_pass_admit_exactly_one(pg_server):
    base, db_url = pg_server
    visit_id, _code = _single_use_pass(db_url)
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            qr_token = conn.execute(sa.text("SELECT qr_token FROM visit WHERE id = :id"), {"id": visit_id}).scalar_one()
    finally:
        engine.dispose()
    device_id = "race-kiosk-0001"
    token = _kiosk_token(base, device_id)
    body = json.dumps({"qr_token": qr_token, "gate": "Race gate", "device_id": device_id}).encode()
    start = threading.Barrier(SCANS)
    results: list[tuple[int, dict] | Exception] = [None] * SCANS  # type: ignore[list-item]

    def scan(n: int) -> None:
        request = urllib.request.Request(f"{base}/api/v1/checkin/scan", data=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        start.wait(timeout=30)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                results[n] = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            results[n] = (exc.code, json.loads(exc.read()))
        except Exception as exc:  # noqa: BLE001 - reported below
            results[n] = exc

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(SCANS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    errors = [r for r in results if not isinstance(r, tuple)]
    assert not errors, errors[:3]
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (SCANS - 1), statuses
    codes = {body["error"]["code"] for status, body in results if status == 409}
    assert codes == {"ALREADY_INSIDE"}
    admitted = next(body for status, body in results if status == 200)
    assert admitted["data"]["visit"]["entries_used"] == 1 and admitted["data"]["event"]["type"] == "ENTRY"

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            entries_used, inside = conn.execute(
                sa.text("SELECT entries_used, people_inside FROM visit WHERE id = :id"), {"id": visit_id}).one()
            events = dict(conn.execute(sa.text(
                "SELECT event_type, count(*) FROM gate_event WHERE visit_id = :id GROUP BY event_type"),
                {"id": visit_id}).all())
    finally:
        engine.dispose()
    assert (entries_used, inside) == (1, True)
    assert events == {"ENTRY": 1, "DENIED": SCANS - 1}
