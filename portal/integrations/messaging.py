"""Email, SMS and web push, written to the outbox table in the caller's transaction.

Nothing is delivered here: once that transaction commits, the ids of the rows it wrote
go to the delivery hook (portal.integrations.delivery, `MESSAGE_DELIVERY`), which hands
them to the worker. The caller writes subject and body in the recipient's language and
says which (`language`), of which estate (`estate`, for the email's name and colour) and
why the person gets it (`reason`, for the email's footer: a notification kind, or
"sign_in_code", "password_reset", "invitation", "join_request").

Web push (`send_push`, or `send_many(..., push=…)`) writes one PUSH row per browser the
user turned notifications on in, straight from the push_subscription table in the same
INSERT (`INSERT … SELECT … FROM push_subscription`), so a user with no subscription costs
no extra statement and the rows are claimed and sent once each like any other message
(portal.integrations.push).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from sqlalchemy.orm import make_transient_to_detached

from portal import bulk
from portal.extensions import db
from portal.integrations import delivery
from portal.integrations import push as web_push
from portal.integrations.push import PushNotice
from portal.models import Estate, OutboxMessage, PushSubscription, utcnow
from portal.models.auth import SWEEP_AFTER


def language_for(user_language: str | None, estate: Estate) -> str:
    """The language to write to a person in: theirs if the portal speaks it, else the
    estate's, else the portal's first."""
    languages = current_app.config.get("LANGUAGES", ["en"])
    for candidate in (user_language, estate.default_language):
        if candidate in languages:
            return candidate
    return languages[0]


def _about(estate: Estate | None, language: str, reason: str) -> dict:
    return {"estate_id": estate.id if estate is not None else None,
            "language": language or str(get_locale() or ""), "reason": reason}


def _send(channel: str, recipient: str, subject: str, body: str, about: dict) -> OutboxMessage:
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body, **about)
    db.session.add(message)
    db.session.flush()  # the id, for the delivery hook (collected after the flush)
    return message


_INSERT = sa.insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id, sort_by_parameter_order=True)


def _rows(messages: list[tuple[str, str, str, str]], estate: Estate | None, language: str, reason: str) -> list[dict]:
    now = utcnow()
    about = _about(estate, language, reason)
    deadline = now + SWEEP_AFTER  # as the model's default: the sweep's safety net finds them if the job is lost
    return [{"channel": channel, "recipient": recipient, "subject": subject, "body": body, "created_at": now,
             "next_attempt_at": deadline, **about} for channel, recipient, subject, body in messages]


def send_bulk(messages: list[tuple[str, str, str, str]], *, estate: Estate | None = None, language: str = "",
              reason: str = "") -> int:
    """`send_many` for thousands of messages (the invoice notices of a generation run): one
    COPY on PostgreSQL however many (portal.bulk), no session object per row; the ids go to
    the delivery hook after the commit. How many."""
    if not messages:
        return 0
    rows = _rows(messages, estate, language, reason)
    columns = list(rows[0])
    ids = bulk.insert(OutboxMessage.__table__, columns, [tuple(row[c] for c in columns) for row in rows], ids=True)
    delivery.note(db.session, ids)
    return len(ids)


def send_many(messages: list[tuple[str, str, str, str]], *, push: PushNotice | None = None,
              estate: Estate | None = None, language: str = "", reason: str = "") -> list[OutboxMessage]:
    """Several messages, each (channel, recipient, subject, body), and a push to every
    device of `push.user_id`, written in one INSERT (no unit-of-work flush: for the
    hottest paths, a gate scan), in the caller's transaction as `send_email`/`send_sms`
    do; the ids the INSERT returns go to the delivery hook after the commit (no extra
    statement). Returns them as session objects, in id order."""
    if push is not None and not web_push.enabled(current_app.config):
        push = None
    if not messages and push is None:
        return []
    now = utcnow()
    about = _about(estate, language, reason)
    rows = [{"channel": channel, "recipient": recipient, "subject": subject, "body": body, "created_at": now,
             **about} for channel, recipient, subject, body in messages]
    if push is None:
        ids = db.session.execute(_INSERT, rows).scalars().all()
    else:
        rows, ids = _insert_with_push(rows, push, about, now)
    sent = []
    for row, message_id in zip(rows, ids, strict=True):
        message = OutboxMessage(id=message_id, **row)
        make_transient_to_detached(message)
        db.session.add(message)
        sent.append(message)
    delivery.note(db.session, ids)
    return sent


def send_push(notice: PushNotice, *, estate: Estate | None = None, language: str = "",
              reason: str = "") -> list[OutboxMessage]:
    """A push to every device of `notice.user_id` (none: nothing written), one PUSH row per
    device, in one INSERT … SELECT in the caller's transaction."""
    return send_many([], push=notice, estate=estate, language=language, reason=reason)


_COLUMNS = ("channel", "recipient", "subject", "body", "estate_id", "language", "reason", "created_at",
            "next_attempt_at")
_TABLE = OutboxMessage.__table__


def _insert_with_push(rows: list[dict], push: PushNotice, about: dict, now) -> tuple[list[dict], list[int]]:
    """INSERT INTO outbox_message … SELECT <each message> UNION ALL SELECT <the push> FROM
    push_subscription WHERE user_id = …, RETURNING what was written."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    types = {name: _TABLE.c[name].type for name in _COLUMNS}

    def value(name: str, given):
        # PostgreSQL cannot tell the type of a bare parameter in a UNION; SQLite has no use
        # for a CAST (and would turn a datetime into a number).
        literal = sa.literal(given, types[name])
        return sa.cast(literal, types[name]) if postgres else literal

    deadline = now + SWEEP_AFTER
    body = web_push.payload(push, about["language"])
    selects = [sa.select(*(value(name, {**row, "next_attempt_at": deadline}[name]) for name in _COLUMNS))
               for row in rows]
    fixed = {"channel": "PUSH", "subject": push.title[:200], "body": body, "created_at": now,
             "next_attempt_at": deadline, **about}
    selects.append(sa.select(*(sa.cast(PushSubscription.id, types[name]) if name == "recipient"
                               else value(name, fixed[name]) for name in _COLUMNS))
                   .where(PushSubscription.user_id == push.user_id))
    source = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    statement = (sa.insert(_TABLE).from_select(list(_COLUMNS), source, include_defaults=False)  # server defaults
                 .returning(_TABLE.c.id, _TABLE.c.channel, _TABLE.c.recipient, _TABLE.c.subject, _TABLE.c.body))
    written = sorted(db.session.execute(statement).all())
    keep = {"created_at": now, **about}
    return ([{"channel": r.channel, "recipient": r.recipient, "subject": r.subject, "body": r.body, **keep}
             for r in written], [r.id for r in written])


def send_email(recipient: str, subject: str, body: str, *, estate: Estate | None = None, language: str = "",
               reason: str = "") -> OutboxMessage:
    return _send("EMAIL", recipient, subject, body, _about(estate, language, reason))


def send_sms(recipient: str, body: str, *, estate: Estate | None = None, language: str = "",
             reason: str = "") -> OutboxMessage:
    return _send("SMS", recipient, "", body, _about(estate, language, reason))
