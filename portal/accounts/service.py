"""People with accounts: an estate's members (list, suspend, reactivate, soft-delete,
roles, remove from the estate), enterprise-wide user management, the signed-in user's
own profile and notification preferences, and sign-in sessions.

Who may change a user's status. A user's status is global (User.status), so:
- nobody may suspend or delete themself;
- an estate admin may suspend, reactivate or delete only users whose every membership
  is in their estate (and never an enterprise admin); for anyone else they may only
  remove the person's memberships from their estate;
- an enterprise admin may do all of it, in any estate or from the enterprise console,
  and may restore a deleted account.
An estate keeps at least one active admin: removing the admin role (or the membership)
of its last active admin is refused, and nobody may remove their own admin role.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit
from portal.errors import DomainError
from portal.extensions import db
from portal.models import Estate, Membership, Role, User, UserSession, UserStatus, utcnow
from portal.phones import InvalidPhone, normalise_phone, phone_digits

ROLE_ORDER = (Role.ESTATE_ADMIN, Role.GUARD, Role.RESIDENT)
REQUIRED = _l("This field is required.")


class InvalidValue(DomainError):
    """Bad input for one field: the view shows `message` next to `field`."""

    code = "VALIDATION_ERROR"
    http_status = 422

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field = field


class Forbidden(DomainError):
    code = "FORBIDDEN"
    http_status = 403


def like_pattern(text: str) -> str:
    """`%text%` for a case-insensitive LIKE, with the wildcards in `text` escaped."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def user_search(stmt, q: str):
    """Narrow a select of users to those whose name, email or phone contains `q`."""
    q = q.strip()
    if not q:
        return stmt
    like = like_pattern(q)
    conditions = [
        sa.func.lower(User.full_name).like(like, escape="\\"),
        sa.func.lower(User.email).like(like, escape="\\"),
    ]
    digits = phone_digits(q)
    if digits:
        conditions.append(User.phone.like(f"%{digits}%"))
    return stmt.where(sa.or_(*conditions))


def _status_filter(stmt, status: str):
    if status in UserStatus.__members__:
        return stmt.where(User.status == UserStatus(status))
    return stmt.where(User.status != UserStatus.DELETED)  # deleted accounts only on request


def _role_sorted(memberships) -> list[Membership]:
    return sorted(memberships, key=lambda m: ROLE_ORDER.index(m.role))


# --- estate members --------------------------------------------------------------


@dataclass(frozen=True)
class MemberFilters:
    q: str = ""
    role: str = ""
    status: str = ""  # "" = every status but DELETED; or one UserStatus value

    @property
    def any(self) -> bool:
        return bool(self.q.strip() or self.role or self.status)


@dataclass
class MemberRow:
    user: User
    memberships: list[Membership]  # in this estate, admin first
    other_estates: int  # how many other estates the user belongs to

    @property
    def roles(self) -> list[Role]:
        return [m.role for m in self.memberships]

    @property
    def guard(self) -> Membership | None:
        return next((m for m in self.memberships if m.role == Role.GUARD), None)

    @property
    def is_supervisor(self) -> bool:
        return bool(self.guard and self.guard.is_supervisor)

    @property
    def only_here(self) -> bool:
        """Every membership is in this estate: an estate admin may change the account."""
        return self.other_estates == 0 and not self.user.is_enterprise_admin


def list_members(estate: Estate, filters: MemberFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the estate's members (three queries whatever the page size)."""
    member_ids = sa.select(Membership.user_id).where(Membership.estate_id == estate.id)
    if filters.role in Role.__members__:
        member_ids = member_ids.where(Membership.role == Role(filters.role))
    stmt = _status_filter(sa.select(User).where(User.id.in_(member_ids)), filters.status)
    stmt = user_search(stmt, filters.q).order_by(sa.func.lower(User.full_name), User.id)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    pagination.items = _member_rows(estate, list(pagination.items))
    return pagination


def _member_rows(estate: Estate, users: list[User]) -> list[MemberRow]:
    here: dict[int, list[Membership]] = {u.id: [] for u in users}
    elsewhere: dict[int, set[int]] = {u.id: set() for u in users}
    if users:
        for m in db.session.scalars(sa.select(Membership).where(Membership.user_id.in_(list(here)))):
            if m.estate_id == estate.id:
                here[m.user_id].append(m)
            else:
                elsewhere[m.user_id].add(m.estate_id)
    return [MemberRow(u, _role_sorted(here[u.id]), len(elsewhere[u.id])) for u in users]


def get_member(estate: Estate, user_id: int) -> MemberRow:
    """A member of this estate, or 404 (someone who is not a member is not found)."""
    user = db.session.get(User, user_id)
    rows = _member_rows(estate, [user]) if user is not None else []
    if not rows or not rows[0].memberships:
        abort(404)
    return rows[0]


# --- enterprise-wide users -------------------------------------------------------


@dataclass(frozen=True)
class UserFilters:
    q: str = ""
    status: str = ""
    estate_id: int | None = None
    role: str = ""  # a Role value, or ENTERPRISE_ADMIN

    @property
    def any(self) -> bool:
        return bool(self.q.strip() or self.status or self.estate_id or self.role)


@dataclass
class UserRow:
    user: User
    memberships: list[Membership]  # every estate, with .estate loaded


def list_users(filters: UserFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """All users of the platform (enterprise console), three queries per page."""
    stmt = _status_filter(sa.select(User), filters.status)
    if filters.role == "ENTERPRISE_ADMIN":
        stmt = stmt.where(User.platform_role.is_not(None))
    member_ids = None
    if filters.role in Role.__members__:
        member_ids = sa.select(Membership.user_id).where(Membership.role == Role(filters.role))
    if filters.estate_id:
        member_ids = (member_ids if member_ids is not None else sa.select(Membership.user_id)).where(
            Membership.estate_id == filters.estate_id
        )
    if member_ids is not None:
        stmt = stmt.where(User.id.in_(member_ids))
    stmt = user_search(stmt, filters.q).order_by(sa.func.lower(User.full_name), User.id)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    users = list(pagination.items)
    by_user: dict[int, list[Membership]] = {u.id: [] for u in users}
    if users:
        memberships = db.session.scalars(
            sa.select(Membership).options(joinedload(Membership.estate)).where(Membership.user_id.in_(list(by_user)))
        )
        for m in memberships:
            by_user[m.user_id].append(m)
    pagination.items = [
        UserRow(u, sorted(by_user[u.id], key=lambda m: (m.estate.name, ROLE_ORDER.index(m.role)))) for u in users
    ]
    return pagination


def estate_choices() -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(sa.select(Estate.id, Estate.name).order_by(Estate.name))]


# --- rules shared by the member actions -----------------------------------------


def require_admin(actor: User, estate: Estate | None) -> None:
    if actor.is_enterprise_admin:
        return
    is_admin = estate is not None and db.session.scalar(
        sa.select(Membership.id).where(
            Membership.user_id == actor.id, Membership.estate_id == estate.id, Membership.role == Role.ESTATE_ADMIN
        )
    )
    if not is_admin:
        raise Forbidden(_l("Only the estate's admins may manage its members."))


def _target(actor: User, estate: Estate | None, user_id: int) -> MemberRow:
    """The user acted on: a member of `estate`, or (enterprise console) any user."""
    require_admin(actor, estate)
    if estate is not None:
        return get_member(estate, user_id)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    memberships = db.session.scalars(sa.select(Membership).where(Membership.user_id == user_id)).all()
    return MemberRow(user, _role_sorted(memberships), 0)


def _check_status_change_allowed(actor: User, row: MemberRow) -> None:
    if actor.is_enterprise_admin:
        return
    if not row.only_here:
        raise Forbidden(
            _l("%(name)s also belongs to another estate, so only an enterprise admin may change their account. "
               "You can remove them from this estate instead.", name=row.user.display_name)
        )


def _keep_an_admin(estate_id: int, losing_user_id: int) -> None:
    """Refuse if the estate would be left without an active admin. The estate row is
    locked first, so two admins demoting each other at once cannot both succeed."""
    db.session.execute(sa.select(Estate.id).where(Estate.id == estate_id).with_for_update())
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.estate_id == estate_id,
            Membership.role == Role.ESTATE_ADMIN,
            Membership.user_id != losing_user_id,
            User.status == UserStatus.ACTIVE,
        )
    )
    if not others:
        raise DomainError(
            _l("The estate must keep at least one active admin. Make someone else an admin first."),
            code="LAST_ADMIN",
        )


def _roles_snapshot(memberships) -> dict:
    memberships = _role_sorted(memberships)
    return {
        "roles": [m.role.value for m in memberships],
        "supervisor": any(m.is_supervisor for m in memberships if m.role == Role.GUARD),
    }


def end_sessions(user_id: int, keep_key: str | None = None) -> None:
    """Mark every open session of the user revoked (but `keep_key`'s). No commit."""
    stmt = sa.update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep_key:
        stmt = stmt.where(UserSession.key_hash != key_hash(keep_key))
    db.session.execute(stmt.values(revoked_at=utcnow()))


def _set_status(actor: User, estate: Estate | None, row: MemberRow, status: UserStatus, action: str) -> User:
    user = row.user
    before = user.status
    user.status = status
    if status != UserStatus.ACTIVE:
        # Signed-in browsers and remember-me cookies stop working at once.
        user.session_version += 1
        end_sessions(user.id)
    if status == UserStatus.DELETED:
        # A deleted guard's gate device is free for another guard.
        db.session.execute(
            sa.update(Membership).where(Membership.user_id == user.id).values(bound_device_id=None, bound_at=None)
        )
    audit.record(
        action, user, actor_id=actor.id, estate_id=estate.id if estate else None,
        before={"status": before.value}, after={"status": status.value},
    )
    db.session.commit()
    return user


def suspend_user(actor: User, user_id: int, estate: Estate | None = None) -> User:
    row = _target(actor, estate, user_id)
    if row.user.id == actor.id:
        raise DomainError(_l("You cannot suspend your own account."), code="SELF")
    _check_status_change_allowed(actor, row)
    if row.user.status != UserStatus.ACTIVE:
        raise DomainError(_l("Only active accounts can be suspended."))
    return _set_status(actor, estate, row, UserStatus.SUSPENDED, "user.suspended")


def reactivate_user(actor: User, user_id: int, estate: Estate | None = None) -> User:
    row = _target(actor, estate, user_id)
    _check_status_change_allowed(actor, row)
    allowed = {UserStatus.SUSPENDED, UserStatus.DISABLED}
    if actor.is_enterprise_admin:
        allowed.add(UserStatus.DELETED)
    if row.user.status not in allowed:
        if row.user.status == UserStatus.DELETED:
            raise DomainError(_l("A deleted account can only be restored by an enterprise admin."))
        raise DomainError(_l("Only suspended or disabled accounts can be reactivated."))
    action = "user.restored" if row.user.status == UserStatus.DELETED else "user.reactivated"
    return _set_status(actor, estate, row, UserStatus.ACTIVE, action)


def delete_user(actor: User, user_id: int, estate: Estate | None = None) -> User:
    """Soft delete: the account keeps its history and memberships but can never sign in."""
    row = _target(actor, estate, user_id)
    if row.user.id == actor.id:
        raise DomainError(_l("You cannot delete your own account."), code="SELF")
    _check_status_change_allowed(actor, row)
    if row.user.status == UserStatus.DELETED:
        raise DomainError(_l("This account is already deleted."))
    return _set_status(actor, estate, row, UserStatus.DELETED, "user.deleted")


def set_roles(actor: User, estate: Estate, user_id: int, roles: set[Role], supervisor: bool = False) -> MemberRow:
    """Give a member exactly `roles` in this estate (`supervisor` applies to the guard role)."""
    row = _target(actor, estate, user_id)
    user = row.user
    if user.status == UserStatus.DELETED:
        raise DomainError(_l("This account is deleted; its roles cannot change."))
    roles = {Role(r) for r in roles}
    if not roles:
        raise InvalidValue(
            "roles", _l("Choose at least one role. To take this person out of the estate, use “Remove from estate”.")
        )
    current = {m.role: m for m in row.memberships}
    before = _roles_snapshot(row.memberships)
    if Role.ESTATE_ADMIN in current and Role.ESTATE_ADMIN not in roles:
        if user.id == actor.id:
            raise DomainError(_l("You cannot remove your own admin role."), code="SELF")
        _keep_an_admin(estate.id, user.id)
    supervisor = bool(supervisor and Role.GUARD in roles)
    kept = []
    for role, membership in current.items():
        if role in roles:
            if role == Role.GUARD:
                membership.is_supervisor = supervisor
            kept.append(membership)
        else:
            db.session.delete(membership)
    for role in roles - current.keys():
        membership = Membership(user_id=user.id, estate_id=estate.id, role=role,
                                is_supervisor=supervisor if role == Role.GUARD else False)
        db.session.add(membership)
        kept.append(membership)
    after = _roles_snapshot(kept)
    if after == before:
        db.session.rollback()
        return row
    audit.record("membership.roles_changed", user, actor_id=actor.id, estate_id=estate.id, before=before, after=after)
    try:
        db.session.commit()
    except IntegrityError as exc:  # another admin changed the same roles at the same moment
        db.session.rollback()
        raise DomainError(_l("Someone else changed these roles at the same time. Check them and try again.")) from exc
    return get_member(estate, user.id)


def remove_from_estate(actor: User, estate: Estate, user_id: int) -> User:
    """End every membership of the user in this estate (the account itself stays)."""
    row = _target(actor, estate, user_id)
    user = row.user
    if user.id == actor.id:
        raise DomainError(_l("You cannot remove yourself from the estate."), code="SELF")
    if Role.ESTATE_ADMIN in row.roles:
        _keep_an_admin(estate.id, user.id)
    before = _roles_snapshot(row.memberships)
    for membership in row.memberships:
        db.session.delete(membership)
    audit.record("membership.removed", user, actor_id=actor.id, estate_id=estate.id, before=before,
                 after={"roles": [], "supervisor": False})
    db.session.commit()
    return user


# --- own profile ----------------------------------------------------------------

NOTIFICATION_EVENTS = {
    "visitor_arrived": _l("A visitor of mine arrives"),
    "walk_in_request": _l("A walk-in visitor asks to see me"),
    "invoice_issued": _l("An invoice is issued to my unit"),
    "payment_received": _l("A payment of mine is received"),
    "announcement": _l("The estate makes an announcement"),
    "approval_decided": _l("A sign-up request is decided"),
}
NOTIFICATION_CHANNELS = {"email": _l("Email"), "sms": _l("SMS")}
_DEFAULT_SMS = {"visitor_arrived", "walk_in_request"}


def notification_prefs(user: User) -> dict[str, dict[str, bool]]:
    """The user's choices for every event and channel, defaults filled in."""
    stored = user.notification_prefs or {}
    prefs = {}
    for event in NOTIFICATION_EVENTS:
        chosen = stored.get(event) or {}
        prefs[event] = {
            "email": bool(chosen.get("email", True)),
            "sms": bool(chosen.get("sms", event in _DEFAULT_SMS)),
        }
    return prefs


def wants_notification(user: User, event: str, channel: str) -> bool:
    """For the senders: does `user` want `event` by `channel` ("email" or "sms")?"""
    return notification_prefs(user).get(event, {}).get(channel, False)


def update_notification_prefs(user: User, chosen: dict[str, dict[str, bool]]) -> None:
    before = notification_prefs(user)
    after = {
        event: {channel: bool((chosen.get(event) or {}).get(channel)) for channel in NOTIFICATION_CHANNELS}
        for event in NOTIFICATION_EVENTS
    }
    if after == before:
        return
    user.notification_prefs = after
    audit.record("user.notifications_changed", user, actor_id=user.id, before=before, after=after)
    db.session.commit()


@dataclass
class ProfileData:
    full_name: str
    email: str | None
    phone: str | None
    preferred_language: str


def _profile_snapshot(user: User) -> dict:
    return {"full_name": user.full_name, "email": user.email, "phone": user.phone,
            "preferred_language": user.preferred_language}


def phone_region(user: User) -> str:
    """The region for numbers typed without a country code: the user's estate's country."""
    country = db.session.scalar(
        sa.select(Estate.country).join(Membership, Membership.estate_id == Estate.id)
        .where(Membership.user_id == user.id).order_by(Membership.id).limit(1)
    )
    return country or "NG"


EMAIL_TAKEN = _l("Another account already uses this email address.")
PHONE_TAKEN = _l("Another account already uses this phone number.")


def _email_taken(email: str, user_id: int) -> bool:
    return db.session.scalar(
        sa.select(User.id).where(sa.func.lower(User.email) == email.lower(), User.id != user_id)
    ) is not None


def _phone_taken(phone: str, user_id: int) -> bool:
    return db.session.scalar(sa.select(User.id).where(User.phone == phone, User.id != user_id)) is not None


def update_profile(user: User, data: ProfileData) -> User:
    name = (data.full_name or "").strip()
    if not name:
        raise InvalidValue("full_name", REQUIRED)
    email = (data.email or "").strip() or None
    phone = None
    if (data.phone or "").strip():
        try:
            phone = normalise_phone(data.phone, phone_region(user))
        except InvalidPhone as exc:
            raise InvalidValue("phone", _l("Enter a valid phone number, for example +234 800 000 0201.")) from exc
    if not email and not phone:
        raise InvalidValue("email", _l("Keep an email address or a phone number: you sign in with one of them."))
    if email and _email_taken(email, user.id):
        raise InvalidValue("email", EMAIL_TAKEN)
    if phone and _phone_taken(phone, user.id):
        raise InvalidValue("phone", PHONE_TAKEN)
    if data.preferred_language not in current_app.config["LANGUAGES"]:
        raise InvalidValue("preferred_language", _l("Choose one of the languages offered."))
    before = _profile_snapshot(user)
    user.full_name, user.email, user.phone = name, email, phone
    user.preferred_language = data.preferred_language
    after = _profile_snapshot(user)
    if after == before:
        return user
    audit.record("user.profile_updated", user, actor_id=user.id, before=before, after=after)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same email or phone saved by someone else just now
        db.session.rollback()
        if email and _email_taken(email, user.id):
            raise InvalidValue("email", EMAIL_TAKEN) from exc
        raise InvalidValue("phone", PHONE_TAKEN) from exc
    return user


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
        abort(404)
    is_current = current_key is not None and row.key_hash == key_hash(current_key)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("auth.session_revoked", row, actor_id=user.id, estate_id=None,
                     before={"device": describe_user_agent(row.user_agent), "ip": row.ip_address})
        db.session.commit()
    return is_current

