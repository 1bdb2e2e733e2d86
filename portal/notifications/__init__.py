"""In-app notifications (the bell), and the email/SMS/push copy of them.

A notification stores `kind` and `params`; its sentence is made when shown, in the
reader's language (`render_text`). `notify` adds the row and, unless told not to,
sends the email/SMS the user asked for (portal.accounts.profile.wants_notification),
in the user's language, through the messaging outbox, and a push to each device where
they turned notifications on (unless they said no to push for that kind). Links are
paths inside the portal; opening a notification marks it read."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination

from portal import audit
from portal.accounts.profile import NOTIFICATION_EVENTS, wants_notification
from portal.errors import NotFound
from portal.extensions import db
from portal.integrations import messaging
from portal.integrations.push import PushAction, PushNotice
from portal.models import Estate, Notification, User

PER_PAGE = 20

SUBJECTS = {
    "visitor_arrived": _l("Your visitor has arrived"),
    "walk_in_request": _l("A visitor at the gate asks to see you"),
    "walk_in_decided": _l("A walk-in visitor was answered"),
    "device_change_requested": _l("A guard asks for a device change"),
    "payment_received": _l("Payment received: your receipt"),
}


def render_text(notification: Notification) -> str:
    """The notification's sentence in the current language, from its kind and params."""
    p = dict(notification.params or {})
    kind = notification.kind
    if kind == "visitor_arrived":
        if p.get("visitor"):
            return str(_l("%(visitor)s arrived for unit %(unit)s at %(time)s.",
                          visitor=p.get("visitor", ""), unit=p.get("unit", ""), time=p.get("time", "")))
        return str(_l("Your visitor arrived for unit %(unit)s at %(time)s.", unit=p.get("unit", ""),
                      time=p.get("time", "")))
    if kind == "walk_in_request":
        return str(_l("%(visitor)s is at %(gate)s and asks to see unit %(unit)s. Approve or decline.",
                      visitor=p.get("visitor", ""), gate=p.get("gate", ""), unit=p.get("unit", "")))
    if kind == "walk_in_decided":
        if p.get("approved"):
            return str(_l("%(resident)s approved %(visitor)s for unit %(unit)s.", resident=p.get("resident", ""),
                          visitor=p.get("visitor", ""), unit=p.get("unit", "")))
        return str(_l("%(resident)s declined %(visitor)s for unit %(unit)s.", resident=p.get("resident", ""),
                      visitor=p.get("visitor", ""), unit=p.get("unit", "")))
    if kind == "device_change_requested":
        return str(_l("%(guard)s asks to use another device at the gate. Approve it on their page.",
                      guard=p.get("guard", "")))
    if kind == "payment_received":
        if p.get("invoices"):
            return str(_l("%(estate)s received your payment of %(amount)s for %(invoices)s. Receipt %(receipt)s.",
                          estate=p.get("estate", ""), amount=p.get("amount", ""), invoices=p.get("invoices", ""),
                          receipt=p.get("receipt", "")))
        return str(_l("%(estate)s received your payment of %(amount)s. Receipt %(receipt)s.",
                      estate=p.get("estate", ""), amount=p.get("amount", ""), receipt=p.get("receipt", "")))
    return str(_l("You have a new notification."))


def _absolute(link: str) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{link}" if base and link.startswith("/") else link


def push_actions(kind: str, link: str) -> tuple[PushAction, ...]:
    """The buttons of a push notification (in the current language): a walk-in request's
    Approve and Decline open its page, ready for that answer (nothing is decided unseen)."""
    if kind == "walk_in_request" and link:
        return (PushAction("approve", str(_l("Approve")), f"{link}?answer=approve"),
                PushAction("decline", str(_l("Decline")), f"{link}?answer=decline"))
    return ()


def notify(user: User, estate: Estate | None, kind: str, params: dict, link: str, now: datetime, *,
           send: bool = True, push: bool | None = None) -> Notification:
    """Add an in-app notification for `user` (flushed, not committed: it belongs to the
    caller's transaction) and, if `send`, the email/SMS they chose for `kind`; and, if
    `push` (by default as `send`), a push to their devices unless they turned push off
    for `kind` (a kind without preferences, e.g. a guard's "walk-in answered", is pushed
    whenever asked: turning a device on is the choice)."""
    notification = Notification(estate_id=estate.id if estate is not None else None, user_id=user.id, kind=kind,
                                params=dict(params), link=link[:300], created_at=now)
    db.session.add(notification)
    push = send if push is None else push
    known = kind in NOTIFICATION_EVENTS
    if (send and known) or push:
        language = (user.preferred_language or (estate.default_language if estate is not None else None)
                    or current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))
        about = {"estate": estate, "language": language, "reason": kind}
        with force_locale(language):
            body = render_text(notification)
            subject = str(SUBJECTS.get(kind, _l("Notification")))
            actions = push_actions(kind, link)
        if send and known and user.email and wants_notification(user, kind, "email"):
            messaging.send_email(user.email, subject, f"{body}\n\n{_absolute(link)}" if link else body, **about)
        if send and known and user.phone and wants_notification(user, kind, "sms"):
            messaging.send_sms(user.phone, f"{body} {_absolute(link)}" if link else body, **about)
        if push and (not known or wants_notification(user, kind, "push")):
            messaging.send_push(PushNotice(user.id, subject, body, link, tag=f"{kind}-{link}"[:60], actions=actions),
                                **about)
    db.session.flush()
    return notification


_INSERT = sa.insert(Notification.__table__)


def write(user: User, estate: Estate | None, kind: str, params: dict, link: str, now: datetime) -> None:
    """`notify(..., send=False)` for the hottest paths (a gate scan): the same row,
    inserted now in the caller's transaction with a plain INSERT (no ORM object, no
    unit-of-work flush)."""
    db.session.execute(_INSERT, {"estate_id": estate.id if estate is not None else None, "user_id": user.id,
                                 "kind": kind, "params": dict(params), "link": link[:300], "created_at": now})


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread (one query)."""
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.user_id == user.id,
                                                        Notification.read_at.is_(None))
    ) or 0


def list_notifications(user: User, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """One page of the user's notifications, newest first (two queries)."""
    stmt = (sa.select(Notification).where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


def estate_timezones(items: list[Notification]) -> dict[int, str]:
    """The time zone of each notification's estate, to show its time there (one query)."""
    ids = {n.estate_id for n in items if n.estate_id}
    if not ids:
        return {}
    return {row.id: row.timezone for row in db.session.execute(sa.select(Estate.id, Estate.timezone)
                                                               .where(Estate.id.in_(ids)))}


def get_notification(user: User, notification_id: int) -> Notification:
    """One of the user's notifications, or 404 (anyone else's is not found)."""
    found = db.session.scalar(sa.select(Notification).where(Notification.id == notification_id,
                                                            Notification.user_id == user.id))
    if found is None:
        raise NotFound()
    return found


def mark_read(user: User, notification_id: int, now: datetime) -> Notification:
    """Mark one of the user's notifications read (idempotent)."""
    notification = get_notification(user, notification_id)
    done = db.session.execute(
        sa.update(Notification)
        .where(Notification.id == notification.id, Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        db.session.refresh(notification)
        audit.record("notification.read", notification, actor_id=user.id, before={"read_at": None},
                     after={"read_at": now.isoformat()})
    db.session.commit()
    return notification


def mark_all_read(user: User, now: datetime) -> int:
    """Mark every unread notification of the user read; how many were."""
    done = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        audit.record("notification.all_read", user, actor_id=user.id, estate_id=None, after={"count": done})
    db.session.commit()
    return done
