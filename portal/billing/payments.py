"""Applying a payment to invoices, once.

`apply_payment` is what every way of being paid ends in (a verified Flutterwave
transaction, its webhook, an admin confirming a bank transfer): the payment turns from
PENDING to SUCCESSFUL in one conditional UPDATE, and only the caller whose UPDATE changed
the row goes on to allocate it, in the same transaction. A payment reported twice, or by
two paths at once, is applied once; the second caller gets `applied=False` and nothing
changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from portal import audit
from portal.billing import receipts
from portal.errors import NotFound
from portal.extensions import db
from portal.models import (
    OPEN_STATUSES,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    utcnow,
)

_payments = Payment.__table__
_invoices = Invoice.__table__


@dataclass
class ApplyResult:
    applied: bool  # False: the payment was not PENDING (applied before, failed or rejected)
    allocations: list[tuple[int, int]] = field(default_factory=list)  # (invoice id, minor units)
    unallocated_minor: int = 0  # more than the invoices owed: kept as the unit's credit


def apply_payment(payment: Payment | int, invoice_ids: list[int] | None = None, *,
                  actor_id: int | None = None) -> ApplyResult:
    """Mark a PENDING payment SUCCESSFUL and allocate it: first to `invoice_ids` (in that
    order, if given; invoices of the payment's estate and currency), then to the unit's other
    open invoices, soonest due first. Each invoice's amount paid, balance and status (PAID,
    PARTIALLY_PAID, or still OVERDUE while something is owed) change with it. Commits.
    Idempotent: a payment that is no longer PENDING changes nothing."""
    payment_id = payment if isinstance(payment, int) else payment.id
    now = utcnow()
    claimed = db.session.execute(
        sa.update(_payments).where(_payments.c.id == payment_id, _payments.c.status == PaymentStatus.PENDING)
        .values(status=PaymentStatus.SUCCESSFUL, paid_at=sa.func.coalesce(_payments.c.paid_at, now))
        .returning(_payments.c.estate_id, _payments.c.unit_id, _payments.c.amount_minor, _payments.c.currency)
    ).one_or_none()
    if claimed is None:
        db.session.rollback()
        if db.session.get(Payment, payment_id) is None:
            raise NotFound()
        return ApplyResult(applied=False)
    estate_id, unit_id, amount, currency = claimed
    chosen = list(dict.fromkeys(invoice_ids or []))
    open_invoices = db.session.execute(
        sa.select(_invoices.c.id, _invoices.c.balance_minor, _invoices.c.status)
        .where(_invoices.c.estate_id == estate_id, _invoices.c.currency == currency,
               _invoices.c.status.in_(OPEN_STATUSES), _invoices.c.balance_minor > 0,
               sa.or_(_invoices.c.unit_id == unit_id, _invoices.c.id.in_(chosen)))
        .order_by(_invoices.c.due_date, _invoices.c.id)
        .with_for_update()).all()
    order = {invoice_id: n for n, invoice_id in enumerate(chosen)}
    targets = sorted(open_invoices, key=lambda row: (order.get(row.id, len(order)),))
    result = ApplyResult(applied=True)
    remaining = amount
    for row in targets:
        if remaining == 0:
            break
        part = min(remaining, row.balance_minor)
        paid_off = part == row.balance_minor
        new_status = InvoiceStatus.PAID if paid_off else (
            InvoiceStatus.OVERDUE if row.status == InvoiceStatus.OVERDUE else InvoiceStatus.PARTIALLY_PAID)
        moved = db.session.execute(
            sa.update(_invoices).where(_invoices.c.id == row.id, _invoices.c.balance_minor >= part,
                                       _invoices.c.status.in_(OPEN_STATUSES))
            .values(amount_paid_minor=_invoices.c.amount_paid_minor + part,
                    balance_minor=_invoices.c.balance_minor - part, status=new_status)).rowcount
        if moved != 1:  # changed under us (no row lock on SQLite): apply nothing, the payment stays PENDING
            db.session.rollback()
            raise RuntimeError(f"invoice {row.id} changed while payment {payment_id} was being applied")
        result.allocations.append((row.id, part))
        remaining -= part
    result.unallocated_minor = remaining
    if result.allocations:
        db.session.execute(sa.insert(PaymentAllocation.__table__), [
            {"payment_id": payment_id, "invoice_id": invoice_id, "estate_id": estate_id, "amount_minor": part,
             "created_at": now} for invoice_id, part in result.allocations])
    audit.record("payment.applied", db.session.get(Payment, payment_id), actor_id=actor_id, estate_id=estate_id,
                 before={"status": PaymentStatus.PENDING.value},
                 after={"status": PaymentStatus.SUCCESSFUL.value, "amount_minor": amount, "currency": currency,
                        "allocations": [{"invoice_id": i, "amount_minor": p} for i, p in result.allocations],
                        "unallocated_minor": remaining})
    receipts.queue_notice(payment_id, now)  # in this transaction: written once, sent after the commit
    db.session.commit()
    return result
