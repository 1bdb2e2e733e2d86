"""Outages with real servers, while the app runs: a Redis of our own stopped and started
again, and a PostgreSQL database of our own refusing connections (ALLOW_CONNECTIONS false,
its backends terminated) and then restored. The answers during the outage, and nothing
lost or written twice afterwards. Slow; `make test-pg` runs them (the database leg needs
TEST_DATABASE_URL). The machine's shared Redis (6379) is never touched."""

from __future__ import annotations

import shutil
import subprocess
import time

import flask_migrate
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db
from portal.models import GateEvent, Role, Visit
from tests.conftest import PASSWORD, Factory, fresh_database
from tests.test_api_kiosk import kiosk_for
from tests.test_outages import app_with_redis, closed_port, guard_and_pass, restore_limiter  # noqa: F401

pytestmark = pytest.mark.slow


# --- Redis ---------------------------------------------------------------------------------


def start_redis(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 10
    while True:
        try:
            if client.ping():
                return server
        except redis.exceptions.ConnectionError:
            assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)


def stop(server: subprocess.Popen) -> None:
    server.kill()
    server.wait(timeout=10)


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
def test_redis_stopped_then_restored_while_the_app_runs(database_url, app, make, restore_limiter):  # noqa: F811
    estate, guard, visit = guard_and_pass(make)
    port = closed_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = start_redis(port)
    store = redis.Redis(port=port)
    try:
        live = app_with_redis(database_url, url)
        live.config["AUTH_RATE_LIMIT"] = "1000 per minute"
        client = live.test_client()
        assert client.post("/login", data={"login": guard.email, "password": PASSWORD}).status_code == 302
        assert any(b"auth.login" in key for key in store.scan_iter()), "not counted in Redis"
        assert client.get("/health").get_json()["redis"] == "ok"

        stop(server)
        other = live.test_client()
        assert other.post("/login", data={"login": guard.email, "password": PASSWORD}).status_code == 302
        assert live.test_client().post("/login/code", data={"phone": guard.phone}).status_code == 302
        kiosk_for(live.test_client(), estate, guard)
        assert live.test_client().get(f"/p/{visit.qr_token}").status_code == 200
        health = client.get("/health")
        assert health.status_code == 503 and health.get_json()["redis"] == "unavailable"

        server = start_redis(port)  # an empty Redis, as after a restart without persistence
        assert client.get("/health").status_code == 200
        deadline = time.monotonic() + 20
        while not any(b"auth.login" in key for key in store.scan_iter()):  # the limiter goes back to Redis
            assert time.monotonic() < deadline, "the limiter never went back to Redis"
            assert live.test_client().post("/login", data={"login": "x@example.test", "password": "no"}) \
                .status_code == 401
            time.sleep(0.5)
    finally:
        stop(server)


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
def pg_app(tmp_path, restore_limiter):  # noqa: F811
    """(app, database name, admin engine) on a dedicated, migrated PostgreSQL database."""
    import os

    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("needs PostgreSQL: `make test-pg` sets TEST_DATABASE_URL")
    with fresh_database("outage", tmp_path) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                          "RATELIMIT_ENABLED": False, "DEV_MODE": True})
        with app.app_context():
            flask_migrate.upgrade()
        admin = sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        name = make_url(url).database
        try:
            yield app, name, admin
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            admin.dispose()
            with app.app_context():
                db.engine.dispose()


def refuse_connections(admin, name: str, allow: bool) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allow else "false"}'))
        if not allow:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})


def test_postgresql_refused_then_restored_while_the_app_runs(pg_app):
    app, name, admin = pg_app
    make = Factory(app)
    estate, guard, visit = guard_and_pass(make)
    kiosk = kiosk_for(app.test_client(), estate, guard)
    desk = make.user("desk@alpha.test", estate=estate, role=Role.GUARD)  # a guard account binds to one device
    browser = app.test_client()
    assert browser.post("/login", data={"login": desk.email, "password": PASSWORD}).status_code == 302
    assert browser.get("/e/alpha/gate/").status_code == 200
    body = {"visitor_code": visit.visitor_code, "offline_event_id": "evt-pg-outage-01"}

    refuse_connections(admin, name, allow=False)
    checkin = kiosk.post("/checkin/manual", body)
    assert checkin.status_code == 503 and checkin.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    bootstrap = kiosk.get("/offline/bootstrap")
    assert bootstrap.status_code == 503 and bootstrap.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    sign_in = app.test_client().post("/login", data={"login": guard.email, "password": PASSWORD},
                                     headers={"Accept-Language": "es"})
    assert sign_in.status_code == 503 and "Servicio no disponible" in sign_in.get_data(as_text=True)
    gate = browser.get("/e/alpha/gate/")
    assert gate.status_code == 503 and "offline mode" in gate.get_data(as_text=True)
    health = app.test_client().get("/health")
    assert health.status_code == 503 and health.get_json()["database"] == "unreachable"

    refuse_connections(admin, name, allow=True)
    assert app.test_client().get("/health").status_code == 200
    assert browser.get("/e/alpha/gate/").status_code == 200  # the same session, signed in still
    first = kiosk.post("/checkin/manual", body)
    assert first.status_code == 200, first.get_json()
    again = kiosk.post("/checkin/manual", body)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    with app.app_context():
        events = db.session.scalar(sa.select(sa.func.count()).select_from(GateEvent)
                                   .where(GateEvent.visit_id == visit.id))
        entries_used = db.session.scalar(sa.select(Visit.entries_used).where(Visit.id == visit.id))
    assert (events, entries_used) == (1, 1)


# --- several workers without Redis ----------------------------------------------------------


def test_gunicorn_with_two_workers_and_no_redis_refuses_to_start_in_production(tmp_path):
    from tests.browser.conftest import ROOT, VENV_BIN

    env = {"PATH": "/usr/bin:/bin", "GATEHOUSE_ENV": "production", "SECRET_KEY": "a-real-secret-value",
           "INTEGRATION_KEYS": "6cKZvTz1sYkAVIdp0AcIhRVz6X1ZrmzMWp1zOxqO9Lg=",
           "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run([str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{closed_port()}",
                             "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "REDIS_URL is not set" in result.stderr
