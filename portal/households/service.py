"""Residents and households: the estate's directory; the members of a unit (move in,
edit, move out), its vehicles and its access cards (request → issue → deactivate)."""

from __future__ import annotations

import contextlib
import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from portal import audit
from portal.errors import DomainError, InvalidValue, NotFound
from portal.extensions import db
from portal.models import (
    AccessCard,
    AccessCardStatus,
    Estate,
    Membership,
    Resident,
    ResidentType,
    Role,
    Unit,
    User,
    Vehicle,
    utcnow,
)
from portal.phones import InvalidPhone, normalise_phone
from portal.text import like_pattern, normalise_plate, strip_bidi_controls
from portal.units.service import get_unit

TYPE_ORDER = {t: i for i, t in enumerate(ResidentType)}
LIVE_CARD_STATUSES = (AccessCardStatus.REQUESTED, AccessCardStatus.ISSUED)


class ResidentStatus(enum.StrEnum):
    CURRENT = "CURRENT"
    MOVED_OUT = "MOVED_OUT"
    ALL = "ALL"


@dataclass(frozen=True)
class ResidentFilters:
    q: str = ""
    resident_type: str = ""
    status: str = ""  # "" or CURRENT: living here now; MOVED_OUT; ALL

    @property
    def any(self) -> bool:
        return bool(self.q.strip() or self.resident_type or self.status)


@dataclass
class MemberData:
    full_name: str
    resident_type: ResidentType
    phone: str | None = None
    email: str | None = None
    move_in_date: date | None = None
    emergency_contact_name: str = ""
    emergency_contact_phone: str | None = None


@dataclass
class VehicleData:
    plate: str
    make: str = ""
    model: str = ""
    colour: str = ""


@dataclass
class Household:
    unit: Unit
    current: list[Resident]
    past: list[Resident]
    vehicles: list[Vehicle]
    cards: list[AccessCard]
    card_limit: int
    members_by_id: dict[int, Resident] = field(default_factory=dict)

    @property
    def live_cards(self) -> int:
        return sum(1 for c in self.cards if c.status in LIVE_CARD_STATUSES)

    @property
    def can_request_card(self) -> bool:
        return self.unit.archived_at is None and self.live_cards < self.card_limit


def estate_today(estate: Estate) -> date:
    return datetime.now(ZoneInfo(estate.timezone)).date()


# --- the directory -------------------------------------------------------------------

def list_residents(estate: Estate, filters: ResidentFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the estate's residents with their units (two queries: count + rows)."""
    stmt = (
        sa.select(Resident)
        .join(Unit, Unit.id == Resident.unit_id)
        .where(Resident.estate_id == estate.id, Unit.estate_id == estate.id)
        .options(contains_eager(Resident.unit))
    )
    if filters.status == ResidentStatus.MOVED_OUT:
        stmt = stmt.where(Resident.move_out_date.is_not(None))
    elif filters.status != ResidentStatus.ALL:
        stmt = stmt.where(Resident.move_out_date.is_(None))
    if filters.resident_type in ResidentType.__members__:
        stmt = stmt.where(Resident.resident_type == ResidentType(filters.resident_type))
    q = filters.q.strip()
    if q:
        like = like_pattern(q)
        found = [
            sa.func.lower(Resident.full_name).like(like, escape="\\"),
            sa.func.lower(Unit.number).like(like, escape="\\"),
            sa.func.lower(Resident.email).like(like, escape="\\"),
        ]
        digits = re.sub(r"\D", "", q)
        if len(digits) >= 3 and re.fullmatch(r"[\d\s+().-]+", q):
            found.append(Resident.phone.like(like_pattern(digits), escape="\\"))
            if digits.lstrip("0") != digits and len(digits.lstrip("0")) >= 3:
                found.append(Resident.phone.like(like_pattern(digits.lstrip("0")), escape="\\"))  # national 0803… in +234803…
            with contextlib.suppress(InvalidPhone):
                found.append(Resident.phone == normalise_phone(q, estate.country))
        stmt = stmt.where(sa.or_(*found))
    stmt = stmt.order_by(sa.func.lower(Resident.full_name), Resident.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


# --- one household -------------------------------------------------------------------

def get_household(estate: Estate, unit_id: int) -> Household:
    """A unit with its members, vehicles and cards (four queries whatever their number)."""
    unit = get_unit(estate, unit_id)
    residents = db.session.scalars(
        sa.select(Resident).where(Resident.estate_id == estate.id, Resident.unit_id == unit.id)
    ).all()
    current = sorted((r for r in residents if r.move_out_date is None),
                     key=lambda r: (TYPE_ORDER[r.resident_type], r.full_name.lower()))
    past = sorted((r for r in residents if r.move_out_date is not None),
                  key=lambda r: (r.move_out_date, r.id), reverse=True)
    vehicles = db.session.scalars(
        sa.select(Vehicle)
        .where(Vehicle.estate_id == estate.id, Vehicle.unit_id == unit.id, Vehicle.removed_at.is_(None))
        .order_by(Vehicle.plate)
    ).all()
    live_first = sa.case((AccessCard.status == AccessCardStatus.DEACTIVATED, 1), else_=0)
    cards = db.session.scalars(
        sa.select(AccessCard)
        .where(AccessCard.estate_id == estate.id, AccessCard.unit_id == unit.id)
        .order_by(live_first, AccessCard.id.desc())
    ).all()
    return Household(unit, current, past, list(vehicles), list(cards), estate.access_card_limit,
                     {r.id: r for r in residents})


def get_member(estate: Estate, unit_id: int, resident_id: int) -> Resident:
    """A member of this unit in this estate, or 404."""
    resident = db.session.scalar(sa.select(Resident).where(
        Resident.id == resident_id, Resident.unit_id == unit_id, Resident.estate_id == estate.id))
    if resident is None:
        raise NotFound()
    return resident


def _snapshot(r: Resident) -> dict:
    return {
        "unit_id": r.unit_id, "full_name": r.full_name, "resident_type": r.resident_type.value,
        "phone": r.phone, "email": r.email,
        "move_in_date": r.move_in_date.isoformat() if r.move_in_date else None,
        "move_out_date": r.move_out_date.isoformat() if r.move_out_date else None,
        "emergency_contact_name": r.emergency_contact_name,
        "emergency_contact_phone": r.emergency_contact_phone, "user_id": r.user_id,
    }


def _phone(estate: Estate, field_name: str, raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        return normalise_phone(raw, estate.country)
    except InvalidPhone as exc:
        raise InvalidValue(field_name, _l("Enter a valid phone number.")) from exc


def _clean(estate: Estate, data: MemberData) -> dict:
    email = (data.email or "").strip() or None
    return {
        "full_name": strip_bidi_controls(data.full_name).strip(),
        "resident_type": ResidentType(data.resident_type),
        "phone": _phone(estate, "phone", data.phone),
        "email": email,
        "move_in_date": data.move_in_date,
        "emergency_contact_name": strip_bidi_controls(data.emergency_contact_name).strip(),
        "emergency_contact_phone": _phone(estate, "emergency_contact_phone", data.emergency_contact_phone),
    }


def _refuse_duplicate_contact(unit: Unit, values: dict, except_id: int | None = None) -> None:
    """Two current members of one household with the same phone or email are one person twice."""
    for name in ("phone", "email"):
        value = values[name]
        if not value:
            continue
        column = getattr(Resident, name)
        stmt = sa.select(Resident.full_name).where(
            Resident.estate_id == unit.estate_id, Resident.unit_id == unit.id, Resident.move_out_date.is_(None),
            sa.func.lower(column) == value.lower())
        if except_id is not None:
            stmt = stmt.where(Resident.id != except_id)
        other = db.session.scalar(stmt.limit(1))
        if other is not None:
            message = (_l("%(name)s, a current member of this household, already has this phone number.", name=other)
                       if name == "phone" else
                       _l("%(name)s, a current member of this household, already has this email.", name=other))
            raise InvalidValue(name, message)


def _refuse_if_archived(unit: Unit) -> None:
    if unit.archived_at is not None:
        raise DomainError(_l("Unit %(number)s is archived. Restore it before changing its household.",
                             number=unit.number))


def add_member(actor: User, estate: Estate, unit_id: int, data: MemberData) -> Resident:
    """A new household member (a login is optional: members join without one)."""
    unit = get_unit(estate, unit_id)
    _refuse_if_archived(unit)
    values = _clean(estate, data)
    _refuse_duplicate_contact(unit, values)
    resident = Resident(estate_id=estate.id, unit_id=unit.id, **values)
    db.session.add(resident)
    db.session.flush()
    audit.record("resident.added", resident, actor_id=actor.id, after=_snapshot(resident))
    db.session.commit()
    return resident


def update_member(actor: User, estate: Estate, unit_id: int, resident_id: int, data: MemberData) -> Resident:
    resident = get_member(estate, unit_id, resident_id)
    values = _clean(estate, data)
    if resident.move_out_date is None:
        _refuse_duplicate_contact(resident.unit, values, except_id=resident.id)
    if values["move_in_date"] and resident.move_out_date and values["move_in_date"] > resident.move_out_date:
        raise InvalidValue("move_in_date", _l("The move-in date cannot be after the move-out date."))
    before = _snapshot(resident)
    for key, value in values.items():
        setattr(resident, key, value)
    after = _snapshot(resident)
    if after != before:
        audit.record("resident.updated", resident, actor_id=actor.id, before=before, after=after)
    db.session.commit()
    return resident


@dataclass(frozen=True)
class MoveOutResult:
    resident: Resident
    access_removed: bool
    cards_deactivated: int


def move_out_member(actor: User, estate: Estate, unit_id: int, resident_id: int,
                    move_out_date: date) -> MoveOutResult:
    """Ends the residency on `move_out_date`, keeping the row and its history. Their live
    access cards are deactivated, and a login that lives nowhere else in the estate
    loses its resident membership here."""
    resident = get_member(estate, unit_id, resident_id)
    if resident.move_out_date is not None:
        raise DomainError(_l("%(name)s has already moved out.", name=resident.full_name))
    if move_out_date > estate_today(estate):
        raise InvalidValue("move_out_date", _l("The move-out date cannot be in the future."))
    if resident.move_in_date and move_out_date < resident.move_in_date:
        raise InvalidValue("move_out_date", _l("The move-out date cannot be before the move-in date."))
    # Decided in the database: of two admins moving the same person out, one wins.
    moved = db.session.execute(
        sa.update(Resident)
        .where(Resident.id == resident.id, Resident.move_out_date.is_(None))
        .values(move_out_date=move_out_date)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.rollback()
        raise DomainError(_l("%(name)s has already moved out.", name=resident.full_name))
    before = _snapshot(resident)
    resident.move_out_date = move_out_date

    now = utcnow()
    cards = db.session.scalars(sa.select(AccessCard).where(
        AccessCard.estate_id == estate.id, AccessCard.resident_id == resident.id,
        AccessCard.status.in_(LIVE_CARD_STATUSES))).all()
    for card in cards:
        audit.record("access_card.deactivated", card, actor_id=actor.id,
                     before={"status": card.status.value}, after={"status": "DEACTIVATED", "reason": "moved_out"})
        card.status = AccessCardStatus.DEACTIVATED
        card.deactivated_at = now

    access_removed = False
    if resident.user_id is not None:
        elsewhere = db.session.scalar(sa.select(sa.func.count(Resident.id)).where(
            Resident.estate_id == estate.id, Resident.user_id == resident.user_id,
            Resident.move_out_date.is_(None), Resident.id != resident.id))
        if not elsewhere:
            membership = db.session.scalar(sa.select(Membership).where(
                Membership.estate_id == estate.id, Membership.user_id == resident.user_id,
                Membership.role == Role.RESIDENT))
            if membership is not None:
                audit.record("membership.removed", membership, actor_id=actor.id,
                             before={"user_id": membership.user_id, "role": membership.role.value},
                             after={"reason": "moved_out", "resident_id": resident.id})
                db.session.delete(membership)
                access_removed = True

    audit.record("resident.moved_out", resident, actor_id=actor.id, before=before,
                 after={**_snapshot(resident), "access_removed": access_removed,
                        "cards_deactivated": [c.id for c in cards]})
    db.session.commit()
    return MoveOutResult(resident, access_removed, len(cards))


# --- vehicles ------------------------------------------------------------------------

def _vehicle_snapshot(v: Vehicle) -> dict:
    return {"unit_id": v.unit_id, "plate": v.plate, "make": v.make, "model": v.model, "colour": v.colour}


def add_vehicle(actor: User, estate: Estate, unit_id: int, data: VehicleData) -> Vehicle:
    unit = get_unit(estate, unit_id)
    _refuse_if_archived(unit)
    plate = normalise_plate(data.plate)
    if not plate:
        raise InvalidValue("plate", _l("This field is required."))
    if not plate.isalnum() or len(plate) > 20:
        raise InvalidValue("plate", _l("A plate has at most 20 letters and digits (spaces and hyphens are ignored)."))
    taken = _l("The plate %(plate)s is already registered in this estate.", plate=plate)
    existing = db.session.scalar(sa.select(Vehicle).where(Vehicle.estate_id == estate.id, Vehicle.plate == plate))
    details = {"make": data.make.strip(), "model": data.model.strip(), "colour": data.colour.strip()}
    if existing is not None and existing.removed_at is None:
        raise InvalidValue("plate", taken)
    try:
        if existing is not None:  # a removed vehicle comes back (the plate is unique per estate)
            before = _vehicle_snapshot(existing)
            existing.unit_id = unit.id
            existing.removed_at = None
            for key, value in details.items():
                setattr(existing, key, value)
            vehicle = existing
            audit.record("vehicle.added", vehicle, actor_id=actor.id, before=before,
                         after=_vehicle_snapshot(vehicle))
        else:
            vehicle = Vehicle(estate_id=estate.id, unit_id=unit.id, plate=plate, **details)
            db.session.add(vehicle)
            db.session.flush()
            audit.record("vehicle.added", vehicle, actor_id=actor.id, after=_vehicle_snapshot(vehicle))
        db.session.commit()
    except IntegrityError as exc:  # the same plate added by two admins at once
        db.session.rollback()
        raise InvalidValue("plate", taken) from exc
    return vehicle


def remove_vehicle(actor: User, estate: Estate, unit_id: int, vehicle_id: int) -> Vehicle:
    vehicle = db.session.scalar(sa.select(Vehicle).where(
        Vehicle.id == vehicle_id, Vehicle.unit_id == unit_id, Vehicle.estate_id == estate.id))
    if vehicle is None:
        raise NotFound()
    removed = db.session.execute(
        sa.update(Vehicle).where(Vehicle.id == vehicle.id, Vehicle.removed_at.is_(None))
        .values(removed_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if removed:
        audit.record("vehicle.removed", vehicle, actor_id=actor.id, before=_vehicle_snapshot(vehicle))
        db.session.commit()
    return vehicle


# --- access cards --------------------------------------------------------------------

def _lock_unit(estate: Estate, unit_id: int) -> Unit:
    """The unit row, locked until the transaction ends, so that card requests for one
    unit are decided one after the other (PostgreSQL: SELECT … FOR UPDATE; SQLite has
    no row locks, so a no-op write takes its database write lock instead)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(Unit).where(Unit.id == unit_id, Unit.estate_id == estate.id)
            .values(id=Unit.id).execution_options(synchronize_session=False)
        )
    unit = db.session.scalar(
        sa.select(Unit).where(Unit.id == unit_id, Unit.estate_id == estate.id).with_for_update()
    )
    if unit is None:
        db.session.rollback()
        raise NotFound()
    return unit


def live_card_count(unit_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(AccessCard.id)).where(
        AccessCard.unit_id == unit_id, AccessCard.status.in_(LIVE_CARD_STATUSES)))


def request_card(actor: User, estate: Estate, unit_id: int, resident_id: int | None = None) -> AccessCard:
    """A new card in REQUESTED; the estate's per-unit limit counts REQUESTED + ISSUED
    cards and holds when two admins ask at once (decided under the unit's lock)."""
    limit = estate.access_card_limit
    unit = _lock_unit(estate, unit_id)
    try:
        _refuse_if_archived(unit)
        if resident_id is not None:
            holder = db.session.scalar(sa.select(Resident.id).where(
                Resident.id == resident_id, Resident.unit_id == unit.id, Resident.estate_id == estate.id,
                Resident.move_out_date.is_(None)))
            if holder is None:
                raise InvalidValue("holder", _l("Choose a current member of this household."))
        if live_card_count(unit.id) >= limit:
            raise DomainError(
                _l("Unit %(number)s has reached its limit of %(limit)d access cards. "
                   "Deactivate a card before requesting another.", number=unit.number, limit=limit),
                code="CARD_LIMIT_REACHED")
    except DomainError:
        db.session.rollback()  # release the lock
        raise
    card = AccessCard(estate_id=estate.id, unit_id=unit.id, resident_id=resident_id,
                      status=AccessCardStatus.REQUESTED, requested_by_id=actor.id)
    db.session.add(card)
    db.session.flush()
    audit.record("access_card.requested", card, actor_id=actor.id,
                 after={"unit_id": unit.id, "resident_id": resident_id, "status": "REQUESTED"})
    db.session.commit()
    return card


def get_card(estate: Estate, unit_id: int, card_id: int) -> AccessCard:
    card = db.session.scalar(sa.select(AccessCard).where(
        AccessCard.id == card_id, AccessCard.unit_id == unit_id, AccessCard.estate_id == estate.id))
    if card is None:
        raise NotFound()
    return card


def issue_card(actor: User, estate: Estate, unit_id: int, card_id: int, card_number: str) -> AccessCard:
    card = get_card(estate, unit_id, card_id)
    number = re.sub(r"\s+", "", card_number or "").upper()
    if not number:
        raise InvalidValue("card_number", _l("This field is required."))
    if len(number) > 40 or not re.fullmatch(r"[A-Z0-9-]+", number):
        raise InvalidValue("card_number", _l("A card number has at most 40 letters, digits and hyphens."))
    taken = _l("Card number %(number)s is already registered in this estate.", number=number)
    if db.session.scalar(sa.select(AccessCard.id).where(
            AccessCard.estate_id == estate.id, AccessCard.card_number == number)) is not None:
        raise InvalidValue("card_number", taken)
    try:
        issued = db.session.execute(
            sa.update(AccessCard)
            .where(AccessCard.id == card.id, AccessCard.status == AccessCardStatus.REQUESTED)
            .values(status=AccessCardStatus.ISSUED, card_number=number, issued_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if issued:
            audit.record("access_card.issued", card, actor_id=actor.id,
                         before={"status": "REQUESTED"}, after={"status": "ISSUED", "card_number": number})
            db.session.commit()
    except IntegrityError as exc:  # the same number issued twice at once
        db.session.rollback()
        raise InvalidValue("card_number", taken) from exc
    if not issued:
        db.session.rollback()
        raise DomainError(_l("This card is no longer waiting to be issued."))
    db.session.refresh(card)
    return card


def deactivate_card(actor: User, estate: Estate, unit_id: int, card_id: int) -> AccessCard:
    card = get_card(estate, unit_id, card_id)
    before = card.status.value
    done = db.session.execute(
        sa.update(AccessCard)
        .where(AccessCard.id == card.id, AccessCard.status.in_(LIVE_CARD_STATUSES))
        .values(status=AccessCardStatus.DEACTIVATED, deactivated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        audit.record("access_card.deactivated", card, actor_id=actor.id,
                     before={"status": before}, after={"status": "DEACTIVATED"})
        db.session.commit()
        db.session.refresh(card)
    return card
