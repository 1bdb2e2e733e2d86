"""Kiosk bearer tokens: issued to a guard's gate device, short-lived and revocable.

A token is a JWT signed with authlib's JOSE (HS256, a key derived from SECRET_KEY)
carrying iss, sub (the guard's membership id), estate, device_id, jti, iat and exp. Each
token has a KioskToken row; a token is good while its row is unrevoked and unexpired,
the membership is still a guard of that estate, the user and the estate are ACTIVE and
the device is still the one bound to the guard (an admin's reset ends it). Checking one
costs one query."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

import authlib.deprecate  # noqa: F401 - installs its own filter; ours below must come after it
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal import audit
from portal.accounts.devices import check_device, clean_device_id
from portal.accounts.signin import check_password, find_user_by_login
from portal.errors import DomainError, Forbidden
from portal.extensions import db
from portal.models import (
    Estate,
    EstateStatus,
    KioskToken,
    Membership,
    Role,
    User,
    UserStatus,
    utcnow,
)

with warnings.catch_warnings():  # authlib.jose is deprecated in favour of joserfc, still supported in 1.x
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JoseError, jwt

ISSUER = "gatehouse"
ALGORITHM = "HS256"


class AuthenticationRequired(DomainError):
    code = "AUTHENTICATION_REQUIRED"
    http_status = 401


class InvalidToken(AuthenticationRequired):
    code = "INVALID_TOKEN"
    http_status = 401

    def __init__(self, message=None):
        super().__init__(message or _l("The access token is invalid, expired or revoked. Sign in again."))


@dataclass
class IssuedToken:
    access_token: str
    expires_in: int
    token: KioskToken


@dataclass(frozen=True)
class GuardRef:
    """The calling guard as the gate services need it (who recorded a scan): the id only."""

    id: int


@dataclass
class KioskAuth:
    """Who is calling: the guard (its id; the full user row only if asked for) and the
    estate, and the ids of the token row and the membership (their rows are loaded only if
    asked for: a request rarely needs them)."""

    token_id: int
    membership_id: int
    device_id: str
    guard: GuardRef
    estate: Estate

    @property
    def user(self) -> User:
        return db.session.get(User, self.guard.id)

    @property
    def token(self) -> KioskToken:
        return db.session.get(KioskToken, self.token_id)

    @property
    def membership(self) -> Membership:
        return db.session.get(Membership, self.membership_id)


def _key() -> bytes:
    """The tokens' signing key, derived from the app's SECRET_KEY (once per secret: every
    kiosk request needs it)."""
    return _derived_key(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=8)
def _derived_key(secret: str | bytes) -> bytes:
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"gatehouse kiosk jwt v1", hashlib.sha256).digest()


def ttl_seconds() -> int:
    return int(current_app.config.get("KIOSK_TOKEN_TTL", 3600))


def issue(estate_slug: str, login: str, password: str, device_id: str, now: datetime | None = None) -> IssuedToken:
    """Sign a guard in on a gate device and give it a token. Wrong estate, login or
    password: AuthenticationRequired (401); not a guard there or estate closed:
    Forbidden (403); device refused: DeviceMismatch (403) / DeviceInUse (409)."""
    now = now or utcnow()
    wrong = AuthenticationRequired(_l("The estate, email, phone or password is not correct."))
    estate = db.session.scalar(sa.select(Estate).where(Estate.slug == (estate_slug or "").strip().lower()))
    user = find_user_by_login(login or "")
    if not check_password(user, password or "") or estate is None:
        raise wrong
    if user.status != UserStatus.ACTIVE:
        if user.status == UserStatus.DELETED:
            raise wrong
        raise AuthenticationRequired(_l("This account is not active. Please contact your estate's admin."))
    membership = db.session.scalar(
        sa.select(Membership).where(Membership.estate_id == estate.id, Membership.user_id == user.id,
                                    Membership.role == Role.GUARD)
    )
    if membership is None:
        raise Forbidden(_l("Only the estate's guards can sign in on a gate device."))
    if estate.status != EstateStatus.ACTIVE:
        raise Forbidden(_l("This estate is not active."))
    device_id = clean_device_id(device_id)
    if device_id is None:  # the view validates it; this keeps the service safe on its own
        raise DomainError(_l("Send a device id of 8 to 100 letters, digits, dots, dashes or colons."),
                          code="VALIDATION_ERROR", http_status=422)
    check_device(membership, device_id)
    ttl = ttl_seconds()
    row = KioskToken(jti=secrets.token_urlsafe(24), estate_id=estate.id, membership_id=membership.id,
                     device_id=device_id, issued_at=now, expires_at=now + timedelta(seconds=ttl))
    db.session.add(row)
    db.session.flush()
    audit.record("kiosk.token_issued", row, actor_id=user.id,
                 after={"device": device_id[:8], "expires_at": row.expires_at.isoformat()})
    iat = int(now.timestamp())
    claims = {"iss": ISSUER, "sub": str(membership.id), "estate": estate.slug, "device_id": device_id,
              "jti": row.jti, "iat": iat, "exp": iat + ttl}
    token = jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, _key()).decode()
    db.session.commit()
    return IssuedToken(token, ttl, row)


@functools.lru_cache(maxsize=4096)
def _decoded(raw: str, key: bytes):
    """The token's claims if its signature, algorithm, issuer and claim types hold
    (JoseError, ValueError or TypeError if not; checked as of its own issue time). Cached:
    a gate device sends the same token on every scan for an hour, and none of this can
    change for a given string under a given key; what does (expiry, revocation) is checked
    on every request."""
    claims = jwt.decode(raw, key, claims_options={
        "iss": {"essential": True, "value": ISSUER},
        "sub": {"essential": True}, "jti": {"essential": True}, "exp": {"essential": True},
    })
    if claims.header.get("alg") != ALGORITHM:
        raise ValueError("unexpected algorithm")
    claims.validate(now=int(claims["iat"]), leeway=0)
    return claims


def _claims(raw: str, now: datetime) -> dict:
    try:
        claims = _decoded(raw, _key())
        moment = now.timestamp()
        if claims["exp"] < moment or claims.get("nbf", moment) > moment:  # authlib's rules, leeway 0
            raise InvalidToken()
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise InvalidToken() from exc
    return claims


def claims_or_none(raw: str, now: datetime) -> dict | None:
    """The claims of a well-signed, unexpired token, else None (for the lean scan path,
    which leaves the answer to a bad token to `authenticate`). Its row is not checked here."""
    try:
        return _claims(raw, now)
    except InvalidToken:
        return None


# Built once: the token check is on every kiosk request. Everything that can be decided in
# the database is (the row unrevoked and unexpired, the membership a guard of the token's
# estate still bound to the token's device, user and estate ACTIVE); what is left is
# compared with the token's claims below. Only the Estate is loaded as an object (the
# services take it); of the user, only its id (a scan names its guard by id). A password
# change or reset, a suspension, a deletion and "sign out everywhere" revoke the user's
# token rows (portal/accounts/sessions.py) and an admin's device reset unbinds the device:
# each is seen by the next request, at no extra cost.
_AUTH_QUERY = (
    sa.select(KioskToken.id, KioskToken.device_id, Membership.id, User.id, Estate)
    .join(Membership, Membership.id == KioskToken.membership_id)
    .join(User, User.id == Membership.user_id)
    .join(Estate, Estate.id == KioskToken.estate_id)
    .where(
        KioskToken.jti == sa.bindparam("jti"),
        KioskToken.revoked_at.is_(None), KioskToken.expires_at > sa.bindparam("now"),
        Membership.estate_id == KioskToken.estate_id, Membership.role == Role.GUARD,
        Membership.bound_device_id == KioskToken.device_id,
        User.status == UserStatus.ACTIVE, Estate.status == EstateStatus.ACTIVE,
    )
)


def authenticate(raw: str, now: datetime | None = None) -> KioskAuth:
    """The caller behind a bearer token, or InvalidToken. One query."""
    now = now or utcnow()
    claims = _claims(raw, now)
    row = db.session.execute(_AUTH_QUERY, {"jti": str(claims["jti"]), "now": now}).first()
    if row is None:
        raise InvalidToken()
    token_id, device_id, membership_id, user_id, estate = row
    if str(membership_id) != str(claims["sub"]) or claims.get("device_id") != device_id:
        raise InvalidToken()
    return KioskAuth(token_id, membership_id, device_id, GuardRef(user_id), estate)


def revoke(auth: KioskAuth, now: datetime | None = None) -> None:
    """End the presented token now (idempotent)."""
    now = now or utcnow()
    done = db.session.execute(
        sa.update(KioskToken).where(KioskToken.id == auth.token_id, KioskToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if done:
        audit.record("kiosk.token_revoked", auth.token, actor_id=auth.guard.id, after={"revoked_at": now.isoformat()})
    db.session.commit()


@sa.event.listens_for(Membership, "before_delete")
def _drop_tokens_of_removed_membership(mapper, connection, target: Membership) -> None:
    """A guard taken out of the estate (or whose guard role is removed) loses its kiosk
    tokens in the same transaction; they stopped working anyway, and the rows would block
    the delete (kiosk_token.membership_id references membership)."""
    connection.execute(sa.delete(KioskToken).where(KioskToken.membership_id == target.id))
