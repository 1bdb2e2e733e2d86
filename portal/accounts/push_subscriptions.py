"""The browsers a user turned notifications on in (web push subscriptions).

The page script (static/js/push.js) subscribes the browser with the server's VAPID public
key and sends what the browser answered (`PushSubscription.toJSON()`: endpoint and keys);
`subscribe` checks it and stores one row per endpoint. "Turn off" unsubscribes the browser
and deletes the row (`unsubscribe`); a device can also be removed from the list of the
user's devices (`remove`). A row belongs to one user: another account's endpoint, or
subscription id, is refused without saying whose it is. Every change is audited.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.accounts.sessions import describe_user_agent
from portal.errors import Conflict, DomainError, InvalidValue, NotFound
from portal.extensions import db
from portal.integrations import push
from portal.models import PushSubscription, User

MAX_DEVICES = 20  # per user; the oldest unused one goes when a 21st subscribes
MAX_ENDPOINT = 1024

PUSH_OFF = _l("Notifications on this device are not available on this portal.")
NO_ENDPOINT = _l("The browser sent no push address. Try again.")
BAD_ENDPOINT = _l("The browser sent a push address that is not a web address.")
NOT_HTTPS = _l("The browser sent a push address that is not secure (https). Notifications cannot be turned on.")
NO_KEYS = _l("The browser sent no encryption keys for notifications. Try again, or use another browser.")
BAD_KEYS = _l("The browser's encryption keys for notifications are not valid. Try again, or use another browser.")
TAKEN = _l("Notifications on this device are turned on for another account. Turn them off there first.")
NOT_YOURS = _l("That device is not among yours (its notifications may already be off).")


@dataclass(frozen=True)
class SubscriptionData:
    endpoint: str
    p256dh: str
    auth: str
    user_agent: str = ""


def parse(data: Any, user_agent: str = "") -> SubscriptionData:
    """What the browser sent ({"endpoint": …, "keys": {"p256dh": …, "auth": …}}), checked;
    InvalidValue (translated) for anything unusable."""
    if not push.enabled(current_app.config):
        raise DomainError(PUSH_OFF, code="PUSH_OFF", http_status=409)
    data = data if isinstance(data, dict) else {}
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise InvalidValue("endpoint", NO_ENDPOINT)
    endpoint = endpoint.strip()
    _check_endpoint(endpoint)
    keys = data.get("keys")
    keys = keys if isinstance(keys, dict) else {}
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str) or not p256dh.strip() or not auth.strip():
        raise InvalidValue("keys", NO_KEYS)
    p256dh, auth = p256dh.strip(), auth.strip()
    if len(p256dh) > 128 or len(auth) > 64 or not _valid_keys(p256dh, auth):
        raise InvalidValue("keys", BAD_KEYS)
    return SubscriptionData(endpoint, p256dh, auth, (user_agent or "")[:300])


def _check_endpoint(endpoint: str) -> None:
    if len(endpoint) > MAX_ENDPOINT or any(ord(c) < 33 for c in endpoint):
        raise InvalidValue("endpoint", BAD_ENDPOINT)
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidValue("endpoint", BAD_ENDPOINT) from exc
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidValue("endpoint", BAD_ENDPOINT)
    if current_app.config.get("DEV_MODE"):
        return  # a local fake push service (tests, development) may be plain http on 127.0.0.1
    if parts.scheme != "https":
        raise InvalidValue("endpoint", NOT_HTTPS)
    # The worker POSTs to this address: never to this machine or the private network.
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or host.endswith(".localhost") or (address is not None and not address.is_global):
        raise InvalidValue("endpoint", BAD_ENDPOINT)


def _valid_keys(p256dh: str, auth: str) -> bool:
    try:
        point, secret = push.b64decode(p256dh), push.b64decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        return False
    return len(point) == 65 and len(secret) == 16


def _snapshot(row: PushSubscription) -> dict:
    return {"device": row.device_label, "endpoint_host": urlsplit(row.endpoint).netloc, "estate_id": row.estate_id}


def subscribe(user: User, estate_id: int | None, data: SubscriptionData, now: datetime) -> PushSubscription:
    """Store the browser's subscription for `user` (again: its keys are refreshed). Another
    account's endpoint is refused (Conflict)."""
    row = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == data.endpoint))
    label = describe_user_agent(data.user_agent)[:120]
    if row is not None:
        if row.user_id != user.id:
            raise Conflict(TAKEN)
        if (row.p256dh, row.auth, row.estate_id) != (data.p256dh, data.auth, estate_id):
            before = _snapshot(row)
            row.p256dh, row.auth, row.estate_id = data.p256dh, data.auth, estate_id
            row.device_label, row.user_agent = label, data.user_agent
            row.failure_count, row.last_error = 0, None
            audit.record("push.subscription_renewed", row, actor_id=user.id, before=before, after=_snapshot(row))
            db.session.commit()
        return row
    _keep_room(user)
    row = PushSubscription(user_id=user.id, estate_id=estate_id, endpoint=data.endpoint, p256dh=data.p256dh,
                           auth=data.auth, device_label=label, user_agent=data.user_agent, created_at=now)
    db.session.add(row)
    db.session.flush()
    audit.record("push.subscribed", row, actor_id=user.id, after=_snapshot(row))
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same endpoint stored by a request a moment ago
        db.session.rollback()
        again = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == data.endpoint))
        if again is None or again.user_id != user.id:
            raise Conflict(TAKEN) from exc
        return again
    return row


def _keep_room(user: User) -> None:
    """At most MAX_DEVICES per user: the least recently useful one makes room."""
    rows = db.session.scalars(sa.select(PushSubscription).where(PushSubscription.user_id == user.id)
                              .order_by(sa.func.coalesce(PushSubscription.last_success_at,
                                                         PushSubscription.created_at))).all()
    for row in rows[:max(0, len(rows) - MAX_DEVICES + 1)]:
        audit.record("push.subscription_dropped", row, actor_id=user.id, before=_snapshot(row))
        db.session.delete(row)


def unsubscribe(user: User, endpoint: str) -> None:
    """This browser turned notifications off: forget its subscription (NotFound when it is
    not one of the user's)."""
    endpoint = endpoint.strip() if isinstance(endpoint, str) else ""
    if not endpoint:
        raise InvalidValue("endpoint", NO_ENDPOINT)
    row = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint,
                                                              PushSubscription.user_id == user.id))
    _delete(user, row, "push.unsubscribed")


def remove(user: User, subscription_id: int) -> None:
    """Remove one of the user's devices from the list (NotFound for anyone else's)."""
    row = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.id == subscription_id,
                                                              PushSubscription.user_id == user.id))
    _delete(user, row, "push.device_removed")


def _delete(user: User, row: PushSubscription | None, action: str) -> None:
    if row is None:
        raise NotFound(NOT_YOURS)
    audit.record(action, row, actor_id=user.id, before=_snapshot(row))
    db.session.delete(row)
    db.session.commit()


def devices(user: User) -> list[PushSubscription]:
    """The user's devices with notifications on, the newest first (one query)."""
    return list(db.session.scalars(sa.select(PushSubscription).where(PushSubscription.user_id == user.id)
                                   .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())))
