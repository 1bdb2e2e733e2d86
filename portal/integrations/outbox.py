"""The worker's side of the outbox: claim a committed message, hand it to its channel's
provider, record the answer.

A message row goes QUEUED → SENDING → SENT (with the provider's message id), or back to
QUEUED with `attempts` + 1 and `next_attempt_at` after a backoff (1, 5, then 30
minutes), and after the fourth failed attempt (or an error the provider says is
permanent, e.g. nothing configured for the channel) to FAILED with the provider's error.
A sign-in code is no use half an hour later: messages of a SHORT_REASONS reason retry
after 10 and 30 seconds, then are FAILED (third attempt); a retry due sooner than the
sweep's next pass also gets a delayed job of its own (`_schedule_retry`).

- `deliver(message_id)` is the job the delivery hook enqueues for every committed row
  (portal.jobs). It claims the row with one conditional UPDATE — QUEUED and never tried
  or due for a retry, or SENDING whose claim has lapsed — so two workers handed the same
  id never both send it: the second finds nothing to claim. The claim holds for
  CLAIM_FOR; a worker that dies while sending leaves a row the sweep finds after that.
  No transaction is open while the provider is called.
- `sweep(now)` (a periodic job, every minute) returns the ids due: retries whose time
  has come, rows nobody picked up (written more than a minute ago: the hook or the
  queue lost them) and lapsed claims; a lapsed claim after the last attempt becomes
  FAILED.

Providers: `provider_for(channel, estate_id)`. Email goes by SMTP when the estate, the
platform (stored provider settings) or MAIL_SERVER names a server
(portal.integrations.email, portal.integrations.settings); SMS through the estate's SMS
providers in order, with failover (portal.integrations.sms.FailoverSms). A channel with
nothing configured: in DEV mode the
outbox row is the delivery (`OutboxOnly`, which marks it SENT); outside DEV mode a
channel with no provider fails at once. `MESSAGE_PROVIDERS` ({channel: provider})
overrides the choice (tests). A test message from the integration status page
(`provider_setting_id`) is sent with that one provider pinned (`settings.pinned`). Web push goes to the browsers' push services whenever push is on
(portal.integrations.push), DEV mode or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.integrations import settings
from portal.models import Estate, MessageStatus, OutboxMessage, utcnow

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
MAX_ATTEMPTS = len(BACKOFF) + 1
# Messages that are worthless if late (a sign-in code works for 5 minutes): a short schedule.
SHORT_REASONS = frozenset({"sign_in_code"})
SHORT_BACKOFF = (timedelta(seconds=10), timedelta(seconds=30))
SHORT_MAX_ATTEMPTS = len(SHORT_BACKOFF) + 1
SWEEP_EVERY = timedelta(minutes=1)  # portal.jobs' sweep_outbox
CLAIM_FOR = timedelta(minutes=10)
SWEEP_BATCH = 500
LOST = "The worker stopped while sending (no answer within 10 minutes)."
GONE = "The provider this test message was for has been deleted."

QUEUED, SENDING, SENT, FAILED = (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT,
                                 MessageStatus.FAILED)


# --- providers -----------------------------------------------------------------------


class ProviderError(Exception):
    """A provider refused or failed. `permanent`: retrying cannot help (FAILED at once)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Provider(Protocol):
    name: str

    def send(self, message: OutboxMessage, estate: Estate | None) -> str:
        """Send the message; return the provider's id for it, or raise (ProviderError)."""


class OutboxOnly:
    """DEV provider: the outbox row (listed on the DEV outbox page) is the delivery."""

    name = "DEV"

    def send(self, message: OutboxMessage, estate: Estate | None) -> str:
        return f"outbox-{message.id}"


class NotConfigured:
    """Outside DEV mode, a channel with no provider: fails at once, saying what to set."""

    name = "NONE"

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, message: OutboxMessage, estate: Estate | None) -> str:
        what = {"EMAIL": "MAIL_SERVER or an SMTP provider",
                "PUSH": "VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT"}.get(self.channel, "an SMS provider")
        raise ProviderError(f"No {self.channel} provider is configured (set {what}).", permanent=True)


def backoff_for(reason: str) -> tuple[timedelta, ...]:
    """The waits between attempts of a message sent for `reason`."""
    return SHORT_BACKOFF if reason in SHORT_REASONS else BACKOFF


def provider_for(channel: str, estate_id: int | None = None) -> Provider:
    config = current_app.config
    chosen = (config.get("MESSAGE_PROVIDERS") or {}).get(channel)
    if chosen is not None:
        return chosen
    if channel == "EMAIL":
        found = settings.providers("EMAIL", estate_id)  # stored (estate, platform) or MAIL_SERVER
        if found:
            from portal.integrations.email import SmtpProvider

            return SmtpProvider(found)
        if settings.pinned_id() is not None:  # a test message for a provider that is gone
            return NotConfigured(channel)
    if channel == "SMS":  # the estate's providers in order; DEV or NotConfigured when it has none
        from portal.integrations.sms import FailoverSms

        return FailoverSms()
    if channel == "PUSH":  # real pushes in DEV mode too: the browsers' subscriptions are real
        from portal.integrations import push

        return push.WebPushProvider() if push.enabled(config) else NotConfigured(channel)
    if config.get("DEV_MODE"):
        return OutboxOnly()
    return NotConfigured(channel)


# --- claim, send, record -------------------------------------------------------------

_TABLE = OutboxMessage.__table__
_C = _TABLE.c
_MAX_ATTEMPTS = sa.case((_C.reason.in_(sorted(SHORT_REASONS)), SHORT_MAX_ATTEMPTS), else_=MAX_ATTEMPTS)

_CLAIM = (
    sa.update(_TABLE)
    .where(_C.id == sa.bindparam("message_id"),
           sa.or_(sa.and_(_C.status == QUEUED.value,
                          sa.or_(_C.attempts == 0, _C.next_attempt_at <= sa.bindparam("now"))),
                  sa.and_(_C.status == SENDING.value, _C.next_attempt_at <= sa.bindparam("now"),
                          _C.attempts < _MAX_ATTEMPTS)))
    .values(status=SENDING.value, attempts=_C.attempts + 1, next_attempt_at=sa.bindparam("claimed_until"))
    .returning(_C.attempts)
)


@dataclass(frozen=True)
class Outcome:
    status: str  # SENT, QUEUED (a retry is due at next_attempt_at), FAILED, or "" (not claimed)
    attempts: int = 0
    next_attempt_at: datetime | None = None


def _session() -> Session:
    return Session(db.engine, expire_on_commit=False)


def deliver(message_id: int) -> Outcome:
    """Claim one message, send it, record the answer (see the module's docstring)."""
    now = utcnow()
    with _session() as session:
        attempts = session.execute(_CLAIM, {"message_id": message_id, "now": now,
                                            "claimed_until": now + CLAIM_FOR}).scalar()
        if attempts is None:
            session.rollback()
            return Outcome("")
        message = session.get(OutboxMessage, message_id)
        estate = session.get(Estate, message.estate_id) if message.estate_id else None
        session.commit()  # the claim is visible to every other worker before the provider is called
    provider: Provider | None = None
    if message.reason == settings.TEST_REASON and message.provider_setting_id is None:
        return _failed(message_id, attempts, "", ProviderError(GONE, permanent=True))
    try:
        with settings.pinned(message.provider_setting_id):  # a test message: that provider only
            provider = provider_for(message.channel, message.estate_id)
            provider_id = provider.send(message, estate)
    except Exception as exc:  # any failure of a provider is recorded on the row
        return _failed(message_id, attempts, getattr(provider, "name", ""), exc, message.reason)
    with _session() as session:
        session.execute(
            sa.update(_TABLE).where(_C.id == message_id, _C.status == SENDING.value)
            .values(status=SENT.value, provider=provider.name[:40], provider_message_id=str(provider_id)[:255],
                    sent_at=utcnow(), next_attempt_at=None, last_error=None))
        session.commit()
    current_app.logger.info("%s %s sent by %s (%s)", message.channel, message_id, provider.name, provider_id)
    return Outcome(SENT.value, attempts)


def _failed(message_id: int, attempts: int, provider_name: str, exc: Exception, reason: str = "") -> Outcome:
    error = (str(exc) or type(exc).__name__)[:2000]
    backoff = backoff_for(reason)
    if getattr(exc, "permanent", False) or attempts > len(backoff):
        status, retry_at = FAILED, None
    else:
        status, retry_at = QUEUED, utcnow() + backoff[attempts - 1]
    current_app.logger.warning("Message %s, attempt %s by %s failed (%s): %s", message_id, attempts,
                               provider_name or "?", status.value, error)
    with _session() as session:
        session.execute(
            sa.update(_TABLE).where(_C.id == message_id, _C.status == SENDING.value, _C.attempts == attempts)
            .values(status=status.value, next_attempt_at=retry_at, provider=provider_name[:40], last_error=error))
        session.commit()
    if retry_at is not None and backoff[attempts - 1] < SWEEP_EVERY:
        _schedule_retry(message_id, backoff[attempts - 1])
    return Outcome(status.value, attempts, retry_at)


def _schedule_retry(message_id: int, wait: timedelta) -> None:
    """A delivery job for when the retry is due (the sweep would find it only at its next
    pass, up to a minute later). The claim keeps a second job from sending it again."""
    jobs = current_app.extensions.get("portal.jobs")
    if jobs is None:
        return
    try:
        jobs.deliver.schedule((message_id,), delay=wait.total_seconds())
    except Exception:  # the queue is unreachable: the sweep sends it at its next pass
        current_app.logger.exception("Could not schedule the retry of message %s", message_id)


def sweep(now: datetime) -> list[int]:
    """The ids of the messages due for a try (retries, rows left behind, lapsed claims),
    oldest first; a lapsed claim on the last attempt becomes FAILED."""
    with _session() as session:
        session.execute(
            sa.update(_TABLE).where(_C.status == SENDING.value, _C.next_attempt_at <= now,
                                    _C.attempts >= _MAX_ATTEMPTS)
            .values(status=FAILED.value, next_attempt_at=None, last_error=LOST))
        due = list(session.scalars(
            sa.select(_C.id).where(_C.status.in_((QUEUED.value, SENDING.value)), _C.next_attempt_at <= now)
            .order_by(_C.next_attempt_at).limit(SWEEP_BATCH)))
        session.commit()
    return due
