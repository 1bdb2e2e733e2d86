"""Visits, resident side: invite visitors for a window (four pass types), list, edit,
extend and cancel them; frequent visitors; a resident's personal bans.

Windows are entered as local dates and times in the estate's timezone and stored in
UTC. Whether a pass lets someone in is decided by portal.visits.rules only; this
module just describes that answer in words for the resident.

Who sees what: a resident manages the visits of the units they currently live in
(any household member's, and those an admin made for the unit); an estate admin may
create a visit for any unit of the estate."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from portal import audit
from portal.billing import restrictions
from portal.errors import Conflict, DomainError, InvalidValue, NotFound
from portal.extensions import db
from portal.models import (
    Ban,
    BanScope,
    Estate,
    FrequentVisitor,
    GateEvent,
    PassType,
    Resident,
    Unit,
    User,
    Visit,
    VisitGuest,
    VisitStatus,
    utcnow,
)
from portal.phones import InvalidPhone, normalise_phone, phone_digits
from portal.text import like_pattern, normalise_plate, plate_pattern, strip_bidi_controls
from portal.visits import rules
from portal.visits.bans import active_ban

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
MAX_GUESTS = 10
MAX_DELIVERY_WINDOW = timedelta(hours=4)
MAX_WINDOW = timedelta(days=366)
START_GRACE = timedelta(minutes=15)  # "now" typed a minute ago is not "in the past"
MULTI_ENTRY_RANGE = (2, 50)
VISIT_FILTERS = ("current", "past")

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")
BAD_PHONE = _l("Enter a phone number, e.g. +234 803 000 0000.")


class VisitClosed(Conflict):
    """The visit is cancelled, revoked or over: it can no longer be changed."""

    code = "CONFLICT"
    http_status = 409


# --- input ---------------------------------------------------------------------------


@dataclass
class GuestData:
    full_name: str = ""
    phone: str = ""
    plate: str = ""

    @property
    def blank(self) -> bool:
        return not (self.full_name.strip() or self.phone.strip() or self.plate.strip())


@dataclass
class VisitData:
    """A visit as typed: local dates and times in the estate's timezone.

    SINGLE_USE, MULTI_ENTRY, DELIVERY: start_date+start_time to end_date+end_time.
    RECURRING: from start_date to end_date (whole days) on `weekdays`, each day
    between daily_start and daily_end."""

    pass_type: PassType
    guests: list[GuestData] = field(default_factory=list)
    purpose: str = ""
    start_date: date | None = None
    start_time: time | None = None
    end_date: date | None = None
    end_time: time | None = None
    max_entries: int | None = None  # MULTI_ENTRY only
    weekdays: str = ""  # RECURRING: ISO day numbers, "12345" = Mon–Fri
    daily_start: time | None = None
    daily_end: time | None = None


@dataclass(frozen=True)
class Window:
    valid_from: datetime  # aware UTC
    valid_until: datetime
    weekdays: str = ""
    daily_start: time | None = None
    daily_end: time | None = None


def _local(d: date, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, t, tzinfo=tz).astimezone(ZoneInfo("UTC"))


def _has_weekday(first: date, last: date, days: str) -> bool:
    """Whether any day from `first` to `last` (inclusive) falls on one of `days` (ISO numbers)."""
    span = min((last - first).days, 6)
    return any(str((first + timedelta(days=i)).isoweekday()) in days for i in range(span + 1))


def _window(estate: Estate, data: VisitData, now: datetime) -> Window:
    """The typed window in UTC, or InvalidValue on the field at fault."""
    tz = ZoneInfo(estate.timezone)
    if data.start_date is None:
        raise InvalidValue("start_date", REQUIRED)
    if data.end_date is None:
        raise InvalidValue("end_date", REQUIRED)
    if data.pass_type == PassType.RECURRING:
        days = "".join(sorted(set(data.weekdays or "")))
        if not days or not set(days) <= set("1234567"):
            raise InvalidValue("weekdays", _l("Choose at least one day of the week."))
        if data.daily_start is None:
            raise InvalidValue("daily_start", REQUIRED)
        if data.daily_end is None:
            raise InvalidValue("daily_end", REQUIRED)
        if data.daily_end <= data.daily_start:
            raise InvalidValue("daily_end", _l("The daily end must be after the daily start."))
        if data.end_date < data.start_date:
            raise InvalidValue("end_date", _l("The last day must be on or after the first day."))
        if not _has_weekday(data.start_date, data.end_date, days):
            raise InvalidValue("end_date", _l("None of the chosen days of the week falls between the first and the "
                                              "last day. Choose a later last day or other days."))
        if data.start_date < now.astimezone(tz).date():
            raise InvalidValue("start_date", _l("The first day cannot be in the past."))
        window = Window(_local(data.start_date, time(0), tz), _local(data.end_date + timedelta(days=1), time(0), tz),
                        days, data.daily_start, data.daily_end)
    else:
        if data.start_time is None:
            raise InvalidValue("start_time", REQUIRED)
        if data.end_time is None:
            raise InvalidValue("end_time", REQUIRED)
        window = Window(_local(data.start_date, data.start_time, tz), _local(data.end_date, data.end_time, tz))
        if window.valid_from < now - START_GRACE:
            raise InvalidValue("start_time", _l("The start cannot be in the past."))
        if window.valid_until <= window.valid_from:
            raise InvalidValue("end_time", _l("The end must be after the start."))
        if data.pass_type == PassType.DELIVERY and window.valid_until - window.valid_from > MAX_DELIVERY_WINDOW:
            raise InvalidValue("end_time", _l("A delivery pass lasts at most %(hours)d hours.", hours=4))
    if window.valid_until <= now:
        raise InvalidValue("end_date", _l("The end cannot be in the past."))
    if window.valid_until - window.valid_from > MAX_WINDOW:
        raise InvalidValue("end_date", _l("A pass can last at most one year."))
    return window


def _max_entries(data: VisitData) -> int | None:
    if data.pass_type == PassType.RECURRING:
        return None
    if data.pass_type == PassType.MULTI_ENTRY:
        low, high = MULTI_ENTRY_RANGE
        if data.max_entries is None or not low <= data.max_entries <= high:
            raise InvalidValue("max_entries", _l("Enter a number from %(min)s to %(max)s.", min=low, max=high))
        return data.max_entries
    return 1


def _guests(estate: Estate, pass_type: PassType, guests: list[GuestData],
            phone_optional: bool = False) -> list[GuestData]:
    """Cleaned visitors: names required (but for a delivery), phones in E.164, plates
    upper-case without spaces. Blank rows are skipped. One phone is enough for a group
    (a family of four has one contact); a visitor alone needs theirs."""
    cleaned: list[GuestData] = []
    rows: list[int] = []  # the form row of each cleaned visitor
    delivery = pass_type == PassType.DELIVERY
    for i, guest in enumerate(guests):
        if guest.blank:
            continue
        rows.append(i)
        name = " ".join(strip_bidi_controls(guest.full_name).split())
        if not name and not delivery:
            raise InvalidValue(f"guests-{i}-full_name", _l("Enter the visitor's name."))
        if len(name) > 160:
            raise InvalidValue(f"guests-{i}-full_name", _l("Use at most %(max)d characters.", max=160))
        phone = ""
        if guest.phone.strip():
            try:
                phone = normalise_phone(guest.phone, estate.country)
            except InvalidPhone:
                raise InvalidValue(f"guests-{i}-phone", BAD_PHONE) from None
        plate = normalise_plate(guest.plate)
        if len(plate) > 20:
            raise InvalidValue(f"guests-{i}-plate", _l("Use at most %(max)d characters.", max=20))
        cleaned.append(GuestData(name, phone, plate))
    if not cleaned:
        if delivery:
            return [GuestData()]  # an unnamed courier
        raise InvalidValue("guests-0-full_name", _l("Add at least one visitor."))
    if not delivery and not phone_optional and not any(g.phone for g in cleaned):
        if len(cleaned) == 1:
            raise InvalidValue(f"guests-{rows[0]}-phone", _l("Enter the visitor's phone number."))
        raise InvalidValue(f"guests-{rows[0]}-phone",
                           _l("Enter one visitor's phone number: one contact is enough for the group."))
    if len(cleaned) > MAX_GUESTS:
        raise InvalidValue("guests-0-full_name", _l("Invite at most %(max)d visitors on one pass.", max=MAX_GUESTS))
    return cleaned


def _check_bans(estate: Estate, guests: list[GuestData], host_user_id: int | None, now: datetime,
                field_index: dict[str, int]) -> None:
    phones = [g.phone for g in guests if g.phone]
    ban = active_ban(estate, phones, host_user_id, now)
    if ban is None:
        return
    raise InvalidValue(f"guests-{field_index.get(ban.phone, 0)}-phone", invite_refusal(ban))


def invite_refusal(ban: Ban):
    """Why a banned number cannot be invited (also the warning shown before inviting)."""
    if ban.scope == BanScope.PERSONAL:
        return _l("You have banned %(phone)s. Lift your ban first if you want to invite them.", phone=ban.phone)
    return _l("%(phone)s is banned from the estate and cannot be invited. "
              "Contact the estate admin if you think this is a mistake.", phone=ban.phone)


def _purpose(raw: str) -> str:
    purpose = " ".join((raw or "").split())
    if len(purpose) > 200:
        raise InvalidValue("purpose", _l("Use at most %(max)d characters.", max=200))
    return purpose


def _rows_by_phone(estate: Estate, raw: list[GuestData]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, guest in enumerate(raw):
        if guest.phone.strip():
            with contextlib.suppress(InvalidPhone):
                index.setdefault(normalise_phone(guest.phone, estate.country), i)
    return index


# --- scope ---------------------------------------------------------------------------


def resident_units(user: User, estate: Estate) -> list[Unit]:
    """The units the user currently lives in, in this estate (one query)."""
    return list(db.session.scalars(
        sa.select(Unit).where(Unit.estate_id == estate.id, Unit.id.in_(_unit_ids(user, estate)))
        .order_by(Unit.block, Unit.sort_key)
    ))


def _unit_ids(user: User, estate: Estate):
    return sa.select(Resident.unit_id).where(
        Resident.estate_id == estate.id, Resident.user_id == user.id, Resident.move_out_date.is_(None)
    )


def estate_units(estate: Estate) -> list[Unit]:
    """Every current unit of the estate, for an admin's unit picker."""
    return list(db.session.scalars(
        sa.select(Unit).where(Unit.estate_id == estate.id, Unit.archived_at.is_(None))
        .order_by(Unit.block, Unit.sort_key)
    ))


def get_visit(user: User, estate: Estate, visit_id: int) -> Visit:
    """A visit of one of the user's current units in this estate, or 404."""
    visit = db.session.scalar(
        sa.select(Visit)
        .where(Visit.id == visit_id, Visit.estate_id == estate.id, Visit.unit_id.in_(_unit_ids(user, estate)))
        .options(selectinload(Visit.visitors), joinedload(Visit.unit), joinedload(Visit.host))
    )
    if visit is None:
        raise NotFound()
    return visit


def get_pass(qr_token: str) -> Visit:
    """The visit behind a public pass link, with its estate, or 404."""
    visit = db.session.scalar(
        sa.select(Visit).where(Visit.qr_token == qr_token)
        .options(selectinload(Visit.visitors), joinedload(Visit.unit), joinedload(Visit.host))
    ) if qr_token and len(qr_token) <= 64 else None
    if visit is None:
        raise NotFound()
    visit.estate = db.session.get(Estate, visit.estate_id)
    return visit


# --- create --------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _snapshot(visit: Visit) -> dict:
    return {
        "pass_type": visit.pass_type.value, "status": visit.status.value, "unit_id": visit.unit_id,
        "purpose": visit.purpose, "valid_from": visit.valid_from.isoformat(),
        "valid_until": visit.valid_until.isoformat(), "weekdays": visit.weekdays,
        "daily_start": visit.daily_start.isoformat() if visit.daily_start else None,
        "daily_end": visit.daily_end.isoformat() if visit.daily_end else None,
        "max_entries": visit.max_entries, "visitor_code": visit.visitor_code,
        "visitors": [{"name": g.full_name, "phone": g.phone, "plate": g.plate} for g in visit.visitors],
    }


def create_visit(actor: User, estate: Estate, unit_id: int, data: VisitData, *, as_admin: bool = False,
                 phone_optional: bool = False, on_created: Callable[[Visit], None] | None = None) -> Visit:
    """Invite visitors to `unit_id`. A resident may invite only to a unit they live in
    (and is the host); an admin (`as_admin`) to any unit of the estate (no host).
    Raises InvalidValue (422) for bad input or a banned phone, UnitRestricted when a
    resident's unit is restricted for unpaid dues and the pass is not a delivery
    (portal.billing.restrictions). `on_created(visit)` runs in the same transaction before
    the commit (a caller's own writes that must land with the pass, or a DomainError that
    must stop it)."""
    unit_query = sa.select(Unit).where(Unit.id == unit_id, Unit.estate_id == estate.id, Unit.archived_at.is_(None))
    if not as_admin:
        unit_query = unit_query.where(Unit.id.in_(_unit_ids(actor, estate)))
    unit = db.session.scalar(unit_query)
    if unit is None:
        raise InvalidValue("unit_id", _l("Choose a unit."))
    if not as_admin and data.pass_type != PassType.DELIVERY:
        restrictions.check_unit(unit.id)  # unpaid dues: deliveries only (one query)
    now = utcnow()
    guests = _guests(estate, data.pass_type, data.guests, phone_optional)  # phone_optional: walk-ins
    purpose = _purpose(data.purpose)
    max_entries = _max_entries(data)
    window = _window(estate, data, now)
    host_id = None if as_admin else actor.id
    _check_bans(estate, guests, host_id, now, _rows_by_phone(estate, data.guests))
    estate_id, unit_pk, actor_id = estate.id, unit.id, actor.id
    for _attempt in range(5):
        visit = Visit(
            estate_id=estate_id, unit_id=unit_pk, host_user_id=host_id, created_by_id=actor_id,
            pass_type=data.pass_type, status=VisitStatus.ACTIVE, purpose=purpose,
            valid_from=window.valid_from, valid_until=window.valid_until, weekdays=window.weekdays,
            daily_start=window.daily_start, daily_end=window.daily_end, max_entries=max_entries, entries_used=0,
            people_inside=False, qr_token=secrets.token_urlsafe(24), visitor_code=new_code(),
        )
        visit.visitors = [VisitGuest(estate_id=estate_id, full_name=g.full_name, phone=g.phone or None,
                                     plate=g.plate or None) for g in guests]
        db.session.add(visit)
        try:
            db.session.flush()
            if on_created is not None:
                on_created(visit)
            audit.record("visit.created", visit, actor_id=actor_id, after=_snapshot(visit))
            db.session.commit()
        except IntegrityError:  # the code (or, in theory, the token) is taken: draw again
            db.session.rollback()
            continue
        return visit
    raise DomainError(_l("Could not issue a pass just now. Please try again."))


# --- change --------------------------------------------------------------------------


def _open_for_change(visit: Visit, now: datetime) -> None:
    if visit.status != VisitStatus.ACTIVE:
        raise VisitClosed(_l("This visit is cancelled or revoked and can no longer be changed."))
    if visit.valid_until <= now:
        raise VisitClosed(_l("This visit is over and can no longer be changed."))


def update_visit(actor: User, estate: Estate, visit_id: int, guests: list[GuestData], purpose: str) -> Visit:
    """Change the visitors and purpose of an open visit (bans are checked again)."""
    visit = get_visit(actor, estate, visit_id)
    now = utcnow()
    _open_for_change(visit, now)
    cleaned = _guests(estate, visit.pass_type, guests)
    purpose = _purpose(purpose)
    _check_bans(estate, cleaned, visit.host_user_id or actor.id, now, _rows_by_phone(estate, guests))
    before = _snapshot(visit)
    visit.purpose = purpose
    visit.visitors = [VisitGuest(estate_id=estate.id, full_name=g.full_name, phone=g.phone or None,
                                 plate=g.plate or None) for g in cleaned]
    db.session.flush()
    after = _snapshot(visit)
    if after != before:
        audit.record("visit.updated", visit, actor_id=actor.id, before=before, after=after)
    db.session.commit()
    return visit


def extend_visit(actor: User, estate: Estate, visit_id: int, end_date: date | None, end_time: time | None) -> Visit:
    """Move the end of an open visit later (a RECURRING pass: its last day)."""
    visit = get_visit(actor, estate, visit_id)
    now = utcnow()
    _open_for_change(visit, now)
    tz = ZoneInfo(estate.timezone)
    if end_date is None:
        raise InvalidValue("end_date", REQUIRED)
    if visit.pass_type == PassType.RECURRING:
        new_end = _local(end_date + timedelta(days=1), time(0), tz)
    else:
        if end_time is None:
            raise InvalidValue("end_time", REQUIRED)
        new_end = _local(end_date, end_time, tz)
    if new_end <= visit.valid_until:
        raise InvalidValue("end_date", _l("The new end must be later than the current end."))
    if visit.pass_type == PassType.DELIVERY and new_end - visit.valid_from > MAX_DELIVERY_WINDOW:
        raise InvalidValue("end_time", _l("A delivery pass lasts at most %(hours)d hours.", hours=4))
    if new_end - visit.valid_from > MAX_WINDOW:
        raise InvalidValue("end_date", _l("A pass can last at most one year."))
    before = visit.valid_until
    # Decided in the database: a cancel that lands first wins.
    changed = db.session.execute(
        sa.update(Visit).where(Visit.id == visit.id, Visit.status == VisitStatus.ACTIVE)
        .values(valid_until=new_end).execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise VisitClosed(_l("This visit is cancelled or revoked and can no longer be changed."))
    db.session.refresh(visit)
    audit.record("visit.extended", visit, actor_id=actor.id, before={"valid_until": before.isoformat()},
                 after={"valid_until": new_end.isoformat()})
    db.session.commit()
    return visit


def cancel_visit(actor: User, estate: Estate, visit_id: int) -> Visit:
    """Cancel a visit: the next scan denies it. Idempotent."""
    visit = get_visit(actor, estate, visit_id)
    cancelled = db.session.execute(
        sa.update(Visit).where(Visit.id == visit.id, Visit.status == VisitStatus.ACTIVE)
        .values(status=VisitStatus.CANCELLED).execution_options(synchronize_session=False)
    ).rowcount
    if cancelled:
        db.session.refresh(visit)
        audit.record("visit.cancelled", visit, actor_id=actor.id, before={"status": "ACTIVE"},
                     after={"status": VisitStatus.CANCELLED.value})
    db.session.commit()
    return visit


# --- read ----------------------------------------------------------------------------

PASS_STATES = ("VALID", "NOT_YET", "OFF_HOURS", "INSIDE", "USED", "EXPIRED", "CANCELLED", "REVOKED")


def pass_state(visit: Visit, now: datetime, timezone: str, banned: bool = False) -> str:
    """The pass in one word for people (keys of labels.PASS_STATE_LABELS), from the rules.
    `banned`: someone on it is banned (bans.bans_for_visits), which the gate refuses too
    once the pass is otherwise good (valid, or waiting for its day or hour)."""
    refusal = rules.entry_refusal(visit, now, timezone)
    if banned:
        off_hours = refusal == rules.Refusal.PASS_EXPIRED and now < visit.valid_until
        if refusal in (None, rules.Refusal.PASS_NOT_YET_VALID) or off_hours:
            return "BANNED"
    if refusal is None:
        return "VALID"
    if refusal == rules.Refusal.PASS_REVOKED:
        return "CANCELLED" if visit.status == VisitStatus.CANCELLED else "REVOKED"
    if refusal == rules.Refusal.PASS_NOT_YET_VALID:
        return "NOT_YET" if now < visit.valid_from else "OFF_HOURS"
    if refusal == rules.Refusal.PASS_EXPIRED:
        return "EXPIRED" if now >= visit.valid_until else "OFF_HOURS"
    if refusal == rules.Refusal.ALREADY_INSIDE:
        return "INSIDE"
    return "USED"


@dataclass(frozen=True)
class VisitFilters:
    q: str = ""
    when: str = "current"  # current | past

    @property
    def any(self) -> bool:
        return bool(self.q.strip())


def list_visits(user: User, estate: Estate, filters: VisitFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the visits of the user's units: current (active, not over; soonest
    first) or past (over, cancelled or revoked; latest first). Three queries."""
    now = utcnow()
    stmt = sa.select(Visit).where(Visit.estate_id == estate.id, Visit.unit_id.in_(_unit_ids(user, estate)))
    if filters.when == "past":
        stmt = stmt.where(sa.or_(Visit.status != VisitStatus.ACTIVE, Visit.valid_until <= now))
        stmt = stmt.order_by(Visit.valid_until.desc(), Visit.id.desc())
    else:
        stmt = stmt.where(Visit.status == VisitStatus.ACTIVE, Visit.valid_until > now)
        stmt = stmt.order_by(Visit.valid_from, Visit.id)
    q = filters.q.strip()
    if q:
        like = like_pattern(q)
        digits = phone_digits(q)
        guest_match = [sa.func.lower(VisitGuest.full_name).like(like, escape="\\")]
        plate = plate_pattern(q)
        if plate:
            guest_match.append(VisitGuest.plate.like(plate, escape="\\"))
        if digits:
            guest_match.append(VisitGuest.phone.like(like_pattern(digits), escape="\\"))
        guests = sa.select(VisitGuest.visit_id).where(VisitGuest.estate_id == estate.id, sa.or_(*guest_match))
        stmt = stmt.where(sa.or_(Visit.id.in_(guests), Visit.visitor_code == q.upper(),
                                 sa.func.lower(Visit.purpose).like(like, escape="\\")))
    stmt = stmt.options(selectinload(Visit.visitors), joinedload(Visit.unit))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


def upcoming_visits(user: User, estate: Estate, limit: int = 5) -> tuple[list[Visit], bool]:
    """The next `limit` active passes of the user's units that are not over (today's and
    the coming ones, soonest first), and whether there are more (two queries)."""
    now = utcnow()
    rows = list(db.session.scalars(
        sa.select(Visit).where(Visit.estate_id == estate.id, Visit.unit_id.in_(_unit_ids(user, estate)),
                               Visit.status == VisitStatus.ACTIVE, Visit.valid_until > now)
        .order_by(Visit.valid_from, Visit.id).limit(limit + 1).options(selectinload(Visit.visitors))
    ))
    return rows[:limit], len(rows) > limit


def gate_history(estate: Estate, visit: Visit, limit: int = 50) -> list[GateEvent]:
    return list(db.session.scalars(
        sa.select(GateEvent).where(GateEvent.estate_id == estate.id, GateEvent.visit_id == visit.id)
        .order_by(GateEvent.occurred_at.desc(), GateEvent.id.desc()).limit(limit)
    ))


# --- frequent visitors -----------------------------------------------------------------


def list_frequent_visitors(user: User, estate: Estate) -> list[FrequentVisitor]:
    return list(db.session.scalars(
        sa.select(FrequentVisitor).where(FrequentVisitor.estate_id == estate.id, FrequentVisitor.host_user_id == user.id)
        .order_by(FrequentVisitor.full_name, FrequentVisitor.id)
    ))


def get_frequent_visitor(user: User, estate: Estate, frequent_id: int) -> FrequentVisitor:
    found = db.session.scalar(sa.select(FrequentVisitor).where(
        FrequentVisitor.id == frequent_id, FrequentVisitor.estate_id == estate.id,
        FrequentVisitor.host_user_id == user.id))
    if found is None:
        raise NotFound()
    return found


def save_frequent_visitor(actor: User, estate: Estate, visit_id: int, guest_id: int) -> FrequentVisitor:
    """Keep a visitor of one of the user's visits for a one-tap re-invite (one entry
    per phone: saving again refreshes it)."""
    visit = get_visit(actor, estate, visit_id)
    guest = next((g for g in visit.visitors if g.id == guest_id), None)
    if guest is None:
        raise NotFound()
    if not guest.full_name:
        raise DomainError(_l("Only a named visitor can be saved."))
    existing = db.session.scalar(sa.select(FrequentVisitor).where(
        FrequentVisitor.estate_id == estate.id, FrequentVisitor.host_user_id == actor.id,
        FrequentVisitor.phone == guest.phone, FrequentVisitor.full_name == guest.full_name))
    if existing is not None:
        return existing
    saved = FrequentVisitor(estate_id=estate.id, host_user_id=actor.id, full_name=guest.full_name,
                            phone=guest.phone, plate=guest.plate, purpose=visit.purpose)
    db.session.add(saved)
    db.session.flush()
    audit.record("frequent_visitor.saved", saved, actor_id=actor.id,
                 after={"name": saved.full_name, "phone": saved.phone, "plate": saved.plate})
    db.session.commit()
    return saved


def remove_frequent_visitor(actor: User, estate: Estate, frequent_id: int) -> None:
    saved = get_frequent_visitor(actor, estate, frequent_id)
    audit.record("frequent_visitor.removed", saved, actor_id=actor.id,
                 before={"name": saved.full_name, "phone": saved.phone, "plate": saved.plate})
    db.session.delete(saved)
    db.session.commit()


# --- personal bans -------------------------------------------------------------------


def _active_ban(now: datetime):
    return sa.and_(Ban.lifted_at.is_(None), sa.or_(Ban.expires_at.is_(None), Ban.expires_at > now))


def list_personal_bans(user: User, estate: Estate) -> list[Ban]:
    """The user's own bans that are still in force, newest first."""
    return list(db.session.scalars(
        sa.select(Ban).where(Ban.estate_id == estate.id, Ban.scope == BanScope.PERSONAL,
                             Ban.owner_user_id == user.id, _active_ban(utcnow()))
        .order_by(Ban.created_at.desc(), Ban.id.desc())
    ))


def add_personal_ban(actor: User, estate: Estate, phone: str, reason: str, expires_on: date | None) -> Ban:
    """Ban a phone from the actor's own invitations, until the end of `expires_on`
    (estate time) or until lifted."""
    try:
        phone = normalise_phone(phone or "", estate.country)
    except InvalidPhone:
        raise InvalidValue("phone", BAD_PHONE) from None
    reason = " ".join((reason or "").split())
    if len(reason) > 300:
        raise InvalidValue("reason", _l("Use at most %(max)d characters.", max=300))
    now = utcnow()
    expires_at = None
    if expires_on is not None:
        expires_at = _local(expires_on + timedelta(days=1), time(0), ZoneInfo(estate.timezone))
        if expires_at <= now:
            raise InvalidValue("expires_on", _l("The expiry must be in the future."))
    existing = db.session.scalar(sa.select(Ban.id).where(
        Ban.estate_id == estate.id, Ban.scope == BanScope.PERSONAL, Ban.owner_user_id == actor.id,
        Ban.phone == phone, _active_ban(now)))
    if existing is not None:
        raise InvalidValue("phone", _l("You have already banned this number."))
    ban = Ban(estate_id=estate.id, phone=phone, scope=BanScope.PERSONAL, owner_user_id=actor.id, severity="MEDIUM",
              reason=reason, expires_at=expires_at, created_by_id=actor.id)
    db.session.add(ban)
    db.session.flush()
    audit.record("ban.created", ban, actor_id=actor.id,
                 after={"phone": phone, "scope": "PERSONAL", "reason": reason,
                        "expires_at": expires_at.isoformat() if expires_at else None})
    db.session.commit()
    return ban


def lift_personal_ban(actor: User, estate: Estate, ban_id: int) -> Ban:
    """Lift one of the actor's own bans (idempotent); anyone else's ban is a 404."""
    ban = db.session.scalar(sa.select(Ban).where(
        Ban.id == ban_id, Ban.estate_id == estate.id, Ban.scope == BanScope.PERSONAL, Ban.owner_user_id == actor.id))
    if ban is None:
        raise NotFound()
    lifted = db.session.execute(
        sa.update(Ban).where(Ban.id == ban.id, Ban.lifted_at.is_(None)).values(lifted_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if lifted:
        db.session.refresh(ban)
        audit.record("ban.lifted", ban, actor_id=actor.id, before={"lifted_at": None},
                     after={"lifted_at": ban.lifted_at.isoformat()})
    db.session.commit()
    return ban
