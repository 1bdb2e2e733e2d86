"""Phone-keyed bans: the estate-wide list kept by admins and guard supervisors, and the
one query that tells whether a visitor is banned (used by the gate, and available to
the invitation form).

A ban is active while it is not lifted and not expired. ESTATE bans refuse everyone's
visitors; PERSONAL bans refuse only their owner's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination

from portal import audit
from portal.errors import Forbidden, InvalidValue, NotFound
from portal.estates.access import EstateAccess
from portal.extensions import db
from portal.models import Ban, BanScope, Estate, User, Visit, VisitGuest, utcnow
from portal.phones import InvalidPhone, normalise_phone, phone_digits
from portal.text import like_pattern

SEVERITIES = ("LOW", "MEDIUM", "HIGH")
BAN_STATES = ("ACTIVE", "LIFTED", "EXPIRED", "ALL")


def _active(now: datetime):
    return sa.and_(Ban.lifted_at.is_(None), sa.or_(Ban.expires_at.is_(None), Ban.expires_at > now))


def _strongest_ban(columns, estate, phones, host, now_name: str) -> sa.Select:
    """The rule of `active_ban`, built once per shape: the active bans of `estate` on one of
    `phones` that hold against `host`'s visitors (ESTATE bans; PERSONAL bans when `host` is
    not None), the strongest first (ESTATE first, then severity), at most one."""
    scope = Ban.scope == BanScope.ESTATE
    if host is not None:
        scope = sa.or_(scope, sa.and_(Ban.scope == BanScope.PERSONAL, Ban.owner_user_id == host))
    severity_rank = sa.case({"HIGH": 0, "MEDIUM": 1, "LOW": 2}, value=Ban.severity, else_=3)
    now = sa.bindparam(now_name, type_=Ban.__table__.c.expires_at.type)
    return (
        sa.select(columns)
        .where(Ban.estate_id == estate, Ban.phone.in_(phones), scope,
               Ban.lifted_at.is_(None), sa.or_(Ban.expires_at.is_(None), Ban.expires_at > now))
        .order_by(sa.case((Ban.scope == BanScope.ESTATE, 0), else_=1), severity_rank, Ban.id)
        .limit(1)
    )


def _active_ban_statement(with_host: bool):
    """The active-ban lookup, built once per shape (the gate page runs it before an entry)."""
    return _strongest_ban(Ban, sa.bindparam("estate"), sa.bindparam("phones", expanding=True),
                          sa.bindparam("host") if with_host else None, "now")


_ACTIVE_BAN = {True: _active_ban_statement(True), False: _active_ban_statement(False)}


def visit_ban_column() -> sa.ScalarSelect:
    """The id of the strongest active ban on a visit's visitors (the rule of `active_ban`,
    with the visit's host), as a column correlated to Visit: a pass lookup answers the ban
    question in the same statement. The lookup binds `ban_now`."""
    phones = sa.select(VisitGuest.phone).where(VisitGuest.visit_id == Visit.id, VisitGuest.phone.is_not(None),
                                               VisitGuest.phone != "").correlate(Visit)
    return (_strongest_ban(Ban.id, Visit.estate_id, phones, Visit.host_user_id, "ban_now")
            .correlate(Visit).scalar_subquery())


def active_ban(estate: Estate, phones: list[str], host_user_id: int | None, now: datetime) -> Ban | None:
    """The most severe active ban on any of `phones`: an ESTATE ban, or a PERSONAL ban
    of the host. One query."""
    phones = [p for p in phones if p]
    if not phones:
        return None
    params = {"estate": estate.id, "phones": phones, "now": now}
    if host_user_id is not None:
        params["host"] = host_user_id
    return db.session.scalar(_ACTIVE_BAN[host_user_id is not None], params)


_SEVERITY_RANK = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}


def _active_bans(estate: Estate, phones: set[str], hosts: set[int], now: datetime) -> list[Ban]:
    """The active bans on `phones` that hold against these hosts' visitors (ESTATE bans,
    and the hosts' own PERSONAL bans), the strongest first. One query."""
    if not phones:
        return []
    scope = Ban.scope == BanScope.ESTATE
    if hosts:
        scope = sa.or_(scope, sa.and_(Ban.scope == BanScope.PERSONAL, Ban.owner_user_id.in_(hosts)))
    found = list(db.session.scalars(
        sa.select(Ban).where(Ban.estate_id == estate.id, Ban.phone.in_(phones), scope, _active(now))))
    found.sort(key=lambda b: (b.scope != BanScope.ESTATE, _SEVERITY_RANK.get(b.severity, 3), b.id))
    return found


def _holds(ban: Ban, phones: set[str], host_user_id: int | None) -> bool:
    return ban.phone in phones and (ban.scope == BanScope.ESTATE or ban.owner_user_id == host_user_id)


def bans_for_visits(estate: Estate, visits: list, now: datetime) -> dict[int, Ban]:
    """For a page of visits, the ban the gate would hold against each (as `active_ban`
    judges one: an ESTATE ban, or a PERSONAL ban of the visit's host; the most severe),
    by visit id; visits nobody on is banned are left out. One query for the page."""
    phones = {guest.phone for visit in visits for guest in visit.visitors if guest.phone}
    found = _active_bans(estate, phones, {v.host_user_id for v in visits if v.host_user_id is not None}, now)
    result: dict[int, Ban] = {}
    for visit in visits:
        visit_phones = {guest.phone for guest in visit.visitors if guest.phone}
        ban = next((b for b in found if _holds(b, visit_phones, visit.host_user_id)), None)
        if ban is not None:
            result[visit.id] = ban
    return result


def bans_for_phones(estate: Estate, phones: list[str | None], host_user_id: int, now: datetime) -> dict[str, Ban]:
    """The ban that would refuse each of these (E.164) numbers invited by this host, by
    number; numbers nobody banned are left out. One query."""
    wanted = {p for p in phones if p}
    found = _active_bans(estate, wanted, {host_user_id}, now)
    result: dict[str, Ban] = {}
    for phone in wanted:
        ban = next((b for b in found if _holds(b, {phone}, host_user_id)), None)
        if ban is not None:
            result[phone] = ban
    return result


def phone_ban(estate: Estate, phone: str | None, host_user_id: int | None, now: datetime) -> Ban | None:
    """The ban that would refuse an invitation of `phone` by this host (as typed: it is
    normalised here; an unreadable number has none)."""
    if not phone:
        return None
    try:
        normalised = normalise_phone(phone, estate.country)
    except InvalidPhone:
        return None
    return active_ban(estate, [normalised], host_user_id, now)


@dataclass(frozen=True)
class BanFilters:
    q: str = ""
    state: str = "ACTIVE"  # ACTIVE | LIFTED | EXPIRED | ALL

    @property
    def any(self) -> bool:
        return bool(self.q.strip()) or self.state != "ACTIVE"


@dataclass
class BanRow:
    ban: Ban
    created_by: User | None
    state: str


def _state(ban: Ban, now: datetime) -> str:
    if ban.lifted_at is not None:
        return "LIFTED"
    if ban.expires_at is not None and ban.expires_at <= now:
        return "EXPIRED"
    return "ACTIVE"


def list_bans(estate: Estate, filters: BanFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the estate-wide bans, newest first, each with who made it (two queries + count)."""
    now = utcnow()
    stmt = sa.select(Ban).where(Ban.estate_id == estate.id, Ban.scope == BanScope.ESTATE)
    if filters.state == "ACTIVE":
        stmt = stmt.where(_active(now))
    elif filters.state == "LIFTED":
        stmt = stmt.where(Ban.lifted_at.is_not(None))
    elif filters.state == "EXPIRED":
        stmt = stmt.where(Ban.lifted_at.is_(None), Ban.expires_at.is_not(None), Ban.expires_at <= now)
    q = filters.q.strip()
    if q:
        digits = phone_digits(q)
        conditions = [sa.func.lower(Ban.reason).like(like_pattern(q), escape="\\")]
        if digits:
            conditions.append(Ban.phone.like(like_pattern(digits), escape="\\"))
        stmt = stmt.where(sa.or_(*conditions))
    stmt = stmt.order_by(Ban.created_at.desc(), Ban.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    bans = list(pagination.items)
    ids = {b.created_by_id for b in bans if b.created_by_id}
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
    pagination.items = [BanRow(b, users.get(b.created_by_id), _state(b, now)) for b in bans]
    return pagination


def get_ban(estate: Estate, ban_id: int) -> Ban:
    """An estate-wide ban of this estate, or 404."""
    ban = db.session.scalar(
        sa.select(Ban).where(Ban.id == ban_id, Ban.estate_id == estate.id, Ban.scope == BanScope.ESTATE)
    )
    if ban is None:
        raise NotFound()
    return ban


@dataclass
class BanData:
    phone: str
    severity: str = "MEDIUM"
    reason: str = ""
    expires_at: datetime | None = None  # aware UTC


def _check_may_ban(access: EstateAccess) -> None:
    if not access.manages_gate:
        raise Forbidden(_l("Only guard supervisors and admins may ban visitors or lift bans."))


def _snapshot(ban: Ban) -> dict:
    return {
        "phone": ban.phone, "scope": ban.scope.value, "severity": ban.severity, "reason": ban.reason,
        "expires_at": ban.expires_at.isoformat() if ban.expires_at else None,
        "lifted_at": ban.lifted_at.isoformat() if ban.lifted_at else None,
    }


def add_estate_ban(access: EstateAccess, data: BanData) -> Ban:
    """An estate-wide ban on a phone number, by a guard supervisor or an admin. Raises
    InvalidValue (422) for bad input."""
    _check_may_ban(access)
    estate, actor_id = access.estate, access.actor_id
    try:
        phone = normalise_phone(data.phone or "", estate.country)
    except InvalidPhone:
        raise InvalidValue("phone", _l("Enter a phone number, e.g. +234 803 000 0000.")) from None
    if data.severity not in SEVERITIES:
        raise InvalidValue("severity", _l("Choose a severity."))
    reason = (data.reason or "").strip()
    if not reason:
        raise InvalidValue("reason", _l("Say why this number is banned."))
    if len(reason) > 300:
        raise InvalidValue("reason", _l("Use at most %(max)d characters.", max=300))
    now = utcnow()
    if data.expires_at is not None and data.expires_at <= now:
        raise InvalidValue("expires_at", _l("The expiry must be in the future."))
    existing = db.session.scalar(
        sa.select(Ban.id).where(Ban.estate_id == estate.id, Ban.scope == BanScope.ESTATE, Ban.phone == phone,
                                _active(now))
    )
    if existing is not None:
        raise InvalidValue("phone", _l("This number already has an active estate-wide ban."))
    ban = Ban(estate_id=estate.id, phone=phone, scope=BanScope.ESTATE, severity=data.severity, reason=reason,
              expires_at=data.expires_at, created_by_id=actor_id)
    db.session.add(ban)
    db.session.flush()
    audit.record("ban.created", ban, actor_id=actor_id, after=_snapshot(ban))
    db.session.commit()
    return ban


def lift_ban(access: EstateAccess, ban_id: int) -> Ban:
    """Lift an estate-wide ban now, as a guard supervisor or an admin (idempotent: a lifted
    ban stays as it was)."""
    _check_may_ban(access)
    ban = get_ban(access.estate, ban_id)
    if ban.lifted_at is not None:
        return ban
    before = _snapshot(ban)
    # Decided in the database: two supervisors lifting at once write one audit record.
    lifted = db.session.execute(
        sa.update(Ban).where(Ban.id == ban.id, Ban.lifted_at.is_(None)).values(lifted_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if lifted:
        db.session.refresh(ban)
        audit.record("ban.lifted", ban, actor_id=access.actor_id, before=before, after=_snapshot(ban))
    db.session.commit()
    return ban
