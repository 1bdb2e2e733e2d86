"""A bad day, in process: Redis configured but not listening, the database refusing
connections, several gunicorn workers without Redis. (With real servers stopped and
restarted: tests/test_outages_live.py, in `make test-pg`.)"""

from __future__ import annotations

import logging
import socket
import sqlite3
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa

from portal import config as config_module
from portal import create_app
from portal.extensions import db, limiter
from portal.models import GateEvent, Role
from tests.conftest import PASSWORD
from tests.test_api_kiosk import kiosk_for


@pytest.fixture
def restore_limiter():
    """The limiter is one object per process: give the other tests back its storage and state."""
    saved = dict(limiter.__dict__)
    yield
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_with_redis(database_url: str, redis_url: str):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
                       "DEV_MODE": True, "PASSWORD_HASHER": "fast", "REDIS_URL": redis_url,
                       "RATELIMIT_STORAGE_URI": redis_url})


def guard_and_pass(make):
    estate = make.estate("alpha")
    guard = make.user("guard@alpha.test", estate=estate, role=Role.GUARD, phone="+2348000000201")
    visit = make.visit(estate, make.unit(estate), code="OUTAGE22")
    return estate, guard, visit


def test_redis_down_sign_in_codes_kiosk_token_and_pass_page_keep_working(
        database_url, app, make, restore_limiter, caplog, monkeypatch):
    estate, guard, visit = guard_and_pass(make)
    # (the test run's migrations, through logging.config.fileConfig, disabled existing loggers)
    monkeypatch.setattr(logging.getLogger("flask-limiter"), "disabled", False)
    down = app_with_redis(database_url, f"redis://127.0.0.1:{closed_port()}/0")
    client = down.test_client()
    caplog.set_level(logging.WARNING)

    assert client.post("/login", data={"login": guard.email, "password": PASSWORD}).status_code == 302
    assert "falling back to in-memory" in caplog.text
    other = down.test_client()
    assert other.post("/login/code", data={"phone": guard.phone}).status_code == 302
    assert other.post("/login/code/verify", data={"code": "000000"}).status_code in (401, 422)
    kiosk_for(down.test_client(), estate, guard)  # asserts a 200 with a token
    assert down.test_client().get(f"/p/{visit.qr_token}").status_code == 200

    # The limits still hold, counted in memory.
    wrong = {"login": "nobody@example.test", "password": "wrong-password"}
    answers = [down.test_client().post("/login", data=wrong).status_code for _ in range(6)]
    assert answers[-1] == 429, answers

    health = client.get("/health")
    assert health.status_code == 503
    assert health.get_json() == {"status": "error", "database": "ok", "redis": "unavailable"}


def test_health_without_redis_configured_says_nothing_about_it(client):
    assert client.get("/health").get_json() == {"status": "ok", "database": "ok"}


# --- the database refuses connections ----------------------------------------------------------


@contextmanager
def database_refused(app):
    """Every new connection is refused, as when the server is down; the pool is emptied."""
    with app.app_context():
        engine = db.engine
        error = sqlite3.OperationalError if engine.dialect.name == "sqlite" else psycopg.OperationalError

        def refuse(*args, **kwargs):
            raise error("connection refused (test: the database is down)")

        sa.event.listen(engine, "do_connect", refuse)
        engine.dispose()
    try:
        yield
    finally:
        sa.event.remove(engine, "do_connect", refuse)
        engine.dispose()


@pytest.mark.real_commits  # new connections must be refused
def test_database_down_kiosk_check_in_and_bootstrap_are_503_envelopes_then_the_retry_applies_once(
        app, client, make, dbs):
    estate, guard, visit = guard_and_pass(make)
    kiosk = kiosk_for(client, estate, guard)
    body = {"visitor_code": visit.visitor_code, "offline_event_id": "evt-outage-0001"}
    with database_refused(app):
        for response in (kiosk.post("/checkin/manual", body), kiosk.get("/offline/bootstrap"),
                         client.post("/api/v1/kiosk/token", json={"estate": "alpha", "login": guard.email,
                                                                  "password": PASSWORD, "device_id": "kiosk-x-0001"})):
            assert response.status_code == 503
            assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert response.headers["Retry-After"]
    first = kiosk.post("/checkin/manual", body)
    assert first.status_code == 200, first.get_json()
    again = kiosk.post("/checkin/manual", body)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(GateEvent)
                        .where(GateEvent.client_event_id == "evt-outage-0001")) == 1


@pytest.mark.real_commits  # new connections must be refused
def test_database_down_sign_in_is_a_translated_503(app, client, make):
    make.user("someone@example.test")
    with database_refused(app):
        response = client.post("/login", data={"login": "someone@example.test", "password": PASSWORD},
                               headers={"Accept-Language": "es"})
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert 'lang="es"' in html and 'id="service-unavailable"' in html and "Service unavailable" not in html


@pytest.mark.real_commits  # new connections must be refused
def test_database_down_gate_page_renders_without_the_database_and_points_to_offline_mode(
        app, client, make, login):
    estate, guard, _visit = guard_and_pass(make)
    login(guard.email)
    assert client.get("/e/alpha/gate/").status_code == 200
    with database_refused(app):
        page = client.get("/e/alpha/gate/")
        fragment = client.post("/e/alpha/gate/check", data={"code": "OUTAGE22"}, headers={"HX-Request": "true"})
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "offline mode" in html and "Internal Server Error" not in html
    assert fragment.status_code == 503 and "<html" not in fragment.get_data(as_text=True)
    assert fragment.headers["HX-Retarget"] == "#messages"
    assert client.get("/e/alpha/gate/").status_code == 200  # and back


@pytest.mark.real_commits  # new connections must be refused
def test_health_on_sqlite_checks_that_the_database_takes_writes(app, client):
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            pytest.skip("the write check is SQLite's")

        def read_only(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA query_only = ON")

        sa.event.listen(engine, "connect", read_only)
        engine.dispose()
    try:
        response = client.get("/health")
    finally:
        sa.event.remove(engine, "connect", read_only)
        engine.dispose()
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


# --- several workers without Redis ----------------------------------------------------------


PRODUCTION = {"ENV_NAME": "production", "SECRET_KEY": "a-real-secret", "DEV_MODE": False, "RATELIMIT_ENABLED": True,
              "INTEGRATION_KEYS": "6cKZvTz1sYkAVIdp0AcIhRVz6X1ZrmzMWp1zOxqO9Lg="}


def test_production_refuses_several_workers_without_redis(monkeypatch):
    monkeypatch.setattr(config_module, "server_workers", lambda: 4)
    with pytest.raises(config_module.ConfigError, match="REDIS_URL"):
        config_module.check(dict(PRODUCTION, REDIS_URL=None))
    config_module.check(dict(PRODUCTION, REDIS_URL="redis://127.0.0.1:6379/0"))
    config_module.check(dict(PRODUCTION, REDIS_URL=None, RATELIMIT_ENABLED=False))  # nothing to count
    monkeypatch.setattr(config_module, "server_workers", lambda: 1)
    config_module.check(dict(PRODUCTION, REDIS_URL=None))


def test_server_workers_is_one_outside_gunicorn():
    assert config_module.server_workers() == 1
