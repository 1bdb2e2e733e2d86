"""The delivery log: every email and SMS of an estate (estate admins) or of the whole
platform (enterprise admins: every estate's, and the messages that belong to none), with
filters and pages; one message's detail; resending a message that failed.

Secrets stay secret. A sign-in code, a password-reset link and an invitation link let
whoever reads them into someone's account: the log lists those messages (who, when, how
the delivery went) but never their text — it is not even loaded (deferred with `raiseload`), so a
template cannot show it by mistake.

Resending a FAILED message puts the same row back in the queue (status QUEUED, attempts
0, due now, the provider's last error cleared) with one conditional UPDATE … WHERE status
= 'FAILED', audited with the failure it replaces (status, attempts, provider, error), and
hands the id to the delivery hook after the commit (portal.integrations.delivery), as for
any new message. Why the row and not a copy of it: the row is the message (one row per
message in the log, its attempts and outcome on it; its history in the audit trail), and
the conditional UPDATE makes a double click, or two admins at once, resend it once — the
second finds nothing FAILED — where a copy would need a guard of its own. The worker
claims the row as it claims every message, so the hook's job and the sweep never both
send it. Sign-in codes and reset links are not resent (they have expired by the time an
admin looks: the person asks for a new one); nor are invitations (resending one from the
invitations page makes a new link).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import defer

from portal import audit
from portal.errors import Conflict, NotFound
from portal.extensions import db
from portal.integrations import delivery
from portal.models import AuditLog, Estate, MessageStatus, OutboxMessage, User, utcnow
from portal.models.auth import SWEEP_AFTER
from portal.phones import phone_digits
from portal.text import like_pattern

PLATFORM = -1  # the estate filter of the platform's log for messages of no estate
PER_PAGE = 25
CHANNELS = ("EMAIL", "SMS", "PUSH")  # PUSH: recipient is a push subscription's id
STATUSES = tuple(s.value for s in MessageStatus)
# Their text lets the reader into someone's account: never shown.
SECRET_REASONS = frozenset({"sign_in_code", "password_reset", "invitation"})
# Never resent from the log (see the module's docstring).
NOT_RESENT = SECRET_REASONS
RESENT = "message.resent"

NOT_RESENDABLE = _l("A sign-in code, a password reset link or an invitation is not sent again from here: the "
                    "person asks for a new code or link, or you resend the invitation from the Invitations page "
                    "(with a new link). Nothing was changed.")
NOT_FAILED = _l("Only a message that could not be sent can be sent again; this one is already on its way or was "
                "sent. Nothing was changed.")


@dataclass(frozen=True)
class LogFilters:
    channel: str = ""  # EMAIL | SMS
    status: str = ""  # a MessageStatus value
    reason: str = ""  # an OutboxMessage.reason
    q: str = ""  # the recipient: part of an address or of a phone number
    date_from: date | None = None  # written on these days (in the time zone of the list)
    date_to: date | None = None
    estate_id: int | None = None  # the platform's log only; PLATFORM for messages of no estate

    @property
    def any(self) -> bool:
        return bool(self.channel or self.status or self.reason or self.q.strip() or self.date_from
                    or self.date_to or self.estate_id)

    def query(self) -> dict:
        """The filters as query-string arguments (for the pager)."""
        query = {"channel": self.channel, "status": self.status, "reason": self.reason, "q": self.q,
                 "from": self.date_from.isoformat() if self.date_from else "",
                 "to": self.date_to.isoformat() if self.date_to else ""}
        if self.estate_id:
            query["estate"] = self.estate_id
        return query


@dataclass(frozen=True)
class MessageRow:
    """A message of the log, without its text (`message.body` is not loaded)."""

    message: OutboxMessage
    estate: Estate | None = None

    @property
    def secret(self) -> bool:
        return self.message.reason in SECRET_REASONS

    @property
    def can_resend(self) -> bool:
        return self.message.status == MessageStatus.FAILED and self.message.reason not in NOT_RESENT


@dataclass(frozen=True)
class Resend:
    """A resend of the message, from the audit trail: who, when, and the failure it replaced."""

    at: datetime
    actor: User | None
    attempts: int
    provider: str
    error: str


@dataclass(frozen=True)
class MessageDetail(MessageRow):
    body: str | None = None  # None for a secret
    resends: list[Resend] = field(default_factory=list)


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tz)


def _scoped(estate: Estate | None, filters: LogFilters, tz: ZoneInfo):
    stmt = sa.select(OutboxMessage).options(defer(OutboxMessage.body, raiseload=True))
    if estate is not None:
        stmt = stmt.where(OutboxMessage.estate_id == estate.id)
    elif filters.estate_id == PLATFORM:
        stmt = stmt.where(OutboxMessage.estate_id.is_(None))
    elif filters.estate_id:
        stmt = stmt.where(OutboxMessage.estate_id == filters.estate_id)
    if filters.channel in CHANNELS:
        stmt = stmt.where(OutboxMessage.channel == filters.channel)
    if filters.status in STATUSES:
        stmt = stmt.where(OutboxMessage.status == MessageStatus(filters.status))
    if filters.reason:
        stmt = stmt.where(OutboxMessage.reason == ("" if filters.reason == "-" else filters.reason))
    q = filters.q.strip()
    if q:
        match = [sa.func.lower(OutboxMessage.recipient).like(like_pattern(q), escape="\\")]
        digits = phone_digits(q)
        if digits:  # 0803 123 4567 finds +2348031234567
            match.append(OutboxMessage.recipient.like(like_pattern(digits), escape="\\"))
        stmt = stmt.where(sa.or_(*match))
    if filters.date_from:
        stmt = stmt.where(OutboxMessage.created_at >= _day_start(filters.date_from, tz))
    if filters.date_to:
        stmt = stmt.where(OutboxMessage.created_at < _day_start(filters.date_to + timedelta(days=1), tz))
    return stmt


def _estates(ids: set[int]) -> dict[int, Estate]:
    if not ids:
        return {}
    return {e.id: e for e in db.session.scalars(sa.select(Estate).where(Estate.id.in_(ids)))}


def list_messages(estate: Estate | None, filters: LogFilters, tz: ZoneInfo, page: int = 1,
                  per_page: int = PER_PAGE) -> Pagination:
    """One page of an estate's messages (`estate`), or of the platform's (None), newest
    first, as MessageRow: two queries, and a third for the estates of the platform's page."""
    stmt = _scoped(estate, filters, tz).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    messages = list(pagination.items)
    if estate is not None:
        pagination.items = [MessageRow(m, estate) for m in messages]
    else:
        estates = _estates({m.estate_id for m in messages if m.estate_id})
        pagination.items = [MessageRow(m, estates.get(m.estate_id)) for m in messages]
    return pagination


def _find(estate: Estate | None, message_id: int) -> OutboxMessage:
    stmt = (sa.select(OutboxMessage).where(OutboxMessage.id == message_id)
            .options(defer(OutboxMessage.body, raiseload=True)))
    if estate is not None:
        stmt = stmt.where(OutboxMessage.estate_id == estate.id)
    message = db.session.scalar(stmt)
    if message is None:
        raise NotFound()
    return message


def _resends(message: OutboxMessage) -> list[Resend]:
    rows = db.session.execute(
        sa.select(AuditLog, User).outerjoin(User, User.id == AuditLog.actor_user_id)
        .where(AuditLog.estate_id.is_(None) if message.estate_id is None else AuditLog.estate_id == message.estate_id,
               AuditLog.action == RESENT, AuditLog.target_type == OutboxMessage.__name__,
               AuditLog.target_id == message.id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    ).all()
    resends = []
    for log, actor in rows:
        before = log.before if isinstance(log.before, dict) else {}
        resends.append(Resend(log.created_at, actor, int(before.get("attempts") or 0), str(before.get("provider") or ""),
                              str(before.get("last_error") or "")))
    return resends


def get_message(estate: Estate | None, message_id: int) -> MessageDetail:
    """One message of the estate (None: of any estate or none), with its text unless it is a
    secret, and its resends; a message of another estate is not found."""
    message = _find(estate, message_id)
    secret = message.reason in SECRET_REASONS
    body = None if secret else db.session.scalar(sa.select(OutboxMessage.body).where(OutboxMessage.id == message.id))
    owner = estate if estate is not None else (db.session.get(Estate, message.estate_id) if message.estate_id else None)
    return MessageDetail(message, owner, body=body, resends=_resends(message))


def resend(actor: User, estate: Estate | None, message_id: int) -> OutboxMessage:
    """Queue a FAILED message again (see the module's docstring); delivered after the commit."""
    message = _find(estate, message_id)
    if message.reason in NOT_RESENT:
        raise Conflict(NOT_RESENDABLE)
    before = {"status": message.status.value, "attempts": message.attempts, "provider": message.provider,
              "last_error": message.last_error}
    now = utcnow()
    done = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == MessageStatus.FAILED)
        .values(status=MessageStatus.QUEUED, attempts=0, next_attempt_at=now + SWEEP_AFTER, last_error=None,
                provider="", provider_message_id=None, sent_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        db.session.rollback()
        raise Conflict(NOT_FAILED)
    audit.record(RESENT, message, actor_id=actor.id, estate_id=message.estate_id, before=before,
                 after={"status": MessageStatus.QUEUED.value, "attempts": 0})
    delivery.note(db.session, [message.id])  # to the worker once this commits
    db.session.commit()
    return message
