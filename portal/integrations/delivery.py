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

from collections.abc import Callable, Iterable

import sqlalchemy as sa
from flask import Flask, current_app
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


def queue(message_ids: list[int]) -> None:
    """One delivery job per committed transaction (its messages in order), for the worker
    (portal.jobs): each message is still claimed, sent and retried on its own."""
    jobs = current_app.extensions["portal.jobs"]
    if len(message_ids) == 1:
        jobs.deliver(message_ids[0])
    else:
        jobs.deliver_all(list(message_ids))


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
    """Hand committed messages to the dispatcher (for writers outside the session, e.g. the
    lean gate path, which commits its own connection). Never raises: the rows wait in the
    outbox for the worker's sweep."""
    try:
        dispatcher()(list(dict.fromkeys(message_ids)))
    except Exception:  # the change is committed; the rows wait in the outbox
        current_app.logger.exception("Delivery of outbox messages %s failed", message_ids)


def init_app(app: Flask) -> None:
    """Listen on the sessions of `db` (once per process: the listeners are global)."""
    app.config.setdefault("MESSAGE_DELIVERY", DEFAULT)
    for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit),
                           ("after_transaction_end", _after_transaction_end)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
