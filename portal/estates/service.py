"""Read models for the role homes: counts that are true for the estate."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    AccessCard,
    AccessCardStatus,
    Estate,
    Membership,
    Resident,
    Role,
    Unit,
    User,
    Vehicle,
)
from portal.text import like_pattern


@dataclass(frozen=True)
class EstateCounts:
    units: int
    occupied_units: int
    residents: int
    admins: int
    guards: int
    resident_accounts: int


def _active_residents(estate_id: int):
    return sa.select(Resident).where(Resident.estate_id == estate_id, Resident.move_out_date.is_(None))


def estate_counts(estate: Estate) -> EstateCounts:
    units = sa.select(sa.func.count()).select_from(Unit).where(Unit.estate_id == estate.id)
    active = _active_residents(estate.id).subquery()
    residents = sa.select(sa.func.count()).select_from(active)
    occupied = sa.select(sa.func.count(sa.distinct(active.c.unit_id)))

    def role_count(role: Role):
        return (
            sa.select(sa.func.count())
            .select_from(Membership)
            .where(Membership.estate_id == estate.id, Membership.role == role)
        )

    row = db.session.execute(
        sa.select(
            units.scalar_subquery(),
            occupied.scalar_subquery(),
            residents.scalar_subquery(),
            role_count(Role.ESTATE_ADMIN).scalar_subquery(),
            role_count(Role.GUARD).scalar_subquery(),
            role_count(Role.RESIDENT).scalar_subquery(),
        )
    ).one()
    return EstateCounts(*row)


def household_of(user: User, estate: Estate) -> list[Unit]:
    """The units where this user lives in the estate, with their current members, their
    vehicles and their access cards not deactivated (four queries)."""
    unit_ids = sa.select(Resident.unit_id).where(
        Resident.estate_id == estate.id, Resident.user_id == user.id, Resident.move_out_date.is_(None)
    )
    units = db.session.scalars(
        sa.select(Unit)
        .where(Unit.estate_id == estate.id, Unit.id.in_(unit_ids), Unit.archived_at.is_(None))
        .options(selectinload(Unit.residents))
        .order_by(Unit.sort_key)
    ).all()
    ids = [unit.id for unit in units]
    vehicles: dict[int, list[Vehicle]] = {i: [] for i in ids}
    cards: dict[int, list[AccessCard]] = {i: [] for i in ids}
    if ids:
        for vehicle in db.session.scalars(sa.select(Vehicle).where(
                Vehicle.estate_id == estate.id, Vehicle.unit_id.in_(ids), Vehicle.removed_at.is_(None))
                .order_by(Vehicle.plate)):
            vehicles[vehicle.unit_id].append(vehicle)
        for card in db.session.scalars(sa.select(AccessCard).where(
                AccessCard.estate_id == estate.id, AccessCard.unit_id.in_(ids),
                AccessCard.status != AccessCardStatus.DEACTIVATED).order_by(AccessCard.id)):
            cards[card.unit_id].append(card)
    for unit in units:
        unit.current_residents = sorted(
            (r for r in unit.residents if r.move_out_date is None), key=lambda r: (r.resident_type, r.full_name)
        )
        unit.vehicles = vehicles[unit.id]
        unit.cards = cards[unit.id]
        unit.my_resident_id = next((r.id for r in unit.current_residents if r.user_id == user.id), None)
    return list(units)


def search_residents(estate: Estate, query: str, page: int = 1, per_page: int = 10):
    """Residents of the estate matching a name, unit number or phone fragment."""
    stmt = (
        _active_residents(estate.id)
        .join(Unit, Unit.id == Resident.unit_id)
        .options(joinedload(Resident.unit))
        .order_by(Unit.sort_key, Resident.full_name)
    )
    query = query.strip()
    if query:
        like = like_pattern(query)
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Resident.full_name).like(like, escape="\\"),
                sa.func.lower(Unit.number).like(like, escape="\\"),
                Resident.phone.like(like_pattern(query.replace(" ", "")), escape="\\"),
            )
        )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)


@dataclass(frozen=True)
class EstateRow:
    estate: Estate
    units: int
    residents: int
    members: int


def enterprise_overview() -> list[EstateRow]:
    units = (
        sa.select(sa.func.count()).where(Unit.estate_id == Estate.id).correlate(Estate).scalar_subquery()
    )
    residents = (
        sa.select(sa.func.count())
        .where(Resident.estate_id == Estate.id, Resident.move_out_date.is_(None))
        .correlate(Estate)
        .scalar_subquery()
    )
    members = (
        sa.select(sa.func.count(sa.distinct(Membership.user_id)))
        .where(Membership.estate_id == Estate.id)
        .correlate(Estate)
        .scalar_subquery()
    )
    rows = db.session.execute(sa.select(Estate, units, residents, members).order_by(Estate.name)).all()
    return [EstateRow(*row) for row in rows]


def platform_counts() -> dict[str, int]:
    row = db.session.execute(
        sa.select(
            sa.select(sa.func.count()).select_from(Estate).scalar_subquery(),
            sa.select(sa.func.count()).select_from(Estate).where(Estate.status == "ACTIVE").scalar_subquery(),
            sa.select(sa.func.count()).select_from(User).scalar_subquery(),
            sa.select(sa.func.count()).select_from(Unit).scalar_subquery(),
        )
    ).one()
    return dict(zip(("estates", "active_estates", "users", "units"), row, strict=True))
