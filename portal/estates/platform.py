"""The enterprise console: the estates of the platform with their counts, creating an
estate together with its first admin, suspending and reactivating an estate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from babel import Locale
from babel.core import get_global
from babel.languages import get_official_languages
from babel.numbers import get_territory_currencies, is_currency
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.errors import DomainError, FieldErrors, Forbidden, InvalidValue, NotFound
from portal.estates.access import EstateAccess
from portal.extensions import db
from portal.models import (
    Approval,
    ApprovalStatus,
    Estate,
    EstateStatus,
    Invitation,
    Membership,
    Resident,
    Role,
    Unit,
    User,
    utcnow,
)
from portal.onboarding.invitations import (
    InvitationStatus,
    InviteData,
    create_invitation,
    invitation_status,
    resend_invitation,
    revoke_invitation,
)
from portal.phones import InvalidPhone, normalise_phone
from portal.text import like_pattern

COMMON_TIMEZONES = (
    "Africa/Lagos", "Africa/Accra", "Africa/Abidjan", "Africa/Nairobi", "Africa/Johannesburg", "Africa/Cairo",
    "Africa/Casablanca", "America/Guatemala", "America/El_Salvador", "America/Tegucigalpa", "America/Managua",
    "America/Costa_Rica", "America/Panama", "America/Mexico_City", "America/Bogota", "America/Lima",
    "America/Santiago", "America/Argentina/Buenos_Aires", "America/Sao_Paulo", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London", "Europe/Madrid", "Asia/Dubai",
    "UTC",
)
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
RESERVED_SLUGS = {"admin", "api", "enterprise", "login", "logout", "static", "new"}


# --- the list of estates ---------------------------------------------------------


@dataclass(frozen=True)
class EstateFilters:
    q: str = ""
    status: str = ""

    @property
    def any(self) -> bool:
        return bool(self.q.strip() or self.status)


@dataclass(frozen=True)
class EstateRow:
    estate: Estate
    units: int
    residents: int
    pending_approvals: int
    admins: int
    # The newest admin invitation still open (pending or expired; not accepted or revoked),
    # for an estate that has no admin yet.
    admin_invitation: Invitation | None = None

    @property
    def invitation_status(self) -> InvitationStatus | None:
        return invitation_status(self.admin_invitation) if self.admin_invitation else None


def list_estates(filters: EstateFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of estates with their counts (three queries whatever the page size)."""
    stmt = sa.select(Estate)
    if filters.status in EstateStatus.__members__:
        stmt = stmt.where(Estate.status == EstateStatus(filters.status))
    if filters.q.strip():
        like = like_pattern(filters.q)
        stmt = stmt.where(sa.or_(sa.func.lower(Estate.name).like(like, escape="\\"),
                                 sa.func.lower(Estate.slug).like(like, escape="\\"),
                                 sa.func.lower(Estate.city).like(like, escape="\\")))
    pagination = db.paginate(stmt.order_by(Estate.name, Estate.id), page=page, per_page=per_page,
                             error_out=False, max_per_page=100)
    estates = list(pagination.items)
    counts = _counts([e.id for e in estates]) if estates else {}
    invitations = _open_admin_invitations([e.id for e in estates]) if estates else {}
    pagination.items = [EstateRow(e, *counts.get(e.id, (0, 0, 0, 0)), admin_invitation=invitations.get(e.id))
                        for e in estates]
    return pagination


def _open_admin_invitations(estate_ids: list[int]) -> dict[int, Invitation]:
    """The newest open admin invitation of each estate (one query)."""
    rows = db.session.scalars(
        sa.select(Invitation).where(Invitation.estate_id.in_(estate_ids), Invitation.role == Role.ESTATE_ADMIN,
                                    Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    newest: dict[int, Invitation] = {}
    for invitation in rows:
        newest.setdefault(invitation.estate_id, invitation)
    return newest


@dataclass(frozen=True)
class EstateDetail:
    row: EstateRow
    admins: list[User]
    invitations: list[tuple[Invitation, InvitationStatus]]  # its admin invitations, newest first


def estate_detail(estate_id: int) -> EstateDetail:
    """One estate for the enterprise console: its counts, admins and admin invitations
    (four queries)."""
    estate = get_estate(estate_id)
    counts = _counts([estate.id]).get(estate.id, (0, 0, 0, 0))
    admins = list(db.session.scalars(
        sa.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.estate_id == estate.id, Membership.role == Role.ESTATE_ADMIN)
        .order_by(sa.func.lower(User.full_name), User.id)
    ))
    invitations = list(db.session.scalars(
        sa.select(Invitation).where(Invitation.estate_id == estate.id, Invitation.role == Role.ESTATE_ADMIN)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(20)
    ))
    now = utcnow()
    open_ = next((i for i in invitations if i.accepted_at is None and i.revoked_at is None), None)
    return EstateDetail(EstateRow(estate, *counts, admin_invitation=open_), admins,
                        [(i, invitation_status(i, now)) for i in invitations])


def _enterprise_only(actor: User) -> None:
    if not actor.is_enterprise_admin:
        raise Forbidden(_l("Only enterprise admins may manage the estates of the platform."))


def invite_admin(actor: User, estate_id: int, full_name: str, email: str, phone: str = "") -> Invitation:
    """Invite another admin to an estate (its first, when the first invitation lapsed)."""
    _enterprise_only(actor)
    estate = get_estate(estate_id)
    return create_invitation(actor, EstateAccess(estate, (), as_enterprise_admin=True, user=actor),
                             InviteData(role=Role.ESTATE_ADMIN, full_name=full_name, email=email, phone=phone))


def resend_admin_invitation(actor: User, estate_id: int, invitation_id: int) -> Invitation:
    _enterprise_only(actor)
    return resend_invitation(actor, get_estate(estate_id), invitation_id)


def revoke_admin_invitation(actor: User, estate_id: int, invitation_id: int) -> Invitation:
    _enterprise_only(actor)
    return revoke_invitation(actor, get_estate(estate_id), invitation_id)


def _counts(estate_ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    def correlated(stmt):
        return stmt.correlate(Estate).scalar_subquery()

    units = correlated(sa.select(sa.func.count(Unit.id)).where(Unit.estate_id == Estate.id,
                                                               Unit.archived_at.is_(None)))
    residents = correlated(sa.select(sa.func.count(Resident.id)).where(
        Resident.estate_id == Estate.id, Resident.move_out_date.is_(None)))
    pending = correlated(sa.select(sa.func.count(Approval.id)).where(
        Approval.estate_id == Estate.id, Approval.status == ApprovalStatus.PENDING, Approval.expires_at > utcnow()))
    admins = correlated(sa.select(sa.func.count(Membership.id)).where(
        Membership.estate_id == Estate.id, Membership.role == Role.ESTATE_ADMIN))
    rows = db.session.execute(sa.select(Estate.id, units, residents, pending, admins).where(Estate.id.in_(estate_ids)))
    return {row[0]: tuple(row[1:]) for row in rows}


def get_estate(estate_id: int) -> Estate:
    estate = db.session.get(Estate, estate_id)
    if estate is None:
        raise NotFound()
    return estate


# --- creating an estate with its first admin ------------------------------------


@dataclass
class EstateData:
    slug: str
    name: str
    address: str
    city: str
    country: str
    timezone: str
    currency: str
    default_language: str
    brand_color: str
    admin_name: str
    admin_email: str
    admin_phone: str | None = None


@dataclass
class CreatedEstate:
    estate: Estate
    invitation: Invitation


def country_choices(locale: str) -> list[tuple[str, str]]:
    """Every country (ISO 3166 alpha-2) with its name in `locale`, by name."""
    territories = Locale.parse(locale).territories
    return sorted(((code, name) for code, name in territories.items() if len(code) == 2 and code.isalpha()
                   and code not in {"ZZ", "XA", "XB", "EU", "EZ", "UN", "QO"}), key=lambda c: c[1])


def all_timezones() -> list[str]:
    """Every zone some country uses, and the common ones, by name."""
    zones = {zone for country_zones in get_global("territory_zones").values() for zone in country_zones}
    return sorted(zones | set(COMMON_TIMEZONES))


def country_defaults(country: str) -> tuple[str, str, str]:
    """What an estate in `country` most likely uses: (time zone, currency, language), from
    CLDR (Babel): its zone (a common one when it has several: America/New_York for the US),
    its current currency, and Spanish where Spanish is an official language, else English."""
    zones = list(get_global("territory_zones").get(country, ()))
    common = [z for z in COMMON_TIMEZONES if z in zones]
    zone = (common or zones or ["UTC"])[0]
    currencies = get_territory_currencies(country, tender=True)
    language = "es" if "es" in get_official_languages(country, de_facto=True) else "en"
    return zone, (currencies[0] if currencies else ""), language


def country_defaults_table() -> dict[str, tuple[str, str, str]]:
    """country_defaults for every country (the "Add an estate" form suggests from it)."""
    return {code: country_defaults(code) for code, _name in country_choices("en")}


def _validate(data: EstateData) -> EstateData:
    data.slug = data.slug.strip().lower()
    data.name = data.name.strip()
    data.currency = data.currency.strip().upper()
    data.country = data.country.strip().upper()
    data.brand_color = data.brand_color.strip().lower()
    data.admin_name = data.admin_name.strip()
    data.admin_email = data.admin_email.strip()
    if not SLUG.match(data.slug) or data.slug in RESERVED_SLUGS:
        raise InvalidValue("slug", _l("Use 1 to 60 lower-case letters, digits and hyphens, for example green-park."))
    if not data.name:
        raise InvalidValue("name", _l("This field is required."))
    if data.country not in dict(country_choices("en")):
        raise InvalidValue("country", _l("Choose a country from the list."))
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidValue("timezone", _l("Choose a time zone from the list.")) from exc
    if not re.fullmatch(r"[A-Z]{3}", data.currency) or not is_currency(data.currency):
        raise InvalidValue("currency", _l("Enter a currency code of three letters (ISO 4217), for example NGN or GTQ."))
    if data.default_language not in current_app.config["LANGUAGES"]:
        raise InvalidValue("default_language", _l("Choose one of the languages offered."))
    if not COLOUR.match(data.brand_color):
        raise InvalidValue("brand_color", _l("Enter a colour as #rrggbb, for example #1e6b52."))
    if not data.admin_name:
        raise InvalidValue("admin_name", _l("This field is required."))
    if not data.admin_email:
        raise InvalidValue("admin_email", _l("This field is required."))
    if data.admin_phone and data.admin_phone.strip():
        try:
            data.admin_phone = normalise_phone(data.admin_phone, data.country)
        except InvalidPhone as exc:
            raise InvalidValue("admin_phone", _l("Enter a valid phone number, for example +234 800 000 0201.")) from exc
    else:
        data.admin_phone = None
    return data


SLUG_TAKEN = _l("The address %(slug)s is already used by another estate.")


def _estate_snapshot(estate: Estate) -> dict:
    return {"slug": estate.slug, "name": estate.name, "address": estate.address, "city": estate.city,
            "country": estate.country, "timezone": estate.timezone, "currency": estate.currency,
            "default_language": estate.default_language, "brand_color": estate.brand_color,
            "status": estate.status.value}


_ADMIN_FIELDS = {"full_name": "admin_name", "email": "admin_email", "phone": "admin_phone"}


def create_estate(actor: User, data: EstateData) -> CreatedEstate:
    """A new ACTIVE estate and the invitation of its first admin, in one transaction.
    The admin (a new account, or an existing one with that email or phone) gets the
    onboarding invitation link (single use, 7 days) to set their password or confirm
    it; the admin membership is made when they accept."""
    if not actor.is_enterprise_admin:
        raise Forbidden(_l("Only enterprise admins may create estates."))
    data = _validate(data)
    if db.session.scalar(sa.select(Estate.id).where(Estate.slug == data.slug)) is not None:
        raise InvalidValue("slug", SLUG_TAKEN % {"slug": data.slug})
    estate = Estate(slug=data.slug, name=data.name, address=data.address.strip(), city=data.city.strip(),
                    country=data.country, timezone=data.timezone, currency=data.currency,
                    default_language=data.default_language, brand_color=data.brand_color,
                    status=EstateStatus.ACTIVE)
    db.session.add(estate)
    try:
        db.session.flush()
    except IntegrityError as exc:  # the same address taken at the same moment
        db.session.rollback()
        raise InvalidValue("slug", SLUG_TAKEN % {"slug": data.slug}) from exc
    audit.record("estate.created", estate, actor_id=actor.id, estate_id=estate.id, after=_estate_snapshot(estate))
    invite = InviteData(role=Role.ESTATE_ADMIN, full_name=data.admin_name, email=data.admin_email,
                        phone=data.admin_phone or "")
    try:
        # Commits the estate, its audit row and the invitation together.
        invitation = create_invitation(actor, EstateAccess(estate, (), as_enterprise_admin=True, user=actor), invite)
    except FieldErrors as exc:
        db.session.rollback()
        field, message = next(iter(exc.errors.items()))
        raise InvalidValue(_ADMIN_FIELDS.get(field, "admin_email"), message) from exc
    except DomainError:
        db.session.rollback()
        raise
    return CreatedEstate(estate, invitation)


# --- suspend / reactivate ---------------------------------------------------------


def set_estate_status(actor: User, estate_id: int, status: EstateStatus) -> Estate:
    """Suspend (members then see the “not available” page) or reactivate an estate."""
    if not actor.is_enterprise_admin:
        raise Forbidden(_l("Only enterprise admins may suspend or reactivate estates."))
    estate = get_estate(estate_id)
    if estate.status == status:
        return estate
    if status == EstateStatus.SUSPENDED and estate.status != EstateStatus.ACTIVE:
        raise DomainError(_l("Only active estates can be suspended."))
    before = estate.status
    # Conditional update: two enterprise admins acting at once change it once.
    changed = db.session.execute(
        sa.update(Estate).where(Estate.id == estate.id, Estate.status == before).values(status=status)
    ).rowcount
    if not changed:
        db.session.rollback()
        return get_estate(estate_id)
    action = "estate.suspended" if status == EstateStatus.SUSPENDED else "estate.reactivated"
    audit.record(action, estate, actor_id=actor.id, estate_id=estate.id, before={"status": before.value},
                 after={"status": status.value})
    db.session.commit()
    db.session.refresh(estate)
    return estate
