"""Sign-in rules: passwords, one-time codes, password resets, sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal import audit, links
from portal.accounts.sessions import end_sessions
from portal.errors import DomainError
from portal.extensions import db
from portal.integrations import messaging
from portal.models import (
    Estate,
    Membership,
    MessageStatus,
    OneTimeCode,
    OutboxMessage,
    PasswordResetToken,
    User,
    UserStatus,
    utcnow,
)
from portal.phones import InvalidPhone, looks_like_phone, normalise_phone

MIN_PASSWORD_LENGTH = 8
_HASHERS = {
    "default": PasswordHasher(),  # argon2id, RFC 9106 low-memory profile
    # Tests only: cheap parameters so hundreds of sign-ins stay quick.
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
_DUMMY_HASHES = {name: h.hash("not-a-real-password") for name, h in _HASHERS.items()}


def _hasher_name() -> str:
    return current_app.config.get("PASSWORD_HASHER", "default")


class AuthError(DomainError):
    code = "AUTHENTICATION_FAILED"
    http_status = 401


STATUS_REFUSALS = {
    UserStatus.PENDING: _l("Your account is waiting for approval by the estate's admin."),
    UserStatus.SUSPENDED: _l("Your account is suspended. Please contact your estate's admin."),
    UserStatus.DISABLED: _l("Your account has been disabled. Please contact your estate's admin."),
    UserStatus.DELETED: _l("The email, phone or password is not correct."),
}


def hash_password(password: str) -> str:
    return _HASHERS[_hasher_name()].hash(password)


def check_password(user: User | None, password: str) -> bool:
    name = _hasher_name()
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASHES[name]
    try:
        ok = _HASHERS[name].verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and user is not None and user.password_hash is not None


def validate_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            code="VALIDATION_ERROR",
            http_status=422,
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def find_user_by_login(login: str) -> User | None:
    """`login` is an email address or a phone number (any common format)."""
    login = login.strip()
    if looks_like_phone(login):
        try:
            phone = normalise_phone(login)
        except InvalidPhone:
            return None
        return db.session.scalar(sa.select(User).where(User.phone == phone))
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == login.lower()))


def message_language(user: User) -> str:
    """The language of mail and SMS to a user: theirs, else their estate's default."""
    if user.preferred_language:
        return user.preferred_language
    estates = [m.estate for m in user.memberships]
    return estates[0].default_language if estates else current_app.config["BABEL_DEFAULT_LOCALE"]


def _refuse_inactive(user: User) -> None:
    if user.status != UserStatus.ACTIVE:
        raise AuthError(STATUS_REFUSALS[user.status], code=f"ACCOUNT_{user.status.value}")


def authenticate(login: str, password: str) -> User:
    user = find_user_by_login(login)
    if not check_password(user, password):
        raise AuthError(_l("The email, phone or password is not correct."))
    _refuse_inactive(user)
    return user


def record_sign_in(user: User, method: str) -> None:
    user.last_login_at = utcnow()
    audit.record("auth.sign_in", user, actor_id=user.id, after={"method": method})
    db.session.commit()


# --- one-time codes (phone sign-in) ---------------------------------------------


@dataclass
class CodeRequest:
    phone: str
    user: User | None
    code: str | None  # the plain code, for the DEV mode screen only
    requested_at: datetime | None = None  # for `code_delivery`


def request_code(raw_phone: str) -> CodeRequest:
    """Send a 6-digit code to a registered phone. Unknown numbers get no code, and
    the caller shows the same answer, so the form reveals nothing."""
    try:
        phone = normalise_phone(raw_phone)
    except InvalidPhone as exc:
        raise DomainError(
            _l("Enter a valid phone number, for example +234 800 000 0201."),
            code="VALIDATION_ERROR",
            http_status=422,
        ) from exc
    now = utcnow()
    user = db.session.scalar(sa.select(User).where(User.phone == phone))
    if user is None:
        return CodeRequest(phone, None, None, now)
    db.session.execute(
        sa.update(OneTimeCode)
        .where(OneTimeCode.user_id == user.id, OneTimeCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = current_app.config["OTP_TTL_SECONDS"]
    db.session.add(
        OneTimeCode(user_id=user.id, code_hash=_digest(code), expires_at=now + timedelta(seconds=ttl))
    )
    language = message_language(user)
    with force_locale(language):
        text = str(_l("Your Gatehouse sign-in code is %(code)s. It expires in 5 minutes.", code=code))
    messaging.send_sms(phone, text, language=language, reason="sign_in_code")
    audit.record("auth.code_requested", user, actor_id=user.id)
    db.session.commit()
    return CodeRequest(phone, user, code, now)


class CodeDelivery(StrEnum):
    """How the text message with a sign-in code is doing, as the person waiting sees it."""

    SENDING = "sending"  # not tried yet, or being sent
    SENT = "sent"  # a provider accepted it
    RETRYING = "retrying"  # the first attempt failed with every provider; retried shortly
    FAILED = "failed"  # given up

    @property
    def final(self) -> bool:
        return self in (CodeDelivery.SENT, CodeDelivery.FAILED)


# An unknown number gets no message; its page answers "sending" for as long as a message
# to a known number usually takes, then as the last sign-in code sent recently went.
UNKNOWN_NUMBER_SENDING_FOR = timedelta(seconds=3)
RECENT_CODES = timedelta(minutes=10)


def _delivery_of(status: MessageStatus, attempts: int, last_error: str | None) -> CodeDelivery:
    if status == MessageStatus.SENT:
        return CodeDelivery.SENT
    if status == MessageStatus.FAILED:
        return CodeDelivery.FAILED
    if attempts and last_error:  # QUEUED for a retry, or SENDING the retry
        return CodeDelivery.RETRYING
    return CodeDelivery.SENDING


# The sign-in codes' indexes are partial (`reason = 'sign_in_code'`): the value is written
# into the SQL, not bound, so that a prepared statement's generic plan can use them too.
_SIGN_IN_CODES = OutboxMessage.reason == sa.bindparam("sign_in_reason", "sign_in_code", literal_execute=True)


def code_delivery(phone: str, requested_at: datetime, now: datetime | None = None) -> CodeDelivery:
    """The delivery of the sign-in code requested for `phone` at `requested_at`.

    Says nothing about whether the number has an account: for an unknown number (no
    message was written) it answers SENDING for a few seconds, as a real delivery does,
    then as the most recent sign-in code tried for anyone went (SENT, or RETRYING/FAILED
    while the SMS providers are failing). One indexed query, two for an unknown number."""
    now = now or utcnow()
    fields = (OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error)
    row = db.session.execute(  # ix_outbox_message_sign_in_recipient
        sa.select(*fields).where(OutboxMessage.recipient == phone, _SIGN_IN_CODES,
                                 OutboxMessage.created_at >= requested_at - timedelta(seconds=1))
        .order_by(OutboxMessage.id.desc()).limit(1)).first()
    if row is not None:
        return _delivery_of(*row)
    if now - requested_at < UNKNOWN_NUMBER_SENDING_FOR:
        return CodeDelivery.SENDING
    recent = db.session.execute(  # ix_outbox_message_sign_in_created
        sa.select(*fields).where(_SIGN_IN_CODES, OutboxMessage.attempts > 0,
                                 OutboxMessage.created_at >= now - RECENT_CODES)
        .order_by(OutboxMessage.created_at.desc()).limit(1)).first()
    state = _delivery_of(*recent) if recent is not None else CodeDelivery.SENT
    return CodeDelivery.SENT if state == CodeDelivery.SENDING else state


def verify_code(raw_phone: str, code: str) -> User:
    """The account whose phone got this code. Every refusal (unknown number, no code,
    wrong, expired, used or locked code) is the same answer, so the form reveals nothing
    about which numbers have an account."""
    wrong = AuthError(_l("This code is not correct or no longer valid. Check it, or ask for a new one."),
                      code="CODE_INVALID")
    try:
        phone = normalise_phone(raw_phone)
    except InvalidPhone as exc:
        raise wrong from exc
    user = db.session.scalar(sa.select(User).where(User.phone == phone))
    otp = None
    if user is not None:
        otp = db.session.scalar(
            sa.select(OneTimeCode)
            .where(OneTimeCode.user_id == user.id, OneTimeCode.consumed_at.is_(None))
            .order_by(OneTimeCode.id.desc())
            .limit(1)
        )
    if otp is None or otp.expires_at <= utcnow():
        raise wrong
    max_attempts = current_app.config["OTP_MAX_ATTEMPTS"]
    # Count the attempt first, in the database, so parallel guesses cannot exceed the limit.
    counted = db.session.execute(
        sa.update(OneTimeCode)
        .where(OneTimeCode.id == otp.id, OneTimeCode.attempts < max_attempts, OneTimeCode.consumed_at.is_(None))
        .values(attempts=OneTimeCode.attempts + 1)
    ).rowcount
    db.session.commit()
    if not counted or not secrets.compare_digest(otp.code_hash, _digest(code.strip())):
        raise wrong
    consumed = db.session.execute(
        sa.update(OneTimeCode)
        .where(OneTimeCode.id == otp.id, OneTimeCode.consumed_at.is_(None))
        .values(consumed_at=utcnow())
    ).rowcount
    db.session.commit()
    if not consumed:
        raise wrong
    _refuse_inactive(user)
    return user


# --- password reset -------------------------------------------------------------


# The account of an address and the default language of its first estate, in one statement.
_RESET_LOOKUP = sa.select(
    User,
    sa.select(Estate.default_language).join(Membership, Membership.estate_id == Estate.id)
    .where(Membership.user_id == User.id).order_by(Membership.id).limit(1).scalar_subquery(),
).where(sa.func.lower(User.email) == sa.bindparam("email"))


def _reset_message(name: str, token: str, language: str) -> tuple[str, str]:
    with force_locale(language):
        subject = str(_l("Reset your Gatehouse password"))
        body = str(
            _l(
                "Hello %(name)s,\n\nTo choose a new Gatehouse password, open this link within one hour:\n%(link)s\n\n"
                "If you did not ask for this, ignore this message.",
                name=name,
                link=links.password_reset(token),
            )
        )
    return subject, body


def request_password_reset(email: str) -> None:
    """Email a single-use link valid one hour (portal.links.password_reset).
    Unknown addresses get no mail, and the caller shows the same answer. Both cost the
    same: one lookup, a token and the message made, an audit row, one commit; an active
    account only adds two rows (the link, the outbox message), and the message is
    delivered after the commit (portal.integrations.delivery)."""
    row = db.session.execute(_RESET_LOOKUP, {"email": email.strip().lower()}).first()
    user, estate_language = row if row is not None else (None, None)
    token = secrets.token_urlsafe(32)
    language = (user.preferred_language if user is not None else None) or estate_language \
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    subject, body = _reset_message(user.display_name if user is not None else email, token, language)
    if user is not None and user.status == UserStatus.ACTIVE:
        ttl = current_app.config["PASSWORD_RESET_TTL_SECONDS"]
        db.session.add(
            PasswordResetToken(
                user_id=user.id, token_hash=_digest(token), expires_at=utcnow() + timedelta(seconds=ttl)
            )
        )
        messaging.send_email(user.email, subject, body, language=language, reason="password_reset")
        audit.record("auth.password_reset_requested", user, actor_id=None)
    else:  # the same write and commit as above, minus the link and the message
        audit.record("auth.password_reset_refused", user if user is not None else User(), actor_id=None,
                     estate_id=None, after={"account": "inactive" if user is not None else "unknown"})
        db.session.flush()  # as send_email does above
    db.session.commit()


def check_reset_token(token: str) -> PasswordResetToken:
    row = db.session.scalar(
        sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == _digest(token))
    )
    if row is None:
        raise AuthError(_l("This reset link is not valid."), code="RESET_INVALID", http_status=404)
    if row.used_at is not None:
        raise AuthError(
            _l("This reset link has already been used. Ask for a new one if you need it."),
            code="RESET_USED",
            http_status=410,
        )
    if row.expires_at <= utcnow():
        raise AuthError(_l("This reset link has expired. Ask for a new one."), code="RESET_EXPIRED", http_status=410)
    return row


def _end_reset_links(user_id: int) -> None:
    """Every outstanding reset link of the user stops working (a newer one was used, or
    the password was changed). No commit."""
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)
    )


def reset_password(token: str, new_password: str) -> User:
    row = check_reset_token(token)
    validate_new_password(new_password)
    used = db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if not used:
        db.session.rollback()
        raise AuthError(_l("This reset link has already been used. Ask for a new one if you need it."), code="RESET_USED")
    user = row.user
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    end_sessions(user.id)
    _end_reset_links(user.id)
    audit.record("auth.password_reset", user, actor_id=user.id)
    db.session.commit()
    return user


def change_password(user: User, current_password: str, new_password: str, keep_session_key: str | None = None) -> None:
    """Other browsers are signed out; the one with `keep_session_key` stays signed in."""
    if not check_password(user, current_password):
        raise AuthError(_l("Your current password is not correct."), code="VALIDATION_ERROR", http_status=422)
    validate_new_password(new_password)
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    end_sessions(user.id, keep_key=keep_session_key)
    _end_reset_links(user.id)
    audit.record("auth.password_changed", user, actor_id=user.id)
    db.session.commit()


def sign_out_everywhere(user: User) -> None:
    user.session_version += 1
    end_sessions(user.id)
    audit.record("auth.signed_out_everywhere", user, actor_id=user.id)
    db.session.commit()


def set_language(user: User, language: str) -> None:
    before = user.preferred_language
    if before == language:
        return
    user.preferred_language = language
    audit.record("user.language_changed", user, actor_id=user.id, before={"language": before}, after={"language": language})
    db.session.commit()
