"""Sign-in sessions: one row per browser sign-in, listed on the profile page, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal import audit
from portal.errors import NotFound
from portal.extensions import db
from portal.models import KioskToken, Membership, User, UserSession, utcnow

# --- sessions -------------------------------------------------------------------

SESSION_TOUCH_SECONDS = 60
SIGN_IN_METHODS = {
    "password": _l("Password"),
    "code": _l("Code by SMS"),
    "cookie": _l("Remembered device"),
    "invitation": _l("Invitation link"),
}


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_session(user: User, method: str, user_agent: str | None, ip_address: str | None) -> str:
    """Record a signed-in browser; returns the plain key (only its hash is stored)."""
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(
        user_id=user.id, key_hash=key_hash(key), method=method[:20], user_agent=(user_agent or "")[:300],
        ip_address=(ip_address or None) and ip_address[:45], last_seen_at=utcnow(),
    ))
    db.session.commit()
    return key


def find_session(user_id: int, key: str) -> tuple[User, UserSession] | None:
    """The user and their open session with this key, in one indexed query."""
    row = db.session.execute(
        sa.select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.key_hash == key_hash(key), User.id == user_id)
    ).first()
    if row is None or row[1].revoked_at is not None:
        return None
    return row[0], row[1]


def touch_session(user_session: UserSession) -> None:
    """Note that the browser was seen, at most once a minute."""
    now = utcnow()
    cutoff = now - timedelta(seconds=SESSION_TOUCH_SECONDS)
    if user_session.last_seen_at is not None and user_session.last_seen_at > cutoff:
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == user_session.id,
               sa.or_(UserSession.last_seen_at.is_(None), UserSession.last_seen_at <= cutoff))
        .values(last_seen_at=now)
    )
    db.session.commit()


def close_session(key: str | None) -> None:
    """Sign-out of this browser: its session is over."""
    if not key:
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.key_hash == key_hash(key), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"), ("Firefox/", "Firefox"),
             ("FxiOS", "Firefox"), ("CriOS", "Chrome"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe_user_agent(user_agent: str) -> str:
    """“Chrome · Android” from a User-Agent header; the header itself if unknown."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or (user_agent[:40] if user_agent else str(_l("Unknown browser")))


@dataclass
class SessionRow:
    session: UserSession
    is_current: bool

    @property
    def device(self) -> str:
        return describe_user_agent(self.session.user_agent)


def active_sessions(user: User, current_key: str | None, limit: int = 50) -> list[SessionRow]:
    """Open sessions seen within the remember-me lifetime, the latest first."""
    current = key_hash(current_key) if current_key else None
    since = utcnow() - timedelta(seconds=current_app.config.get("REMEMBER_COOKIE_DURATION", 30 * 86400))
    rows = db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
               sa.func.coalesce(UserSession.last_seen_at, UserSession.created_at) >= since)
        .order_by(sa.func.coalesce(UserSession.last_seen_at, UserSession.created_at).desc(), UserSession.id.desc())
        .limit(limit)
    )
    return [SessionRow(s, s.key_hash == current) for s in rows]


def recent_sign_ins(user: User, limit: int = 20) -> list[SessionRow]:
    rows = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id)
        .order_by(UserSession.created_at.desc(), UserSession.id.desc()).limit(limit)
    )
    return [SessionRow(s, False) for s in rows]


def revoke_session(user: User, session_id: int, current_key: str | None) -> bool:
    """Revoke one of the user's own sessions; True when it was this browser's."""
    row = db.session.scalar(
        sa.select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    )
    if row is None:
        raise NotFound()
    is_current = current_key is not None and row.key_hash == key_hash(current_key)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("auth.session_revoked", row, actor_id=user.id, estate_id=None,
                     before={"device": describe_user_agent(row.user_agent), "ip": row.ip_address})
        db.session.commit()
    return is_current


def end_sessions(user_id: int, keep_key: str | None = None) -> None:
    """Mark every open session of the user revoked (but `keep_key`'s), and every kiosk
    token of the user's memberships: a password change or reset, "sign out everywhere",
    a suspension or a deletion ends them all. No commit."""
    stmt = sa.update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep_key:
        stmt = stmt.where(UserSession.key_hash != key_hash(keep_key))
    db.session.execute(stmt.values(revoked_at=utcnow()))
    end_kiosk_tokens(sa.select(Membership.id).where(Membership.user_id == user_id).scalar_subquery())


def end_kiosk_tokens(membership_ids) -> None:
    """Revoke the unrevoked kiosk tokens of these memberships (a list of ids or a subquery)
    in the caller's transaction. Revoked tokens never come back (a suspension lifted, the
    same device bound again). No commit."""
    db.session.execute(
        sa.update(KioskToken)
        .where(KioskToken.membership_id.in_(membership_ids), KioskToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    )
