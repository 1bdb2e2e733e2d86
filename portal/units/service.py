"""Units of an estate: list with filters, create, edit, archive and restore."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.errors import Conflict, DomainError, NotFound
from portal.extensions import db
from portal.models import Estate, Resident, Unit, UnitType, User, utcnow
from portal.text import like_pattern


class Occupancy(enum.StrEnum):
    VACANT = "VACANT"
    OCCUPIED = "OCCUPIED"


@dataclass(frozen=True)
class UnitFilters:
    q: str = ""
    block: str = ""
    status: str = ""  # VACANT | OCCUPIED | ARCHIVED | "" (current units)
    unit_type: str = ""


@dataclass
class UnitData:
    number: str
    block: str = ""
    floor: str = ""
    unit_type: UnitType = UnitType.APARTMENT
    bedrooms: int | None = None
    bathrooms: int | None = None
    area_sqm: Decimal | None = None
    notes: str = ""


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    residents: int

    @property
    def occupancy(self) -> Occupancy:
        return Occupancy.OCCUPIED if self.residents else Occupancy.VACANT


def _resident_count():
    return (
        sa.select(sa.func.count(Resident.id))
        .where(Resident.unit_id == Unit.id, Resident.move_out_date.is_(None))
        .correlate(Unit)
        .scalar_subquery()
    )


def list_units(estate: Estate, filters: UnitFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the estate's units, each with its resident count (three queries)."""
    stmt = sa.select(Unit).where(Unit.estate_id == estate.id)
    if filters.status == "ARCHIVED":
        stmt = stmt.where(Unit.archived_at.is_not(None))
    else:
        stmt = stmt.where(Unit.archived_at.is_(None))
        if filters.status == Occupancy.OCCUPIED:
            stmt = stmt.where(_resident_count() > 0)
        elif filters.status == Occupancy.VACANT:
            stmt = stmt.where(_resident_count() == 0)
    if filters.block:
        stmt = stmt.where(Unit.block == filters.block)
    if filters.unit_type in UnitType.__members__:
        stmt = stmt.where(Unit.unit_type == UnitType(filters.unit_type))
    if filters.q.strip():
        like = like_pattern(filters.q)
        stmt = stmt.where(sa.or_(sa.func.lower(Unit.number).like(like, escape="\\"),
                                 sa.func.lower(Unit.notes).like(like, escape="\\")))
    # Natural order: block, then the number as people read it (A2 before A10).
    stmt = stmt.order_by(Unit.block, Unit.sort_key)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    units = list(pagination.items)
    counts = dict(db.session.execute(
        sa.select(Resident.unit_id, sa.func.count(Resident.id))
        .where(Resident.unit_id.in_([u.id for u in units]), Resident.move_out_date.is_(None))
        .group_by(Resident.unit_id)
    ).all()) if units else {}
    pagination.items = [UnitRow(unit, counts.get(unit.id, 0)) for unit in units]
    return pagination


def blocks(estate: Estate) -> list[str]:
    return list(db.session.scalars(
        sa.select(Unit.block).where(Unit.estate_id == estate.id, Unit.block != "").distinct().order_by(Unit.block)
    ))


def get_unit(estate: Estate, unit_id: int) -> Unit:
    """A unit of this estate, or 404 (never another estate's)."""
    unit = db.session.scalar(sa.select(Unit).where(Unit.id == unit_id, Unit.estate_id == estate.id))
    if unit is None:
        raise NotFound()
    return unit


def _snapshot(unit: Unit) -> dict:
    return {
        "number": unit.number, "block": unit.block, "floor": unit.floor, "unit_type": unit.unit_type.value,
        "bedrooms": unit.bedrooms, "bathrooms": unit.bathrooms,
        "area_sqm": str(unit.area_sqm) if unit.area_sqm is not None else None, "notes": unit.notes,
    }


DUPLICATE = _l("There is already a unit numbered %(number)s in this estate.")


def _number_taken(estate: Estate, number: str, except_id: int | None = None) -> bool:
    stmt = sa.select(Unit.id).where(Unit.estate_id == estate.id, sa.func.lower(Unit.number) == number.lower())
    if except_id is not None:
        stmt = stmt.where(Unit.id != except_id)
    return db.session.scalar(stmt) is not None


def _save(unit: Unit, number: str) -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:  # two admins saving the same number at once
        db.session.rollback()
        raise Conflict(DUPLICATE % {"number": number}) from exc


def create_unit(actor: User, estate: Estate, data: UnitData) -> Unit:
    number = data.number.strip()
    if _number_taken(estate, number):
        raise Conflict(DUPLICATE % {"number": number})
    unit = Unit(estate_id=estate.id, **{**data.__dict__, "number": number})
    db.session.add(unit)
    db.session.flush()
    audit.record("unit.created", unit, actor_id=actor.id, after=_snapshot(unit))
    _save(unit, number)
    return unit


def update_unit(actor: User, estate: Estate, unit_id: int, data: UnitData) -> Unit:
    unit = get_unit(estate, unit_id)
    number = data.number.strip()
    if _number_taken(estate, number, except_id=unit.id):
        raise Conflict(DUPLICATE % {"number": number})
    before = _snapshot(unit)
    for key, value in {**data.__dict__, "number": number}.items():
        setattr(unit, key, value)
    after = _snapshot(unit)
    if after != before:
        audit.record("unit.updated", unit, actor_id=actor.id, before=before, after=after)
    _save(unit, number)
    return unit


def archive_unit(actor: User, estate: Estate, unit_id: int) -> Unit:
    unit = get_unit(estate, unit_id)
    if unit.archived_at is not None:
        return unit
    living = db.session.scalar(
        sa.select(sa.func.count(Resident.id)).where(Resident.unit_id == unit.id, Resident.move_out_date.is_(None))
    )
    if living:
        raise DomainError(
            _l("Unit %(number)s still has %(count)d resident(s). Move them out before archiving it.",
               number=unit.number, count=living),
            code="CONFLICT",
        )
    unit.archived_at = utcnow()
    audit.record("unit.archived", unit, actor_id=actor.id)
    db.session.commit()
    return unit


def restore_unit(actor: User, estate: Estate, unit_id: int) -> Unit:
    unit = get_unit(estate, unit_id)
    if unit.archived_at is None:
        return unit
    unit.archived_at = None
    audit.record("unit.restored", unit, actor_id=actor.id)
    db.session.commit()
    return unit
