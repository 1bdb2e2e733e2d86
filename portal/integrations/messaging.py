"""Email and SMS delivery behind small interfaces.

Every message is kept in the outbox table. In DEV mode that is the only delivery
(the outbox page lists them); a real provider plugs in by implementing `deliver`.
"""

from __future__ import annotations

from typing import Protocol

from flask import current_app

from portal.extensions import db
from portal.models import OutboxMessage


class Provider(Protocol):
    def deliver(self, message: OutboxMessage) -> None: ...


class OutboxOnly:
    """DEV provider: the outbox row is the delivery."""

    def deliver(self, message: OutboxMessage) -> None:
        return None


_providers: dict[str, Provider] = {"EMAIL": OutboxOnly(), "SMS": OutboxOnly()}


def set_provider(channel: str, provider: Provider) -> None:
    _providers[channel] = provider


def _send(channel: str, recipient: str, subject: str, body: str) -> OutboxMessage:
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body)
    db.session.add(message)
    db.session.flush()
    _providers[channel].deliver(message)
    current_app.logger.info("%s to %s: %s", channel, recipient, subject or body[:40])
    return message


def send_email(recipient: str, subject: str, body: str) -> OutboxMessage:
    return _send("EMAIL", recipient, subject, body)


def send_sms(recipient: str, body: str) -> OutboxMessage:
    return _send("SMS", recipient, "", body)
