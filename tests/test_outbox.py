"""Delivery of outbox messages by the worker: claim, send, record; retries with backoff,
then FAILED; the sweep; two workers racing on one row send it once; a gate scan never
waits for a provider; the periodic jobs. Jobs run through huey (immediate mode, or a
queue drained here); the race uses real threads on the test database.

The race and the scan tests need the factory's rows really committed (other connections
read them): marked `real_commits`."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from huey import RedisHuey, SqliteHuey

from portal import jobs
from portal.extensions import db
from portal.integrations import messaging, outbox
from portal.models import (
    Estate,
    GateEvent,
    GateEventType,
    ImportPreview,
    MessageStatus,
    OutboxMessage,
    Role,
    User,
    Visit,
    WalkIn,
    WalkInStatus,
    utcnow,
)

# Delivery runs after a real commit and reads the rows from a session of its own.
pytestmark = pytest.mark.real_commits

DEVICE = "tablet-outbox-0123456789"
HEADERS = {"X-Gate-Device": DEVICE}


class Recording:
    """A provider that records what it was given, optionally slow or failing."""

    name = "FAKE"

    def __init__(self, *, delay: float = 0.0, error: Exception | None = None,
                 hold: threading.Event | None = None):
        self.delay, self.error, self.hold = delay, error, hold
        self.calls: list[tuple[int, str, str | None]] = []
        self._lock = threading.Lock()

    def send(self, message, estate):
        with self._lock:
            self.calls.append((message.id, message.recipient, estate.name if estate else None))
        time.sleep(self.delay)
        if self.hold is not None:
            assert self.hold.wait(30), "held for 30 s"
        if self.error is not None:
            raise self.error
        return f"fake-{message.id}"


def _write(app, channel="SMS", recipient="+2348030000001", body="Hello", **about) -> int:
    with app.app_context():
        if channel == "SMS":
            message_id = messaging.send_sms(recipient, body, **about).id
        else:
            message_id = messaging.send_email(recipient, "Subject", body, **about).id
        db.session.commit()
        return message_id


def _row(dbs, message_id: int) -> OutboxMessage:
    with dbs() as s:
        row = s.get(OutboxMessage, message_id)
        s.expunge(row)
        return row


def _set(dbs, message_id: int, **values) -> None:
    with dbs() as s:
        s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
        s.commit()


def _deliver(app, message_id: int) -> outbox.Outcome:
    with app.app_context():
        return outbox.deliver(message_id)


# --- the hook hands committed messages to the queue ---------------------------------------


def test_a_committed_message_goes_through_the_queue_and_the_dev_provider_marks_it_sent(app, client, make, dbs):
    app.config["MESSAGE_DELIVERY"] = "portal.integrations.delivery:queue"  # jobs run at once (immediate)
    estate = make.estate("alpha")
    make.user("ada@example.test", estate=estate, role=Role.RESIDENT, phone="+2348031234567")
    assert client.post("/login/code", data={"phone": "+2348031234567"}).status_code == 302
    with dbs() as s:
        row = s.scalars(sa.select(OutboxMessage)).one()
    assert (row.status, row.attempts, row.provider, row.provider_message_id) == (
        MessageStatus.SENT, 1, "DEV", f"outbox-{row.id}")
    assert row.sent_at is not None and row.next_attempt_at is None and row.last_error is None
    assert (row.reason, row.language) == ("sign_in_code", "en")


def test_messages_record_their_estate_language_and_reason(app, estate_pair, dbs):
    alpha = estate_pair.alpha.estate
    with app.app_context():
        sent = messaging.send_many([("EMAIL", "a@example.test", "S", "One"), ("SMS", "+2348030000001", "", "Two")],
                                   estate=db.session.get(Estate, alpha.id), language="es", reason="visitor_arrived")
        db.session.commit()
        ids = [m.id for m in sent]
    rows = [_row(dbs, i) for i in ids]
    assert [(r.estate_id, r.language, r.reason, r.status, r.attempts) for r in rows] == [
        (alpha.id, "es", "visitor_arrived", MessageStatus.QUEUED, 0)] * 2
    assert all(r.next_attempt_at > r.created_at for r in rows)  # the sweep's deadline if no worker takes it


# --- retries, backoff, failure --------------------------------------------------------------


def test_a_failing_provider_is_retried_after_1_5_and_30_minutes_then_failed(app, dbs):
    failing = Recording(error=outbox.ProviderError("gateway said no"))
    app.config["MESSAGE_PROVIDERS"] = {"SMS": failing}
    message_id = _write(app)
    for attempt, wait in enumerate(outbox.BACKOFF, start=1):
        before = utcnow()
        outcome = _deliver(app, message_id)
        assert (outcome.status, outcome.attempts) == ("QUEUED", attempt)
        row = _row(dbs, message_id)
        assert (row.status, row.attempts, row.provider, row.last_error) == (
            MessageStatus.QUEUED, attempt, "FAKE", "gateway said no")
        assert before + wait <= row.next_attempt_at <= utcnow() + wait
        assert _deliver(app, message_id).status == ""  # not due yet: nobody may claim it
        _set(dbs, message_id, next_attempt_at=utcnow() - timedelta(seconds=1))
    assert _deliver(app, message_id).status == "FAILED"
    row = _row(dbs, message_id)
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
        MessageStatus.FAILED, outbox.MAX_ATTEMPTS, None, "gateway said no")
    assert len(failing.calls) == outbox.MAX_ATTEMPTS == 4
    assert _deliver(app, message_id).status == ""  # FAILED is final


def test_a_retry_that_succeeds_records_the_providers_id(app, dbs):
    provider = Recording(error=RuntimeError("timeout"))
    app.config["MESSAGE_PROVIDERS"] = {"SMS": provider}
    message_id = _write(app)
    assert _deliver(app, message_id).status == "QUEUED"
    provider.error = None
    _set(dbs, message_id, next_attempt_at=utcnow() - timedelta(seconds=1))
    assert _deliver(app, message_id).status == "SENT"
    row = _row(dbs, message_id)
    assert (row.status, row.attempts, row.provider_message_id, row.last_error) == (
        MessageStatus.SENT, 2, f"fake-{message_id}", None)


def test_outside_dev_mode_a_channel_without_provider_fails_at_once(app, dbs):
    app.config.update(DEV_MODE=False, MAIL_SERVER="")
    sms, mail = _write(app), _write(app, "EMAIL", "ada@example.test")
    assert _deliver(app, sms).status == "FAILED" and _deliver(app, mail).status == "FAILED"
    assert _row(dbs, sms).last_error == "No SMS provider is configured (set an SMS provider)."
    assert _row(dbs, mail).last_error == "No EMAIL provider is configured (set MAIL_SERVER or an SMTP provider)."
    assert _row(dbs, mail).attempts == 1


# --- the sweep --------------------------------------------------------------------------------


def test_the_sweep_finds_due_retries_rows_left_behind_and_lapsed_claims(app, dbs):
    now = utcnow()
    past, future = now - timedelta(seconds=1), now + timedelta(minutes=1)
    fresh = _write(app, body="fresh")  # written now: the hook's job is on its way
    left_behind = _write(app, body="left behind")
    _set(dbs, left_behind, next_attempt_at=past)
    retry_due = _write(app, body="retry due")
    _set(dbs, retry_due, attempts=1, next_attempt_at=past)
    retry_later = _write(app, body="retry later")
    _set(dbs, retry_later, attempts=1, next_attempt_at=future)
    lapsed = _write(app, body="lapsed")
    _set(dbs, lapsed, status="SENDING", attempts=2, next_attempt_at=past)
    lapsed_last = _write(app, body="lapsed on the last attempt")
    _set(dbs, lapsed_last, status="SENDING", attempts=outbox.MAX_ATTEMPTS, next_attempt_at=past)
    sending = _write(app, body="being sent")
    _set(dbs, sending, status="SENDING", attempts=1, next_attempt_at=future)
    done = _write(app, body="sent")
    _set(dbs, done, status="SENT", attempts=1, next_attempt_at=None)

    with app.app_context():
        due = outbox.sweep(now)
    assert sorted(due) == sorted([left_behind, retry_due, lapsed])
    assert (_row(dbs, lapsed_last).status, _row(dbs, lapsed_last).last_error) == (MessageStatus.FAILED, outbox.LOST)
    assert _row(dbs, fresh).status == MessageStatus.QUEUED

    provider = Recording()
    app.config["MESSAGE_PROVIDERS"] = {"SMS": provider}
    assert jobs.get(app).sweep_outbox.call_local() == 3  # the periodic job: sweep, then one delivery job each
    assert sorted(call[0] for call in provider.calls) == sorted(due)
    assert [_row(dbs, i).status for i in (left_behind, retry_due, lapsed)] == [MessageStatus.SENT] * 3
    assert _row(dbs, lapsed).attempts == 3


# --- two workers, one row ---------------------------------------------------------------------


@pytest.mark.real_commits
def test_two_workers_racing_on_one_row_send_it_once(app, dbs):
    provider = Recording(delay=0.05)
    app.config["MESSAGE_PROVIDERS"] = {"SMS": provider}
    rounds, workers = 10, 4
    for n in range(rounds):
        message_id = _write(app, body=f"race {n}")
        barrier = threading.Barrier(workers)
        outcomes: list[str] = []

        def work(message_id=message_id, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            outcomes.append(_deliver(app, message_id).status)

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["", "", "", "SENT"], outcomes
        assert _row(dbs, message_id).status == MessageStatus.SENT
    assert len(provider.calls) == rounds and len({c[0] for c in provider.calls}) == rounds


# --- no provider inside a request -------------------------------------------------------------


@pytest.fixture
def drained_queue(app, tmp_path):
    """The app's jobs on a real SQLite queue (not immediate) that the test drains itself."""
    saved = app.extensions[jobs.KEY]
    queue = jobs.Jobs(app, SqliteHuey("test", filename=str(tmp_path / "jobs.db"), results=False))
    app.extensions[jobs.KEY] = queue
    yield queue
    app.extensions[jobs.KEY] = saved


def _drain(queue: jobs.Jobs) -> int:
    done = 0
    while (task := queue.huey.dequeue()) is not None:
        queue.huey.execute(task)
        done += 1
    return done


class Witness(Recording):
    """A slow SMS provider (it takes `delay` seconds, as a gateway on a bad day) that looks,
    when it is called, at what another database connection sees of the scan: the visit's
    ENTRY event and its entry count, and whether the session of the request that made the
    message still has a transaction open."""

    def __init__(self, visit_id: int, delay: float):
        super().__init__(delay=delay)
        self.visit_id = visit_id
        self.seen: list[tuple[str, int, int, bool]] = []
        self.called_at: list[float] = []

    def send(self, message, estate):
        self.called_at.append(time.monotonic())
        with db.engine.connect() as other:  # a connection of its own, not the request's
            entries = other.scalar(sa.select(sa.func.count(GateEvent.id)).where(
                GateEvent.visit_id == self.visit_id, GateEvent.event_type == GateEventType.ENTRY))
            used = other.scalar(sa.select(Visit.entries_used).where(Visit.id == self.visit_id))
        self.seen.append((message.channel, entries, used, db.session().in_transaction()))
        return super().send(message, estate)


def _scan_setup(app, client, estate_pair, make, login, dbs):
    """A pass of alpha's resident (who has an email and a phone: an email and an SMS), a
    guard signed in on a bound device."""
    alpha = estate_pair.alpha
    with dbs() as s:
        s.get(User, alpha.resident.id).phone = "+2348030000111"
        s.commit()
    visit = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=[("Halima Sani", None, None)])
    login("guard@alpha.test")
    client.get("/e/alpha/gate/", headers=HEADERS)  # binds the device
    return visit


def _entry_committed(dbs, visit_id: int) -> tuple[int, int]:
    """(ENTRY events, entries used) of the visit, read by a session of its own."""
    with dbs() as s:
        return (s.scalar(sa.select(sa.func.count(GateEvent.id)).where(GateEvent.visit_id == visit_id,
                                                                     GateEvent.event_type == GateEventType.ENTRY)),
                s.get(Visit, visit_id).entries_used)


@pytest.mark.real_commits
def test_a_gate_scan_commits_and_answers_without_waiting_for_a_slow_provider(app, client, estate_pair, make,
                                                                              login, dbs, drained_queue):
    """The default delivery (the queue): the scan answers at once, its entry committed,
    while the provider, 2 s per message, has not even been called; the worker calls it later."""
    visit = _scan_setup(app, client, estate_pair, make, login, dbs)
    slow_sms = Witness(visit.id, delay=2.0)
    email = Recording()
    app.config.update(MESSAGE_DELIVERY="portal.integrations.delivery:queue",
                      MESSAGE_PROVIDERS={"EMAIL": email, "SMS": slow_sms})

    started = time.monotonic()
    response = client.post(f"/e/alpha/gate/visits/{visit.id}/entry", headers=HEADERS)
    answered = time.monotonic()
    assert response.status_code == 200 and "ENTRY RECORDED" in response.get_data(as_text=True)
    assert answered - started < slow_sms.delay, answered - started  # it never waited for the provider
    assert slow_sms.calls == [] and email.calls == []  # the request only enqueued
    assert _entry_committed(dbs, visit.id) == (1, 1)  # committed: another session reads the entry
    with dbs() as s:
        rows = s.execute(sa.select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.channel)).all()
    assert sorted(channel for _, _, channel in rows) == ["EMAIL", "SMS"]
    assert {status for _, status, _ in rows} == {MessageStatus.QUEUED}

    assert _drain(drained_queue) == 1  # the worker's side: one job for the scan's two messages
    assert slow_sms.seen == [("SMS", 1, 1, False)] and slow_sms.called_at[0] > answered
    assert sorted(c[0] for c in slow_sms.calls + email.calls) == sorted(i for i, _, _ in rows)
    assert [_row(dbs, i).status for i, _, _ in rows] == [MessageStatus.SENT] * 2


@pytest.mark.real_commits
def test_even_inline_delivery_calls_the_provider_only_after_the_scan_committed(app, client, estate_pair, make,
                                                                               login, dbs):
    """`inline` delivery (scripts) sends in the web process: still after the commit, with no
    transaction open, so the slow provider finds the entry committed when it is called and
    holds no lock of the scan (the response pays its 2 s: why `queue` is the default)."""
    visit = _scan_setup(app, client, estate_pair, make, login, dbs)
    slow_sms = Witness(visit.id, delay=2.0)
    app.config.update(MESSAGE_DELIVERY="portal.integrations.delivery:inline",
                      MESSAGE_PROVIDERS={"EMAIL": Recording(), "SMS": slow_sms})
    response = client.post(f"/e/alpha/gate/visits/{visit.id}/entry", headers=HEADERS)
    assert response.status_code == 200 and "ENTRY RECORDED" in response.get_data(as_text=True)
    assert slow_sms.seen == [("SMS", 1, 1, False)]  # the entry was committed, no transaction open
    with dbs() as s:
        assert set(s.scalars(sa.select(OutboxMessage.status))) == {MessageStatus.SENT}


# --- the periodic jobs --------------------------------------------------------------------------


def test_the_periodic_jobs_are_scheduled(app):
    queue = jobs.get(app)
    periodic = {task.__name__: task for task in queue.huey._registry._periodic_tasks}
    assert set(periodic) == {"sweep_outbox", "expire_walkins", "expire_approvals", "purge_import_previews",
                             "mark_overdue", "send_reminders", "remind_bookings"}
    at = utcnow().replace(tzinfo=None)
    every_minute = [at.replace(minute=m) for m in (0, 1, 7, 59)]
    assert all(periodic["sweep_outbox"]().validate_datetime(t) for t in every_minute)
    assert all(periodic["expire_walkins"]().validate_datetime(t) for t in every_minute)
    assert [periodic["expire_approvals"]().validate_datetime(t) for t in every_minute] == [True, False, False, False]
    assert [periodic["purge_import_previews"]().validate_datetime(at.replace(minute=m)) for m in (0, 15, 20)] == [
        True, True, False]
    assert [periodic["mark_overdue"]().validate_datetime(at.replace(minute=m)) for m in (0, 5, 6)] == [
        False, True, False]
    assert [periodic["send_reminders"]().validate_datetime(at.replace(minute=m)) for m in (0, 15, 16)] == [
        False, True, False]
    assert [periodic["remind_bookings"]().validate_datetime(at.replace(minute=m)) for m in (0, 15, 20)] == [
        True, True, False]


def test_the_periodic_jobs_expire_walk_ins_and_purge_previews_through_the_queue(app, estate_pair, dbs):
    from portal.gate import walkins

    with app.app_context():
        guard = db.session.scalar(sa.select(User).where(User.email == "guard@alpha.test"))
        estate = db.session.get(Estate, estate_pair.alpha.estate.id)
        late = walkins.create_walk_in(guard, estate, walkins.WalkInData(visitor_name="Late", unit_number="A1"),
                                      utcnow() - walkins.WALK_IN_TTL - timedelta(minutes=1)).id
        db.session.add(ImportPreview(token="old-preview", estate_id=estate.id, created_by_id=guard.id, kind="units",
                                     filename="u.csv", row_count=0, rows=[],
                                     expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    queue = jobs.get(app)
    queue.expire_walkins()  # immediate mode: enqueued and run now, in an app context of its own
    queue.purge_import_previews()
    queue.expire_approvals()
    with dbs() as s:
        assert s.get(WalkIn, late).status == WalkInStatus.EXPIRED
        assert s.get(ImportPreview, "old-preview") is None


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="set TEST_REDIS_URL (make test-pg does)")
def test_with_redis_url_the_jobs_go_through_redis(app, dbs):
    queue = jobs.Jobs(app, jobs.create_huey({"REDIS_URL": os.environ["TEST_REDIS_URL"]}))
    assert isinstance(queue.huey, RedisHuey)
    queue.huey.flush()
    app.config["MESSAGE_PROVIDERS"] = {"SMS": (provider := Recording())}
    message_id = _write(app)
    queue.deliver(message_id)
    assert _drain(queue) == 1 and provider.calls == [(message_id, "+2348030000001", None)]
    assert _row(dbs, message_id).status == MessageStatus.SENT
    queue.huey.flush()
