"""Dues-linked restrictions (an estate setting, off by default).

When the estate turns them on, a unit whose oldest unpaid invoice is more than
`restrict_after_days` overdue is *warned* (its residents see when the restriction will
start), and `restrict_grace_days` later it is *restricted*: its residents can issue no new
visitor passes except deliveries (portal.visits.service.create_visit) and book no amenities
(the amenities code asks `restriction_for(unit)`). Paying down to no overdue invoice lifts it
at once (nothing is stored: it is worked out from the invoices each time), and so does an
admin's override (with a reason, until a day or until ended; audited).

Never touched by a restriction: the residents' own way home (their access cards, vehicles
and sign-in), passes issued before it started, and the gate's scanning of them.

Each check is one query however many units and invoices (the invoices' (unit_id, due_date)
index and the override's unit index serve it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.billing import money
from portal.errors import Conflict, FieldErrors, InvalidValue, NotFound
from portal.extensions import db
from portal.models import (
    OPEN_STATUSES,
    BillingSettings,
    DuesOverride,
    Estate,
    Invoice,
    Resident,
    Unit,
    User,
    utcnow,
)

REASON_MAX = 300
MAX_OVERRIDE_DAYS = 366


class State(enum.StrEnum):
    WARNING = "WARNING"  # past the threshold, within the grace period: restricted from `since`
    RESTRICTED = "RESTRICTED"


class _Money:
    """An amount formatted when the sentence is (in the reader's language at that moment)."""

    def __init__(self, amount_minor: int, currency: str, country: str | None):
        self.amount_minor, self.currency, self.country = amount_minor, currency, country

    def __str__(self) -> str:
        locale = money.reader_locale(str(get_locale() or "en"), self.country)
        return money.format_money(self.amount_minor, self.currency, locale)


class _Day:
    def __init__(self, day: date, country: str | None):
        self.day, self.country = day, country

    def __str__(self) -> str:
        return money.format_day(self.day, money.reader_locale(str(get_locale() or "en"), self.country))


@dataclass(frozen=True)
class Restriction:
    """A unit's standing with its dues: why (`reason`, translated when read), how much it
    owes in all, since when it is (or will be) restricted, its oldest unpaid invoice."""

    unit_id: int
    unit_number: str
    estate_id: int
    state: State
    amount_owed_minor: int
    currency: str
    since: date  # the first day of the restriction (in the estate's time zone)
    oldest_due: date
    oldest_number: str
    days_overdue: int
    country: str | None = None

    @property
    def restricted(self) -> bool:
        return self.state == State.RESTRICTED

    @property
    def amount_owed(self) -> _Money:
        return _Money(self.amount_owed_minor, self.currency, self.country)

    @property
    def reason(self):
        """One sentence: why, and how to clear it."""
        if self.restricted:
            return _l("Unit %(unit)s owes %(amount)s and invoice %(number)s has been unpaid for %(days)d days "
                      "after its due date, so since %(since)s only delivery passes can be issued and amenities "
                      "cannot be booked. Pay your overdue bills to lift this at once.",
                      unit=self.unit_number, amount=self.amount_owed, number=self.oldest_number,
                      days=self.days_overdue, since=_Day(self.since, self.country))
        return _l("Unit %(unit)s owes %(amount)s and invoice %(number)s is %(days)d days overdue. Unless it is "
                  "paid, from %(since)s only delivery passes can be issued and amenities cannot be booked.",
                  unit=self.unit_number, amount=self.amount_owed, number=self.oldest_number,
                  days=self.days_overdue, since=_Day(self.since, self.country))

    @property
    def pass_refusal(self):
        """Why a (non-delivery) visitor pass is refused."""
        return _l("Unit %(unit)s is restricted for unpaid dues (%(amount)s owed): only delivery passes can be "
                  "issued until the overdue bills are paid.", unit=self.unit_number, amount=self.amount_owed)


    @property
    def booking_refusal(self):
        """Why an amenity booking is refused."""
        return _l("Unit %(unit)s is restricted for unpaid dues (%(amount)s owed): amenities cannot be booked "
                  "until the overdue bills are paid.", unit=self.unit_number, amount=self.amount_owed)


class UnitRestricted(InvalidValue):
    """A restricted unit asked for something its restriction forbids."""

    code = "DUES_RESTRICTED"
    http_status = 409

    def __init__(self, restriction: Restriction, field: str = "pass_type", message=None):
        super().__init__(field, message if message is not None else restriction.pass_refusal)
        self.restriction = restriction


# --- the check ------------------------------------------------------------------------------------

_open = sa.and_(Invoice.status.in_(OPEN_STATUSES), Invoice.balance_minor > 0)


def _standing_stmt(unit_filter) -> sa.Select:
    """Per unit (of estates with restrictions on): its oldest unpaid due date and invoice
    number, what it owes, its open override's last day and whether it has one. One query."""
    oldest = (sa.select(Invoice.due_date, Invoice.number).where(Invoice.unit_id == Unit.id, _open)
              .order_by(Invoice.due_date, Invoice.id).limit(1))
    override = sa.select(DuesOverride.id, DuesOverride.until).where(
        DuesOverride.unit_id == Unit.id, DuesOverride.ended_at.is_(None)).limit(1)
    return (sa.select(Unit.id, Unit.number, Unit.estate_id, Estate.timezone, Estate.currency, Estate.country,
                      BillingSettings.restrict_after_days, BillingSettings.restrict_grace_days,
                      oldest.with_only_columns(Invoice.due_date).scalar_subquery(),
                      oldest.with_only_columns(Invoice.number).scalar_subquery(),
                      sa.select(sa.func.coalesce(sa.func.sum(Invoice.balance_minor), 0))
                      .where(Invoice.unit_id == Unit.id, _open).scalar_subquery(),
                      override.with_only_columns(DuesOverride.id).scalar_subquery(),
                      override.with_only_columns(DuesOverride.until).scalar_subquery())
            .join(Estate, Estate.id == Unit.estate_id)
            .join(BillingSettings, sa.and_(BillingSettings.estate_id == Unit.estate_id,
                                           BillingSettings.restrict_enabled.is_(True)))
            .where(unit_filter))


def estate_today(timezone: str, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(timezone)).date()


def _judge(row, now: datetime | None) -> Restriction | None:
    (unit_id, number, estate_id, timezone, currency, country, after_days, grace_days, oldest_due, oldest_number,
     owed, override_id, override_until) = row
    if oldest_due is None:
        return None
    today = estate_today(timezone, now)
    if override_id is not None and (override_until is None or override_until >= today):
        return None
    days = (today - oldest_due).days
    if days <= after_days:
        return None
    since = oldest_due + timedelta(days=after_days + grace_days + 1)
    state = State.RESTRICTED if today >= since else State.WARNING
    return Restriction(unit_id, number, estate_id, state, int(owed), currency, since, oldest_due, oldest_number, days,
                       country)


def standing_for(unit_or_id: Unit | int, now: datetime | None = None) -> Restriction | None:
    """The unit's restriction or warning (None: in good standing, restrictions off, or an
    override in force). One query."""
    unit_id = unit_or_id if isinstance(unit_or_id, int) else unit_or_id.id
    row = db.session.execute(_standing_stmt(Unit.id == unit_id)).one_or_none()
    return _judge(row, now) if row is not None else None


def restriction_for(unit_or_id: Unit | int, now: datetime | None = None) -> Restriction | None:
    """The restriction in force on the unit, or None (also during the grace period). For
    anything a restricted unit may not do (new visitor passes but deliveries, amenity
    bookings): refuse with `restriction.reason`. One query."""
    standing = standing_for(unit_or_id, now)
    return standing if standing is not None and standing.restricted else None


def check_unit(unit_or_id: Unit | int, *, field: str = "pass_type", message=None) -> None:
    """Raise UnitRestricted if the unit is restricted (one query)."""
    restriction = restriction_for(unit_or_id)
    if restriction is not None:
        raise UnitRestricted(restriction, field, message)


def for_resident(user: User, estate: Estate, now: datetime | None = None) -> list[Restriction]:
    """The warnings and restrictions of the units the user lives in, in this estate (the
    banner on the resident's pages). One query."""
    units = sa.select(Resident.unit_id).where(Resident.estate_id == estate.id, Resident.user_id == user.id,
                                              Resident.move_out_date.is_(None))
    rows = db.session.execute(_standing_stmt(sa.and_(Unit.estate_id == estate.id, Unit.id.in_(units)))
                              .order_by(Unit.block, Unit.sort_key)).all()
    return [r for r in (_judge(row, now) for row in rows) if r is not None]


# --- the admin's override --------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitDues:
    """What the unit's page shows: the restriction setting, the unit's standing (as it would
    be without an override) and the override in force."""

    enabled: bool
    standing: Restriction | None
    override: DuesOverride | None


def _unit(estate: Estate, unit_id: int) -> Unit:
    unit = db.session.scalar(sa.select(Unit).where(Unit.id == unit_id, Unit.estate_id == estate.id))
    if unit is None:
        raise NotFound()
    return unit


def _open_override(unit_id: int) -> DuesOverride | None:
    return db.session.scalar(sa.select(DuesOverride).where(DuesOverride.unit_id == unit_id,
                                                           DuesOverride.ended_at.is_(None)))


def override_in_force(override: DuesOverride | None, timezone: str, now: datetime | None = None) -> bool:
    return override is not None and (override.until is None or override.until >= estate_today(timezone, now))


def unit_dues(estate: Estate, unit: Unit) -> UnitDues:
    """For the admin's unit page (three queries)."""
    settings = db.session.get(BillingSettings, estate.id)
    enabled = bool(settings and settings.restrict_enabled)
    override = _open_override(unit.id)
    standing = None
    if enabled:
        row = db.session.execute(_standing_stmt(Unit.id == unit.id)).one()
        standing = _judge(row[:-2] + (None, None), None)  # as if there were no override
    if not override_in_force(override, estate.timezone):
        override = None
    return UnitDues(enabled, standing, override)


def _snapshot(override: DuesOverride) -> dict:
    return {"unit": override.unit.number if override.unit else None, "reason": override.reason,
            "until": override.until.isoformat() if override.until else None}


def grant_override(actor: User, estate: Estate, unit_id: int, reason: str, until: date | None) -> DuesOverride:
    """Lift the unit's restriction (now or should it come) until `until` (inclusive; None:
    until ended), replacing an override in force. Audited."""
    unit = _unit(estate, unit_id)
    reason = " ".join((reason or "").split())
    errors = {}
    if not reason:
        errors["reason"] = _l("Say why the unit's restriction is lifted.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _l("Use at most %(max)d characters.", max=REASON_MAX)
    today = estate_today(estate.timezone)
    if until is not None and not today <= until <= today + timedelta(days=MAX_OVERRIDE_DAYS):
        errors["until"] = _l("Choose a day from today to a year from now, or leave it empty.")
    if errors:
        raise FieldErrors(errors)
    now = utcnow()
    previous = _open_override(unit.id)
    before = None
    if previous is not None:
        before = _snapshot(previous) if override_in_force(previous, estate.timezone) else None
        previous.ended_at, previous.ended_by_id = now, actor.id
        db.session.flush()
    override = DuesOverride(estate_id=estate.id, unit_id=unit.id, reason=reason, until=until, created_by_id=actor.id,
                            created_at=now)
    override.unit = unit
    db.session.add(override)
    try:
        db.session.flush()
    except IntegrityError:  # another admin's override landed meanwhile
        db.session.rollback()
        raise Conflict(_l("Someone else changed this unit's override just now. Reload the page.")) from None
    audit.record("dues_override.granted", unit, actor_id=actor.id, estate_id=estate.id, before=before,
                 after=_snapshot(override))
    db.session.commit()
    return override


def end_override(actor: User, estate: Estate, unit_id: int) -> None:
    """End the unit's override now: if it is still behind, the restriction is back. Audited."""
    unit = _unit(estate, unit_id)
    override = _open_override(unit.id)
    if override is None:
        raise Conflict(_l("This unit has no override to end."))
    before = _snapshot(override)
    ended = db.session.execute(
        sa.update(DuesOverride).where(DuesOverride.id == override.id, DuesOverride.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_by_id=actor.id).execution_options(synchronize_session=False)).rowcount
    if not ended:
        db.session.rollback()
        raise Conflict(_l("This unit has no override to end."))
    audit.record("dues_override.ended", unit, actor_id=actor.id, estate_id=estate.id, before=before,
                 after={"unit": unit.number})
    db.session.commit()
