"""Browse and export the audit log.

Estate admins see their estate's rows (`estate` given); enterprise admins see every
estate's rows and the platform's own (`estate=None`, optionally filtered by estate).
Dates of the filters are days in the given time zone (the estate's)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from portal.extensions import db
from portal.models import (
    AccessCard,
    Approval,
    AuditLog,
    Ban,
    Estate,
    FrequentVisitor,
    Invitation,
    Membership,
    Payment,
    Resident,
    Unit,
    User,
    Vehicle,
    VisitGuest,
    WalkIn,
)
from portal.text import like_pattern

PLATFORM = -1  # the estate filter value for rows that belong to no estate
EXPORT_BATCH = 1000
CSV_COLUMNS = ("id", "created_at", "estate", "actor_name", "actor_email", "action", "target_type", "target_id",
               "before", "after", "ip_address")


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    target_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    estate_id: int | None = None  # enterprise view only; PLATFORM for rows without an estate

    @property
    def any(self) -> bool:
        return bool(self.actor.strip() or self.action or self.target_type or self.date_from or self.date_to
                    or self.estate_id)


@dataclass
class AuditRow:
    log: AuditLog
    actor: User | None
    estate: Estate | None
    target_name: str | None = None  # what people call the target (a name, a unit number, a plate)

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(key, before, after) for every key that differs, in a stable order."""
        before, after = self.log.before or {}, self.log.after or {}
        if not isinstance(before, dict) or not isinstance(after, dict):
            return [("", before, after)]
        keys = list(before) + [k for k in after if k not in before]
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def _scoped(estate: Estate | None, filters: AuditFilters, tz: ZoneInfo):
    stmt = sa.select(AuditLog)
    if estate is not None:
        stmt = stmt.where(AuditLog.estate_id == estate.id)
    elif filters.estate_id == PLATFORM:
        stmt = stmt.where(AuditLog.estate_id.is_(None))
    elif filters.estate_id:
        stmt = stmt.where(AuditLog.estate_id == filters.estate_id)
    if filters.actor.strip():
        like = like_pattern(filters.actor)
        actors = sa.select(User.id).where(sa.or_(sa.func.lower(User.full_name).like(like, escape="\\"),
                                                 sa.func.lower(User.email).like(like, escape="\\")))
        stmt = stmt.where(AuditLog.actor_user_id.in_(actors))
    if filters.action:
        stmt = stmt.where(AuditLog.action == filters.action)
    if filters.target_type:
        stmt = stmt.where(AuditLog.target_type == filters.target_type)
    if filters.date_from:
        stmt = stmt.where(AuditLog.created_at >= datetime.combine(filters.date_from, time.min, tz))
    if filters.date_to:
        stmt = stmt.where(AuditLog.created_at < datetime.combine(filters.date_to + timedelta(days=1), time.min, tz))
    return stmt


# How to name each kind of target: a statement of (id, name) for a set of ids.
_NAMERS = {
    "User": lambda ids: sa.select(User.id, User.full_name).where(User.id.in_(ids)),
    "Membership": lambda ids: sa.select(Membership.id, User.full_name).join(User, User.id == Membership.user_id)
    .where(Membership.id.in_(ids)),
    "Approval": lambda ids: sa.select(Approval.id, User.full_name).join(User, User.id == Approval.user_id)
    .where(Approval.id.in_(ids)),
    "Visit": lambda ids: sa.select(VisitGuest.visit_id, sa.func.min(VisitGuest.full_name))
    .where(VisitGuest.visit_id.in_(ids)).group_by(VisitGuest.visit_id),
    "WalkIn": lambda ids: sa.select(WalkIn.id, WalkIn.visitor_name).where(WalkIn.id.in_(ids)),
    "Estate": lambda ids: sa.select(Estate.id, Estate.name).where(Estate.id.in_(ids)),
    "Unit": lambda ids: sa.select(Unit.id, Unit.number).where(Unit.id.in_(ids)),
    "Resident": lambda ids: sa.select(Resident.id, Resident.full_name).where(Resident.id.in_(ids)),
    "Vehicle": lambda ids: sa.select(Vehicle.id, Vehicle.plate).where(Vehicle.id.in_(ids)),
    "AccessCard": lambda ids: sa.select(AccessCard.id, AccessCard.card_number).where(AccessCard.id.in_(ids)),
    "Invitation": lambda ids: sa.select(Invitation.id, Invitation.full_name).where(Invitation.id.in_(ids)),
    "Ban": lambda ids: sa.select(Ban.id, Ban.phone).where(Ban.id.in_(ids)),
    "FrequentVisitor": lambda ids: sa.select(FrequentVisitor.id, FrequentVisitor.full_name)
    .where(FrequentVisitor.id.in_(ids)),
    "Payment": lambda ids: sa.select(Payment.id, sa.func.coalesce(sa.func.nullif(Payment.reference, ""), Payment.tx_ref))
    .where(Payment.id.in_(ids)),
}


def _target_names(logs: list[AuditLog]) -> dict[tuple[str, int], str]:
    """What each row's target is called today, in one query (a UNION ALL over the kinds of
    target), whatever the page holds."""
    if not logs:
        return {}
    wanted: dict[str, set[int]] = {kind: set() for kind in _NAMERS}
    for log in logs:
        if log.target_id and log.target_type in _NAMERS:
            wanted[log.target_type].add(log.target_id)
    parts = []
    for kind, namer in _NAMERS.items():
        stmt = namer(wanted[kind])
        id_col, name_col = stmt.selected_columns
        parts.append(stmt.with_only_columns(sa.literal(kind).label("kind"), id_col.label("target_id"),
                                            sa.cast(name_col, sa.String).label("name")))
    rows = db.session.execute(sa.union_all(*parts)).all()
    return {(kind, target_id): name for kind, target_id, name in rows if name}


def _with_people(logs: list[AuditLog]) -> list[AuditRow]:
    """Actors, estates and target names of a batch of rows, in three queries."""
    actor_ids = {log.actor_user_id for log in logs if log.actor_user_id}
    estate_ids = {log.estate_id for log in logs if log.estate_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    estates = (
        {e.id: e for e in db.session.scalars(sa.select(Estate).where(Estate.id.in_(estate_ids)))} if estate_ids else {}
    )
    names = _target_names(logs)
    return [AuditRow(log, actors.get(log.actor_user_id), estates.get(log.estate_id),
                     names.get((log.target_type, log.target_id))) for log in logs]


def recent(estate: Estate, limit: int = 8) -> list[AuditRow]:
    """The estate's latest entries, with their people (the dashboard's recent activity)."""
    logs = list(db.session.scalars(
        sa.select(AuditLog).where(AuditLog.estate_id == estate.id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit)
    ))
    return _with_people(logs)


def list_entries(estate: Estate | None, filters: AuditFilters, tz: ZoneInfo, page: int = 1,
                 per_page: int = 25) -> Pagination:
    """One page, newest first (four queries whatever the page size)."""
    stmt = _scoped(estate, filters, tz).order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    pagination.items = _with_people(list(pagination.items))
    return pagination


def choices(estate: Estate | None) -> tuple[list[str], list[str]]:
    """The distinct actions and target types (for the filter selects), in one query."""
    stmt = sa.select(AuditLog.action, AuditLog.target_type).distinct()
    if estate is not None:
        stmt = stmt.where(AuditLog.estate_id == estate.id)
    rows = db.session.execute(stmt).all()
    return sorted({r.action for r in rows}), sorted({r.target_type for r in rows})


def iter_entries(estate: Estate | None, filters: AuditFilters, tz: ZoneInfo) -> Iterator[AuditRow]:
    """Every matching row, newest first, fetched in batches (keyset on created_at, id),
    so an export of any size streams in constant memory."""
    last: tuple[datetime, int] | None = None
    while True:
        stmt = _scoped(estate, filters, tz)
        if last is not None:
            stmt = stmt.where(sa.or_(AuditLog.created_at < last[0],
                                     sa.and_(AuditLog.created_at == last[0], AuditLog.id < last[1])))
        logs = list(db.session.scalars(
            stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(EXPORT_BATCH)
        ))
        if not logs:
            return
        yield from _with_people(logs)
        last = (logs[-1].created_at, logs[-1].id)
        for log in logs:  # keep memory flat across batches
            db.session.expunge(log)
        if len(logs) < EXPORT_BATCH:
            return


def _record(row: AuditRow) -> dict:
    log = row.log
    return {
        "id": log.id,
        "created_at": log.created_at.isoformat(),
        "estate": row.estate.slug if row.estate else None,
        "actor_name": row.actor.full_name if row.actor else None,
        "actor_email": row.actor.email if row.actor else None,
        "action": log.action,
        "target_type": log.target_type,
        "target_id": log.target_id,
        "before": log.before,
        "after": log.after,
        "ip_address": log.ip_address,
    }


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    # A spreadsheet must not run what a user typed as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(rows: Iterator[AuditRow]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for n, row in enumerate(rows, 1):
        record = _record(row)
        writer.writerow([_cell(record[c]) for c in CSV_COLUMNS])
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export_json(rows: Iterator[AuditRow]) -> Iterator[str]:
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n" + json.dumps(_record(row), ensure_ascii=False)
    yield "\n]\n"


def export_filename(estate_slug: str, day: date, extension: str) -> str:
    return f"audit-{estate_slug}-{day.isoformat()}.{extension}"
