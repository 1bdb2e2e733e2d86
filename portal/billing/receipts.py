"""Receipts: what a successful payment paid, for the resident (their units' payments) and
the estate admin (any of the estate's), as a page and as a PDF (`receipt_document`), and
the "payment received" notice sent when a payment is applied (`queue_notice`, called by
`payments.apply_payment` inside its transaction: written once, delivered after the commit).

A receipt's number is the estate's invoice prefix, R and the payment's id (GP-R-000042).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination

from portal import links, notifications
from portal.billing import settings as billing_settings
from portal.billing.documents import (
    BilledTo,
    BillingDocument,
    DocumentKind,
    DocumentLine,
    estate_branding,
    format_money,
)
from portal.billing.invoices import _resident_unit_ids  # the units a user lives in
from portal.errors import NotFound
from portal.extensions import db
from portal.labels import PAYMENT_METHOD_LABELS
from portal.models import (
    OPEN_STATUSES,
    Estate,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    Resident,
    Unit,
    User,
    utcnow,
)

PER_PAGE = 25
CREDIT_LINE = _l("Kept as credit for the unit")


@dataclass(frozen=True)
class Receipt:
    """A successful payment with what it paid: (invoice id, invoice number, amount) each."""

    payment: Payment
    number: str
    unit_number: str
    payer_name: str
    paid: list[tuple[int, str, int]]
    credit_minor: int  # more than the invoices owed, kept for the unit
    unit_balance_minor: int  # what the unit still owes now


def receipt_number(prefix: str, payment_id: int) -> str:
    return f"{prefix}-R-{payment_id:06d}"


def prefix(estate: Estate) -> str:
    """The estate's invoice prefix, which its receipt numbers start with."""
    return billing_settings.get(estate).invoice_prefix



def list_for_resident(user: User, estate: Estate, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """The successful payments of the units the user lives in, newest first (two queries)."""
    stmt = (sa.select(Payment).where(Payment.estate_id == estate.id, Payment.status == PaymentStatus.SUCCESSFUL,
                                     Payment.unit_id.in_(_resident_unit_ids(user, estate)))
            .order_by(Payment.paid_at.desc(), Payment.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


def _load(estate: Estate, payment_id: int, *conditions) -> Receipt:
    payment = db.session.scalar(sa.select(Payment).where(
        Payment.id == payment_id, Payment.estate_id == estate.id, Payment.status == PaymentStatus.SUCCESSFUL,
        *conditions))
    if payment is None:
        raise NotFound()
    paid = [(row.id, row.number, row.amount_minor) for row in db.session.execute(
        sa.select(Invoice.id, Invoice.number, PaymentAllocation.amount_minor)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(PaymentAllocation.payment_id == payment.id, PaymentAllocation.estate_id == estate.id)
        .order_by(PaymentAllocation.id))]
    unit_number, payer_name, balance = db.session.execute(
        sa.select(Unit.number, sa.select(User.full_name).where(User.id == payment.payer_user_id).scalar_subquery(),
                  sa.select(sa.func.coalesce(sa.func.sum(Invoice.balance_minor), 0))
                  .where(Invoice.unit_id == payment.unit_id, Invoice.estate_id == estate.id,
                         Invoice.status.in_(OPEN_STATUSES)).scalar_subquery())
        .where(Unit.id == payment.unit_id)).one()
    if not payer_name:
        payer_name = db.session.scalar(
            sa.select(Invoice.billed_to_name).where(Invoice.id.in_([i for i, _, _ in paid])).limit(1)) or ""
    credit = payment.amount_minor - sum(amount for _, _, amount in paid)
    return Receipt(payment, receipt_number(billing_settings.get(estate).invoice_prefix, payment.id), unit_number,
                   payer_name or "", paid, credit, int(balance))


def get_for_resident(user: User, estate: Estate, payment_id: int) -> Receipt:
    """A successful payment of one of the user's units (404 for any other)."""
    return _load(estate, payment_id, Payment.unit_id.in_(_resident_unit_ids(user, estate)))


def get_for_admin(estate: Estate, payment_id: int) -> Receipt:
    """A successful payment of this estate (404 for any other)."""
    return _load(estate, payment_id)


def paid_day(payment: Payment, estate: Estate):
    """The day it was paid, in the estate's time zone."""
    return (payment.paid_at or payment.created_at).astimezone(ZoneInfo(estate.timezone)).date()


def receipt_document(receipt: Receipt, estate: Estate, language: str) -> BillingDocument:
    """The receipt as a document in `language` (portal.web.documents renders the PDF)."""
    payment = receipt.payment
    with force_locale(language):
        lines = [DocumentLine(str(_l("Invoice %(number)s", number=number)), amount)
                 for _, number, amount in receipt.paid]
        if receipt.credit_minor > 0:
            lines.append(DocumentLine(str(CREDIT_LINE), receipt.credit_minor))
        method = str(PAYMENT_METHOD_LABELS.get(payment.method.value, payment.method.value))
        status = str(_l("Payment received"))
    return BillingDocument(
        kind=DocumentKind.RECEIPT, number=receipt.number, issue_date=paid_day(payment, estate),
        currency=payment.currency, language=language,
        estate=estate_branding(estate),
        billed_to=BilledTo(name=receipt.payer_name, unit=receipt.unit_number),
        lines=lines, subtotal_minor=payment.amount_minor, tax_minor=0, total_minor=payment.amount_minor,
        paid_minor=payment.amount_minor, balance_minor=receipt.unit_balance_minor, status=status,
        payment_method=method,
        payment_reference=payment.provider_transaction_id or payment.reference or payment.tx_ref,
    )


# --- the "payment received" notice ---------------------------------------------------------------


def _recipient(payment_id: int) -> tuple[Payment, User | None]:
    payment = db.session.get(Payment, payment_id)
    user_id = payment.payer_user_id
    if user_id is None:  # recorded by an admin: the resident the first invoice it paid was billed to
        user_id = db.session.scalar(
            sa.select(Resident.user_id).join(Invoice, Invoice.resident_id == Resident.id)
            .join(PaymentAllocation, PaymentAllocation.invoice_id == Invoice.id)
            .where(PaymentAllocation.payment_id == payment_id).order_by(PaymentAllocation.id).limit(1))
    return payment, (db.session.get(User, user_id) if user_id is not None else None)


def queue_notice(payment_id: int, now: datetime | None = None) -> None:
    """The in-app notice of an applied payment and the email/SMS/push the payer chose for
    "payment_received", in their language, in the caller's transaction (so written once,
    with the payment; the outbox delivers it after the commit)."""
    payment, user = _recipient(payment_id)
    if user is None:
        return
    estate = db.session.get(Estate, payment.estate_id)
    language = user.preferred_language or estate.default_language or "en"
    prefix = billing_settings.get(estate).invoice_prefix
    numbers = db.session.scalars(
        sa.select(Invoice.number).join(PaymentAllocation, PaymentAllocation.invoice_id == Invoice.id)
        .where(PaymentAllocation.payment_id == payment_id).order_by(PaymentAllocation.id)).all()
    notifications.notify(user, estate, "payment_received", {
        "amount": format_money(payment.amount_minor, payment.currency, language),
        "estate": estate.name, "invoices": ", ".join(numbers), "receipt": receipt_number(prefix, payment_id),
    }, links.receipt_for_resident(estate, payment_id), now or utcnow())
