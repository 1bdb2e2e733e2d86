"""Email and SMS, written to the outbox table in the caller's transaction.

Nothing is delivered here: once that transaction commits, the ids of the rows it wrote
go to the delivery hook (portal.integrations.delivery, `MESSAGE_DELIVERY`), which hands
them to the worker. The caller writes subject and body in the recipient's language and
says which (`language`), of which estate (`estate`, for the email's name and colour) and
why the person gets it (`reason`, for the email's footer: a notification kind, or
"sign_in_code", "password_reset", "invitation", "join_request").
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.orm import make_transient_to_detached

from portal import bulk
from portal.extensions import db
from portal.integrations import delivery
from portal.models import Estate, OutboxMessage, utcnow


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
    return [{"channel": channel, "recipient": recipient, "subject": subject, "body": body, "created_at": now,
             **about} for channel, recipient, subject, body in messages]


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


def send_many(messages: list[tuple[str, str, str, str]], *, estate: Estate | None = None, language: str = "",
              reason: str = "") -> list[OutboxMessage]:
    """Several messages, each (channel, recipient, subject, body), written in one INSERT
    (no unit-of-work flush: for the hottest paths, a gate scan), in the caller's
    transaction as `send_email`/`send_sms` do; the ids the INSERT returns go to the
    delivery hook after the commit (no extra statement). Returns them as session objects."""
    if not messages:
        return []
    rows = _rows(messages, estate, language, reason)
    ids = db.session.execute(_INSERT, rows).scalars().all()
    sent = []
    for row, message_id in zip(rows, ids, strict=True):
        message = OutboxMessage(id=message_id, **row)
        make_transient_to_detached(message)
        db.session.add(message)
        sent.append(message)
    delivery.note(db.session, ids)
    return sent


def send_email(recipient: str, subject: str, body: str, *, estate: Estate | None = None, language: str = "",
               reason: str = "") -> OutboxMessage:
    return _send("EMAIL", recipient, subject, body, _about(estate, language, reason))


def send_sms(recipient: str, body: str, *, estate: Estate | None = None, language: str = "",
             reason: str = "") -> OutboxMessage:
    return _send("SMS", recipient, "", body, _about(estate, language, reason))
