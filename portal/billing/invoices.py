"""Invoices: the admin's list (filters, totals), one invoice, voiding; a resident's bills;
marking invoices overdue (a periodic job)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import contains_eager, selectinload

from portal import audit
from portal.billing.periods import Period, containing, parse_month
from portal.errors import Conflict, FieldErrors, NotFound
from portal.extensions import db
from portal.models import (
    OPEN_STATUSES,
    Estate,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    Resident,
    Unit,
    UnitCharge,
    User,
    utcnow,
)

PER_PAGE = 25
VOID_REASON_MAX = 300


@dataclass(frozen=True)
class InvoiceFilters:
    period: str = ""  # 2026-12
    status: str = ""  # an InvoiceStatus value
    block: str = ""
    unit: str = ""  # a unit number (any case)

    @property
    def query(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class Totals:
    """Of the invoices a filter finds: how many, and the sums of those not void."""

    count: int
    total_minor: int
    paid_minor: int
    balance_minor: int


def check_filters(filters: InvoiceFilters, errors: dict) -> InvoiceFilters:
    """Bad values get a message in `errors` and are dropped."""
    period, status = filters.period.strip(), filters.status.strip()
    if period and parse_month(period) is None:
        errors["period"] = _l("Choose a month.")
        period = ""
    if status and status not in InvoiceStatus.__members__:
        status = ""
    return InvoiceFilters(period=period, status=status, block=filters.block.strip()[:40],
                          unit=filters.unit.strip()[:40])


def periods(estate: Estate, limit: int = 36) -> list[Period]:
    """The months the estate has generated invoices for, newest first (the month filter)."""
    starts = db.session.scalars(
        sa.select(Invoice.period_start).where(Invoice.estate_id == estate.id, Invoice.kind == InvoiceKind.PERIODIC)
        .distinct().order_by(Invoice.period_start.desc()).limit(limit))
    return [containing(start) for start in starts]


def _filtered(estate: Estate, filters: InvoiceFilters):
    stmt = sa.select(Invoice).join(Unit, Unit.id == Invoice.unit_id).where(Invoice.estate_id == estate.id)
    period = parse_month(filters.period) if filters.period else None
    if period is not None:
        stmt = stmt.where(Invoice.period_start >= period.start, Invoice.period_start <= period.end)
    if filters.status:
        stmt = stmt.where(Invoice.status == InvoiceStatus(filters.status))
    if filters.block:
        stmt = stmt.where(Unit.estate_id == estate.id, Unit.block == filters.block)
    if filters.unit:
        stmt = stmt.where(Unit.estate_id == estate.id, sa.func.lower(Unit.number) == filters.unit.lower())
    return stmt


def list_invoices(estate: Estate, filters: InvoiceFilters, page: int = 1,
                  per_page: int = PER_PAGE) -> tuple[Pagination, Totals]:
    """One page of the estate's invoices (newest period first, units in natural order) with
    their units, and the totals of all that match (three queries)."""
    stmt = _filtered(estate, filters)
    totals_row = db.session.execute(
        stmt.with_only_columns(
            sa.func.count(Invoice.id),
            sa.func.coalesce(sa.func.sum(sa.case((Invoice.status != InvoiceStatus.VOID, Invoice.total_minor),
                                                 else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((Invoice.status != InvoiceStatus.VOID, Invoice.amount_paid_minor),
                                                 else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((Invoice.status != InvoiceStatus.VOID, Invoice.balance_minor),
                                                 else_=0)), 0),
            maintain_column_froms=True)
    ).one()
    stmt = (stmt.options(contains_eager(Invoice.unit))
            .order_by(Invoice.period_start.desc(), Unit.block, sa.func.length(Unit.number), Unit.number,
                      Invoice.id.desc()))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    return pagination, Totals(*(int(v) for v in totals_row))


def export_invoices(estate: Estate, filters: InvoiceFilters, batch: int = 500) -> Iterator[Invoice]:
    """Every invoice the filters find, in the list's order, with its unit (the CSV export):
    one query, read `batch` rows at a time."""
    stmt = (_filtered(estate, filters).options(contains_eager(Invoice.unit))
            .order_by(Invoice.period_start.desc(), Unit.block, sa.func.length(Unit.number), Unit.number,
                      Invoice.id.desc()).execution_options(yield_per=batch))
    yield from db.session.scalars(stmt)


def get_invoice(estate: Estate, invoice_id: int) -> Invoice:
    """An invoice of this estate with its unit and lines (404 for any other)."""
    invoice = db.session.scalar(
        sa.select(Invoice).options(selectinload(Invoice.lines), selectinload(Invoice.unit))
        .where(Invoice.id == invoice_id, Invoice.estate_id == estate.id))
    if invoice is None:
        raise NotFound()
    return invoice


def allocations(invoice: Invoice) -> list[tuple[PaymentAllocation, Payment]]:
    """The payments that paid this invoice, oldest first."""
    return [(a, p) for a, p in db.session.execute(
        sa.select(PaymentAllocation, Payment).join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.invoice_id == invoice.id).order_by(PaymentAllocation.id))]


def void_invoice(actor: User, estate: Estate, invoice_id: int, reason: str) -> Invoice:
    """Void an invoice nothing has been paid on: it keeps its number and stops being owed;
    its one-off charges wait for the unit's next invoice again (or can be cancelled), and a
    generated invoice's period can be billed again for the unit."""
    invoice = get_invoice(estate, invoice_id)
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": _l("Say why the invoice is void (the resident will see it).")})
    if len(reason) > VOID_REASON_MAX:
        raise FieldErrors({"reason": _l("Use at most %(max)d characters.", max=VOID_REASON_MAX)})
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(_l("Invoice %(number)s is void already.", number=invoice.number))
    before = {"status": invoice.status.value, "balance_minor": invoice.balance_minor}
    now = utcnow()
    done = db.session.execute(
        sa.update(Invoice).where(Invoice.id == invoice.id, Invoice.status != InvoiceStatus.VOID,
                                 Invoice.amount_paid_minor == 0)
        .values(status=InvoiceStatus.VOID, balance_minor=0, voided_at=now, voided_by_id=actor.id, void_reason=reason)
        .execution_options(synchronize_session=False)).rowcount
    if not done:
        db.session.rollback()
        raise Conflict(_l("Invoice %(number)s has payments on it, so it cannot be voided.", number=invoice.number))
    released = db.session.execute(
        sa.update(UnitCharge).where(UnitCharge.invoice_id == invoice.id).values(invoice_id=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(invoice)
    audit.record("invoice.voided", invoice, actor_id=actor.id, before=before,
                 after={"status": InvoiceStatus.VOID.value, "reason": reason, "number": invoice.number,
                        "released_one_off_charges": released})
    db.session.commit()
    return invoice


# --- a resident's bills ---------------------------------------------------------------------------


def _resident_unit_ids(user: User, estate: Estate):
    return sa.select(Resident.unit_id).where(Resident.estate_id == estate.id, Resident.user_id == user.id,
                                             Resident.move_out_date.is_(None))


def list_for_resident(user: User, estate: Estate, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """The invoices of the units the user lives in: those still owed first (soonest due
    first), then the others, newest first; drafts are not shown (two queries)."""
    is_open = Invoice.status.in_(OPEN_STATUSES)
    stmt = (sa.select(Invoice).join(Unit, Unit.id == Invoice.unit_id).options(contains_eager(Invoice.unit))
            .where(Invoice.estate_id == estate.id, Invoice.unit_id.in_(_resident_unit_ids(user, estate)),
                   Invoice.status != InvoiceStatus.DRAFT)
            .order_by(sa.case((is_open, 0), else_=1), sa.case((is_open, Invoice.due_date), else_=None),
                      Invoice.issue_date.desc(), Invoice.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


def owed_by_resident(user: User, estate: Estate) -> tuple[int, int]:
    """How many of the user's units' invoices are owed, and their balance (one query)."""
    count, balance = db.session.execute(
        sa.select(sa.func.count(Invoice.id), sa.func.coalesce(sa.func.sum(Invoice.balance_minor), 0))
        .where(Invoice.estate_id == estate.id, Invoice.unit_id.in_(_resident_unit_ids(user, estate)),
               Invoice.status.in_(OPEN_STATUSES))).one()
    return int(count), int(balance)


def get_for_resident(user: User, estate: Estate, invoice_id: int) -> Invoice:
    """One invoice of the user's units (404 for anyone else's, and for drafts)."""
    invoice = db.session.scalar(
        sa.select(Invoice).options(selectinload(Invoice.lines), selectinload(Invoice.unit))
        .where(Invoice.id == invoice_id, Invoice.estate_id == estate.id, Invoice.status != InvoiceStatus.DRAFT,
               Invoice.unit_id.in_(_resident_unit_ids(user, estate))))
    if invoice is None:
        raise NotFound()
    return invoice


# --- overdue ---------------------------------------------------------------------------------------


def mark_overdue(now: datetime | None = None) -> int:
    """Issued and part-paid invoices whose due date has passed in their estate's time zone
    become OVERDUE (one conditional UPDATE per estate, audited). Idempotent; how many."""
    now = now or utcnow()
    # No estate's today is later than UTC's tomorrow: only estates with a candidate are visited.
    horizon = now.date() + timedelta(days=1)
    estates = db.session.execute(
        sa.select(Estate.id, Estate.timezone).where(Estate.id.in_(
            sa.select(Invoice.estate_id).where(Invoice.status.in_([InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]),
                                               Invoice.due_date < horizon).distinct()))).all()
    marked = 0
    for estate_id, timezone in estates:
        today: date = now.astimezone(ZoneInfo(timezone)).date()
        numbers = db.session.execute(
            sa.update(Invoice).where(Invoice.estate_id == estate_id,
                                     Invoice.status.in_([InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]),
                                     Invoice.due_date < today)
            .values(status=InvoiceStatus.OVERDUE).returning(Invoice.number)
            .execution_options(synchronize_session=False)).scalars().all()
        if numbers:
            marked += len(numbers)
            audit.record("invoice.marked_overdue", db.session.get(Estate, estate_id), actor_id=None, estate_id=estate_id,
                         after={"count": len(numbers), "numbers": sorted(numbers)[:50], "today": today.isoformat()})
        db.session.commit()
    return marked
