"""Delivery of outbox messages, after the transaction that wrote them has committed.

A message is an OutboxMessage row written in the caller's transaction
(portal.integrations.messaging), together with the change it tells of. No provider is
ever called inside that transaction: the session collects the ids of the rows it
writes (`note`, and an `after_flush` listener for rows added through the ORM); once
the transaction has committed (and its connection is back in the pool) the ids are
handed to the configured dispatcher, `MESSAGE_DELIVERY`. A rollback, or a session
closed without committing, drops them: nothing is dispatched.

A dispatcher is a callable taking the list of committed message ids; config names it
as `"module:attribute"` (or holds the callable itself). It runs in the app context but
outside any transaction of the session that committed: to read the rows it opens its
own session (`load`). An exception it raises is logged, never raised to the caller,
whose change is already committed; the rows stay QUEUED and the worker's sweep
sends them a minute later.

- `queue` (the default): enqueues one job per message (portal.jobs; `flask --app wsgi
  worker` runs them): the worker claims the row, calls the channel's provider and
  records SENT, a retry or FAILED (portal.integrations.outbox). Enqueuing costs no SQL.
- `inline`: the same delivery, synchronously after the commit (scripts, tests).
- `dev`: only logs; the rows wait for the worker's sweep (portal.integrations.outbox),
  if a worker runs (the DEV outbox page lists them either way).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.utils import import_string

from portal.extensions import db
from portal.integrations import outbox
from portal.models import OutboxMessage

DEFAULT = "portal.integrations.delivery:queue"
_PENDING = "outbox.pending_ids"  # written in the open transaction
_COMMITTED = "outbox.committed_ids"  # committed, waiting for the connection's release

Dispatcher = Callable[[list[int]], None]


# --- dispatchers ---------------------------------------------------------------------


def load(message_ids: Iterable[int]) -> list[OutboxMessage]:
    """The committed rows, read in a session of their own (closed before returning, so a
    provider called with them holds no transaction open), in id order."""
    ids = sorted(set(message_ids))
    if not ids:
        return []
    with Session(db.engine) as session:
        return list(session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                    .order_by(OutboxMessage.id)))


def dev(message_ids: list[int]) -> None:
    """Only log the ids (no SQL); the worker's sweep finds the rows later, if one runs."""
    current_app.logger.info("Outbox messages committed: %s", ", ".join(map(str, message_ids)))


def inline(message_ids: list[int]) -> None:
    """Deliver each committed message now, in this process."""
    for message_id in sorted(set(message_ids)):
        outbox.deliver(message_id)


QUEUE_CHUNK = 8  # messages per delivery job: a burst spreads over the worker's threads


def queue(message_ids: list[int]) -> None:
    """Delivery jobs for the worker (portal.jobs), one per committed transaction or per few
    messages of a coalesced batch (in order); each message is still claimed, sent and
    retried on its own."""
    jobs = current_app.extensions["portal.jobs"]
    if len(message_ids) == 1:
        jobs.deliver(message_ids[0])
        return
    for start in range(0, len(message_ids), QUEUE_CHUNK):
        jobs.deliver_all(list(message_ids[start:start + QUEUE_CHUNK]))


def dispatcher() -> Dispatcher:
    """The configured dispatcher (`MESSAGE_DELIVERY`)."""
    configured = current_app.config.get("MESSAGE_DELIVERY") or DEFAULT
    return configured if callable(configured) else import_string(configured)


# --- collecting the ids of a transaction -----------------------------------------------


def note(session: Session, message_ids: Iterable[int]) -> None:
    """Record messages written in `session`'s open transaction (for rows inserted without
    the unit of work, e.g. `messaging.send_many`'s bulk INSERT … RETURNING)."""
    session.info.setdefault(_PENDING, []).extend(message_ids)


def _after_flush(session: Session, _context) -> None:
    new = [obj.id for obj in session.new if isinstance(obj, OutboxMessage)]
    if new:
        note(session, new)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if ids:
        session.info.setdefault(_COMMITTED, []).extend(ids)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint or subtransaction: the outer one decides
        return
    session.info.pop(_PENDING, None)  # rolled back, or closed without a commit: never sent
    ids = session.info.pop(_COMMITTED, None)
    if ids:
        dispatch(ids)


def dispatch(message_ids: list[int]) -> None:
    """Hand committed messages to the dispatcher (also for writers outside the session, e.g.
    the lean gate path, which commits its own connection): at once, or gathered with other
    requests' for `MESSAGE_DELIVERY_COALESCE_MS` by this process's `Coalescer` (web requests
    only). Never
    raises: the rows wait in the outbox for the worker's sweep."""
    window = current_app.config.get("MESSAGE_DELIVERY_COALESCE_MS") or 0
    if window > 0 and has_request_context():  # (a job or a command hands over at once: it may exit next)
        Coalescer.of(current_app._get_current_object(), window / 1000).add(message_ids)
        return
    _hand_over(list(dict.fromkeys(message_ids)))


def _hand_over(message_ids: list[int]) -> None:
    try:
        dispatcher()(message_ids)
    except Exception:  # the change is committed; the rows wait in the outbox
        current_app.logger.exception("Delivery of outbox messages %s failed", message_ids)


class Coalescer:
    """One per process and app: committed message ids gathered for a few milliseconds and
    handed to the dispatcher together, from a thread of its own, so that a busy gate's
    scans share one enqueue (a Redis round trip each cost a scan about a tenth of its
    time) and none of them waits for it. Losing the ids (the process dies inside the
    window) loses no message: the rows are committed and QUEUED, and the worker's sweep
    sends them a minute later."""

    _lock = threading.Lock()
    _running: dict[tuple[int, int], Coalescer] = {}

    def __init__(self, app: Flask, window: float):
        self.app, self.window = app, window
        self._ids: list[int] = []
        self._ready = threading.Condition(threading.Lock())
        threading.Thread(target=self._run, name="outbox-coalescer", daemon=True).start()

    @classmethod
    def of(cls, app: Flask, window: float) -> Coalescer:
        key = (os.getpid(), id(app))  # a forked worker starts its own thread
        found = cls._running.get(key)
        if found is None:
            with cls._lock:
                found = cls._running.get(key) or cls._running.setdefault(key, cls(app, window))
        return found

    def add(self, message_ids: Iterable[int]) -> None:
        with self._ready:
            self._ids.extend(message_ids)
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._ids:
                    self._ready.wait()
            time.sleep(self.window)  # let the other requests of this moment add theirs
            with self._ready:
                ids, self._ids = self._ids, []
            with self.app.app_context():
                _hand_over(list(dict.fromkeys(ids)))


def init_app(app: Flask) -> None:
    """Listen on the sessions of `db` (once per process: the listeners are global)."""
    app.config.setdefault("MESSAGE_DELIVERY", DEFAULT)
    app.config.setdefault("MESSAGE_DELIVERY_COALESCE_MS", 0)
    for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit),
                           ("after_transaction_end", _after_transaction_end)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
