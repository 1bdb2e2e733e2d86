"""Resident sign-up with admin approval, estate join codes, and invitations.

Sign-up: a person fills the public join page of an estate; that makes a PENDING user
and a PENDING approval (30 days). An estate admin approves it (the user becomes
ACTIVE, with a RESIDENT membership and a Resident row) or rejects it with a reason
(the user becomes DISABLED); undecided requests become EXPIRED (the user DISABLED too).
The applicant is told the decision by email and/or SMS.

Invitations: admins invite admins, guards and residents; a guard supervisor invites
guards and residents (never supervisors); plain guards invite nobody. The link is
single use, valid 7 days, and only its sha256 is stored.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal import audit
from portal.accounts.signin import (
    MIN_PASSWORD_LENGTH,
    STATUS_REFUSALS,
    check_password,
    hash_password,
)
from portal.errors import DomainError
from portal.extensions import db
from portal.integrations import messaging
from portal.labels import APPROVAL_STATUS_LABELS, ROLE_LABELS
from portal.models import (
    Approval,
    ApprovalStatus,
    Estate,
    EstateStatus,
    Invitation,
    Membership,
    Resident,
    ResidentType,
    Role,
    Unit,
    User,
    UserStatus,
    utcnow,
)
from portal.phones import InvalidPhone, normalise_phone, phone_digits
from portal.web.tenancy import EstateAccess

APPROVAL_TTL = timedelta(days=30)
INVITATION_TTL = timedelta(days=7)
JOIN_CODE_LENGTH = 6
# Upper-case letters without I, L and O, which read like 1 and 0.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ"
JOIN_CODE_ATTEMPTS = 10
REASON_MAX = 500


class FieldErrors(DomainError):
    """A refusal that belongs next to form fields: `errors` maps a field name to its message."""

    def __init__(self, errors: dict, code: str = "VALIDATION_ERROR", http_status: int = 422):
        super().__init__(next(iter(errors.values())), code=code, http_status=http_status)
        self.errors = errors


BAD_PHONE = _l("Enter a valid phone number, for example +234 800 000 0201.")
NEED_CONTACT = _l("Give an email address or a phone number (or both).")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _phone(raw: str, estate: Estate, errors: dict, name: str) -> str | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return normalise_phone(raw, estate.country)
    except InvalidPhone:
        errors[name] = BAD_PHONE
        return None


def _email(raw: str) -> str | None:
    return (raw or "").strip().lower() or None


def estate_today(estate: Estate) -> date:
    return datetime.now(ZoneInfo(estate.timezone)).date()


# --- estates and join codes ----------------------------------------------------------


def open_estate(slug: str) -> Estate:
    """An ACTIVE estate by slug, or 404 (unknown, pending and suspended estates alike)."""
    estate = db.session.scalar(
        sa.select(Estate).where(Estate.slug == slug, Estate.status == EstateStatus.ACTIVE)
    )
    if estate is None:
        abort(404)
    return estate


def estate_by_join_code(code: str) -> Estate | None:
    """The ACTIVE estate with this short code (any case, spaces ignored), or None."""
    code = "".join(code.split()).upper()
    if not code:
        return None
    return db.session.scalar(
        sa.select(Estate).where(Estate.join_code == code, Estate.status == EstateStatus.ACTIVE)
    )


def _random_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def ensure_join_code(actor_id: int | None, estate: Estate) -> str:
    """The estate's short join code, assigned now if it has none (unique; retried on collision)."""
    if estate.join_code:
        return estate.join_code
    for _ in range(JOIN_CODE_ATTEMPTS):
        code = _random_join_code()
        try:
            assigned = db.session.execute(
                sa.update(Estate)
                .where(Estate.id == estate.id, Estate.join_code.is_(None))
                .values(join_code=code)
                .execution_options(synchronize_session=False)
            ).rowcount
        except IntegrityError:  # another estate has this code: draw again
            db.session.rollback()
            continue
        if not assigned:  # another admin assigned one a moment ago
            db.session.rollback()
            db.session.refresh(estate)
            return estate.join_code
        audit.record("estate.join_code_assigned", estate, actor_id=actor_id, estate_id=estate.id,
                     after={"join_code": code})
        db.session.commit()
        db.session.refresh(estate)
        return estate.join_code
    raise DomainError(_l("No free join code was found. Please try again."))


def join_units(estate: Estate) -> list[Unit]:
    """The units a newcomer may choose: this estate's, not archived, in natural order."""
    return list(db.session.scalars(
        sa.select(Unit)
        .where(Unit.estate_id == estate.id, Unit.archived_at.is_(None))
        .order_by(Unit.block, sa.func.length(Unit.number), Unit.number)
    ))


# --- sign-up --------------------------------------------------------------------------


@dataclass
class JoinData:
    full_name: str
    email: str
    phone: str
    unit_id: int | None
    resident_type: ResidentType
    password: str
    emergency_contact_name: str
    emergency_contact_phone: str
    consent: bool
    language: str | None = None


def _contact_conflicts(estate: Estate, email: str | None, phone: str | None) -> dict:
    """Messages for an email or phone already used by an account, or by a current
    resident of this estate."""
    errors: dict = {}
    conditions = []
    if email:
        conditions.append(sa.func.lower(User.email) == email)
    if phone:
        conditions.append(User.phone == phone)
    if not conditions:
        return errors
    for user in db.session.scalars(sa.select(User).where(sa.or_(*conditions))):
        name = "email" if email and user.email and user.email.lower() == email else "phone"
        if user.status == UserStatus.PENDING:
            errors[name] = _l("A request to join with these details is already waiting for the admin's decision.")
        elif user.status == UserStatus.DISABLED:
            errors[name] = _l(
                "A request with these details was not approved, so they cannot be used to sign up again. "
                "Please contact the estate's admin."
            )
        elif name == "email":
            errors[name] = _l("An account already uses this email address. Sign in instead, or ask the estate's admin to invite you.")
        else:
            errors[name] = _l("An account already uses this phone number. Sign in instead, or ask the estate's admin to invite you.")
    residents = db.session.execute(
        sa.select(Resident.email, Resident.phone).where(
            Resident.estate_id == estate.id,
            Resident.move_out_date.is_(None),
            sa.or_(*([sa.func.lower(Resident.email) == email] if email else []),
                   *([Resident.phone == phone] if phone else [])),
        )
    ).all()
    for r_email, r_phone in residents:
        if email and r_email and r_email.lower() == email:
            errors.setdefault("email", _l(
                "A resident of this estate is already registered with this email address. "
                "Ask the estate's admin to invite you."))
        if phone and r_phone == phone:
            errors.setdefault("phone", _l(
                "A resident of this estate is already registered with this phone number. "
                "Ask the estate's admin to invite you."))
    return errors


def _taken() -> FieldErrors:
    return FieldErrors({"email": _l("These details were just used by another account. Please check them.")},
                       code="CONFLICT", http_status=409)


def request_to_join(estate: Estate, data: JoinData) -> Approval:
    """A PENDING user and a PENDING approval (30 days). Nothing is written on refusal."""
    if not estate.is_open:
        raise DomainError(_l("This estate is not taking sign-ups."), code="NOT_FOUND", http_status=404)
    errors: dict = {}
    full_name = " ".join((data.full_name or "").split())
    if not full_name:
        errors["full_name"] = _l("This field is required.")
    email = _email(data.email)
    phone = _phone(data.phone, estate, errors, "phone")
    if not email and not phone and "phone" not in errors:
        errors["email"] = NEED_CONTACT
    emergency_phone = _phone(data.emergency_contact_phone, estate, errors, "emergency_contact_phone")
    unit = None
    if data.unit_id is not None:
        unit = db.session.scalar(sa.select(Unit).where(
            Unit.id == data.unit_id, Unit.estate_id == estate.id, Unit.archived_at.is_(None)))
    if unit is None:
        errors["unit_id"] = _l("Choose your unit from the list.")
    if len(data.password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if not data.consent:
        errors["consent"] = _l("You must accept the terms to send your request.")
    if errors:
        raise FieldErrors(errors)
    conflicts = _contact_conflicts(estate, email, phone)
    if conflicts:
        raise FieldErrors(conflicts, code="CONFLICT", http_status=409)
    now = utcnow()
    try:
        user = User(full_name=full_name, email=email, phone=phone, password_hash=hash_password(data.password),
                    status=UserStatus.PENDING, preferred_language=data.language)
        db.session.add(user)
        db.session.flush()
        approval = Approval(
            estate_id=estate.id, user_id=user.id, unit_id=unit.id, resident_type=data.resident_type,
            emergency_contact_name=" ".join(data.emergency_contact_name.split()),
            emergency_contact_phone=emergency_phone, status=ApprovalStatus.PENDING,
            expires_at=now + APPROVAL_TTL,
        )
        db.session.add(approval)
        db.session.flush()
        audit.record("approval.requested", approval, actor_id=user.id, after={
            "user_id": user.id, "full_name": full_name, "email": email, "phone": phone, "unit": unit.number,
            "resident_type": data.resident_type.value, "consent_to_terms": True,
            "consent_at": now.isoformat(),
        })
        db.session.commit()
    except IntegrityError as exc:  # the same email or phone signed up at the same moment
        db.session.rollback()
        raise _taken() from exc
    return approval


# --- the approval queue ----------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalFilters:
    q: str = ""
    status: str = ApprovalStatus.PENDING.value  # or APPROVED, REJECTED, EXPIRED, ALL


def message_language_in(user: User, estate: Estate) -> str:
    """Like auth's message_language, for mail about this estate: the user's language,
    else this estate's default."""
    return user.preferred_language or estate.default_language


def _notify(user: User, estate: Estate, subject, email_body, sms_body) -> None:
    """Email and/or SMS to the user in their language. Arguments are lazy strings."""
    with force_locale(message_language_in(user, estate)):
        if user.email:
            messaging.send_email(user.email, str(subject), str(email_body))
        if user.phone:
            messaging.send_sms(user.phone, str(sms_body))


def _notify_expired(approval: Approval) -> None:
    user, estate = approval.user, approval.estate
    _notify(
        user, estate,
        _l("Your request to join %(estate)s has expired", estate=estate.name),
        _l("Hello %(name)s,\n\nYour request to join %(estate)s was not decided within 30 days, so it has expired. "
           "Please contact the estate's admin.", name=user.display_name, estate=estate.name),
        _l("Gatehouse: your request to join %(estate)s was not decided within 30 days and has expired. "
           "Please contact the estate's admin.", estate=estate.name),
    )


def expire_due(estate: Estate | None = None) -> int:
    """Undecided requests older than 30 days become EXPIRED, all in one UPDATE; their
    users are disabled and told. Returns how many expired.

    The pages call this on every view, so when nothing is due it costs one read and
    takes no write lock (SQLite would hold one until the end of the request)."""
    now = utcnow()
    due = [Approval.status == ApprovalStatus.PENDING, Approval.expires_at <= now]
    if estate is not None:
        due.append(Approval.estate_id == estate.id)
    if db.session.scalar(sa.select(Approval.id).where(*due).limit(1)) is None:
        return 0
    expired_ids = list(db.session.scalars(
        sa.update(Approval).where(*due)
        .values(status=ApprovalStatus.EXPIRED, decided_at=now)
        .returning(Approval.id)
        .execution_options(synchronize_session=False)
    ))
    if not expired_ids:  # another request expired them a moment ago
        db.session.commit()
        return 0
    approvals = db.session.scalars(
        sa.select(Approval).where(Approval.id.in_(expired_ids))
        .options(joinedload(Approval.user), joinedload(Approval.estate))
    ).all()
    db.session.execute(
        sa.update(User).where(User.id.in_([a.user_id for a in approvals]), User.status == UserStatus.PENDING)
        .values(status=UserStatus.DISABLED).execution_options(synchronize_session="fetch")
    )
    for approval in approvals:
        audit.record("approval.expired", approval, actor_id=None,
                     before={"status": "PENDING"}, after={"status": "EXPIRED"})
        _notify_expired(approval)
    db.session.commit()
    return len(approvals)


def pending_count(estate: Estate) -> int:
    """Requests waiting for a decision (not yet due to expire): the admin nav's badge."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Approval).where(
            Approval.estate_id == estate.id, Approval.status == ApprovalStatus.PENDING,
            Approval.expires_at > utcnow())
    ) or 0


def list_approvals(estate: Estate, filters: ApprovalFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the estate's requests with their users and units (two queries)."""
    stmt = (
        sa.select(Approval)
        .join(User, User.id == Approval.user_id)
        .join(Unit, Unit.id == Approval.unit_id)
        .where(Approval.estate_id == estate.id)
        .options(joinedload(Approval.user), joinedload(Approval.unit))
    )
    if filters.status in ApprovalStatus.__members__:
        stmt = stmt.where(Approval.status == ApprovalStatus(filters.status))
    q = filters.q.strip().lower()
    if q:
        like = f"%{q}%"
        digits = phone_digits(q)
        stmt = stmt.where(sa.or_(
            sa.func.lower(User.full_name).like(like),
            sa.func.lower(User.email).like(like),
            sa.func.lower(Unit.number).like(like),
            *([User.phone.like(f"%{digits}%")] if digits else []),
        ))
    if filters.status == ApprovalStatus.PENDING.value:
        stmt = stmt.order_by(Approval.created_at, Approval.id)  # oldest first: it expires first
    else:
        stmt = stmt.order_by(Approval.created_at.desc(), Approval.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


def get_approval(estate: Estate, approval_id: int) -> Approval:
    """A request of this estate with its user and unit, or 404 (never another estate's)."""
    approval = db.session.scalar(
        sa.select(Approval).where(Approval.id == approval_id, Approval.estate_id == estate.id)
        .options(joinedload(Approval.user), joinedload(Approval.unit))
    )
    if approval is None:
        abort(404)
    return approval


def decider_of(approval: Approval) -> User | None:
    return db.session.get(User, approval.decided_by_id) if approval.decided_by_id else None


@dataclass
class Decision:
    decided: list[Approval] = field(default_factory=list)
    skipped: list[Approval] = field(default_factory=list)  # already decided or expired


def _activate(approval: Approval, estate: Estate) -> Resident:
    user = approval.user
    user.status = UserStatus.ACTIVE
    exists = db.session.scalar(sa.select(Membership.id).where(
        Membership.user_id == user.id, Membership.estate_id == estate.id, Membership.role == Role.RESIDENT))
    if exists is None:
        db.session.add(Membership(user_id=user.id, estate_id=estate.id, role=Role.RESIDENT))
    resident = Resident(
        estate_id=estate.id, unit_id=approval.unit_id, user_id=user.id, full_name=user.full_name,
        phone=user.phone, email=user.email, resident_type=approval.resident_type,
        move_in_date=estate_today(estate), emergency_contact_name=approval.emergency_contact_name,
        emergency_contact_phone=approval.emergency_contact_phone,
    )
    db.session.add(resident)
    db.session.flush()
    return resident


def _notify_decision(approval: Approval, estate: Estate, login_link: str) -> None:
    user = approval.user
    if approval.status == ApprovalStatus.APPROVED:
        _notify(
            user, estate,
            _l("Welcome to %(estate)s: your request was approved", estate=estate.name),
            _l("Hello %(name)s,\n\nThe admin of %(estate)s approved your request. You can sign in now:\n%(link)s",
               name=user.display_name, estate=estate.name, link=login_link),
            _l("Gatehouse: your request to join %(estate)s was approved. You can sign in now: %(link)s",
               estate=estate.name, link=login_link),
        )
    else:
        _notify(
            user, estate,
            _l("Your request to join %(estate)s was not approved", estate=estate.name),
            _l("Hello %(name)s,\n\nThe admin of %(estate)s did not approve your request to join.\n"
               "Reason: %(reason)s", name=user.display_name, estate=estate.name, reason=approval.reason),
            _l("Gatehouse: your request to join %(estate)s was not approved. Reason: %(reason)s",
               estate=estate.name, reason=approval.reason),
        )


def decide(actor_id: int, estate: Estate, approval_ids: Iterable[int], approve: bool, reason: str,
           login_link: str) -> Decision:
    """Approve or reject requests in one transaction. Each is decided at most once: the
    database's conditional UPDATE picks the requests still PENDING (and not due to expire);
    the others are skipped. An id of another estate is a 404, and nothing changes."""
    reason = " ".join((reason or "").split())
    if not approve and not reason:
        raise FieldErrors({"reason": _l("Give a reason; the applicant will read it.")})
    if len(reason) > REASON_MAX:
        raise FieldErrors({"reason": _l("Use at most %(max)d characters.", max=REASON_MAX)})
    ids = sorted(set(approval_ids))
    if not ids:
        raise FieldErrors({"ids": _l("Select at least one request.")})
    approvals = db.session.scalars(
        sa.select(Approval).where(Approval.id.in_(ids), Approval.estate_id == estate.id)
        .options(joinedload(Approval.user), joinedload(Approval.unit))
    ).all()
    if len(approvals) != len(ids):
        abort(404)
    now = utcnow()
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    won = set(db.session.scalars(
        sa.update(Approval)
        .where(Approval.id.in_(ids), Approval.estate_id == estate.id,
               Approval.status == ApprovalStatus.PENDING, Approval.expires_at > now)
        .values(status=status, decided_by_id=actor_id, decided_at=now, reason=reason)
        .returning(Approval.id)
        .execution_options(synchronize_session=False)
    ))
    result = Decision()
    for approval in sorted(approvals, key=lambda a: a.id):
        if approval.id not in won:
            result.skipped.append(approval)
            continue
        for key, value in {"status": status, "decided_by_id": actor_id, "decided_at": now, "reason": reason}.items():
            set_committed_value(approval, key, value)  # what the UPDATE wrote; nothing to flush
        after = {"status": status.value, "reason": reason, "user_id": approval.user_id}
        if approve:
            resident = _activate(approval, estate)
            after.update(resident_id=resident.id, unit=approval.unit.number, user_status="ACTIVE")
        elif approval.user.status == UserStatus.PENDING:
            approval.user.status = UserStatus.DISABLED
            after["user_status"] = "DISABLED"
        audit.record(f"approval.{status.value.lower()}", approval, actor_id=actor_id,
                     before={"status": "PENDING"}, after=after)
        _notify_decision(approval, estate, login_link)
        result.decided.append(approval)
    if result.skipped:
        # The skipped ones keep whatever another admin (or the clock) made of them.
        for approval in result.skipped:
            db.session.expire(approval)
    db.session.commit()
    return result


def decide_one(actor_id: int, estate: Estate, approval_id: int, approve: bool, reason: str,
               login_link: str) -> Approval:
    """One request; an already decided (or expired) one is refused with a clear message."""
    result = decide(actor_id, estate, [approval_id], approve, reason, login_link)
    if result.skipped:
        approval = result.skipped[0]
        if approval.status == ApprovalStatus.PENDING:  # due: the clock decides it now
            expire_due(estate)
            db.session.refresh(approval)
        raise DomainError(
            _l("This request has already been decided (%(status)s). Nothing was changed.",
               status=APPROVAL_STATUS_LABELS[approval.status]),
            code="CONFLICT",
        )
    return result.decided[0]


# --- invitations -----------------------------------------------------------------------


class InvitationStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


def invitation_status(invitation: Invitation, now: datetime | None = None) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return InvitationStatus.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationStatus.REVOKED
    if invitation.expires_at <= (now or utcnow()):
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


@dataclass(frozen=True)
class InvitePowers:
    """Who may invite whom (gatewise rules): admins anyone; a guard supervisor guards
    (not supervisors) and residents; everyone else nobody."""

    roles: tuple[Role, ...]
    may_make_supervisor: bool

    def __bool__(self) -> bool:
        return bool(self.roles)


def invite_powers(access: EstateAccess) -> InvitePowers:
    if access.as_enterprise_admin or Role.ESTATE_ADMIN in access.roles:
        return InvitePowers((Role.ESTATE_ADMIN, Role.GUARD, Role.RESIDENT), True)
    if any(m.role == Role.GUARD and m.is_supervisor for m in access.memberships):
        return InvitePowers((Role.GUARD, Role.RESIDENT), False)
    return InvitePowers((), False)


@dataclass
class InviteData:
    role: Role
    full_name: str
    email: str = ""
    phone: str = ""
    is_supervisor: bool = False
    unit_id: int | None = None
    resident_type: ResidentType | None = None


def _pending_invitation(user_id: int, estate_id: int, role: Role) -> bool:
    return db.session.scalar(sa.select(Invitation.id).where(
        Invitation.user_id == user_id, Invitation.estate_id == estate_id, Invitation.role == role,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow(),
    ).limit(1)) is not None


def _send_invitation(invitation: Invitation, inviter_name: str, link: str) -> None:
    user, estate = invitation.user, invitation.estate
    with force_locale(message_language_in(user, estate)):
        role = str(ROLE_LABELS[invitation.role])
        if user.email:
            messaging.send_email(
                user.email,
                str(_l("You are invited to %(estate)s on Gatehouse", estate=estate.name)),
                str(_l("Hello %(name)s,\n\n%(inviter)s invited you to %(estate)s as %(role)s. Open this link within "
                       "7 days to set your password and sign in:\n%(link)s\n\nThe link works once.",
                       name=user.display_name, inviter=inviter_name, estate=estate.name, role=role, link=link)),
            )
        else:
            messaging.send_sms(
                user.phone,
                str(_l("Gatehouse: %(inviter)s invited you to %(estate)s as %(role)s. Set your password within "
                       "7 days: %(link)s", inviter=inviter_name, estate=estate.name, role=role, link=link)),
            )


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _digest(token)


def create_invitation(actor: User, access: EstateAccess, data: InviteData,
                      link_for: Callable[[str], str]) -> Invitation:
    """Invite a person (a new account, or an existing one by email/phone) to a role."""
    estate = access.estate
    powers = invite_powers(access)
    if data.role not in powers.roles or (data.is_supervisor and not powers.may_make_supervisor):
        raise DomainError(_l("Your role does not allow you to invite this kind of account."),
                          code="FORBIDDEN", http_status=403)
    errors: dict = {}
    full_name = " ".join((data.full_name or "").split())
    if not full_name:
        errors["full_name"] = _l("This field is required.")
    email = _email(data.email)
    phone = _phone(data.phone, estate, errors, "phone")
    if not email and not phone and "phone" not in errors:
        errors["email"] = NEED_CONTACT
    unit = None
    if data.role == Role.RESIDENT:
        if data.unit_id is not None:
            unit = db.session.scalar(sa.select(Unit).where(
                Unit.id == data.unit_id, Unit.estate_id == estate.id, Unit.archived_at.is_(None)))
        if unit is None:
            errors["unit_id"] = _l("Choose the unit from the list.")
        if data.resident_type is None:
            errors["resident_type"] = _l("This field is required.")
    if errors:
        raise FieldErrors(errors)

    by_email = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email)) if email else None
    by_phone = db.session.scalar(sa.select(User).where(User.phone == phone)) if phone else None
    if by_email and by_phone and by_email.id != by_phone.id:
        raise FieldErrors({"phone": _l("This email address and this phone number belong to two different accounts.")},
                          code="CONFLICT", http_status=409)
    user = by_email or by_phone
    contact_field = "email" if by_email else "phone"
    if user is not None:
        if user.status != UserStatus.ACTIVE:
            raise FieldErrors({contact_field: _l(
                "The account with these details is not active, so it cannot be invited.")},
                code="CONFLICT", http_status=409)
        member = db.session.scalar(sa.select(Membership.id).where(
            Membership.user_id == user.id, Membership.estate_id == estate.id, Membership.role == data.role))
        if member is not None:
            raise FieldErrors({contact_field: _l(
                "%(name)s already has this role in this estate.", name=user.display_name)},
                code="CONFLICT", http_status=409)
        if _pending_invitation(user.id, estate.id, data.role):
            raise FieldErrors({contact_field: _l(
                "An invitation for this person and role is already waiting. Resend it from the list instead.")},
                code="CONFLICT", http_status=409)
    if data.role == Role.RESIDENT and phone:
        # Resident phones are unique in an estate; a member of this very unit without a
        # login is fine: accepting the invitation links that household member.
        clash = db.session.scalar(sa.select(Resident.id).where(
            Resident.estate_id == estate.id, Resident.move_out_date.is_(None), Resident.phone == phone,
            sa.not_(sa.and_(Resident.user_id.is_(None), Resident.unit_id == unit.id)),
            *([Resident.user_id != user.id] if user is not None else []),
        ).limit(1))
        if clash is not None:
            raise FieldErrors({"phone": _l("A resident of this estate is already registered with this phone number.")},
                              code="CONFLICT", http_status=409)

    try:
        if user is None:
            user = User(full_name=full_name, email=email, phone=phone, status=UserStatus.ACTIVE)
            db.session.add(user)
            db.session.flush()
            audit.record("user.created", user, actor_id=actor.id, estate_id=estate.id,
                         after={"full_name": full_name, "email": email, "phone": phone, "via": "invitation"})
        token, token_hash = _new_token()
        invitation = Invitation(
            estate_id=estate.id, user_id=user.id, role=data.role,
            is_supervisor=data.role == Role.GUARD and data.is_supervisor,
            unit_id=unit.id if unit else None,
            resident_type=data.resident_type if data.role == Role.RESIDENT else None,
            token_hash=token_hash, expires_at=utcnow() + INVITATION_TTL, invited_by_id=actor.id,
        )
        db.session.add(invitation)
        db.session.flush()
        audit.record("invitation.created", invitation, actor_id=actor.id, after={
            "user_id": user.id, "role": data.role.value, "is_supervisor": invitation.is_supervisor,
            "unit": unit.number if unit else None,
            "resident_type": invitation.resident_type.value if invitation.resident_type else None,
            "email": user.email, "phone": user.phone,
        })
        _send_invitation(invitation, actor.display_name, link_for(token))
        db.session.commit()
    except IntegrityError as exc:  # the same person invited twice at the same moment
        db.session.rollback()
        raise FieldErrors({"email": _l("These details were just used by another account. Please check them.")},
                          code="CONFLICT", http_status=409) from exc
    return invitation


@dataclass(frozen=True)
class InvitationFilters:
    q: str = ""
    status: str = ""  # PENDING | ACCEPTED | EXPIRED | REVOKED | "" (all)


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    status: InvitationStatus


def list_invitations(estate: Estate, filters: InvitationFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the estate's invitations with their people and units (two queries)."""
    now = utcnow()
    stmt = (
        sa.select(Invitation)
        .join(User, User.id == Invitation.user_id)
        .where(Invitation.estate_id == estate.id)
        .options(joinedload(Invitation.user), joinedload(Invitation.unit))
    )
    open_ = sa.and_(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    if filters.status == InvitationStatus.PENDING:
        stmt = stmt.where(open_, Invitation.expires_at > now)
    elif filters.status == InvitationStatus.EXPIRED:
        stmt = stmt.where(open_, Invitation.expires_at <= now)
    elif filters.status == InvitationStatus.ACCEPTED:
        stmt = stmt.where(Invitation.accepted_at.is_not(None))
    elif filters.status == InvitationStatus.REVOKED:
        stmt = stmt.where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_not(None))
    q = filters.q.strip().lower()
    if q:
        digits = phone_digits(q)
        stmt = stmt.where(sa.or_(
            sa.func.lower(User.full_name).like(f"%{q}%"),
            sa.func.lower(User.email).like(f"%{q}%"),
            *([User.phone.like(f"%{digits}%")] if digits else []),
        ))
    stmt = stmt.order_by(Invitation.created_at.desc(), Invitation.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    pagination.items = [InvitationRow(i, invitation_status(i, now)) for i in pagination.items]
    return pagination


def get_invitation(estate: Estate, invitation_id: int) -> Invitation:
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.id == invitation_id, Invitation.estate_id == estate.id)
        .options(joinedload(Invitation.user), joinedload(Invitation.estate))
    )
    if invitation is None:
        abort(404)
    return invitation


CLOSED = _l("This invitation has already been accepted or revoked. Nothing was changed.")


def resend_invitation(actor: User, estate: Estate, invitation_id: int, link_for: Callable[[str], str]) -> Invitation:
    """A new link (the old one stops working), valid 7 days from now."""
    invitation = get_invitation(estate, invitation_id)
    token, token_hash = _new_token()
    expires_at = utcnow() + INVITATION_TTL
    renewed = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(token_hash=token_hash, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not renewed:
        db.session.rollback()
        raise DomainError(CLOSED, code="CONFLICT")
    set_committed_value(invitation, "token_hash", token_hash)
    set_committed_value(invitation, "expires_at", expires_at)
    audit.record("invitation.resent", invitation, actor_id=actor.id, after={"expires_at": expires_at.isoformat()})
    _send_invitation(invitation, actor.display_name, link_for(token))
    db.session.commit()
    return invitation


def revoke_invitation(actor: User, estate: Estate, invitation_id: int) -> Invitation:
    invitation = get_invitation(estate, invitation_id)
    revoked = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not revoked:
        db.session.rollback()
        raise DomainError(CLOSED, code="CONFLICT")
    audit.record("invitation.revoked", invitation, actor_id=actor.id)
    db.session.commit()
    db.session.refresh(invitation)
    return invitation


def check_invitation(token: str) -> Invitation:
    """The invitation of a link that may still be used, or a DomainError (404 / 410)."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == _digest(token))
        .options(joinedload(Invitation.user), joinedload(Invitation.estate), joinedload(Invitation.unit))
    )
    if invitation is None:
        raise DomainError(_l("This invitation link is not valid. Check that you opened the whole link."),
                          code="INVITATION_INVALID", http_status=404)
    status = invitation_status(invitation)
    if status == InvitationStatus.ACCEPTED:
        raise DomainError(_l("This invitation has already been used. Sign in with your password instead."),
                          code="INVITATION_USED", http_status=410)
    if status == InvitationStatus.REVOKED:
        raise DomainError(_l("This invitation has been withdrawn. Ask the estate's admin for a new one."),
                          code="INVITATION_REVOKED", http_status=410)
    if status == InvitationStatus.EXPIRED:
        raise DomainError(_l("This invitation has expired. Ask the estate's admin to send it again."),
                          code="INVITATION_EXPIRED", http_status=410)
    if not invitation.estate.is_open:
        raise DomainError(_l("This estate is not open at the moment. Please try again later."),
                          code="ESTATE_UNAVAILABLE", http_status=410)
    return invitation


def _resident_for(invitation: Invitation, user: User, estate: Estate) -> Resident:
    """Link the unit's household member without a login who has this phone or email,
    else add a new Resident row."""
    contact = []
    if user.phone:
        contact.append(Resident.phone == user.phone)
    if user.email:
        contact.append(sa.func.lower(Resident.email) == user.email.lower())
    resident = db.session.scalar(sa.select(Resident).where(
        Resident.estate_id == estate.id, Resident.unit_id == invitation.unit_id, Resident.user_id.is_(None),
        Resident.move_out_date.is_(None), sa.or_(*contact),
    ).limit(1))
    if resident is not None:
        resident.user_id = user.id
        return resident
    resident = Resident(
        estate_id=estate.id, unit_id=invitation.unit_id, user_id=user.id, full_name=user.full_name,
        phone=user.phone, email=user.email, resident_type=invitation.resident_type or ResidentType.OWNER,
        move_in_date=estate_today(estate),
    )
    db.session.add(resident)
    return resident


def accept_invitation(token: str, password: str) -> User:
    """Use the link once: a new account sets its password, an existing one confirms its
    current password; then the membership (and Resident row) is made."""
    invitation = check_invitation(token)
    user, estate = invitation.user, invitation.estate
    if user.status != UserStatus.ACTIVE:
        raise DomainError(STATUS_REFUSALS[user.status], code=f"ACCOUNT_{user.status.value}", http_status=403)
    new_account = user.password_hash is None
    if new_account:
        if len(password or "") < MIN_PASSWORD_LENGTH:
            raise FieldErrors({"password": _l("The password must have at least %(n)d characters.",
                                              n=MIN_PASSWORD_LENGTH)})
    elif not check_password(user, password):
        raise FieldErrors({"password": _l("Your current password is not correct.")})
    used = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not used:
        db.session.rollback()
        raise DomainError(_l("This invitation has already been used. Sign in with your password instead."),
                          code="INVITATION_USED", http_status=410)
    if new_account:
        user.password_hash = hash_password(password)
    membership = db.session.scalar(sa.select(Membership).where(
        Membership.user_id == user.id, Membership.estate_id == estate.id, Membership.role == invitation.role))
    if membership is None:
        membership = Membership(user_id=user.id, estate_id=estate.id, role=invitation.role)
        db.session.add(membership)
    if invitation.is_supervisor:
        membership.is_supervisor = True
    after = {"role": invitation.role.value, "is_supervisor": membership.is_supervisor, "new_account": new_account}
    if invitation.role == Role.RESIDENT:
        resident = _resident_for(invitation, user, estate)
        db.session.flush()
        after.update(resident_id=resident.id, unit_id=invitation.unit_id)
    db.session.flush()
    audit.record("invitation.accepted", invitation, actor_id=user.id, after={**after, "membership_id": membership.id})
    db.session.commit()
    return user


def invited_has_password(invitation: Invitation) -> bool:
    return invitation.user.password_hash is not None
