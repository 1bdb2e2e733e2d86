"""Web push: the VAPID keys, what a push message carries, and the provider that sends it.

A browser that turned notifications on holds a push subscription (portal.accounts.
push_subscriptions): the push service's endpoint URL (FCM for Chrome, Mozilla's for
Firefox, Apple's for Safari) and the browser's keys. A message goes through the outbox
like any email or SMS (portal.integrations.messaging.send_push): one PUSH row per
subscription, written in the caller's transaction, `recipient` = the subscription's id,
`subject` = the title, `body` = the JSON payload the service worker (static/sw.js)
receives: {"title", "body", "url", "tag", "lang", "actions": [{"action", "title", "url"}]}.

The worker's provider (`WebPushProvider`, chosen by outbox.provider_for("PUSH")) encrypts
the payload for the browser (aes128gcm, RFC 8291) and POSTs it to the endpoint, signed
with the server's VAPID key (RFC 8292), with pywebpush and a timeout. A 404 or 410 from
the push service means the browser dropped the subscription: the row is deleted (audited)
and the message FAILED at once; any other failure is retried as the outbox retries.

Keys (`VAPID_PUBLIC_KEY`, `VAPID_PRIVATE_KEY`: base64url, the raw P-256 point and
scalar, as `flask --app wsgi push generate-vapid-keys` prints them) and `VAPID_SUBJECT`
(a mailto: or https: contact for the push services) come from configuration. In DEV mode,
when unset, a pair is generated once into `VAPID_KEYS_FILE` (instance/, never the repo)
and kept, so every process of `make run` signs with the same key.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import AuditLog, Estate, OutboxMessage, PushSubscription, utcnow

DEV_SUBJECT = "mailto:admin@gatehouse.test"
DEFAULT_TTL = 24 * 60 * 60  # seconds the push service keeps a message for a device that is off
TTL = {"walk_in_request": 30 * 60, "visitor_arrived": 60 * 60}  # stale after that
URGENT = {"walk_in_request", "visitor_arrived"}  # wake the phone (Urgency: high)
GONE = (404, 410)
PERMANENT = (413,)  # retrying the same payload cannot help
MAX_TEXT = 600  # characters of a notification's text (the encrypted payload must stay under 4 KB)


# --- keys -----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    """base64url with or without padding (what browsers and key tools print)."""
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_keys() -> tuple[str, str]:
    """A new VAPID key pair: (public, private), base64url of the uncompressed P-256 point
    (the browser's applicationServerKey) and of the 32-byte private scalar."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return public_key_of(_b64(private)), _b64(private)


def public_key_of(private_key: str) -> str:
    """The public key that goes with a base64url private key (ValueError if it is none)."""
    raw = b64decode(private_key)
    if len(raw) != 32:
        raise ValueError("a VAPID private key is 32 bytes, base64url-encoded")
    key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    return _b64(key.public_key().public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint))


def problem_with(public_key: str, private_key: str, subject: str) -> str | None:
    """What is wrong with a configured key pair and subject, or None."""
    if not public_key or not private_key:
        return "set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (flask --app wsgi push generate-vapid-keys prints a pair)"
    try:
        derived = public_key_of(private_key)
    except (ValueError, TypeError):
        return "VAPID_PRIVATE_KEY is not a base64url-encoded 32-byte P-256 key"
    try:
        same = b64decode(public_key) == b64decode(derived)
    except (ValueError, TypeError):
        same = False
    if not same:
        return "VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY"
    if not subject.startswith(("mailto:", "https:")):
        return "VAPID_SUBJECT must be a mailto: or https: contact, e.g. mailto:ops@example.com"
    return None


def enabled(config: Mapping) -> bool:
    """Is web push on? `PUSH_ENABLED` when set; else on with keys configured, or in DEV mode."""
    chosen = config.get("PUSH_ENABLED")
    if chosen is not None:
        return bool(chosen)
    return bool(config.get("VAPID_PUBLIC_KEY") or config.get("VAPID_PRIVATE_KEY") or config.get("DEV_MODE"))


@dataclass(frozen=True)
class VapidKeys:
    public_key: str
    private_key: str
    subject: str


_dev_keys_cache: dict[str, tuple[str, str]] = {}


def _dev_keys(path: Path) -> tuple[str, str]:
    """The DEV key pair kept in `path`, made once (every process reads the same file: it
    is created whole or not at all, and a process that loses the race reads the winner's)."""
    cached = _dev_keys_cache.get(str(path))
    if cached:
        return cached
    if not path.exists():
        public, private = generate_keys()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump({"public_key": public, "private_key": private}, out)
            with contextlib.suppress(FileExistsError):  # another process made it first: theirs is kept
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    stored = json.loads(path.read_text())
    pair = (stored["public_key"], stored["private_key"])
    _dev_keys_cache[str(path)] = pair
    return pair


def keys() -> VapidKeys | None:
    """The VAPID keys in force, or None when push is off or (outside DEV mode) not configured."""
    config = current_app.config
    if not enabled(config):
        return None
    public, private = config.get("VAPID_PUBLIC_KEY") or "", config.get("VAPID_PRIVATE_KEY") or ""
    if not (public and private):
        if not config.get("DEV_MODE"):
            return None
        public, private = _dev_keys(Path(config.get("VAPID_KEYS_FILE") or Path(current_app.instance_path,
                                                                               "vapid-keys.json")))
    return VapidKeys(public, private, config.get("VAPID_SUBJECT") or DEV_SUBJECT)


def public_key() -> str | None:
    """The applicationServerKey for the browser, or None when push is off."""
    found = keys()
    return found.public_key if found else None


# --- what a push message carries ----------------------------------------------------------


@dataclass(frozen=True)
class PushAction:
    """A button on the notification (Android, desktop Chrome): opens `url`."""

    action: str
    title: str
    url: str


@dataclass(frozen=True)
class PushNotice:
    """One notification for every device of `user_id`."""

    user_id: int
    title: str
    body: str
    url: str = ""
    tag: str = ""
    actions: Sequence[PushAction] = field(default_factory=tuple)


def payload(notice: PushNotice, language: str) -> str:
    """The JSON the service worker gets (the PUSH row's body)."""
    data: dict = {"title": notice.title[:120], "body": notice.body[:MAX_TEXT], "url": notice.url, "lang": language}
    if notice.tag:
        data["tag"] = notice.tag
    if notice.actions:
        data["actions"] = [{"action": a.action, "title": a.title, "url": a.url} for a in notice.actions]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# --- the provider ----------------------------------------------------------------------


def _error(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is None:
        return str(exc)[:400]
    text = (getattr(response, "text", "") or "").strip().replace("\n", " ")
    return f"The push service answered {status} {getattr(response, 'reason', '') or ''}".rstrip() + (
        f": {text[:300]}" if text else "")


class WebPushProvider:
    """Sends a PUSH outbox row to its subscription's push service (see the module's docstring)."""

    name = "WEBPUSH"

    def send(self, message: OutboxMessage, estate: Estate | None) -> str:
        from portal.integrations.outbox import ProviderError

        vapid = keys()
        if vapid is None:
            raise ProviderError("Web push is not configured (set VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and "
                                "VAPID_SUBJECT).", permanent=True)
        subscription = _subscription(message.recipient)
        if subscription is None:
            raise ProviderError("The device's subscription no longer exists (notifications were turned off on "
                                "it, or its push service dropped it).", permanent=True)
        import requests
        from py_vapid import Vapid
        from pywebpush import WebPushException, webpush

        try:
            response = webpush(
                {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}},
                data=message.body,
                vapid_private_key=Vapid.from_raw(vapid.private_key.encode()),
                vapid_claims={"sub": vapid.subject},  # a new dict each time: webpush adds aud and exp to it
                timeout=float(current_app.config.get("PUSH_TIMEOUT") or 10),
                ttl=TTL.get(message.reason, DEFAULT_TTL),
                headers={"Urgency": "high" if message.reason in URGENT else "normal"},
            )
        except WebPushException as exc:
            status = exc.status_code
            if status in GONE:
                _remove(subscription, status, message)
                raise ProviderError(
                    f"The push service answered {status} ({'Gone' if status == 410 else 'Not Found'}): the browser "
                    f"dropped this subscription, so it was removed.", permanent=True) from exc
            _failed(subscription.id, _error(exc))
            raise ProviderError(_error(exc), permanent=status in PERMANENT or status is None) from exc
        except requests.RequestException as exc:
            _failed(subscription.id, f"The push service did not answer: {exc}"[:500])
            raise ProviderError(f"The push service did not answer ({urlsplit(subscription.endpoint).netloc}): "
                                f"{type(exc).__name__}") from exc
        _succeeded(subscription.id)
        return response.headers.get("Location") or f"push-{message.id}"


def _session() -> Session:
    return Session(db.engine, expire_on_commit=False)


def _subscription(recipient: str) -> PushSubscription | None:
    if not recipient.isdigit():
        return None
    with _session() as session:
        return session.get(PushSubscription, int(recipient))


def _succeeded(subscription_id: int) -> None:
    with _session() as session:
        session.execute(sa.update(PushSubscription).where(PushSubscription.id == subscription_id)
                        .values(last_success_at=utcnow(), failure_count=0, last_error=None))
        session.commit()


def _failed(subscription_id: int, error: str) -> None:
    with _session() as session:
        session.execute(sa.update(PushSubscription).where(PushSubscription.id == subscription_id)
                        .values(last_failure_at=utcnow(), failure_count=PushSubscription.failure_count + 1,
                                last_error=error[:500]))
        session.commit()


def _remove(subscription: PushSubscription, status: int, message: OutboxMessage) -> None:
    """The push service says the subscription is gone: delete it, audited (no actor)."""
    with _session() as session:
        deleted = session.execute(sa.delete(PushSubscription).where(PushSubscription.id == subscription.id)).rowcount
        if deleted:
            session.add(AuditLog(
                action="push.subscription_gone", target_type="PushSubscription", target_id=subscription.id,
                actor_user_id=None, estate_id=subscription.estate_id,
                before={"user_id": subscription.user_id, "device": subscription.device_label,
                        "endpoint_host": urlsplit(subscription.endpoint).netloc},
                after={"status": status, "message_id": message.id}))
        session.commit()
