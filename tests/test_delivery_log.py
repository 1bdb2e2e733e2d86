"""The delivery log (issue 10, point 7): an estate admin sees every email and SMS of the
estate — recipient, channel, what it was, status, attempts, provider, error, times in the
estate's time zone — filters it, pages through it in a constant number of queries, never
reads a sign-in code or a reset link, and resends a message that failed (once, audited,
delivered after the commit). Enterprise admins see every estate's messages and the
platform's own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from huey import SqliteHuey

from portal import jobs
from portal.extensions import db
from portal.integrations import delivery_log, outbox
from portal.models import AuditLog, Estate, MessageStatus, OutboxMessage, User
from tests.test_outbox import Recording, _drain

FAILED, SENT, QUEUED = MessageStatus.FAILED, MessageStatus.SENT, MessageStatus.QUEUED


def _message(dbs, estate_id, *, channel="SMS", recipient="+2348030000001", body="Hello", subject="",
             reason="visitor_arrived", status=SENT, attempts=1, provider="FAKE", error=None, created_at=None,
             sent_at=None) -> int:
    with dbs() as s:
        message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body, estate_id=estate_id,
                                reason=reason, status=status, attempts=attempts, provider=provider,
                                last_error=error, next_attempt_at=None, sent_at=sent_at)
        if created_at is not None:
            message.created_at = created_at
        s.add(message)
        s.commit()
        return message.id


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="message-(\d+)"', html)]


@pytest.fixture
def queue(app, tmp_path):
    """The app's jobs on a real SQLite queue that the test drains itself."""
    saved = app.extensions[jobs.KEY]
    app.extensions[jobs.KEY] = jobs.Jobs(app, SqliteHuey("test", filename=str(tmp_path / "jobs.db"), results=False))
    yield app.extensions[jobs.KEY]
    app.extensions[jobs.KEY] = saved


@pytest.fixture
def alpha(estate_pair, login):
    login("admin@alpha.test")
    return estate_pair.alpha


def test_an_admin_sees_every_message_of_the_estate_and_none_of_another(client, alpha, estate_pair, dbs):
    sent = _message(dbs, alpha.estate.id, channel="EMAIL", recipient="resident@alpha.test", subject="Your visitor",
                    body="Halima Sani arrived", provider="SMTP", sent_at=datetime.now(UTC))
    failed = _message(dbs, alpha.estate.id, recipient="+2348031112222", reason="walk_in_request", status=FAILED,
                      attempts=4, error="Termii: insufficient balance")
    other = _message(dbs, estate_pair.beta.estate.id, recipient="resident@beta.test")
    html = client.get("/e/alpha/admin/messages/").get_data(as_text=True)
    assert _ids(html) == [failed, sent]
    assert "2 messages" in html and "resident@beta.test" not in html
    row = html[html.index(f'id="message-{failed}"'):]
    row = row[:row.index("</tr>")]
    for shown in ("A visitor at the gate asks to see you", "SMS", "+2348031112222", "Not sent", "badge-message-failed",
                  "4 attempts", "FAKE", "Termii: insufficient balance"):
        assert shown in row, shown
    assert "Your visitor has arrived" in html and "Handed to the provider" in html and "SMTP" in html
    assert "Halima Sani arrived" not in html  # texts only on a message's own page
    assert 'id="nav-messages"' in html and 'aria-current="page"' in html
    assert client.get(f"/e/alpha/admin/messages/{other}").status_code == 404
    assert client.post(f"/e/alpha/admin/messages/{other}/resend").status_code == 404


def test_the_filters_narrow_the_list(client, alpha, dbs):
    a = _message(dbs, alpha.estate.id, channel="EMAIL", recipient="ada.obi@example.test")
    b = _message(dbs, alpha.estate.id, recipient="+2348031234567", status=FAILED, attempts=4, error="down")
    c = _message(dbs, alpha.estate.id, recipient="+2348039999999", reason="join_request")
    d = _message(dbs, alpha.estate.id, channel="EMAIL", recipient="x@example.test", reason="", status=QUEUED,
                 attempts=0, provider="")

    def shown(query: str) -> list[int]:
        response = client.get(f"/e/alpha/admin/messages/?{query}")
        assert response.status_code == 200
        return sorted(_ids(response.get_data(as_text=True)))

    assert shown("") == sorted([a, b, c, d])
    assert shown("channel=EMAIL") == sorted([a, d])
    assert shown("channel=sms") == sorted([b, c])
    assert shown("status=FAILED") == [b]
    assert shown("reason=join_request") == [c]
    assert shown("reason=-") == [d]  # "Other message": written without a reason
    assert shown("q=ADA.OBI") == [a]
    assert shown("q=0803 123 4567") == [b]  # a national number finds the stored +234…
    assert shown("q=100%25") == []  # % is taken literally
    assert shown("status=BOGUS&channel=FAX&reason=%3Cscript%3E") == sorted([a, b, c, d])  # ignored
    html = client.get("/e/alpha/admin/messages/?status=SENT&reason=announcement").get_data(as_text=True)
    assert "No message matches these filters." in html
    bad = client.get("/e/alpha/admin/messages/?from=2026-13-40", headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "form-error" in bad.get_data(as_text=True)


def test_times_and_the_date_range_are_in_the_estates_time_zone(client, alpha, dbs):
    with dbs() as s:
        s.get(Estate, alpha.estate.id).timezone = "America/Guatemala"  # UTC-6 all year
        s.commit()
    evening = _message(dbs, alpha.estate.id, created_at=datetime(2026, 3, 2, 3, 0, tzinfo=UTC),  # 1 March, 21:00
                       sent_at=datetime(2026, 3, 2, 3, 1, tzinfo=UTC))
    _message(dbs, alpha.estate.id, created_at=datetime(2026, 3, 1, 5, 0, tzinfo=UTC))  # 28 February, 23:00
    html = client.get("/e/alpha/admin/messages/?from=2026-03-01&to=2026-03-01").get_data(as_text=True)
    assert _ids(html) == [evening]
    assert "01/03/2026, 21:00" in html and "Sent 01/03/2026, 21:01" in html  # en_NG and "America/Guatemala" in html


def test_the_list_is_paginated_in_a_constant_number_of_queries(client, alpha, dbs, count_queries):
    def add(n):
        for i in range(n):
            _message(dbs, alpha.estate.id, recipient=f"+23480300000{i:02d}", status=FAILED if i % 2 else SENT,
                     error="down" if i % 2 else None)

    add(1)
    client.get("/e/alpha/admin/messages/?status=&q=0803")
    with count_queries() as few:
        client.get("/e/alpha/admin/messages/?q=0803")
    add(30)
    with count_queries() as many:
        html = client.get("/e/alpha/admin/messages/?q=0803").get_data(as_text=True)
    assert "31 messages" in html and "Page 1 of 2" in html and len(_ids(html)) == 25
    assert many.count == few.count
    second = client.get("/e/alpha/admin/messages/?q=0803&page=2").get_data(as_text=True)
    assert len(_ids(second)) == 6 and "Page 2 of 2" in second


def test_the_platforms_log_runs_a_constant_number_of_queries(client, make, login, dbs, count_queries):
    make.enterprise_admin()
    login("boss@example.test")

    def add(n):
        for _ in range(n):
            estate = make.estate()
            _message(dbs, estate.id)
            _message(dbs, None, channel="EMAIL", reason="password_reset")

    add(1)
    client.get("/enterprise/messages/")
    with count_queries() as few:
        client.get("/enterprise/messages/?channel=SMS")
    add(15)
    with count_queries() as many:
        html = client.get("/enterprise/messages/?channel=SMS").get_data(as_text=True)
    assert "16 messages" in html and html.count("Estate ") >= 16
    assert many.count == few.count


def test_codes_and_account_links_are_listed_but_never_readable(client, alpha, dbs):
    secrets = {
        "sign_in_code": "Your Gatehouse sign-in code is 493817.",
        "password_reset": "Reset: http://localhost/password/reset/SeCrEtToKeN",
        "invitation": "Set your password: http://localhost/invite/InViTeToKeN",
    }
    ids = {reason: _message(dbs, alpha.estate.id, reason=reason, body=body, status=FAILED, error="down")
           for reason, body in secrets.items()}
    plain = _message(dbs, alpha.estate.id, body="Halima Sani arrived for unit A1 at 10:00.")
    listing = client.get("/e/alpha/admin/messages/").get_data(as_text=True)
    assert "Sign-in code" in listing and "Password reset link" in listing and "Invitation" in listing
    for reason in secrets:
        page = client.get(f"/e/alpha/admin/messages/{ids[reason]}").get_data(as_text=True)
        assert 'id="message-hidden"' in page and 'id="message-body"' not in page
        for secret in ("493817", "SeCrEtToKeN", "InViTeToKeN"):
            assert secret not in page and secret not in listing
        assert 'id="resend-message"' not in page and 'id="no-resend"' in page
        refused = client.post(f"/e/alpha/admin/messages/{ids[reason]}/resend", follow_redirects=True)
        assert "is not sent again from here" in refused.get_data(as_text=True)
    with dbs() as s:
        assert {s.get(OutboxMessage, i).status for i in ids.values()} == {FAILED}
    page = client.get(f"/e/alpha/admin/messages/{plain}").get_data(as_text=True)
    assert "Halima Sani arrived for unit A1 at 10:00." in page and 'id="message-hidden"' not in page


def test_the_service_never_loads_a_secrets_text(app, alpha, dbs):
    code = _message(dbs, alpha.estate.id, reason="sign_in_code", body="Your code is 493817.")
    with app.app_context():
        estate = db.session.get(Estate, alpha.estate.id)
        detail = delivery_log.get_message(estate, code)
        assert detail.body is None
        row = delivery_log.list_messages(estate, delivery_log.LogFilters(), ZoneInfo(estate.timezone)).items[0]
        with pytest.raises(sa.exc.InvalidRequestError):  # not loaded, and not loadable by a template
            row.message.body  # noqa: B018


@pytest.mark.real_commits
def test_resending_a_failed_message_queues_the_row_and_delivers_it_once(app, client, alpha, dbs):
    provider = Recording()
    app.config.update(MESSAGE_DELIVERY="portal.integrations.delivery:inline", MESSAGE_PROVIDERS={"SMS": provider})
    failed = _message(dbs, alpha.estate.id, recipient="+2348031112222", body="Your visitor arrived.", status=FAILED,
                      attempts=4, error="Termii: insufficient balance", provider="termii")
    page = client.get(f"/e/alpha/admin/messages/{failed}").get_data(as_text=True)
    assert 'id="resend-message"' in page and "hx-confirm" in page and "Termii: insufficient balance" in page

    response = client.post(f"/e/alpha/admin/messages/{failed}/resend")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/messages/{failed}")
    assert provider.calls == [(failed, "+2348031112222", "Alpha Court")]  # after the commit, once
    with dbs() as s:
        row = s.get(OutboxMessage, failed)
        assert (row.status, row.attempts, row.provider, row.last_error) == (SENT, 1, "FAKE", None)
        entry = s.scalars(sa.select(AuditLog).where(AuditLog.action == "message.resent")).one()
        assert (entry.estate_id, entry.target_type, entry.target_id) == (alpha.estate.id, "OutboxMessage", failed)
        assert entry.actor_user_id == s.scalar(sa.select(User.id).where(User.email == "admin@alpha.test"))
        assert entry.before == {"status": "FAILED", "attempts": 4, "provider": "termii",
                                "last_error": "Termii: insufficient balance"}
    page = client.get(f"/e/alpha/admin/messages/{failed}").get_data(as_text=True)
    assert "The message is queued to be sent again." in page
    assert "after 4 failed attempts" in page and "Termii: insufficient balance" in page  # the history keeps it
    assert 'id="resend-message"' not in page
    trail = client.get("/e/alpha/admin/audit/").get_data(as_text=True)
    assert "message.resent" in trail and f"Message #{failed}" in trail

    again = client.post(f"/e/alpha/admin/messages/{failed}/resend", follow_redirects=True)  # a second click
    assert "Only a message that could not be sent can be sent again" in again.get_data(as_text=True)
    assert len(provider.calls) == 1
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "message.resent")) == 1


@pytest.mark.real_commits
def test_a_resend_goes_through_the_queue_as_one_job_and_the_sweep_never_sends_it_again(app, client, alpha, dbs,
                                                                                        queue):
    failed = _message(dbs, alpha.estate.id, status=FAILED, attempts=4, error="down")
    provider = Recording()
    app.config.update(MESSAGE_DELIVERY="portal.integrations.delivery:queue", MESSAGE_PROVIDERS={"SMS": provider})
    assert client.post(f"/e/alpha/admin/messages/{failed}/resend").status_code == 302
    assert provider.calls == []  # the request only enqueued, after its commit
    with dbs() as s:
        assert (s.get(OutboxMessage, failed).status, s.get(OutboxMessage, failed).attempts) == (QUEUED, 0)
    assert _drain(queue) == 1 and len(provider.calls) == 1
    with app.app_context():
        assert outbox.sweep(datetime.now(UTC) + timedelta(hours=1)) == []  # nothing left to send
        assert outbox.deliver(failed).status == ""  # a stray job claims nothing
    assert len(provider.calls) == 1
    with dbs() as s:
        assert s.get(OutboxMessage, failed).status == SENT


@pytest.mark.real_commits
def test_a_resent_message_that_fails_again_shows_the_new_error(app, client, alpha, dbs):
    from portal.integrations.outbox import ProviderError

    app.config.update(MESSAGE_DELIVERY="portal.integrations.delivery:inline",
                      MESSAGE_PROVIDERS={"EMAIL": Recording(error=ProviderError("550 no such user", permanent=True))})
    failed = _message(dbs, alpha.estate.id, channel="EMAIL", recipient="gone@example.test", status=FAILED,
                      error="timed out")
    client.post(f"/e/alpha/admin/messages/{failed}/resend")
    page = client.get(f"/e/alpha/admin/messages/{failed}").get_data(as_text=True)
    assert 'id="message-error">550 no such user' in page and "timed out" in page  # new error; old in history
    assert 'id="resend-message"' in page  # failed again: can be resent again


def test_resending_is_refused_while_a_message_is_on_its_way(client, alpha, dbs):
    queued = _message(dbs, alpha.estate.id, status=QUEUED, attempts=1, error="timed out")
    response = client.post(f"/e/alpha/admin/messages/{queued}/resend", follow_redirects=True)
    assert "Only a message that could not be sent can be sent again" in response.get_data(as_text=True)
    with dbs() as s:
        assert s.get(OutboxMessage, queued).attempts == 1


# --- the platform's log -------------------------------------------------------------------------


def test_enterprise_admins_see_every_estate_and_the_platforms_own_messages(client, make, estate_pair, login, dbs):
    make.enterprise_admin()
    a = _message(dbs, estate_pair.alpha.estate.id, recipient="resident@alpha.test")
    b = _message(dbs, estate_pair.beta.estate.id, recipient="resident@beta.test", status=FAILED, error="down")
    code = _message(dbs, None, recipient="+2348031234567", reason="sign_in_code", body="Your code is 493817.")
    login("boss@example.test")
    html = client.get("/enterprise/messages/").get_data(as_text=True)
    assert _ids(html) == [code, b, a] and "Alpha Court" in html and "Beta Court" in html
    assert "Platform (no estate)" in html and 'id="nav-enterprise-messages"' in html
    assert _ids(client.get(f"/enterprise/messages/?estate={estate_pair.beta.estate.id}").get_data(as_text=True)) == [b]
    assert _ids(client.get("/enterprise/messages/?estate=-1").get_data(as_text=True)) == [code]
    assert _ids(client.get("/enterprise/messages/?estate=999999").get_data(as_text=True)) == []
    page = client.get(f"/enterprise/messages/{code}").get_data(as_text=True)
    assert "493817" not in page and 'id="message-hidden"' in page
    page = client.get(f"/enterprise/messages/{b}").get_data(as_text=True)
    assert "Beta Court" in page and 'id="resend-message"' in page
    assert client.post(f"/enterprise/messages/{b}/resend").status_code == 302
    with dbs() as s:
        assert s.get(OutboxMessage, b).status == QUEUED
        entry = s.scalars(sa.select(AuditLog).where(AuditLog.action == "message.resent")).one()
        assert entry.estate_id == estate_pair.beta.estate.id


def test_the_log_speaks_spanish(client, alpha, dbs):
    with dbs() as s:
        s.get(User, alpha.admin.id).preferred_language = "es"
        s.commit()
    _message(dbs, alpha.estate.id, status=FAILED, attempts=4, error="down", created_at=datetime.now(UTC)
             - timedelta(minutes=5))
    html = client.get("/e/alpha/admin/messages/").get_data(as_text=True)
    for spanish in ("Registro de envíos", "No enviado", "Llegó su visita", "4 intentos"):
        assert spanish in html, spanish
