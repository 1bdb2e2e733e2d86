"""Helpers for the billing tests: charges, one-off charges, runs, and reading invoices back."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import sqlalchemy as sa

from portal.billing import generation
from portal.billing.periods import Period, month
from portal.extensions import db
from portal.models import (
    BillingSettings,
    Charge,
    ChargeFrequency,
    ChargeOptIn,
    ChargeScope,
    ChargeUnit,
    Estate,
    Invoice,
    InvoiceLine,
    UnitCharge,
)

DECEMBER = month(2026, 12)


def add_charge(app, estate, name: str = "Service charge", amount_minor: int = 4_500_000,
               frequency: ChargeFrequency = ChargeFrequency.MONTHLY, starts_on: date = date(2026, 1, 1), *,
               listed=(), opted_in=(), **fields) -> int:
    """A catalogue charge (committed); `listed`/`opted_in`: units (snapshots) for the lists."""
    with app.app_context():
        charge = Charge(estate_id=estate.id, name=name, amount_minor=amount_minor, currency=estate.currency,
                        frequency=frequency, starts_on=starts_on, applies_to=fields.pop("applies_to", ChargeScope.ALL),
                        unit_types=fields.pop("unit_types", []), blocks=fields.pop("blocks", []), **fields)
        db.session.add(charge)
        db.session.flush()
        for unit in listed:
            db.session.add(ChargeUnit(charge_id=charge.id, unit_id=unit.id, estate_id=estate.id))
        for unit in opted_in:
            db.session.add(ChargeOptIn(charge_id=charge.id, unit_id=unit.id, estate_id=estate.id))
        db.session.commit()
        return charge.id


def add_unit_charge(app, estate, unit, description: str = "Broken window", amount_minor: int = 250_000,
                    charge_date: date = date(2026, 12, 3)) -> int:
    with app.app_context():
        item = UnitCharge(estate_id=estate.id, unit_id=unit.id, description=description, amount_minor=amount_minor,
                          currency=estate.currency, charge_date=charge_date)
        db.session.add(item)
        db.session.commit()
        return item.id


def set_billing(app, estate, prefix: str = "AL", tax_rate_bp: int = 0, due_days: int = 14) -> None:
    with app.app_context():
        row = db.session.get(BillingSettings, estate.id) or BillingSettings(estate_id=estate.id)
        row.invoice_prefix, row.tax_rate_bp, row.due_days = prefix, tax_rate_bp, due_days
        db.session.add(row)
        db.session.commit()


def generate(app, estate, period: Period = DECEMBER, **kw) -> SimpleNamespace:
    """Generate `period` now (no queue); the run as a plain namespace."""
    with app.app_context():
        run = generation.generate_now(db.session.get(Estate, estate.id), period, **kw)
        return SimpleNamespace(**{c.key: getattr(run, c.key) for c in sa.inspect(run).mapper.column_attrs})


def invoices_of(app, estate) -> list[SimpleNamespace]:
    """The estate's invoices in number order, each with `unit` (its number) and `lines`
    [(description, amount)]."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Invoice).where(Invoice.estate_id == estate.id)
                                  .order_by(Invoice.year, Invoice.sequence)).all()
        lines = {}
        for line in db.session.scalars(sa.select(InvoiceLine).where(InvoiceLine.estate_id == estate.id)
                                       .order_by(InvoiceLine.invoice_id, InvoiceLine.position)):
            lines.setdefault(line.invoice_id, []).append((line.description, line.amount_minor))
        result = []
        for invoice in rows:
            ns = SimpleNamespace(**{c.key: getattr(invoice, c.key) for c in sa.inspect(invoice).mapper.column_attrs})
            ns.unit = invoice.unit.number
            ns.lines = lines.get(invoice.id, [])
            result.append(ns)
        return result
