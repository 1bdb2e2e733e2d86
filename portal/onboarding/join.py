"""Joining an estate: its public join page and short join code, and the sign-up that makes
a PENDING user and a PENDING approval (30 days) for an estate admin to decide."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.accounts.signin import (
    MIN_PASSWORD_LENGTH,
    hash_password,
)
from portal.errors import DomainError, FieldErrors, NotFound
from portal.extensions import db
from portal.integrations import messaging
from portal.models import (
    Approval,
    ApprovalStatus,
    Estate,
    EstateStatus,
    Resident,
    ResidentType,
    Unit,
    User,
    UserStatus,
    utcnow,
)
from portal.onboarding.contact import (
    APPROVAL_TTL,
    JOIN_CODE_ALPHABET,
    JOIN_CODE_ATTEMPTS,
    JOIN_CODE_LENGTH,
    _phone,
    message_language_in,
    name_and_contact,
)

# --- estates and join codes ----------------------------------------------------------


def open_estate(slug: str) -> Estate:
    """An ACTIVE estate by slug, or 404 (unknown, pending and suspended estates alike)."""
    estate = db.session.scalar(
        sa.select(Estate).where(Estate.slug == slug, Estate.status == EstateStatus.ACTIVE)
    )
    if estate is None:
        raise NotFound()
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


def ensure_join_code(actor: User | None, estate: Estate) -> str:
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
        audit.record("estate.join_code_assigned", estate, actor_id=actor.id if actor else None,
                     estate_id=estate.id, after={"join_code": code})
        db.session.commit()
        db.session.refresh(estate)
        return estate.join_code
    raise DomainError(_l("No free join code was found. Please try again."))


def join_units(estate: Estate) -> list[Unit]:
    """The units a newcomer may choose: this estate's, not archived, in natural order."""
    return list(db.session.scalars(
        sa.select(Unit)
        .where(Unit.estate_id == estate.id, Unit.archived_at.is_(None))
        .order_by(Unit.block, Unit.sort_key)
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


def _accounts_with(email: str | None, phone: str | None) -> list[tuple[User, str]]:
    """The accounts that already use this email or phone, each with the field it matched."""
    conditions = []
    if email:
        conditions.append(sa.func.lower(User.email) == email)
    if phone:
        conditions.append(User.phone == phone)
    if not conditions:
        return []
    return [(user, "email" if email and user.email and user.email.lower() == email else "phone")
            for user in db.session.scalars(sa.select(User).where(sa.or_(*conditions)).order_by(User.id))]


def _tell_owner(estate: Estate, user: User, field: str) -> None:
    """Someone asked to join with an address or phone that has an account: the page
    answers as for a new one (it reveals nothing), and the owner is told here."""
    with force_locale(message_language_in(user, estate)):
        if field == "email":
            messaging.send_email(user.email, str(_l("Someone asked to join %(estate)s with your email address",
                                                    estate=estate.name)), str(_l(
                "Hello %(name)s,\n\nSomeone asked to join %(estate)s on Gatehouse with this email address, which "
                "already has a Gatehouse account, so no request was made. If it was you, sign in (or choose a new "
                "password with \"Forgot your password?\"), or ask the estate's admin to invite you. If it was not "
                "you, you can ignore this message.", name=user.display_name, estate=estate.name)))
        else:
            messaging.send_sms(user.phone, str(_l(
                "Gatehouse: someone asked to join %(estate)s with this phone number, which already has an account. "
                "No request was made. If it was you, sign in or ask the estate's admin to invite you.",
                estate=estate.name)))
    audit.record("approval.existing_account", user, actor_id=None, estate_id=estate.id, after={"field": field})


def _contact_conflicts(estate: Estate, email: str | None, phone: str | None) -> dict:
    """Messages for an email or phone used by a current resident of this estate (accounts
    are not named here: see request_to_join)."""
    errors: dict = {}
    if not email and not phone:
        return errors
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


def request_to_join(estate: Estate, data: JoinData) -> Approval | None:
    """A PENDING user and a PENDING approval (30 days). Nothing is written on refusal.
    If the email or phone already has an account (of any status), no request is made and
    None is returned: the caller answers exactly as for a new request, and the owner is
    told by message."""
    if not estate.is_open:
        raise NotFound(_l("This estate is not taking sign-ups."))
    errors: dict = {}
    full_name, email, phone = name_and_contact(data.full_name, data.email, data.phone, estate, errors)
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
    password_hash = hash_password(data.password)  # also when unused below: the same work, the same time
    existing = _accounts_with(email, phone)
    if existing:
        for user, field in existing:
            _tell_owner(estate, user, field)
        db.session.commit()
        return None
    now = utcnow()
    try:
        user = User(full_name=full_name, email=email, phone=phone, password_hash=password_hash,
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
