"""Billing reports for estate admins: arrears (who owes what, and for how long) and the
collection rate of a month's invoices. Integer minor units and basis points throughout.

- Arrears: per unit, what its open invoices past their due date still owe (in the estate's
  today), the oldest such due date, days overdue, and the amounts by age: 0–30, 31–60,
  61–90 and over 90 days past due. Filter by block; sorted by amount or by age; one page
  plus totals in a constant number of queries (the index on invoice (estate, status, due)).
- Collection: of the invoices of a month (void and drafts left out), how much was billed,
  how much of it has been paid, and the rate, in all and by block.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from portal.billing.periods import Period
from portal.extensions import db
from portal.models import OPEN_STATUSES, Estate, Invoice, InvoiceStatus, Resident, Unit

PER_PAGE = 25
SORTS = ("amount", "age")
BUCKETS = ((0, 30), (31, 60), (61, 90), (91, None))  # days past due, both ends included


@dataclass(frozen=True)
class ArrearsRow:
    unit_id: int
    number: str
    block: str
    owed_minor: int
    invoices: int
    oldest_due: date
    days_overdue: int
    buckets: tuple[int, int, int, int]
    names: tuple[str, ...] = ()  # who lives there now


@dataclass(frozen=True)
class ArrearsTotals:
    units: int
    owed_minor: int
    buckets: tuple[int, int, int, int]


@dataclass
class Page:
    """One page of rows, with what the pager macro reads."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _bucket_sums(today: date) -> list:
    sums = []
    for low, high in BUCKETS:
        conditions = [Invoice.due_date <= today - timedelta(days=low)]
        if high is not None:
            conditions.append(Invoice.due_date >= today - timedelta(days=high))
        sums.append(sa.func.sum(sa.case((sa.and_(*conditions), Invoice.balance_minor), else_=0)))
    return sums


def _arrears_select(estate: Estate, today: date, block: str):
    stmt = (sa.select(Unit.id.label("unit_id"), Unit.number, Unit.block, Unit.sort_key,
                      sa.func.sum(Invoice.balance_minor).label("owed"), sa.func.count(Invoice.id).label("invoices"),
                      sa.func.min(Invoice.due_date).label("oldest"),
                      *(total.label(f"b{n}") for n, total in enumerate(_bucket_sums(today))))
            .join(Unit, Unit.id == Invoice.unit_id)
            .where(Invoice.estate_id == estate.id, Invoice.status.in_(OPEN_STATUSES), Invoice.balance_minor > 0,
                   Invoice.due_date < today, Unit.estate_id == estate.id)
            .group_by(Unit.id, Unit.number, Unit.block, Unit.sort_key))
    if block:
        stmt = stmt.where(Unit.block == block)
    return stmt


def _ordered(stmt, sort: str):
    owed, oldest = sa.column("owed"), sa.column("oldest")
    if sort == "age":
        return stmt.order_by(oldest, owed.desc(), Unit.sort_key, Unit.id)
    return stmt.order_by(owed.desc(), oldest, Unit.sort_key, Unit.id)


def _row(row, today: date, names: tuple[str, ...] = ()) -> ArrearsRow:
    return ArrearsRow(unit_id=row.unit_id, number=row.number, block=row.block, owed_minor=int(row.owed),
                      invoices=int(row.invoices), oldest_due=row.oldest, days_overdue=(today - row.oldest).days,
                      buckets=(int(row.b0), int(row.b1), int(row.b2), int(row.b3)), names=names)


def _names(unit_ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    if unit_ids:
        for unit_id, name in db.session.execute(
                sa.select(Resident.unit_id, Resident.full_name)
                .where(Resident.unit_id.in_(unit_ids), Resident.move_out_date.is_(None))
                .order_by(Resident.unit_id, Resident.id)):
            found.setdefault(unit_id, []).append(name)
    return {unit_id: tuple(names) for unit_id, names in found.items()}


def check_sort(sort: str) -> str:
    return sort if sort in SORTS else SORTS[0]


def arrears(estate: Estate, today: date, *, block_name: str = "", sort: str = "amount", page: int = 1,
            per_page: int = PER_PAGE) -> tuple[Page, ArrearsTotals]:
    """One page of the units in arrears and the totals of all of them (three queries)."""
    grouped = _arrears_select(estate, today, block_name).subquery()
    totals = db.session.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(grouped.c.owed), 0),
        *(sa.func.coalesce(sa.func.sum(grouped.c[f"b{n}"]), 0) for n in range(len(BUCKETS))))).one()
    count = int(totals[0])
    rows = db.session.execute(_ordered(_arrears_select(estate, today, block_name), sort)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    names = _names([row.unit_id for row in rows])
    items = [_row(row, today, names.get(row.unit_id, ())) for row in rows]
    return (Page(items, page, per_page, count),
            ArrearsTotals(units=count, owed_minor=int(totals[1]), buckets=tuple(int(v) for v in totals[2:])))


def all_arrears(estate: Estate, today: date, *, block_name: str = "", sort: str = "amount",
                batch: int = 500) -> Iterator[ArrearsRow]:
    """Every unit in arrears (the CSV export), in batches of `batch` (one query each, plus
    one for the residents' names)."""
    stmt = _ordered(_arrears_select(estate, today, block_name), sort)
    offset = 0
    while True:
        rows = db.session.execute(stmt.limit(batch).offset(offset)).all()
        names = _names([row.unit_id for row in rows])
        yield from (_row(row, today, names.get(row.unit_id, ())) for row in rows)
        if len(rows) < batch:
            return
        offset += batch


# --- collection rate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionLine:
    block: str  # "" for units in no block; the total's is "" too
    invoices: int
    invoiced_minor: int
    collected_minor: int

    @property
    def outstanding_minor(self) -> int:
        return self.invoiced_minor - self.collected_minor

    @property
    def rate_bp(self) -> int | None:
        """Collected as basis points of invoiced (8444 = 84.44 %), rounded down; None when
        nothing was invoiced."""
        if not self.invoiced_minor:
            return None
        return self.collected_minor * 10_000 // self.invoiced_minor


@dataclass(frozen=True)
class Collection:
    period: Period
    total: CollectionLine
    blocks: list[CollectionLine] = field(default_factory=list)


def collection(estate: Estate, period: Period) -> Collection:
    """The month's invoices (by their period; void and drafts left out), by block (one query)."""
    rows = db.session.execute(
        sa.select(Unit.block, sa.func.count(Invoice.id), sa.func.coalesce(sa.func.sum(Invoice.total_minor), 0),
                  sa.func.coalesce(sa.func.sum(Invoice.amount_paid_minor), 0))
        .join(Unit, Unit.id == Invoice.unit_id)
        .where(Invoice.estate_id == estate.id, Unit.estate_id == estate.id,
               Invoice.period_start >= period.start, Invoice.period_start <= period.end,
               Invoice.status.notin_([InvoiceStatus.VOID, InvoiceStatus.DRAFT]))
        .group_by(Unit.block).order_by(Unit.block)).all()
    blocks = [CollectionLine(block or "", int(n), int(billed), int(paid)) for block, n, billed, paid in rows]
    total = CollectionLine("", sum(b.invoices for b in blocks), sum(b.invoiced_minor for b in blocks),
                           sum(b.collected_minor for b in blocks))
    return Collection(period=period, total=total, blocks=blocks)
