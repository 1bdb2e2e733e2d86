"""A real worker process (`flask --app wsgi worker`) on a SQLite job queue and a fresh
database: in DEV mode it marks a sign-in code SENT; in DEV mode, and with DEV mode off and
GATEHOUSE_ENV=production, "forgot password" delivers a mail with a working reset link
to a real local SMTP server within seconds; a gate scan answers, its entry committed,
while the worker is still waiting for a slow mail server.

The web side is an app made here from the same environment; its rows are really
committed (the worker reads them from another process). Slow: `make test-pg` runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db, limiter
from portal.models import GateEvent, GateEventType, MessageStatus, OutboxMessage, Role, User, Visit
from tests.browser.conftest import ARTIFACTS, ROOT, VENV_BIN, _run
from tests.conftest import _PASSWORD_HASH, PASSWORD, Factory, fresh_database
from tests.smtp_server import local_smtp, parts

pytestmark = [pytest.mark.slow, pytest.mark.real_commits]

GATE = {"X-Gate-Device": "tablet-live-0123456789"}


@contextmanager
def live(tmp_path, monkeypatch, **env):
    """(web app, worker process) sharing a fresh database and a SQLite job queue; the
    environment (`env` plus those two) is the same for both."""
    saved_limiter = dict(limiter.__dict__)  # create_app rebinds the one limiter
    with fresh_database("worker", tmp_path) as url:
        env = {"DATABASE_URL": url, "JOBS_SQLITE_PATH": str(tmp_path / "jobs.db"), **env}
        monkeypatch.delenv("REDIS_URL", raising=False)
        monkeypatch.delenv("MESSAGE_DELIVERY", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
        _run([*flask, "db", "upgrade"], dict(os.environ))  # a process of its own: Alembic reconfigures logging
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
                          "PASSWORD_HASHER": "fast"})
        ARTIFACTS.mkdir(exist_ok=True)
        log_path = ARTIFACTS / f"worker-{tmp_path.name}.log"
        with open(log_path, "w") as log:
            worker = subprocess.Popen([*flask, "worker", "--workers", "2"],
                                      cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            try:
                yield app, worker, log_path
            finally:
                worker.send_signal(signal.SIGINT)  # graceful: finish the running jobs
                try:
                    worker.wait(20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(5)
                with app.app_context():
                    db.engine.dispose()
                limiter.__dict__.clear()
                limiter.__dict__.update(saved_limiter)


def _wait_for_row(app, worker, log_path, timeout: float = 15) -> OutboxMessage:
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            row = db.session.scalars(sa.select(OutboxMessage)).one_or_none()
            if row is not None and row.status in (MessageStatus.SENT, MessageStatus.FAILED):
                db.session.expunge(row)
                return row
        assert worker.poll() is None, log_path.read_text()[-3000:]
        assert time.monotonic() < deadline, f"not delivered: {row and row.status}\n{log_path.read_text()[-3000:]}"
        time.sleep(0.1)


def test_a_real_worker_marks_a_sign_in_code_sent_in_dev_mode(tmp_path, monkeypatch):
    with live(tmp_path, monkeypatch, GATEHOUSE_DEV_MODE="1") as (app, worker, log_path):
        make = Factory(app)
        estate = make.estate("alpha")
        make.user("ada@example.test", estate=estate, role=Role.RESIDENT, phone="+2348031234567")
        started = time.monotonic()
        assert app.test_client().post("/login/code", data={"phone": "+2348031234567"}).status_code == 302
        row = _wait_for_row(app, worker, log_path)
        assert (row.status, row.provider, row.provider_message_id) == (MessageStatus.SENT, "DEV", f"outbox-{row.id}")
        assert time.monotonic() - started < 10
    assert "deliver_message" in log_path.read_text()


# DEV mode (the development default) and production (DEV mode off, and what production
# refuses to start without: a real SECRET_KEY; cookies over plain HTTP for the test client).
MODES = {
    "dev": {"GATEHOUSE_ENV": "development", "GATEHOUSE_DEV_MODE": "1"},
    "production": {"GATEHOUSE_ENV": "production", "GATEHOUSE_DEV_MODE": "0", "SECRET_KEY": "a-real-secret-" * 3,
                   "INTEGRATION_KEYS": "6cKZvTz1sYkAVIdp0AcIhRVz6X1ZrmzMWp1zOxqO9Lg=", "SESSION_COOKIE_SECURE": "0"},
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_forgot_password_delivers_a_working_link_within_seconds(tmp_path, monkeypatch, mode):
    with local_smtp() as smtp, live(
        tmp_path, monkeypatch, **MODES[mode], MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port),
        MAIL_FROM="Gatehouse <no-reply@gate.example>",
    ) as (app, worker, log_path):
        assert (app.config["ENV_NAME"], app.config["DEV_MODE"]) == (
            ("production", False) if mode == "production" else ("development", True))
        with app.app_context():
            user = User(email="ada@example.test", full_name="Ada Obi", password_hash=_PASSWORD_HASH)
            db.session.add(user)
            db.session.commit()
        client = app.test_client()
        started = time.monotonic()
        assert client.post("/password/forgot", data={"email": "ada@example.test"}).status_code in (200, 302)
        mails = smtp.wait_for(1, timeout=15)
        assert mails, f"no mail arrived\n{log_path.read_text()[-3000:]}"
        assert time.monotonic() - started < 10
        text, html = parts(mails[0])
        link = re.search(r"http://localhost(/password/reset/\S+)", text).group(1)
        assert link in html and mails[0]["Subject"] == "Reset your Gatehouse password"
        row = _wait_for_row(app, worker, log_path)
        assert (row.status, row.provider, row.provider_message_id) == (MessageStatus.SENT, "SMTP",
                                                                      mails[0]["Message-ID"])

        assert client.get(link).status_code == 200
        done = client.post(link, data={"password": "a-new-secret-9", "confirm": "a-new-secret-9"})
        assert done.status_code == 302, done.get_data(as_text=True)[:500]
        signed_in = client.post("/login", data={"login": "ada@example.test", "password": "a-new-secret-9"})
        assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:500]
        refused = app.test_client().post("/login", data={"login": "ada@example.test", "password": PASSWORD})
        assert refused.status_code != 302  # the old password no longer signs in


def test_a_gate_scan_answers_and_commits_while_the_worker_waits_for_a_slow_mail_server(tmp_path, monkeypatch):
    """No provider is called inside a request's transaction: with the real queue and worker
    and a mail server that takes 5 s to accept a message, the scan answers within those
    5 s (in well under one on an idle machine), its entry already committed (another connection reads it) before the worker
    hands the host's "your visitor has arrived" to the mail server."""
    slow = 5.0
    with local_smtp(delay=slow) as smtp, live(
        tmp_path, monkeypatch, **MODES["dev"], MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port),
    ) as (app, worker, log_path):
        make = Factory(app)
        estate = make.estate("alpha")
        unit = make.unit(estate, "A1")
        host = make.user("host@example.test", estate=estate, role=Role.RESIDENT)  # email, no phone: one message
        make.resident(estate, unit, "Host", user=host)
        make.user("guard@example.test", estate=estate, role=Role.GUARD)
        visit = make.visit(estate, unit, host, guests=[("Halima Sani", None, None)])
        client = app.test_client()
        assert client.post("/login", data={"login": "guard@example.test", "password": PASSWORD}).status_code == 302
        client.get("/e/alpha/gate/", headers=GATE)  # binds the device

        started = time.monotonic()
        response = client.post(f"/e/alpha/gate/visits/{visit.id}/entry", headers=GATE)
        answered = time.monotonic()
        assert response.status_code == 200 and "ENTRY RECORDED" in response.get_data(as_text=True)
        assert answered - started < slow, answered - started
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # a connection of its own
        try:
            with other.connect() as conn:
                entries = conn.scalar(sa.select(sa.func.count(GateEvent.id)).where(
                    GateEvent.visit_id == visit.id, GateEvent.event_type == GateEventType.ENTRY))
                used = conn.scalar(sa.select(Visit.entries_used).where(Visit.id == visit.id))
        finally:
            other.dispose()
        assert (entries, used) == (1, 1)
        assert smtp.messages == []  # nothing delivered yet (and the scan did not wait for it)

        mails = smtp.wait_for(1, timeout=20)
        assert mails and mails[0]["Subject"] == "Your visitor has arrived", log_path.read_text()[-3000:]
        assert smtp.data_started[0] > answered  # the mail server was reached only after the answer
        row = _wait_for_row(app, worker, log_path)
        assert (row.status, row.provider, row.reason) == (MessageStatus.SENT, "SMTP", "visitor_arrived")
