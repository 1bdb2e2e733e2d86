"""Outbox messages reach the delivery hook only after their transaction commits, from a
session of its own; a rollback dispatches nothing; the gate scan pays no extra statement."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.gate import walkins
from portal.integrations import delivery, messaging
from portal.models import Estate, OutboxMessage, Role, User

# Delivery happens after a real commit: these tests commit for real (tables emptied after).
pytestmark = pytest.mark.real_commits

DEVICE = "tablet-delivery-0123456789"
HEADERS = {"X-Gate-Device": DEVICE}

dispatched: list[list[int]] = []


def recorder(message_ids: list[int]) -> None:
    """A dispatcher named by config ("tests.test_delivery:recorder")."""
    dispatched.append(list(message_ids))


@pytest.fixture
def calls(app):
    """Every dispatch as (ids, rows found by a session of the dispatcher's own, whether the
    committing session was still in a transaction)."""
    seen = []

    def dispatcher(message_ids):
        rows = delivery.load(message_ids)
        seen.append((list(message_ids), [(m.channel, m.recipient, m.body) for m in rows],
                     db.session().in_transaction()))

    app.config["MESSAGE_DELIVERY"] = dispatcher
    return seen


def _outbox_ids(dbs) -> list[int]:
    with dbs() as s:
        return list(s.scalars(sa.select(OutboxMessage.id).order_by(OutboxMessage.id)))


def test_the_dispatcher_gets_the_committed_rows_after_the_commit(app, calls, dbs):
    with app.app_context():
        messaging.send_email("ada@example.test", "Hello", "First")
        messaging.send_sms("+2348030000001", "Second")
        assert calls == []  # nothing before the commit
        db.session.commit()
    ids = _outbox_ids(dbs)
    assert calls == [(ids, [("EMAIL", "ada@example.test", "First"), ("SMS", "+2348030000001", "Second")], False)]


def test_a_rolled_back_transaction_dispatches_nothing(app, calls, dbs):
    with app.app_context():
        messaging.send_email("ada@example.test", "Hello", "Never sent")
        messaging.send_many([("SMS", "+2348030000001", "", "Never sent either")])
        db.session.rollback()
        messaging.send_sms("+2348030000002", "Sent")
        db.session.commit()
    assert [found for _, found, _ in calls] == [[("SMS", "+2348030000002", "Sent")]]
    assert calls[0][0] == _outbox_ids(dbs)


def test_a_session_closed_without_commit_dispatches_nothing(app, calls, dbs):
    with app.app_context():
        messaging.send_email("ada@example.test", "Hello", "Never sent")
    with app.app_context():
        db.session.commit()
    assert calls == [] and _outbox_ids(dbs) == []


def test_bulk_messages_reach_the_hook_too(app, calls):
    with app.app_context():
        sent = messaging.send_many([("EMAIL", "a@example.test", "S", "One"), ("SMS", "+2348030000001", "", "Two")])
        ids = [m.id for m in sent]
        db.session.commit()
    assert calls == [(ids, [("EMAIL", "a@example.test", "One"), ("SMS", "+2348030000001", "Two")],
                      False)]


def test_the_dispatcher_is_named_by_config(app):
    app.config["MESSAGE_DELIVERY"] = "tests.test_delivery:recorder"
    dispatched.clear()
    with app.app_context():
        message_id = messaging.send_sms("+2348030000001", "Hi").id
        db.session.commit()
        assert dispatched == [[message_id]]


def test_a_failing_dispatcher_never_undoes_the_change(app, client, make, dbs, caplog):
    def broken(_ids):
        raise RuntimeError("provider down")

    app.config["MESSAGE_DELIVERY"] = broken
    estate = make.estate("alpha")
    make.user("ada@example.test", estate=estate, role=Role.RESIDENT, phone="+2348031234567")
    response = client.post("/login/code", data={"phone": "+2348031234567"})
    assert response.status_code == 302
    assert len(_outbox_ids(dbs)) == 1
    assert "Delivery of outbox messages" in caplog.text


def test_the_default_dispatcher_runs_no_sql(app, count_queries):
    with app.app_context():
        messaging.send_sms("+2348030000001", "Hi")
        with count_queries() as counter:
            db.session.commit()
    assert counter.count == 0  # the COMMIT is no cursor statement; `dev` only logs


def test_a_sign_in_code_is_dispatched(client, calls, make, dbs):
    estate = make.estate("alpha")
    make.user("ada@example.test", estate=estate, role=Role.RESIDENT, phone="+2348031234567")
    client.post("/login/code", data={"phone": "0803 123 4567"})
    assert [(ids, [(c, r) for c, r, _ in found]) for ids, found, _ in calls] == [
        (_outbox_ids(dbs), [("SMS", "+2348031234567")])]


def test_a_walk_in_request_is_dispatched_to_the_units_residents(app, calls, estate_pair, dbs):
    with app.app_context():
        guard = db.session.scalar(sa.select(User).where(User.email == "guard@alpha.test"))
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
        walkins.create_walk_in(guard, estate, walkins.WalkInData(visitor_name="Bola", unit_number="A1"),
                               datetime.now(UTC))
    assert len(calls) == 1
    ids, found, in_transaction = calls[0]
    assert ids == _outbox_ids(dbs) and [r for _, r, _ in found] == ["resident@alpha.test"] and not in_transaction


def test_the_visitor_arrived_notice_is_dispatched_without_an_extra_statement(app, client, estate_pair, make,
                                                                             login, dbs, record_sql):
    alpha = estate_pair.alpha
    quiet = make.user("quiet@alpha.test", estate=alpha.estate, role=Role.RESIDENT,
                      notification_prefs={"visitor_arrived": {"email": False, "sms": False, "push": False}})
    make.resident(alpha.estate, alpha.unit, "Quiet Host", user=quiet)
    with dbs() as s:
        s.get(User, alpha.resident.id).phone = "+2348030000111"
        s.commit()
    silent = make.visit(alpha.estate, alpha.unit, quiet, guests=[("Musa Bello", None, None)])
    told = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=[("Halima Sani", None, None)])
    login("guard@alpha.test")
    client.get("/e/alpha/gate/", headers=HEADERS)  # binds the device
    app.config["MESSAGE_DELIVERY"] = lambda ids: None
    with record_sql() as without_messages:
        assert client.post(f"/e/alpha/gate/visits/{silent.id}/entry", headers=HEADERS).status_code == 200
    assert _outbox_ids(dbs) == []
    seen = []
    app.config["MESSAGE_DELIVERY"] = seen.append
    with record_sql() as with_messages:
        assert client.post(f"/e/alpha/gate/visits/{told.id}/entry", headers=HEADERS).status_code == 200
    ids = _outbox_ids(dbs)
    assert len(ids) == 2 and seen == [ids]
    if db_dialect(app) == "postgresql":
        # The messages cost no statement at all: they ride on the entry's own WITH (the
        # take, its records, and an INSERT … SELECT that also writes a push to each of the
        # host's devices: they have none here), whether or not the host wants any.
        assert len(with_messages) == len(without_messages)
        taken = [st for st in with_messages if st.startswith("WITH taken AS")]
        assert len(taken) == 1 and "INSERT INTO outbox_message" in taken[0] and "push_subscription" in taken[0]
        return
    # The messages cost their INSERT … RETURNING and nothing else: one INSERT … SELECT that
    # also writes a push to each of the host's devices (they have none here).
    inserts = [st for st in with_messages if st.startswith("INSERT INTO outbox_message")]
    assert len(inserts) == 1 and "FROM push_subscription" in inserts[0]
    assert [st for st in with_messages if st not in inserts] == without_messages


def db_dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def test_a_busy_moment_s_commits_share_one_hand_over_and_none_is_lost(app, dbs):
    """With MESSAGE_DELIVERY_COALESCE_MS (production: 50 ms) the ids of web requests'
    commits made within the window reach the dispatcher together, from the process's own
    thread, after every commit; a dispatcher that fails once does not stop the ones after
    it. Outside a request (a job, a command) the hand-over is immediate."""
    import threading
    import time

    batches: list[list[int]] = []
    arrived = threading.Event()
    failures = [RuntimeError("queue down")]

    def dispatcher(message_ids):
        if failures:
            raise failures.pop()
        batches.append(list(message_ids))
        arrived.set()

    app.config.update(MESSAGE_DELIVERY=dispatcher, MESSAGE_DELIVERY_COALESCE_MS=200)

    def commit_one(k: int) -> None:
        with app.test_request_context("/"):
            messaging.send_sms(f"+23480300000{k:02d}", f"Message {k}")
            db.session.commit()

    commit_one(0)  # the first hand-over fails: logged, the thread goes on
    time.sleep(0.4)
    threads = [threading.Thread(target=commit_one, args=(k,)) for k in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert arrived.wait(5)
    deadline = time.monotonic() + 5
    while sum(len(b) for b in batches) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    ids = _outbox_ids(dbs)
    assert sorted(i for b in batches for i in b) == ids[1:]  # each committed message once
    assert len(batches) < 6  # shared hand-overs, not one per commit
    batches.clear()
    with app.app_context():  # a job: at once, before the commit returns
        message_id = messaging.send_sms("+2348030000099", "From a job").id
        db.session.commit()
        assert batches == [[message_id]]


def test_the_queue_dispatcher_spreads_a_batch_over_several_jobs(app, monkeypatch):
    jobs = app.extensions["portal.jobs"]
    enqueued = []
    monkeypatch.setattr(jobs, "deliver", lambda message_id: enqueued.append([message_id]))
    monkeypatch.setattr(jobs, "deliver_all", lambda ids: enqueued.append(list(ids)))
    with app.app_context():
        delivery.queue([7])
        delivery.queue(list(range(1, 11)))
    assert enqueued == [[7], [1, 2, 3, 4, 5, 6, 7, 8], [9, 10]]
