"""Statement of account for one unit over a date range.

Opening balance: what the unit was billed before the range (its invoices issued before the
first day, void and draft ones left out) less what it paid before it. Then, day by day,
its invoices (on their issue date) and payments (on the day they were paid, in the estate's
time zone) with a running balance, and the closing balance. A negative balance is credit.

What a payment credits the unit with: the parts of it allocated to the unit's invoices,
and, for a payment made for this unit, what no invoice took (kept as the unit's credit).
A payment that paid invoices of two units so counts once in all, split between them.

Five queries whatever the range holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.billing.periods import add_months
from portal.errors import FieldErrors, NotFound
from portal.extensions import db
from portal.models import (
    Estate,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    Resident,
    Unit,
    User,
)

EARLIEST = date(2000, 1, 1)
MAX_SPAN_DAYS = 3660  # ten years: one statement, one page, no pagination needed
FUTURE_DAYS = 366  # the end may be up to a year ahead (invoices issued in advance)

BAD_DATE = _l("Enter a date as YYYY-MM-DD.")
DATE_OUT_OF_RANGE = _l("Choose a date from %(first)s to %(last)s.")
END_BEFORE_START = _l("The end date is before the start date.")
SPAN_TOO_LONG = _l("Choose at most ten years.")


class EntryKind(enum.StrEnum):
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date


@dataclass(frozen=True)
class StatementEntry:
    day: date
    kind: EntryKind
    reference: str  # the invoice's number; the payment's reference (or our tx_ref)
    charge_minor: int  # what an invoice added (0 for a void one)
    credit_minor: int  # what a payment took off
    balance_minor: int  # the running balance after this entry
    invoice_id: int | None = None
    period_start: date | None = None  # a periodic invoice's month
    void: bool = False
    method: PaymentMethod | None = None


@dataclass(frozen=True)
class Statement:
    unit: Unit
    start: date
    end: date
    currency: str
    opening_minor: int
    entries: list[StatementEntry]
    invoiced_minor: int
    paid_minor: int
    closing_minor: int


def default_range(today: date) -> DateRange:
    """The last twelve months: from the first of the month eleven months back to today."""
    return DateRange(add_months(today, -11), today)


def parse_range(raw_start: str, raw_end: str, today: date) -> DateRange:
    """The range a reader asked for (YYYY-MM-DD, either may be empty: the default's).
    FieldErrors with translated messages for `from` and `to`: malformed dates, dates before
    2000 or more than a year ahead, an end before the start, more than ten years."""
    default = default_range(today)
    last = today + timedelta(days=FUTURE_DAYS)
    errors: dict = {}

    def one(name: str, raw: str, fallback: date) -> date:
        raw = (raw or "").strip()
        if not raw:
            return fallback
        try:
            value = date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            value = None
        if value is None:
            errors[name] = BAD_DATE
            return fallback
        if not EARLIEST <= value <= last:
            errors[name] = DATE_OUT_OF_RANGE % {"first": EARLIEST.isoformat(), "last": last.isoformat()}
            return fallback
        return value

    start = one("from", raw_start, default.start)
    end = one("to", raw_end, default.end)
    if not errors:
        if end < start:
            errors["to"] = END_BEFORE_START
        elif (end - start).days > MAX_SPAN_DAYS:
            errors["from"] = SPAN_TOO_LONG
    if errors:
        raise FieldErrors(errors)
    return DateRange(start, end)


# --- whose units --------------------------------------------------------------------------------


def resident_units(user: User, estate: Estate) -> list[Unit]:
    """The units the user lives in now, in natural order (one query)."""
    return list(db.session.scalars(
        sa.select(Unit).where(Unit.estate_id == estate.id, Unit.id.in_(
            sa.select(Resident.unit_id).where(Resident.estate_id == estate.id, Resident.user_id == user.id,
                                              Resident.move_out_date.is_(None))))
        .order_by(Unit.sort_key, Unit.id)))


def unit_of(estate: Estate, unit_id: int) -> Unit:
    """A unit of this estate (404 for any other)."""
    unit = db.session.scalar(sa.select(Unit).where(Unit.id == unit_id, Unit.estate_id == estate.id))
    if unit is None:
        raise NotFound()
    return unit


# --- the statement ------------------------------------------------------------------------------


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _credits(estate: Estate, unit: Unit):
    """Per successful payment touching the unit: its id and what it credits the unit with."""
    to_unit = (sa.select(sa.func.coalesce(sa.func.sum(PaymentAllocation.amount_minor), 0))
               .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
               .where(PaymentAllocation.payment_id == Payment.id, Invoice.unit_id == unit.id,
                      Invoice.estate_id == estate.id)
               .correlate(Payment).scalar_subquery())
    allocated = (sa.select(sa.func.coalesce(sa.func.sum(PaymentAllocation.amount_minor), 0))
                 .where(PaymentAllocation.payment_id == Payment.id).correlate(Payment).scalar_subquery())
    credit = to_unit + sa.case((Payment.unit_id == unit.id, Payment.amount_minor - allocated), else_=0)
    touched = sa.or_(Payment.unit_id == unit.id, Payment.id.in_(
        sa.select(PaymentAllocation.payment_id).join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(Invoice.unit_id == unit.id, Invoice.estate_id == estate.id)))
    paid_at = sa.func.coalesce(Payment.paid_at, Payment.created_at)
    where = (Payment.estate_id == estate.id, Payment.status == PaymentStatus.SUCCESSFUL, touched)
    return credit, paid_at, where


def build_statement(estate: Estate, unit: Unit, start: date, end: date) -> Statement:
    """The unit's statement from `start` to `end` (both days included)."""
    if unit.estate_id != estate.id:
        raise NotFound()
    zone = ZoneInfo(estate.timezone)
    lo, hi = _day_start(start, zone), _day_start(end + timedelta(days=1), zone)
    counted = Invoice.status.notin_([InvoiceStatus.VOID, InvoiceStatus.DRAFT])
    mine = (Invoice.estate_id == estate.id, Invoice.unit_id == unit.id)

    billed_before = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Invoice.total_minor), 0))
        .where(*mine, counted, Invoice.issue_date < start))
    credit, paid_at, where = _credits(estate, unit)
    paid_before = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(credit), 0)).where(*where, paid_at < lo))
    invoices = db.session.execute(
        sa.select(Invoice.id, Invoice.number, Invoice.issue_date, Invoice.total_minor, Invoice.status,
                  Invoice.kind, Invoice.period_start)
        .where(*mine, Invoice.status != InvoiceStatus.DRAFT, Invoice.issue_date >= start, Invoice.issue_date <= end)
        .order_by(Invoice.issue_date, Invoice.id)).all()
    payments = db.session.execute(
        sa.select(Payment.id, paid_at.label("paid_at"), Payment.reference, Payment.tx_ref, Payment.method,
                  credit.label("credit"))
        .where(*where, paid_at >= lo, paid_at < hi).order_by(paid_at, Payment.id)).all()

    rows: list[tuple[tuple, dict]] = []
    for row in invoices:
        void = row.status == InvoiceStatus.VOID
        rows.append(((row.issue_date, 0, row.id), {
            "kind": EntryKind.INVOICE, "reference": row.number, "charge_minor": 0 if void else int(row.total_minor),
            "credit_minor": 0, "invoice_id": row.id, "void": void,
            "period_start": row.period_start if row.kind == InvoiceKind.PERIODIC else None}))
    for row in payments:
        amount = int(row.credit)
        if amount <= 0:
            continue
        moment = row.paid_at if row.paid_at.tzinfo else row.paid_at.replace(tzinfo=UTC)
        rows.append(((moment.astimezone(zone).date(), 1, row.id), {
            "kind": EntryKind.PAYMENT, "reference": row.reference or row.tx_ref, "charge_minor": 0,
            "credit_minor": amount, "method": row.method}))
    rows.sort(key=lambda item: item[0])

    opening = int(billed_before) - int(paid_before)
    balance = opening
    entries = []
    for (day, _order, _id), fields in rows:
        balance += fields["charge_minor"] - fields["credit_minor"]
        entries.append(StatementEntry(day=day, balance_minor=balance, **fields))
    invoiced = sum(e.charge_minor for e in entries)
    paid = sum(e.credit_minor for e in entries)
    return Statement(unit=unit, start=start, end=end, currency=estate.currency, opening_minor=opening,
                     entries=entries, invoiced_minor=invoiced, paid_minor=paid, closing_minor=balance)
