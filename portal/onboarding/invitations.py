"""Invitations: admins invite admins, guards and residents; a guard supervisor invites
guards and residents (never supervisors); plain guards invite nobody. The link is
single use, valid 7 days, and only its sha256 is stored."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal import audit, links
from portal.accounts.signin import (
    MIN_PASSWORD_LENGTH,
    STATUS_REFUSALS,
    check_password,
    hash_password,
)
from portal.errors import Conflict, DomainError, FieldErrors, Forbidden, NotFound
from portal.estates.access import EstateAccess
from portal.extensions import db
from portal.integrations import messaging
from portal.labels import ROLE_LABELS
from portal.models import (
    Estate,
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
from portal.onboarding.contact import (
    INVITATION_TTL,
    _digest,
    estate_today,
    name_and_contact,
)
from portal.phones import phone_digits
from portal.text import like_pattern

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


def _same_contact(model, email: str | None, phone: str | None):
    """model.email is `email` or model.phone is `phone` (an SQL condition)."""
    return sa.or_(*([sa.func.lower(model.email) == email] if email else []),
                  *([model.phone == phone] if phone else []))


def _pending_invitation(estate_id: int, role: Role, email: str | None, phone: str | None) -> bool:
    return db.session.scalar(sa.select(Invitation.id).where(
        Invitation.estate_id == estate_id, Invitation.role == role, _same_contact(Invitation, email, phone),
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow(),
    ).limit(1)) is not None


def _member_already(estate_id: int, role: Role, email: str | None, phone: str | None) -> bool:
    """Someone with this email or phone already has this role in this estate (what the
    estate's own member list shows; nothing about accounts elsewhere)."""
    return db.session.scalar(sa.select(Membership.id).join(User, User.id == Membership.user_id).where(
        Membership.estate_id == estate_id, Membership.role == role, _same_contact(User, email, phone),
    ).limit(1)) is not None


def _send_invitation(invitation: Invitation, inviter_name: str, link: str) -> None:
    """To the address (else the phone) the inviter typed, in the estate's language."""
    estate = invitation.estate
    name = invitation.full_name
    language = estate.default_language
    about = {"estate": estate, "language": language, "reason": "invitation"}
    with force_locale(language):
        role = str(ROLE_LABELS[invitation.role])
        if invitation.email:
            messaging.send_email(
                invitation.email,
                str(_l("You are invited to %(estate)s on Gatehouse", estate=estate.name)),
                str(_l("Hello %(name)s,\n\n%(inviter)s invited you to %(estate)s as %(role)s. Open this link within "
                       "7 days to set your password and sign in:\n%(link)s\n\nThe link works once.",
                       name=name, inviter=inviter_name, estate=estate.name, role=role, link=link)),
                **about,
            )
        else:
            messaging.send_sms(
                invitation.phone,
                str(_l("Gatehouse: %(inviter)s invited you to %(estate)s as %(role)s. Set your password within "
                       "7 days: %(link)s", inviter=inviter_name, estate=estate.name, role=role, link=link)),
                **about,
            )


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _digest(token)


def create_invitation(actor: User, access: EstateAccess, data: InviteData) -> Invitation:
    """Invite a person, by the name and email or phone typed, to a role. The answer is
    the same whether or not (and in whatever state) an account uses these details."""
    estate = access.estate
    powers = invite_powers(access)
    if data.role not in powers.roles or (data.is_supervisor and not powers.may_make_supervisor):
        raise Forbidden(_l("Your role does not allow you to invite this kind of account."))
    errors: dict = {}
    full_name, email, phone = name_and_contact(data.full_name, data.email, data.phone, estate, errors)
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

    # Only this estate is looked at: whether an account elsewhere has these details (and in
    # what state) is never told; the person proves they own them by accepting the link.
    if _member_already(estate.id, data.role, email, phone):
        raise FieldErrors({"email" if email else "phone": _l(
            "Someone with these details already has this role in this estate.")}, code="CONFLICT", http_status=409)
    if _pending_invitation(estate.id, data.role, email, phone):
        raise FieldErrors({"email" if email else "phone": _l(
            "An invitation for this person and role is already waiting. Resend it from the list instead.")},
            code="CONFLICT", http_status=409)
    if data.role == Role.RESIDENT and phone:
        # Resident phones are unique in an estate; a member of this very unit without a
        # login is fine: accepting the invitation links that household member.
        clash = db.session.scalar(sa.select(Resident.id).where(
            Resident.estate_id == estate.id, Resident.move_out_date.is_(None), Resident.phone == phone,
            sa.not_(sa.and_(Resident.user_id.is_(None), Resident.unit_id == unit.id)),
        ).limit(1))
        if clash is not None:
            raise FieldErrors({"phone": _l("A resident of this estate is already registered with this phone number.")},
                              code="CONFLICT", http_status=409)

    token, token_hash = _new_token()
    invitation = Invitation(
        estate_id=estate.id, full_name=full_name, email=email, phone=phone, role=data.role,
        is_supervisor=data.role == Role.GUARD and data.is_supervisor,
        unit_id=unit.id if unit else None,
        resident_type=data.resident_type if data.role == Role.RESIDENT else None,
        token_hash=token_hash, expires_at=utcnow() + INVITATION_TTL, invited_by_id=actor.id,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("invitation.created", invitation, actor_id=actor.id, after={
        "full_name": full_name, "role": data.role.value, "is_supervisor": invitation.is_supervisor,
        "unit": unit.number if unit else None,
        "resident_type": invitation.resident_type.value if invitation.resident_type else None,
        "email": email, "phone": phone,
    })
    _send_invitation(invitation, actor.display_name, links.invitation(token))
    db.session.commit()
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
    """One page of the estate's invitations (as the inviter typed them) with their units."""
    now = utcnow()
    stmt = (
        sa.select(Invitation)
        .where(Invitation.estate_id == estate.id)
        .options(joinedload(Invitation.unit))
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
        like = like_pattern(q)
        stmt = stmt.where(sa.or_(
            sa.func.lower(Invitation.full_name).like(like, escape="\\"),
            sa.func.lower(Invitation.email).like(like, escape="\\"),
            *([Invitation.phone.like(like_pattern(digits), escape="\\")] if digits else []),
        ))
    stmt = stmt.order_by(Invitation.created_at.desc(), Invitation.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    pagination.items = [InvitationRow(i, invitation_status(i, now)) for i in pagination.items]
    return pagination


def get_invitation(estate: Estate, invitation_id: int) -> Invitation:
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.id == invitation_id, Invitation.estate_id == estate.id)
        .options(joinedload(Invitation.estate))
    )
    if invitation is None:
        raise NotFound()
    return invitation


CLOSED = _l("This invitation has already been accepted or revoked. Nothing was changed.")


def resend_invitation(actor: User, estate: Estate, invitation_id: int) -> Invitation:
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
        raise Conflict(CLOSED)
    set_committed_value(invitation, "token_hash", token_hash)
    set_committed_value(invitation, "expires_at", expires_at)
    audit.record("invitation.resent", invitation, actor_id=actor.id, after={"expires_at": expires_at.isoformat()})
    _send_invitation(invitation, actor.display_name, links.invitation(token))
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
        raise Conflict(CLOSED)
    audit.record("invitation.revoked", invitation, actor_id=actor.id)
    db.session.commit()
    db.session.refresh(invitation)
    return invitation


def check_invitation(token: str) -> Invitation:
    """The invitation of a link that may still be used, or a DomainError (404 / 410)."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == _digest(token))
        .options(joinedload(Invitation.estate), joinedload(Invitation.unit))
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


def invited_account(invitation: Invitation) -> User | None:
    """The account of the address the link was sent to (the email if one was typed, else
    the phone): whoever holds the link owns that address. None: a new account."""
    if invitation.user_id is not None:
        return invitation.user
    if invitation.email:
        return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == invitation.email.lower()))
    return db.session.scalar(sa.select(User).where(User.phone == invitation.phone))


def _new_account(invitation: Invitation) -> User:
    """An account with what the inviter typed; the phone only if no other account has it."""
    phone = invitation.phone if invitation.email is None else None
    if invitation.email and invitation.phone and db.session.scalar(
            sa.select(User.id).where(User.phone == invitation.phone)) is None:
        phone = invitation.phone
    user = User(full_name=invitation.full_name, email=invitation.email, phone=phone, status=UserStatus.ACTIVE)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", user, actor_id=invitation.invited_by_id, estate_id=invitation.estate_id,
                 after={"full_name": user.full_name, "email": user.email, "phone": user.phone, "via": "invitation"})
    return user


def accept_invitation(token: str, password: str) -> User:
    """Use the link once. The link reached the address (or phone) it was sent to, so its
    holder owns it: with no account there, one is made with the password chosen; an
    existing account confirms its current password. Then the membership (and Resident
    row) is made."""
    invitation = check_invitation(token)
    estate = invitation.estate
    user = invited_account(invitation)
    if user is not None and user.status != UserStatus.ACTIVE:
        raise DomainError(STATUS_REFUSALS[user.status], code=f"ACCOUNT_{user.status.value}", http_status=403)
    new_account = user is None or user.password_hash is None
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
    try:
        if user is None:
            user = _new_account(invitation)
        if new_account:
            user.password_hash = hash_password(password)
        invitation.user_id = user.id
        membership = db.session.scalar(sa.select(Membership).where(
            Membership.user_id == user.id, Membership.estate_id == estate.id, Membership.role == invitation.role))
        if membership is None:
            membership = Membership(user_id=user.id, estate_id=estate.id, role=invitation.role)
            db.session.add(membership)
        if invitation.is_supervisor:
            membership.is_supervisor = True
        after = {"role": invitation.role.value, "is_supervisor": membership.is_supervisor,
                 "new_account": new_account, "user_id": user.id}
        if invitation.role == Role.RESIDENT:
            resident = _resident_for(invitation, user, estate)
            db.session.flush()
            after.update(resident_id=resident.id, unit_id=invitation.unit_id)
        db.session.flush()
        audit.record("invitation.accepted", invitation, actor_id=user.id,
                     after={**after, "membership_id": membership.id})
        db.session.commit()
    except IntegrityError as exc:  # the same details taken by another account at the same moment
        db.session.rollback()
        raise DomainError(_l("These details were just used by another account. Ask for a new invitation."),
                          code="CONFLICT", http_status=409) from exc
    return user


def invited_has_password(invitation: Invitation) -> bool:
    user = invited_account(invitation)
    return user is not None and user.password_hash is not None
