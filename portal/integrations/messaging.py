"""Email and SMS delivery behind small interfaces.

Every message is kept in the outbox table. In DEV mode that is the only delivery
(the outbox page lists them); a real provider plugs in by implementing `deliver`.
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import make_transient_to_detached

from portal.extensions import db
from portal.models import OutboxMessage, utcnow


class Provider(Protocol):
    def deliver(self, message: OutboxMessage) -> None: ...


class OutboxOnly:
    """DEV provider: the outbox row is the delivery."""

    def deliver(self, message: OutboxMessage) -> None:
        return None


_providers: dict[str, Provider] = {"EMAIL": OutboxOnly(), "SMS": OutboxOnly()}


def set_provider(channel: str, provider: Provider) -> None:
    _providers[channel] = provider


def _deliver(message: OutboxMessage) -> None:
    _providers[message.channel].deliver(message)
    current_app.logger.info("%s to %s: %s", message.channel, message.recipient,
                            message.subject or message.body[:40])


def _send(channel: str, recipient: str, subject: str, body: str) -> OutboxMessage:
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body)
    db.session.add(message)
    db.session.flush()
    _deliver(message)
    return message


_INSERT = sa.insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id, sort_by_parameter_order=True)


def send_many(messages: list[tuple[str, str, str, str]]) -> list[OutboxMessage]:
    """Several messages, each (channel, recipient, subject, body), written in one INSERT
    (no unit-of-work flush: for the hottest paths, a gate scan) and delivered, in the
    caller's transaction as `send_email`/`send_sms` do. Returns them as session objects."""
    if not messages:
        return []
    now = utcnow()
    rows = [{"channel": channel, "recipient": recipient, "subject": subject, "body": body, "created_at": now}
            for channel, recipient, subject, body in messages]
    ids = db.session.execute(_INSERT, rows).scalars().all()
    sent = []
    for row, message_id in zip(rows, ids, strict=True):
        message = OutboxMessage(id=message_id, **row)
        make_transient_to_detached(message)
        db.session.add(message)
        _deliver(message)
        sent.append(message)
    return sent


def send_email(recipient: str, subject: str, body: str) -> OutboxMessage:
    return _send("EMAIL", recipient, subject, body)


def send_sms(recipient: str, body: str) -> OutboxMessage:
    return _send("SMS", recipient, "", body)
