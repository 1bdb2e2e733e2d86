"""The charge catalogue (create, edit, disable, enable, delete) and one-off charges to a unit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination

from portal import audit
from portal.errors import Conflict, FieldErrors, NotFound
from portal.extensions import db
from portal.models import (
    Charge,
    ChargeFrequency,
    ChargeOptIn,
    ChargeScope,
    ChargeUnit,
    Estate,
    InvoiceLine,
    Unit,
    UnitCharge,
    UnitType,
    User,
    utcnow,
)

NAME_MAX = 120
DESCRIPTION_MAX = 300
ONE_OFF_DESCRIPTION_MAX = 200
_SEPARATORS = re.compile(r"[,;\n\r]+")


@dataclass
class ChargeData:
    name: str
    amount_minor: int
    frequency: ChargeFrequency
    starts_on: date | None
    ends_on: date | None = None
    description: str = ""
    mandatory: bool = True
    applies_to: ChargeScope = ChargeScope.ALL
    unit_types: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    unit_numbers: list[str] = field(default_factory=list)  # scope UNITS
    opt_in_numbers: list[str] = field(default_factory=list)  # opt-in charges: the units that opted in


@dataclass(frozen=True)
class ChargeRow:
    charge: Charge
    listed_units: int
    opted_in: int


def split_numbers(text: str) -> list[str]:
    """"A1, A2; B7" (or one a line) → ["A1", "A2", "B7"], without repeats (case kept)."""
    seen: dict[str, str] = {}
    for part in _SEPARATORS.split(text or ""):
        number = part.strip()
        if number and number.lower() not in seen:
            seen[number.lower()] = number
    return list(seen.values())


def _units_by_number(estate: Estate, numbers: list[str]) -> dict[str, Unit]:
    """This estate's current units among `numbers` (matched case-insensitively), by lower number."""
    if not numbers:
        return {}
    lowered = [n.lower() for n in numbers]
    units = db.session.scalars(sa.select(Unit).where(
        Unit.estate_id == estate.id, Unit.archived_at.is_(None), sa.func.lower(Unit.number).in_(lowered)))
    return {u.number.lower(): u for u in units}


def _resolve(estate: Estate, numbers: list[str], field_name: str, errors: dict) -> list[Unit]:
    found = _units_by_number(estate, numbers)
    missing = [n for n in numbers if n.lower() not in found]
    if missing:
        errors[field_name] = _l("No unit numbered %(numbers)s in this estate.", numbers=", ".join(missing[:10]))
    return [found[n.lower()] for n in numbers if n.lower() in found]


def estate_blocks(estate: Estate) -> list[str]:
    return list(db.session.scalars(
        sa.select(Unit.block).where(Unit.estate_id == estate.id, Unit.block != "", Unit.archived_at.is_(None))
        .distinct().order_by(Unit.block)))


def _check(estate: Estate, data: ChargeData) -> tuple[list[Unit], list[Unit]]:
    """The units listed and opted in, or FieldErrors naming every bad field."""
    errors: dict = {}
    if not data.name.strip():
        errors["name"] = _l("This field is required.")
    elif len(data.name.strip()) > NAME_MAX:
        errors["name"] = _l("Use at most %(max)d characters.", max=NAME_MAX)
    if len(data.description.strip()) > DESCRIPTION_MAX:
        errors["description"] = _l("Use at most %(max)d characters.", max=DESCRIPTION_MAX)
    if data.amount_minor <= 0:
        errors["amount"] = _l("The amount must be more than zero.")
    if data.starts_on is None:
        errors["starts_on"] = _l("This field is required.")
    elif data.ends_on is not None and data.ends_on < data.starts_on:
        errors["ends_on"] = _l("The end date is before the start date.")
    listed: list[Unit] = []
    if data.applies_to == ChargeScope.UNIT_TYPES:
        if not data.unit_types or not set(data.unit_types) <= set(UnitType.__members__):
            errors["unit_types"] = _l("Choose at least one type of unit.")
    elif data.applies_to == ChargeScope.BLOCKS:
        known = set(estate_blocks(estate))
        if not data.blocks:
            errors["blocks"] = _l("Choose at least one block.")
        elif not set(data.blocks) <= known:
            errors["blocks"] = _l("Choose blocks of this estate.")
    elif data.applies_to == ChargeScope.UNITS:
        if not data.unit_numbers:
            errors["unit_numbers"] = _l("List at least one unit number.")
        else:
            listed = _resolve(estate, data.unit_numbers, "unit_numbers", errors)
    opted = _resolve(estate, data.opt_in_numbers, "opt_in_numbers", errors) if not data.mandatory else []
    if errors:
        raise FieldErrors(errors)
    return listed, opted


def _snapshot(charge: Charge, listed: list[int], opted: list[int]) -> dict:
    return {
        "name": charge.name, "description": charge.description, "amount_minor": charge.amount_minor,
        "currency": charge.currency, "frequency": charge.frequency.value, "mandatory": charge.mandatory,
        "applies_to": charge.applies_to.value, "unit_types": list(charge.unit_types or []),
        "blocks": list(charge.blocks or []), "unit_ids": sorted(listed), "opt_in_unit_ids": sorted(opted),
        "starts_on": charge.starts_on.isoformat(), "ends_on": charge.ends_on.isoformat() if charge.ends_on else None,
        "active": charge.active,
    }


def _apply(charge: Charge, data: ChargeData) -> None:
    charge.name = data.name.strip()
    charge.description = data.description.strip()
    charge.amount_minor = data.amount_minor
    charge.frequency = data.frequency
    charge.mandatory = data.mandatory
    charge.applies_to = data.applies_to
    charge.unit_types = sorted(set(data.unit_types)) if data.applies_to == ChargeScope.UNIT_TYPES else []
    charge.blocks = sorted(set(data.blocks)) if data.applies_to == ChargeScope.BLOCKS else []
    charge.starts_on = data.starts_on
    charge.ends_on = data.ends_on


def _replace_units(charge: Charge, model, units: list[Unit]) -> list[int]:
    db.session.execute(sa.delete(model).where(model.charge_id == charge.id))
    ids = sorted({u.id for u in units})
    if ids:
        db.session.execute(sa.insert(model), [{"charge_id": charge.id, "unit_id": uid, "estate_id": charge.estate_id}
                                              for uid in ids])
    return ids


def _unit_ids(model, charge_id: int) -> list[int]:
    return sorted(db.session.scalars(sa.select(model.unit_id).where(model.charge_id == charge_id)))


def create_charge(actor: User, estate: Estate, data: ChargeData) -> Charge:
    listed, opted = _check(estate, data)
    charge = Charge(estate_id=estate.id, currency=estate.currency, created_by_id=actor.id, active=True)
    _apply(charge, data)
    db.session.add(charge)
    db.session.flush()
    listed_ids = _replace_units(charge, ChargeUnit, listed)
    opted_ids = _replace_units(charge, ChargeOptIn, opted)
    audit.record("charge.created", charge, actor_id=actor.id, after=_snapshot(charge, listed_ids, opted_ids))
    db.session.commit()
    return charge


def get_charge(estate: Estate, charge_id: int) -> Charge:
    charge = db.session.scalar(sa.select(Charge).where(Charge.id == charge_id, Charge.estate_id == estate.id))
    if charge is None:
        raise NotFound()
    return charge


def charge_unit_numbers(charge: Charge) -> tuple[list[str], list[str]]:
    """The numbers of the units a charge lists, and of those that opted in (two queries)."""

    def numbers(model) -> list[str]:
        return list(db.session.scalars(
            sa.select(Unit.number).join(model, model.unit_id == Unit.id).where(model.charge_id == charge.id)
            .order_by(Unit.block, sa.func.length(Unit.number), Unit.number)))

    return numbers(ChargeUnit), numbers(ChargeOptIn)


def update_charge(actor: User, estate: Estate, charge_id: int, data: ChargeData) -> Charge:
    charge = get_charge(estate, charge_id)
    listed, opted = _check(estate, data)
    before = _snapshot(charge, _unit_ids(ChargeUnit, charge.id), _unit_ids(ChargeOptIn, charge.id))
    _apply(charge, data)
    listed_ids = _replace_units(charge, ChargeUnit, listed)
    opted_ids = _replace_units(charge, ChargeOptIn, opted)
    after = _snapshot(charge, listed_ids, opted_ids)
    if after != before:
        audit.record("charge.updated", charge, actor_id=actor.id, before=before, after=after)
    db.session.commit()
    return charge


def set_active(actor: User, estate: Estate, charge_id: int, active: bool) -> Charge:
    """Disable (no longer billed; kept on past invoices) or enable again."""
    charge = get_charge(estate, charge_id)
    if charge.active != active:
        charge.active = active
        audit.record("charge.enabled" if active else "charge.disabled", charge, actor_id=actor.id,
                     before={"active": not active}, after={"active": active})
        db.session.commit()
    return charge


def delete_charge(actor: User, estate: Estate, charge_id: int) -> str:
    """Delete a charge no invoice has billed yet (else: disable it); its name."""
    charge = get_charge(estate, charge_id)
    billed = db.session.scalar(sa.select(InvoiceLine.id).where(InvoiceLine.charge_id == charge.id).limit(1))
    if billed is not None:
        raise Conflict(_l("%(name)s is on invoices already, so it cannot be deleted. Disable it instead: it "
                          "will not be billed again.", name=charge.name))
    snapshot = _snapshot(charge, _unit_ids(ChargeUnit, charge.id), _unit_ids(ChargeOptIn, charge.id))
    name = charge.name
    audit.record("charge.deleted", charge, actor_id=actor.id, before=snapshot)
    db.session.execute(sa.delete(ChargeUnit).where(ChargeUnit.charge_id == charge.id))
    db.session.execute(sa.delete(ChargeOptIn).where(ChargeOptIn.charge_id == charge.id))
    db.session.delete(charge)
    db.session.commit()
    return name


def list_charges(estate: Estate) -> list[ChargeRow]:
    """The catalogue, active first, each with its counts of listed and opted-in units (one query)."""

    def count(model):
        return (sa.select(sa.func.count()).select_from(model).where(model.charge_id == Charge.id)
                .correlate(Charge).scalar_subquery())

    rows = db.session.execute(
        sa.select(Charge, count(ChargeUnit), count(ChargeOptIn)).where(Charge.estate_id == estate.id)
        .order_by(Charge.active.desc(), Charge.name, Charge.id)).all()
    return [ChargeRow(charge, listed, opted) for charge, listed, opted in rows]


# --- one-off charges to one unit -------------------------------------------------------------


@dataclass
class UnitChargeData:
    unit_number: str
    description: str
    amount_minor: int
    charge_date: date | None
    invoice_now: bool = False


def _unit_charge_snapshot(item: UnitCharge, unit: Unit) -> dict:
    return {"unit": unit.number, "description": item.description, "amount_minor": item.amount_minor,
            "currency": item.currency, "charge_date": item.charge_date.isoformat(), "invoice_id": item.invoice_id}


def create_unit_charge(actor: User, estate: Estate, data: UnitChargeData) -> UnitCharge:
    """A one-off charge to one unit: on the unit's next generated invoice, or (`invoice_now`)
    on an invoice of its own, issued now with the next number."""
    errors: dict = {}
    number = data.unit_number.strip()
    unit = _units_by_number(estate, [number]).get(number.lower()) if number else None
    if not number:
        errors["unit_number"] = _l("This field is required.")
    elif unit is None:
        errors["unit_number"] = _l("No unit numbered %(numbers)s in this estate.", numbers=number)
    description = data.description.strip()
    if not description:
        errors["description"] = _l("This field is required.")
    elif len(description) > ONE_OFF_DESCRIPTION_MAX:
        errors["description"] = _l("Use at most %(max)d characters.", max=ONE_OFF_DESCRIPTION_MAX)
    if data.amount_minor <= 0:
        errors["amount"] = _l("The amount must be more than zero.")
    if data.charge_date is None:
        errors["charge_date"] = _l("This field is required.")
    if errors:
        raise FieldErrors(errors)
    item = UnitCharge(estate_id=estate.id, unit_id=unit.id, description=description, amount_minor=data.amount_minor,
                      currency=estate.currency, charge_date=data.charge_date, created_by_id=actor.id)
    db.session.add(item)
    db.session.flush()
    if data.invoice_now:
        from portal.billing.generation import invoice_unit_charge

        invoice_unit_charge(estate, item, unit)
    audit.record("unit_charge.created", item, actor_id=actor.id, after=_unit_charge_snapshot(item, unit))
    db.session.commit()
    return item


def get_unit_charge(estate: Estate, item_id: int) -> UnitCharge:
    item = db.session.scalar(sa.select(UnitCharge).where(UnitCharge.id == item_id, UnitCharge.estate_id == estate.id))
    if item is None:
        raise NotFound()
    return item


def cancel_unit_charge(actor: User, estate: Estate, item_id: int) -> UnitCharge:
    """Cancel a one-off charge that is not on an invoice yet (one on an invoice: void that)."""
    item = get_unit_charge(estate, item_id)
    if item.cancelled_at is not None:
        return item
    done = db.session.execute(
        sa.update(UnitCharge).where(UnitCharge.id == item.id, UnitCharge.invoice_id.is_(None),
                                    UnitCharge.cancelled_at.is_(None))
        .values(cancelled_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not done:
        db.session.rollback()
        raise Conflict(_l("This charge is on an invoice already. Void the invoice instead."))
    db.session.refresh(item)
    audit.record("unit_charge.cancelled", item, actor_id=actor.id,
                 after=_unit_charge_snapshot(item, db.session.get(Unit, item.unit_id)))
    db.session.commit()
    return item


def pending_unit_charges(estate: Estate, page: int = 1, per_page: int = 20) -> Pagination:
    """One-off charges waiting for the next generated invoice, with their units (two queries)."""
    from sqlalchemy.orm import joinedload

    stmt = (sa.select(UnitCharge).options(joinedload(UnitCharge.unit))
            .where(UnitCharge.estate_id == estate.id, UnitCharge.invoice_id.is_(None),
                   UnitCharge.cancelled_at.is_(None))
            .order_by(UnitCharge.charge_date, UnitCharge.id))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
