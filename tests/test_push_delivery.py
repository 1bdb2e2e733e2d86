"""Web push, the delivery side, against a local fake push service (tests/fakes/push_service.py):
the worker encrypts each message for the browser (the test decrypts it with the browser's
keys, made here) and signs it with the VAPID key (the test checks the JWT with the public
key); a walk-in request carries Approve / Decline; "your visitor has arrived" goes with the
gate scan's one INSERT; a 404 or 410 removes the subscription; other failures are retried.

Delivery runs after a real commit and reads the rows from sessions of its own."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature

from portal.extensions import db
from portal.gate import walkins
from portal.integrations import outbox, push
from portal.models import (
    AuditLog,
    Estate,
    MessageStatus,
    OutboxMessage,
    PushSubscription,
    User,
)
from tests.fakes.push_service import Browser, local_push_service, verified_claims

pytestmark = pytest.mark.real_commits

DEVICE = "tablet-push-0123456789"
HEADERS = {"X-Gate-Device": DEVICE}
SUBJECT = "mailto:ops@gatehouse.test"


@pytest.fixture
def vapid(app):
    public, private = push.generate_keys()
    app.config.update(VAPID_PUBLIC_KEY=public, VAPID_PRIVATE_KEY=private, VAPID_SUBJECT=SUBJECT,
                      MESSAGE_DELIVERY="portal.integrations.delivery:inline")
    return public


@pytest.fixture
def service():
    with local_push_service() as found:
        yield found


def subscribe(make_app, user_id: int, endpoint: str, browser: Browser, estate_id: int | None = None) -> int:
    with make_app.app_context():
        row = PushSubscription(user_id=user_id, estate_id=estate_id, endpoint=endpoint, device_label="Chrome · Android",
                               created_at=datetime.now(UTC), **browser.keys)
        db.session.add(row)
        db.session.commit()
        return row.id


def _messages(dbs, channel="PUSH") -> list[OutboxMessage]:
    with dbs() as s:
        rows = list(s.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == channel)
                              .order_by(OutboxMessage.id)))
        s.expunge_all()
        return rows


def _subscriptions(dbs) -> list[PushSubscription]:
    with dbs() as s:
        rows = list(s.scalars(sa.select(PushSubscription).order_by(PushSubscription.id)))
        s.expunge_all()
        return rows


def _walk_in(app, unit="A1", name="Bola Ade") -> int:
    with app.app_context():
        guard = db.session.scalar(sa.select(User).where(User.email == "guard@alpha.test"))
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
        return walkins.create_walk_in(guard, estate, walkins.WalkInData(visitor_name=name, unit_number=unit, gate="Main gate"),
                                      datetime.now(UTC)).id


def test_a_walk_in_request_is_pushed_encrypted_and_signed_with_approve_and_decline(app, estate_pair, vapid,
                                                                                    service, dbs):
    resident = estate_pair.alpha.resident
    browser = Browser()
    sub_id = subscribe(app, resident.id, service.endpoint("ana-phone"), browser)
    before = int(time.time())
    walk_in_id = _walk_in(app)
    [received] = service.wait_for(1)

    assert received.token == "ana-phone"
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.headers["ttl"] == "1800" and received.headers["urgency"] == "high"
    claims = verified_claims(received.headers["authorization"], vapid)
    assert claims["aud"] == service.origin and claims["sub"] == SUBJECT
    assert before < claims["exp"] <= before + 24 * 3600 + 5
    with pytest.raises(InvalidSignature):  # the check above can fail: another key does not verify it
        _verify_with_other_key(received.headers["authorization"])

    sent = json.loads(browser.decrypt(received.body))
    link = f"/e/alpha/home/walk-ins/{walk_in_id}"
    assert sent == {
        "title": "A visitor at the gate asks to see you",
        "body": "Bola Ade is at Main gate and asks to see unit A1. Approve or decline.",
        "url": link, "lang": "en", "tag": f"walk_in_request-{link}",
        "actions": [{"action": "approve", "title": "Approve", "url": f"{link}?answer=approve"},
                    {"action": "decline", "title": "Decline", "url": f"{link}?answer=decline"}],
    }
    with pytest.raises(Exception):  # noqa: B017 - another browser's keys cannot open it
        Browser().decrypt(received.body)

    [message] = _messages(dbs)
    assert (message.recipient, message.subject, message.status, message.provider, message.attempts) == (
        str(sub_id), "A visitor at the gate asks to see you", MessageStatus.SENT, "WEBPUSH", 1)
    assert message.provider_message_id == f"{service.origin}/message/1" and message.reason == "walk_in_request"
    [row] = _subscriptions(dbs)
    assert row.last_success_at is not None and row.failure_count == 0


def _verify_with_other_key(authorization: str) -> None:
    other = push.generate_keys()[0]
    scheme, _, params = authorization.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    verified_claims(f"{scheme} t={fields['t']}, k={other}", other)


def test_the_visitor_arrived_push_goes_to_each_device_of_the_host_in_their_language(app, client, estate_pair, make,
                                                                                    login, vapid, service, dbs):
    alpha = estate_pair.alpha
    with dbs() as s:
        s.get(User, alpha.resident.id).preferred_language = "es"
        s.commit()
    phone, tablet = Browser(), Browser()
    subscribe(app, alpha.resident.id, service.endpoint("phone"), phone)
    subscribe(app, alpha.resident.id, service.endpoint("tablet"), tablet)
    visit = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=[("Halima Sani", None, None)])
    login("guard@alpha.test")
    client.get("/e/alpha/gate/", headers=HEADERS)  # binds the device
    assert client.post(f"/e/alpha/gate/visits/{visit.id}/entry", headers=HEADERS).status_code == 200
    received = {r.token: r for r in service.wait_for(2)}
    for token, browser in (("phone", phone), ("tablet", tablet)):
        sent = json.loads(browser.decrypt(received[token].body))
        assert sent["title"] == "Llegó su visita" and sent["lang"] == "es"
        assert sent["body"].startswith("Halima Sani llegó a Alpha Court (unidad A1)")
        assert sent["url"] == f"/e/alpha/home/visits/{visit.id}" and "actions" not in sent
        assert received[token].headers["ttl"] == "3600"
    assert [(m.status, m.reason) for m in _messages(dbs)] == [(MessageStatus.SENT, "visitor_arrived")] * 2


def test_the_scan_pays_no_extra_statement_for_the_hosts_devices(app, client, estate_pair, make, login, vapid,
                                                               dbs, record_sql):
    alpha = estate_pair.alpha
    app.config["MESSAGE_DELIVERY"] = lambda ids: None
    first = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=[("Musa Bello", None, None)])
    second = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=[("Musa Bello", None, None)])
    login("guard@alpha.test")
    client.get("/e/alpha/gate/", headers=HEADERS)
    with record_sql() as without_devices:
        assert client.post(f"/e/alpha/gate/visits/{first.id}/entry", headers=HEADERS).status_code == 200
    assert _messages(dbs) == []
    for n in range(2):
        subscribe(app, alpha.resident.id, f"http://127.0.0.1:9/push/{n}", Browser())
    with record_sql() as with_devices:
        assert client.post(f"/e/alpha/gate/visits/{second.id}/entry", headers=HEADERS).status_code == 200
    assert len(_messages(dbs)) == 2
    assert len(with_devices) == len(without_devices)
    assert [st for st in with_devices if st.startswith("INSERT INTO outbox_message")] == [
        st for st in without_devices if st.startswith("INSERT INTO outbox_message")]


def test_no_push_for_a_kind_the_user_turned_push_off_for(app, estate_pair, vapid, service, dbs):
    resident = estate_pair.alpha.resident
    with dbs() as s:
        s.get(User, resident.id).notification_prefs = {"walk_in_request": {"email": True, "sms": True, "push": False}}
        s.commit()
    subscribe(app, resident.id, service.endpoint("quiet"), Browser())
    _walk_in(app)
    assert _messages(dbs) == [] and [m.recipient for m in _messages(dbs, "EMAIL")] == ["resident@alpha.test"]
    assert service.received == []


def test_the_guard_is_pushed_the_residents_answer(app, client, estate_pair, login, vapid, service, dbs):
    browser = Browser()
    subscribe(app, estate_pair.alpha.guard.id, service.endpoint("gate-tablet"), browser)
    walk_in_id = _walk_in(app)
    login("resident@alpha.test")
    assert client.post(f"/e/alpha/home/walk-ins/{walk_in_id}/approve").status_code in (200, 302, 303)
    [received] = service.wait_for(1)
    sent = json.loads(browser.decrypt(received.body))
    assert sent["title"] == "A walk-in visitor was answered" and sent["url"] == "/e/alpha/gate/"
    assert "approved Bola Ade for unit A1" in sent["body"]


@pytest.mark.parametrize("status", [410, 404])
def test_a_subscription_the_push_service_says_is_gone_is_removed(app, estate_pair, vapid, service, dbs, status):
    resident = estate_pair.alpha.resident
    gone_id = subscribe(app, resident.id, service.endpoint("old-phone"), Browser(), estate_pair.alpha.estate.id)
    kept = Browser()
    subscribe(app, resident.id, service.endpoint("new-phone"), kept)
    service.answer("old-phone", status)
    _walk_in(app)
    service.wait_for(2)
    assert [s.endpoint for s in _subscriptions(dbs)] == [service.endpoint("new-phone")]
    gone, delivered = sorted(_messages(dbs), key=lambda m: m.recipient != str(gone_id))
    assert (gone.status, gone.attempts, gone.next_attempt_at) == (MessageStatus.FAILED, 1, None)
    name = "Gone" if status == 410 else "Not Found"
    assert gone.last_error == (f"The push service answered {status} ({name}): the browser dropped this "
                               "subscription, so it was removed.")
    assert delivered.status == MessageStatus.SENT
    with dbs() as s:
        audit = s.scalars(sa.select(AuditLog).where(AuditLog.action == "push.subscription_gone")).one()
        assert (audit.target_id, audit.actor_user_id, audit.estate_id) == (gone_id, None, estate_pair.alpha.estate.id)
        assert audit.after == {"status": status, "message_id": gone.id}
    # The sweep never sends it again, and a retry of the row finds nothing to claim.
    with app.app_context():
        assert outbox.deliver(gone.id).status == ""
    assert len(service.received) == 2


def test_other_failures_are_retried_and_the_device_kept(app, estate_pair, vapid, service, dbs):
    resident = estate_pair.alpha.resident
    subscribe(app, resident.id, service.endpoint("busy"), Browser())
    service.answer("busy", 503)
    _walk_in(app)
    [message] = _messages(dbs)
    assert (message.status, message.attempts, message.provider) == (MessageStatus.QUEUED, 1, "WEBPUSH")
    assert message.last_error.startswith("The push service answered 503")
    assert message.next_attempt_at > message.created_at
    [row] = _subscriptions(dbs)
    assert row.failure_count == 1 and row.last_failure_at is not None and "503" in row.last_error


def test_a_push_service_that_does_not_answer_in_time_means_a_retry(app, estate_pair, vapid, service, dbs):
    app.config["PUSH_TIMEOUT"] = 0.5
    subscribe(app, estate_pair.alpha.resident.id, service.endpoint("slow"), Browser())
    service.answer("slow", 201, delay=2)
    started = time.monotonic()
    _walk_in(app)
    assert time.monotonic() - started < 1.9
    [message] = _messages(dbs)
    assert message.status == MessageStatus.QUEUED and "did not answer" in message.last_error
    assert len(_subscriptions(dbs)) == 1


def test_a_device_turned_off_before_delivery_fails_at_once(app, estate_pair, vapid, service, dbs):
    sub_id = subscribe(app, estate_pair.alpha.resident.id, service.endpoint("soon-off"), Browser())
    app.config["MESSAGE_DELIVERY"] = "portal.integrations.delivery:dev"  # written, not yet sent
    _walk_in(app)
    with dbs() as s:
        s.execute(sa.delete(PushSubscription).where(PushSubscription.id == sub_id))
        s.commit()
    [message] = _messages(dbs)
    with app.app_context():
        assert outbox.deliver(message.id).status == "FAILED"
    [message] = _messages(dbs)
    assert "no longer exists" in message.last_error and service.received == []


def test_with_push_off_no_push_is_written_and_a_stray_row_fails_clearly(app, estate_pair, vapid, service, dbs):
    subscribe(app, estate_pair.alpha.resident.id, service.endpoint("off"), Browser())
    app.config["PUSH_ENABLED"] = False
    _walk_in(app)
    assert _messages(dbs) == []
    with app.app_context():
        provider = outbox.provider_for("PUSH")
        with pytest.raises(outbox.ProviderError, match="VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT"):
            provider.send(OutboxMessage(id=1, channel="PUSH", recipient="1", body="{}"), None)
