"""The admin's payments: the list (filters, totals, pages in constant queries), its CSV
export (every matching row, streamed in batches), the "to confirm" queue of reported
transfers, and one payment with what it paid."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import aliased

from portal.billing import money
from portal.billing.manual import MANUAL_METHODS, get_manual_payment, proof_info
from portal.extensions import db
from portal.labels import PAYMENT_METHOD_LABELS, PAYMENT_STATUS_LABELS
from portal.models import (
    Estate,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentProof,
    PaymentStatus,
    Unit,
    User,
)

PER_PAGE = 25
EXPORT_BATCH = 500


@dataclass(frozen=True)
class PaymentFilters:
    date_from: date | None = None  # days in the estate's time zone (the day it was paid)
    date_to: date | None = None
    method: str = ""  # a PaymentMethod value
    status: str = ""  # a PaymentStatus value
    unit: str = ""  # a unit number (any case)
    block: str = ""

    @property
    def query(self) -> dict:
        """The filters as the list's query string (for the pager and the export link)."""
        values = {"from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else "", "method": self.method,
                  "status": self.status, "unit": self.unit, "block": self.block}
        return {k: v for k, v in values.items() if v}


def check_filters(date_from: date | None, date_to: date | None, method: str, status: str, unit: str,
                  block: str) -> PaymentFilters:
    """Unknown methods and statuses are dropped (the selects offer only known ones)."""
    method, status = (method or "").strip(), (status or "").strip()
    return PaymentFilters(date_from=date_from, date_to=date_to,
                          method=method if method in PaymentMethod.__members__ else "",
                          status=status if status in PaymentStatus.__members__ else "",
                          unit=(unit or "").strip()[:40], block=(block or "").strip()[:40])


@dataclass(frozen=True)
class PaymentTotals:
    count: int
    received_minor: int  # SUCCESSFUL: applied to invoices
    pending_minor: int  # PENDING: reported or started, not yet money in


@dataclass
class PaymentRow:
    payment: Payment
    unit_number: str
    block: str
    recorded_by: str  # who recorded or reported it ("" for an online payment)


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tz)


def _filtered(estate: Estate, filters: PaymentFilters):
    tz = ZoneInfo(estate.timezone)
    stmt = sa.select(Payment).join(Unit, Unit.id == Payment.unit_id).where(Payment.estate_id == estate.id)
    if filters.date_from:
        stmt = stmt.where(Payment.paid_at >= _day_start(filters.date_from, tz))
    if filters.date_to:
        stmt = stmt.where(Payment.paid_at < _day_start(filters.date_to + timedelta(days=1), tz))
    if filters.method:
        stmt = stmt.where(Payment.method == PaymentMethod(filters.method))
    if filters.status:
        stmt = stmt.where(Payment.status == PaymentStatus(filters.status))
    if filters.unit:
        stmt = stmt.where(Unit.estate_id == estate.id, sa.func.lower(Unit.number) == filters.unit.lower())
    if filters.block:
        stmt = stmt.where(Unit.estate_id == estate.id, Unit.block == filters.block)
    return stmt


def _rows(payments: list[Payment]) -> list[PaymentRow]:
    """Each payment with its unit and who recorded it (one query for any number)."""
    if not payments:
        return []
    recorder = aliased(User)
    info = {row.id: row for row in db.session.execute(
        sa.select(Payment.id, Unit.number, Unit.block, recorder.full_name)
        .join(Unit, Unit.id == Payment.unit_id).outerjoin(recorder, recorder.id == Payment.recorded_by_id)
        .where(Payment.id.in_([p.id for p in payments])))}
    return [PaymentRow(p, info[p.id].number, info[p.id].block or "", info[p.id].full_name or "") for p in payments]


def list_payments(estate: Estate, filters: PaymentFilters, page: int = 1,
                  per_page: int = PER_PAGE) -> tuple[Pagination, PaymentTotals]:
    """One page of the estate's payments, latest paid first (those never paid last), and
    the totals of all that match (four queries, whatever the page holds)."""
    stmt = _filtered(estate, filters)
    count, received, pending = db.session.execute(stmt.with_only_columns(
        sa.func.count(Payment.id),
        sa.func.coalesce(sa.func.sum(sa.case((Payment.status == PaymentStatus.SUCCESSFUL, Payment.amount_minor),
                                             else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((Payment.status == PaymentStatus.PENDING, Payment.amount_minor),
                                             else_=0)), 0),
        maintain_column_froms=True)).one()
    pagination = db.paginate(stmt.order_by(Payment.paid_at.desc().nulls_last(), Payment.id.desc()), page=page,
                             per_page=per_page, error_out=False, max_per_page=100, count=False)
    pagination.total = int(count)
    pagination.items = _rows(list(pagination.items))
    return pagination, PaymentTotals(int(count), int(received), int(pending))


def to_confirm_count(estate: Estate) -> int:
    """How many reported transfers wait for an admin (one query)."""
    return db.session.scalar(sa.select(sa.func.count(Payment.id)).where(
        Payment.estate_id == estate.id, Payment.status == PaymentStatus.PENDING,
        Payment.method.in_(MANUAL_METHODS))) or 0


@dataclass
class QueueRow:
    payment: Payment
    unit_number: str
    reported_by: str
    invoice_number: str
    has_proof: bool


def to_confirm(estate: Estate, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """The reported transfers waiting for an admin, oldest first (three queries)."""
    stmt = (sa.select(Payment).where(Payment.estate_id == estate.id, Payment.status == PaymentStatus.PENDING,
                                     Payment.method.in_(MANUAL_METHODS))
            .order_by(Payment.created_at, Payment.id))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    payments = list(pagination.items)
    if not payments:
        pagination.items = []
        return pagination
    reporter = aliased(User)
    info = {row.id: row for row in db.session.execute(
        sa.select(Payment.id, Unit.number, reporter.full_name, Invoice.number.label("invoice_number"),
                  PaymentProof.payment_id.label("proof"))
        .join(Unit, Unit.id == Payment.unit_id).outerjoin(reporter, reporter.id == Payment.recorded_by_id)
        .outerjoin(Invoice, Invoice.id == Payment.reported_invoice_id)
        .outerjoin(PaymentProof, PaymentProof.payment_id == Payment.id)
        .where(Payment.id.in_([p.id for p in payments])))}
    pagination.items = [QueueRow(p, info[p.id].number, info[p.id].full_name or "", info[p.id].invoice_number or "",
                                 info[p.id].proof is not None) for p in payments]
    return pagination


# --- one payment ---------------------------------------------------------------------------------


@dataclass
class PaymentDetail:
    payment: Payment
    unit: Unit
    allocations: list[tuple[int, str, int]] = field(default_factory=list)  # (invoice id, number, minor units)
    reported_invoice: Invoice | None = None
    proof: PaymentProof | None = None
    people: dict[int, str] = field(default_factory=dict)  # user id → name (recorder, payer, reviewer)

    @property
    def unallocated_minor(self) -> int:
        if self.payment.status != PaymentStatus.SUCCESSFUL:
            return 0
        return self.payment.amount_minor - sum(part for _, _, part in self.allocations)


def payment_detail(estate: Estate, payment_id: int) -> PaymentDetail:
    """A payment of this estate with its unit, what it paid, its proof and its people (404
    for any other estate's)."""
    payment = get_manual_payment(estate, payment_id)
    unit = db.session.get(Unit, payment.unit_id)
    allocations = [(row.invoice_id, row.number, row.amount_minor) for row in db.session.execute(
        sa.select(PaymentAllocation.invoice_id, Invoice.number, PaymentAllocation.amount_minor)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(PaymentAllocation.payment_id == payment.id, PaymentAllocation.estate_id == estate.id)
        .order_by(PaymentAllocation.id))]
    reported = None
    if payment.reported_invoice_id:
        reported = db.session.scalar(sa.select(Invoice).where(Invoice.id == payment.reported_invoice_id,
                                                              Invoice.estate_id == estate.id))
    ids = {i for i in (payment.recorded_by_id, payment.payer_user_id, payment.reviewed_by_id) if i}
    people = dict(db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    return PaymentDetail(payment, unit, allocations, reported, proof_info(payment), people)


# --- the CSV export ------------------------------------------------------------------------------

CSV_HEADERS = (_l("Date paid"), _l("Unit"), _l("Block"), _l("Method"), _l("Status"), _l("Reference"),
               _l("Amount"), _l("Currency"), _l("Invoices paid"), _l("Recorded by"), _l("Transaction reference"))


def _batches(estate: Estate, filters: PaymentFilters) -> Iterator[list[Payment]]:
    """Every matching payment in the list's order, in batches (keyset: paid_at and id, then
    the never-paid ones by id), so an export of any size runs in flat memory."""
    last: tuple[datetime, int] | None = None
    while True:
        stmt = _filtered(estate, filters).where(Payment.paid_at.is_not(None))
        if last is not None:
            stmt = stmt.where(sa.or_(Payment.paid_at < last[0], sa.and_(Payment.paid_at == last[0],
                                                                        Payment.id < last[1])))
        batch = list(db.session.scalars(stmt.order_by(Payment.paid_at.desc(), Payment.id.desc()).limit(EXPORT_BATCH)))
        if batch:
            yield batch
            last = (batch[-1].paid_at, batch[-1].id)
        if len(batch) < EXPORT_BATCH:
            break
    last_id: int | None = None
    if filters.date_from or filters.date_to:
        return  # a payment never paid has no day to fall in a range
    while True:
        stmt = _filtered(estate, filters).where(Payment.paid_at.is_(None))
        if last_id is not None:
            stmt = stmt.where(Payment.id < last_id)
        batch = list(db.session.scalars(stmt.order_by(Payment.id.desc()).limit(EXPORT_BATCH)))
        if batch:
            yield batch
            last_id = batch[-1].id
        if len(batch) < EXPORT_BATCH:
            return


def _invoice_numbers(payment_ids: list[int]) -> dict[int, list[str]]:
    numbers: dict[int, list[str]] = {}
    for payment_id, number in db.session.execute(
            sa.select(PaymentAllocation.payment_id, Invoice.number)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
            .where(PaymentAllocation.payment_id.in_(payment_ids)).order_by(PaymentAllocation.id)):
        numbers.setdefault(payment_id, []).append(number)
    return numbers


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet will not run as a formula (what a person typed may start with =)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(estate: Estate, filters: PaymentFilters) -> Iterator[str]:
    """The filtered payments as CSV, streamed a batch at a time (three queries a batch).
    Amounts are plain decimals ("45000.00") beside their currency; labels in the reader's
    language."""
    tz = ZoneInfo(estate.timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(h) for h in CSV_HEADERS])
    yield buffer.getvalue()
    for batch in _batches(estate, filters):
        buffer.seek(0)
        buffer.truncate()
        rows = _rows(batch)
        invoices = _invoice_numbers([p.id for p in batch])
        for row in rows:
            p = row.payment
            writer.writerow([spreadsheet_safe(v) for v in (
                p.paid_at.astimezone(tz).date().isoformat() if p.paid_at else "", row.unit_number, row.block,
                PAYMENT_METHOD_LABELS.get(p.method.value, p.method.value),
                PAYMENT_STATUS_LABELS.get(p.status.value, p.status.value), p.reference,
                money.to_decimal(p.amount_minor, p.currency), p.currency, " ".join(invoices.get(p.id, [])),
                row.recorded_by, p.tx_ref)])
        for payment in batch:  # keep memory flat across batches
            db.session.expunge(payment)
        yield buffer.getvalue()


def export_filename(estate: Estate, day: date) -> str:
    return f"payments-{estate.slug}-{day.isoformat()}.csv"
