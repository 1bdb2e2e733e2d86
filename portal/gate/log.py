"""The estate admin's visit log, gate events log and today's numbers (read models).

Filters are plain values (dates are days in the estate's time zone); every list is one
page in a constant number of queries, and every export streams all matching rows in
keyset batches, so an export of any size runs in constant memory.

Indexes that serve the filters today: visit(estate_id, status, valid_until) for the
status filters and "expected today", visit(unit_id), visit(host_user_id),
visit(estate_id, visitor_code) (unique) for a typed code, visit_guest(estate_id, phone)
for the estate's visitors, gate_event(estate_id, occurred_at) for the event log's order,
date range and today's counts, gate_event(visit_id) for a unit's or a visit's events.
Wanted (no migration yet): visit(estate_id, valid_from) so the visit log's order and
date range need no sort, and gate_event(estate_id, event_type, occurred_at) for a log
filtered by event type over a long range."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.labels import PASS_STATE_LABELS, PASS_TYPE_LABELS, VISIT_STATUS_LABELS
from portal.models import (
    Estate,
    GateEvent,
    GateEventType,
    GateMethod,
    Membership,
    PassType,
    Role,
    Unit,
    User,
    Visit,
    VisitGuest,
    VisitStatus,
)
from portal.phones import phone_digits
from portal.text import like_pattern, plate_pattern
from portal.visits.rules import REFUSAL_MESSAGES, Refusal
from portal.visits.service import pass_state

EXPORT_BATCH = 500
UTC = ZoneInfo("UTC")

# The status filter of the visit log: the stored statuses, and two derived from the clock.
VISIT_STATUS_FILTERS = {
    "ACTIVE": _l("Active (not expired)"),
    "INSIDE": _l("Inside now"),
    "EXPIRED": _l("Expired"),
    "CANCELLED": _l("Cancelled"),
    "REVOKED": _l("Revoked"),
}
EVENT_TYPE_LABELS = {
    GateEventType.ENTRY.value: _l("Entry"),
    GateEventType.EXIT.value: _l("Exit"),
    GateEventType.DENIED.value: _l("Denied"),
}
METHOD_LABELS = {
    GateMethod.QR.value: _l("QR scan"),
    GateMethod.CODE.value: _l("Typed code"),
    GateMethod.SEARCH.value: _l("Search"),
    GateMethod.OFFLINE.value: _l("Offline"),
}
# The reasons a scan can be denied and recorded (NOT_FOUND writes no event).
DENIAL_REASONS = [r.value for r in Refusal if r != Refusal.NOT_FOUND]


def day_bounds(day_from: date | None, day_to: date | None, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """[start of day_from, start of the day after day_to) in the estate's time zone, as UTC."""
    start = datetime.combine(day_from, time.min, tz).astimezone(UTC) if day_from else None
    end = datetime.combine(day_to + timedelta(days=1), time.min, tz).astimezone(UTC) if day_to else None
    return start, end


def local_text(value: datetime | None, tz: ZoneInfo) -> str:
    """An exported time: the estate's local time with its UTC offset (2024-05-01T14:30+01:00)."""
    return value.astimezone(tz).isoformat(timespec="minutes") if value else ""


def csv_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    # A spreadsheet must not run what a user typed as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: tuple[str, ...], records: Iterator[list]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for n, record in enumerate(records, 1):
        writer.writerow([csv_cell(v) for v in record])
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- the visit log -----------------------------------------------------------------------


@dataclass(frozen=True)
class VisitLogFilters:
    q: str = ""  # visitor name, phone, plate or visitor code
    date_from: date | None = None  # the pass's window overlaps these days
    date_to: date | None = None
    unit_id: int | None = None
    status: str = ""  # a key of VISIT_STATUS_FILTERS
    pass_type: str = ""  # a PassType value
    host: str = ""  # the host's name, email or phone

    @property
    def any(self) -> bool:
        return bool(self.q.strip() or self.date_from or self.date_to or self.unit_id or self.status
                    or self.pass_type or self.host.strip())

    def query(self) -> dict:
        """The filters as query-string arguments (for links, the pager and the export)."""
        return {"q": self.q, "from": self.date_from.isoformat() if self.date_from else "",
                "to": self.date_to.isoformat() if self.date_to else "", "unit": self.unit_id or "",
                "status": self.status, "type": self.pass_type, "host": self.host}


def _visit_scope(estate: Estate, filters: VisitLogFilters, tz: ZoneInfo, now: datetime):
    stmt = sa.select(Visit).where(Visit.estate_id == estate.id)
    start, end = day_bounds(filters.date_from, filters.date_to, tz)
    if start is not None:
        stmt = stmt.where(Visit.valid_until > start)
    if end is not None:
        stmt = stmt.where(Visit.valid_from < end)
    if filters.unit_id:
        stmt = stmt.where(Visit.unit_id == filters.unit_id)
    if filters.pass_type in PassType.__members__:
        stmt = stmt.where(Visit.pass_type == PassType(filters.pass_type))
    status = filters.status
    if status == "ACTIVE":
        stmt = stmt.where(Visit.status == VisitStatus.ACTIVE, Visit.valid_until > now)
    elif status == "EXPIRED":
        stmt = stmt.where(Visit.status == VisitStatus.ACTIVE, Visit.valid_until <= now)
    elif status == "INSIDE":
        stmt = stmt.where(Visit.people_inside.is_(True))
    elif status in ("CANCELLED", "REVOKED"):
        stmt = stmt.where(Visit.status == VisitStatus(status))
    host = filters.host.strip()
    if host:
        like = like_pattern(host)
        digits = phone_digits(host)
        match = [sa.func.lower(User.full_name).like(like, escape="\\"), sa.func.lower(User.email).like(like, escape="\\")]
        if digits:
            match.append(User.phone.like(like_pattern(digits), escape="\\"))
        stmt = stmt.where(Visit.host_user_id.in_(sa.select(User.id).where(sa.or_(*match))))
    q = filters.q.strip()
    if q:
        like = like_pattern(q)
        digits = phone_digits(q)
        guest = [sa.func.lower(VisitGuest.full_name).like(like, escape="\\")]
        plate = plate_pattern(q)
        if plate:
            guest.append(VisitGuest.plate.like(plate, escape="\\"))
        if digits:
            guest.append(VisitGuest.phone.like(like_pattern(digits), escape="\\"))
        guests = sa.select(VisitGuest.visit_id).where(VisitGuest.estate_id == estate.id, sa.or_(*guest))
        code = re.sub(r"[\s\-_.]", "", q).upper()
        stmt = stmt.where(sa.or_(Visit.id.in_(guests), Visit.visitor_code == code))
    return stmt


def _visit_options(stmt):
    return stmt.options(selectinload(Visit.visitors), joinedload(Visit.unit), joinedload(Visit.host))


@dataclass
class VisitRow:
    visit: Visit
    state: str  # a key of labels.PASS_STATE_LABELS


def list_visits(estate: Estate, filters: VisitLogFilters, now: datetime, page: int = 1,
                per_page: int = 25) -> Pagination:
    """One page of the estate's visits, latest window start first (three queries)."""
    tz = ZoneInfo(estate.timezone)
    stmt = _visit_options(_visit_scope(estate, filters, tz, now)).order_by(Visit.valid_from.desc(), Visit.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    pagination.items = [VisitRow(v, pass_state(v, now, estate.timezone)) for v in pagination.items]
    return pagination


def iter_visits(estate: Estate, filters: VisitLogFilters, now: datetime) -> Iterator[Visit]:
    """Every matching visit in the log's order, in batches (keyset on valid_from, id)."""
    tz = ZoneInfo(estate.timezone)
    last: tuple[datetime, int] | None = None
    while True:
        stmt = _visit_scope(estate, filters, tz, now)
        if last is not None:
            stmt = stmt.where(sa.or_(Visit.valid_from < last[0],
                                     sa.and_(Visit.valid_from == last[0], Visit.id < last[1])))
        batch = list(db.session.scalars(
            _visit_options(stmt).order_by(Visit.valid_from.desc(), Visit.id.desc()).limit(EXPORT_BATCH)
        ).unique())
        if not batch:
            return
        yield from batch
        last = (batch[-1].valid_from, batch[-1].id)
        for visit in batch:  # keep memory flat across batches (its visitors go with it)
            db.session.expunge(visit)
        if len(batch) < EXPORT_BATCH:
            return


# The codes (pass_type, status, state) stay as they are for spreadsheets and imports; each
# *_label column says the same in the reader's language.
VISIT_CSV_COLUMNS = ("id", "code", "pass_type", "status", "state", "unit", "host", "visitors", "phones", "plates",
                     "valid_from", "valid_until", "entries_used", "max_entries", "inside", "purpose", "created_at",
                     "revoked_at", "pass_type_label", "status_label", "state_label")


def visits_csv(estate: Estate, visits: Iterator[Visit], now: datetime) -> Iterator[str]:
    """The visits as CSV; times in the estate's time zone with their offset."""
    tz = ZoneInfo(estate.timezone)

    def records():
        for v in visits:
            state = pass_state(v, now, estate.timezone)
            yield [v.id, v.visitor_code, v.pass_type.value, v.status.value, state,
                   v.unit.number, v.host.display_name if v.host else "",
                   "; ".join(g.full_name for g in v.visitors if g.full_name),
                   "; ".join(g.phone for g in v.visitors if g.phone),
                   "; ".join(g.plate for g in v.visitors if g.plate),
                   local_text(v.valid_from, tz), local_text(v.valid_until, tz), v.entries_used,
                   "" if v.max_entries is None else v.max_entries, "yes" if v.people_inside else "no", v.purpose,
                   local_text(v.created_at, tz), local_text(v.revoked_at, tz),
                   str(PASS_TYPE_LABELS[v.pass_type]), str(VISIT_STATUS_LABELS[v.status]),
                   str(PASS_STATE_LABELS.get(state, state))]

    return _csv(VISIT_CSV_COLUMNS, records())


def get_visit(estate: Estate, visit_id: int) -> Visit | None:
    """A visit of this estate with its visitors, unit and host (None if not this estate's)."""
    return db.session.scalar(_visit_options(sa.select(Visit)).where(Visit.id == visit_id,
                                                                     Visit.estate_id == estate.id))


@dataclass
class EventRow:
    event: GateEvent
    guard: User | None


def visit_events(estate: Estate, visit: Visit, limit: int = 100) -> list[EventRow]:
    """The visit's gate events, latest first, with the guard (one query)."""
    rows = db.session.execute(
        sa.select(GateEvent, User).outerjoin(User, User.id == GateEvent.guard_user_id)
        .where(GateEvent.estate_id == estate.id, GateEvent.visit_id == visit.id)
        .order_by(GateEvent.occurred_at.desc(), GateEvent.id.desc()).limit(limit)
    ).all()
    return [EventRow(event, guard) for event, guard in rows]


def estate_units(estate: Estate) -> list[tuple[int, str]]:
    """(id, number) of every unit of the estate, archived ones too (for the unit filter)."""
    return [(r.id, r.number) for r in db.session.execute(
        sa.select(Unit.id, Unit.number).where(Unit.estate_id == estate.id).order_by(Unit.sort_key)
    )]


# --- the gate events log -----------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    date_from: date | None = None
    date_to: date | None = None
    unit_id: int | None = None
    event_type: str = ""  # a GateEventType value
    reason: str = ""  # a Refusal value
    gate: str = ""
    guard_id: int | None = None
    method: str = ""  # a GateMethod value

    @property
    def any(self) -> bool:
        return bool(self.date_from or self.date_to or self.unit_id or self.event_type or self.reason or self.gate
                    or self.guard_id or self.method)

    def query(self) -> dict:
        return {"from": self.date_from.isoformat() if self.date_from else "",
                "to": self.date_to.isoformat() if self.date_to else "", "unit": self.unit_id or "",
                "type": self.event_type, "reason": self.reason, "gate": self.gate, "guard": self.guard_id or "",
                "method": self.method}


def _event_scope(estate: Estate, filters: EventFilters, tz: ZoneInfo):
    stmt = sa.select(GateEvent).where(GateEvent.estate_id == estate.id)
    start, end = day_bounds(filters.date_from, filters.date_to, tz)
    if start is not None:
        stmt = stmt.where(GateEvent.occurred_at >= start)
    if end is not None:
        stmt = stmt.where(GateEvent.occurred_at < end)
    if filters.unit_id:
        visits = sa.select(Visit.id).where(Visit.estate_id == estate.id, Visit.unit_id == filters.unit_id)
        stmt = stmt.where(GateEvent.visit_id.in_(visits))
    if filters.event_type in GateEventType.__members__:
        stmt = stmt.where(GateEvent.event_type == GateEventType(filters.event_type))
    if filters.reason:
        stmt = stmt.where(GateEvent.reason == filters.reason)
    if filters.gate:
        stmt = stmt.where(GateEvent.gate == filters.gate)
    if filters.guard_id:
        stmt = stmt.where(GateEvent.guard_user_id == filters.guard_id)
    if filters.method in GateMethod.__members__:
        stmt = stmt.where(GateEvent.method == GateMethod(filters.method))
    return stmt


def _event_options(stmt):
    return stmt.options(joinedload(GateEvent.visit).joinedload(Visit.unit),
                        joinedload(GateEvent.visit).selectinload(Visit.visitors))


def _with_guards(events: list[GateEvent]) -> list[EventRow]:
    ids = {e.guard_user_id for e in events if e.guard_user_id}
    guards = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
    return [EventRow(e, guards.get(e.guard_user_id)) for e in events]


def list_events(estate: Estate, filters: EventFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the estate's gate events, latest first (four queries)."""
    tz = ZoneInfo(estate.timezone)
    stmt = _event_options(_event_scope(estate, filters, tz)).order_by(GateEvent.occurred_at.desc(),
                                                                       GateEvent.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    pagination.items = _with_guards(list(pagination.items))
    return pagination


def iter_events(estate: Estate, filters: EventFilters) -> Iterator[EventRow]:
    tz = ZoneInfo(estate.timezone)
    last: tuple[datetime, int] | None = None
    while True:
        stmt = _event_scope(estate, filters, tz)
        if last is not None:
            stmt = stmt.where(sa.or_(GateEvent.occurred_at < last[0],
                                     sa.and_(GateEvent.occurred_at == last[0], GateEvent.id < last[1])))
        batch = list(db.session.scalars(
            _event_options(stmt).order_by(GateEvent.occurred_at.desc(), GateEvent.id.desc()).limit(EXPORT_BATCH)
        ).unique())
        if not batch:
            return
        yield from _with_guards(batch)
        last = (batch[-1].occurred_at, batch[-1].id)
        for event in batch:  # keep memory flat across batches
            if event.visit is not None and event.visit in db.session:
                db.session.expunge(event.visit)
            db.session.expunge(event)
        if len(batch) < EXPORT_BATCH:
            return


EVENT_CSV_COLUMNS = ("id", "occurred_at", "event_type", "reason", "gate", "method", "guard", "code", "unit",
                     "visitors", "device_id", "event_type_label", "reason_label", "method_label")


def events_csv(estate: Estate, rows: Iterator[EventRow]) -> Iterator[str]:
    tz = ZoneInfo(estate.timezone)

    def records():
        for row in rows:
            e, v = row.event, row.event.visit
            yield [e.id, local_text(e.occurred_at, tz), e.event_type.value, e.reason or "", e.gate, e.method.value,
                   row.guard.display_name if row.guard else "", v.visitor_code if v else "", v.unit.number if v else "",
                   "; ".join(g.full_name for g in v.visitors if g.full_name) if v else "", e.device_id or "",
                   str(EVENT_TYPE_LABELS[e.event_type.value]),
                   str(REFUSAL_MESSAGES[Refusal(e.reason)]) if e.reason in Refusal.__members__ else (e.reason or ""),
                   str(METHOD_LABELS[e.method.value])]

    return _csv(EVENT_CSV_COLUMNS, records())


def event_choices(estate: Estate, filters: EventFilters) -> tuple[list[str], list[tuple[int, str]]]:
    """The gates (the estate's configured ones, plus the one asked for) and the estate's
    guards (one query) for the filter selects."""
    gates = [name.strip() for name in (estate.gate_names or "").splitlines() if name.strip()]
    if filters.gate and filters.gate not in gates:
        gates.append(filters.gate)
    guards = db.session.execute(
        sa.select(User.id, User.full_name, User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.estate_id == estate.id, Membership.role == Role.GUARD).order_by(User.full_name, User.id)
    ).all()
    return gates, [(g.id, g.full_name or g.email or f"#{g.id}") for g in guards]


def export_filename(kind: str, estate: Estate, now: datetime) -> str:
    return f"{kind}-{estate.slug}-{now.astimezone(ZoneInfo(estate.timezone)).date().isoformat()}.csv"


# --- today's numbers -----------------------------------------------------------------------


@dataclass(frozen=True)
class TodayNumbers:
    expected: int  # active passes valid at some time today
    inside: int  # visits whose people are inside now
    entered: int  # entries recorded today
    denied: int  # scans denied today


def today_numbers(estate: Estate, now: datetime) -> TodayNumbers:
    """Today's numbers in the estate's time zone, in one query."""
    tz = ZoneInfo(estate.timezone)
    local = now.astimezone(tz)
    start, end = day_bounds(local.date(), local.date(), tz)
    weekday = str(local.isoweekday())
    expected = sa.select(sa.func.count(Visit.id)).where(
        Visit.estate_id == estate.id, Visit.status == VisitStatus.ACTIVE, Visit.valid_until > start,
        Visit.valid_from < end,
        sa.or_(Visit.pass_type != PassType.RECURRING, Visit.weekdays.contains(weekday)),
    )
    inside = sa.select(sa.func.count(Visit.id)).where(Visit.estate_id == estate.id, Visit.people_inside.is_(True))

    def events(kind: GateEventType):
        return sa.select(sa.func.count(GateEvent.id)).where(
            GateEvent.estate_id == estate.id, GateEvent.occurred_at >= start, GateEvent.occurred_at < end,
            GateEvent.event_type == kind)

    row = db.session.execute(sa.select(
        expected.scalar_subquery(), inside.scalar_subquery(), events(GateEventType.ENTRY).scalar_subquery(),
        events(GateEventType.DENIED).scalar_subquery(),
    )).one()
    return TodayNumbers(*(int(n or 0) for n in row))
