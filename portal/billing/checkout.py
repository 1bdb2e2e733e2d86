"""Paying bills online: a resident's hosted checkout, the return from it, and the provider's
webhook, all ending in `payments.apply_payment` once the provider itself confirms the money.

- `start_checkout(user, estate, invoice_ids, amount_minor)`: a PENDING Payment (our unique
  `tx_ref`, the invoices chosen, the amount: their whole balance unless a smaller amount is
  given) and the provider's hosted checkout for it (`gateway_for(estate)`); the caller sends
  the payer's browser to the link.
- `settle(payment, transaction_id=…, cancelled=…)`: what the return URL and the webhook both
  do. Ask the provider (`verify`), then `confirm_payment` (successful, same tx_ref, same
  currency, at least the amount asked) before `apply_payment`; a failed or cancelled checkout,
  or a transaction of the wrong amount or currency, marks the payment FAILED and applies
  nothing. Idempotent: however many times and by whichever path a payment is reported, it is
  applied once (the conditional UPDATEs of `apply_payment` and `_claim` decide a race).
- `handle_webhook(headers, body)`: the provider's notification; its secret is checked in
  constant time (`check_webhook`: wrong or missing, `WebhookRejected` 401, nothing changes),
  its contents are only a hint to `settle`.

Every state change is audited: payment.created, payment.failed, payment.applied (the last by
`apply_payment`).
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal import audit, links
from portal.billing import payments
from portal.billing.gateway import (
    CheckoutLink,
    CheckoutRequest,
    Customer,
    GatewayError,
    PaymentNotConfirmed,
    TransactionNotFound,
    Verification,
    confirm_payment,
    gateway_for,
    new_tx_ref,
)
from portal.billing.gateway import PaymentStatus as ProviderStatus
from portal.billing.invoices import _resident_unit_ids  # the units a user lives in
from portal.errors import Conflict, FieldErrors, NotFound
from portal.extensions import db
from portal.models import (
    OPEN_STATUSES,
    Estate,
    Invoice,
    Payment,
    PaymentMethod,
    PaymentStatus,
    User,
)

log = logging.getLogger(__name__)

MAX_INVOICES = 24  # chosen at once: a page of the bills list
_RAW_LIMIT = 20_000  # characters of the provider's record kept on the payment

NOTHING_CHOSEN = _l("Choose at least one bill to pay.")
NOT_OWED = _l("Bill %(number)s has nothing left to pay.")
ONE_UNIT = _l("Choose bills of one unit at a time.")
TOO_MUCH = _l("You can pay at most %(amount)s, the balance of the bills you chose.")
NO_EMAIL_DOMAIN = "payments.gatehouse.invalid"  # a payer without an email (the provider asks for one)


class Outcome(enum.StrEnum):
    """What a return or webhook found: the payment is paid (now or before), failed, or the
    provider has not settled it yet."""

    PAID = "PAID"
    FAILED = "FAILED"
    PENDING = "PENDING"


# --- starting a checkout ---------------------------------------------------------------------------



def payable_invoices(user: User, estate: Estate, invoice_ids: list[int]) -> list[Invoice]:
    """The chosen invoices of the user's units, in the order chosen; any other id (another
    unit's, another estate's, a draft) is a 404. Each must still be owed, all of one unit."""
    chosen = list(dict.fromkeys(invoice_ids))[:MAX_INVOICES]
    if not chosen:
        raise FieldErrors({"invoices": NOTHING_CHOSEN})
    found = {invoice.id: invoice for invoice in db.session.scalars(
        sa.select(Invoice).where(Invoice.id.in_(chosen), Invoice.estate_id == estate.id,
                                 Invoice.unit_id.in_(_resident_unit_ids(user, estate))))}
    if len(found) != len(chosen) or any(invoice.status.value == "DRAFT" for invoice in found.values()):
        raise NotFound()
    result = [found[invoice_id] for invoice_id in chosen]
    for invoice in result:
        if invoice.status not in OPEN_STATUSES or invoice.balance_minor <= 0:
            raise Conflict(NOT_OWED % {"number": invoice.number})
    if len({(invoice.unit_id, invoice.currency) for invoice in result}) > 1:
        raise FieldErrors({"invoices": ONE_UNIT})
    return result


def start_checkout(user: User, estate: Estate, invoice_ids: list[int], amount_minor: int | None = None,
                   *, format_amount: Callable[[int], str] | None = None) -> CheckoutLink:
    """A PENDING payment for the chosen invoices (their whole balance, or `amount_minor` if
    smaller: a partial payment) and the provider's hosted checkout for it. A provider that
    refuses or cannot be reached marks the payment FAILED and raises its GatewayError.
    `format_amount(minor) -> str` writes the most that may be paid in the refusal message."""
    invoices = payable_invoices(user, estate, invoice_ids)
    owed = sum(invoice.balance_minor for invoice in invoices)
    if amount_minor is None:
        amount_minor = owed
    if amount_minor > owed:
        shown = format_amount(owed) if format_amount else str(owed)
        raise FieldErrors({"amount": TOO_MUCH % {"amount": shown}})
    if amount_minor <= 0:
        raise FieldErrors({"amount": _l("The amount must be more than zero.")})
    payment = Payment(estate_id=estate.id, unit_id=invoices[0].unit_id, payer_user_id=user.id,
                      amount_minor=amount_minor, currency=invoices[0].currency, method=PaymentMethod.FLUTTERWAVE,
                      status=PaymentStatus.PENDING, tx_ref=new_tx_ref(f"GH-{estate.slug}"),
                      invoice_ids=[invoice.id for invoice in invoices])
    db.session.add(payment)
    db.session.flush()
    numbers = [invoice.number for invoice in invoices]
    audit.record("payment.created", payment, actor_id=user.id, estate_id=estate.id,
                 after={"status": PaymentStatus.PENDING.value, "amount_minor": amount_minor,
                        "currency": payment.currency, "tx_ref": payment.tx_ref, "invoices": numbers,
                        "partial": amount_minor < owed})
    db.session.commit()  # the payment exists before the payer can be sent anywhere
    description = (_l("Invoice %(number)s", number=numbers[0]) if len(numbers) == 1
                   else _l("Invoices %(numbers)s", numbers=", ".join(numbers)))
    request = CheckoutRequest(
        tx_ref=payment.tx_ref, amount_minor=amount_minor, currency=payment.currency,
        redirect_url=links.payment_return(estate, payment.id),
        customer=Customer(email=user.email or f"user-{user.id}@{NO_EMAIL_DOMAIN}", name=user.full_name or "",
                          phone=user.phone or ""),
        title=estate.name, description=str(description)[:200],
        meta={"payment_id": str(payment.id), "estate": estate.slug},
    )
    try:
        return gateway_for(estate).create_checkout(request)
    except GatewayError as error:
        _fail(payment.id, "gateway", detail=str(error))
        raise


# --- the return and the webhook ---------------------------------------------------------------------


def payment_for_payer(user: User, estate: Estate, payment_id: int) -> Payment:
    """A payment the user started in this estate (404 for any other)."""
    payment = db.session.scalar(sa.select(Payment).where(Payment.id == payment_id, Payment.estate_id == estate.id,
                                                         Payment.payer_user_id == user.id))
    if payment is None:
        raise NotFound()
    return payment


def _outcome(payment: Payment) -> Outcome:
    if payment.status == PaymentStatus.SUCCESSFUL:
        return Outcome.PAID
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.REJECTED):
        return Outcome.FAILED
    return Outcome.PENDING


def settle(payment: Payment, *, transaction_id: str | None = None, cancelled: bool = False,
           source: str = "return") -> Outcome:
    """Ask the provider about `payment` (by `transaction_id` when the return or webhook names
    one, else by our tx_ref) and apply it once it is confirmed; a checkout the provider
    reports failed, or that the payer cancelled, or whose amount or currency is not what was
    asked, marks it FAILED. A provider that cannot be reached: GatewayUnavailable, nothing
    changes (the webhook or another look later settles it)."""
    if payment.status == PaymentStatus.SUCCESSFUL or payment.status == PaymentStatus.REJECTED:
        return _outcome(payment)
    estate = db.session.get(Estate, payment.estate_id)
    gateway = gateway_for(estate)
    try:
        verification = (gateway.verify(transaction_id=transaction_id) if transaction_id
                        else gateway.verify(tx_ref=payment.tx_ref))
    except TransactionNotFound:
        if cancelled or not transaction_id:
            if cancelled:
                _fail(payment.id, "cancelled", source=source)
            return _refreshed(payment)
        raise
    if verification.tx_ref != payment.tx_ref:
        # Another payment's transaction named in this one's return: nothing to do with it.
        raise PaymentNotConfirmed("tx_ref", f"{verification.tx_ref!r} is not {payment.tx_ref!r}")
    try:
        amount = confirm_payment(verification, tx_ref=payment.tx_ref, currency=payment.currency,
                                 amount_minor=payment.amount_minor)
    except PaymentNotConfirmed as refused:
        if refused.reason == "status" and verification.status == ProviderStatus.PENDING:
            return _refreshed(payment)
        reason = verification.status.value.lower() if refused.reason == "status" else refused.reason
        _fail(payment.id, reason, verification=verification, source=source)
        return _refreshed(payment)
    _apply(payment, verification, amount, source)
    return _refreshed(payment)


def _refreshed(payment: Payment) -> Outcome:
    db.session.expire(payment)
    return _outcome(db.session.get(Payment, payment.id) or payment)


def _raw(verification: Verification | None) -> str | None:
    if verification is None:
        return None
    return json.dumps(dict(verification.raw), default=str, sort_keys=True)[:_RAW_LIMIT]


def _apply(payment: Payment, verification: Verification, amount_minor: int, source: str) -> None:
    """The provider confirmed the money: record its transaction on the payment (a payment
    marked FAILED earlier — a cancelled page the payer then paid on after all — is pending
    again: money taken is counted) and apply it, in one transaction. Whoever loses a race
    changes nothing."""
    payment_id = payment.id
    revived = db.session.execute(
        sa.update(Payment).where(Payment.id == payment_id,
                                 Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.FAILED]))
        .values(status=PaymentStatus.PENDING, amount_minor=amount_minor,
                provider_transaction_id=verification.provider_transaction_id,
                provider_response=_raw(verification), failure_reason="")
        .returning(Payment.status).execution_options(synchronize_session=False)).one_or_none()
    if revived is None:
        db.session.rollback()
        return
    payments.apply_payment(payment_id, list(payment.invoice_ids or []), actor_id=None)
    log.info("payment %s applied (%s, %s)", payment_id, source, verification.provider_transaction_id)


def _fail(payment_id: int, reason: str, *, verification: Verification | None = None, detail: str = "",
          source: str = "checkout") -> bool:
    """PENDING → FAILED with the reason (audited); anything else stays as it is."""
    values: dict = {"status": PaymentStatus.FAILED, "failure_reason": reason[:40]}
    if verification is not None:
        values["provider_response"] = _raw(verification)
    done = db.session.execute(
        sa.update(Payment).where(Payment.id == payment_id, Payment.status == PaymentStatus.PENDING).values(**values)
        .execution_options(synchronize_session=False)).rowcount
    if done:
        payment = db.session.get(Payment, payment_id)
        after: dict = {"status": PaymentStatus.FAILED.value, "reason": reason, "source": source}
        if verification is not None:
            after.update(provider_status=verification.status.value, provider_amount_minor=verification.amount_minor,
                         provider_currency=verification.currency)
        if detail:
            after["detail"] = detail[:300]
        audit.record("payment.failed", payment, actor_id=None, estate_id=payment.estate_id,
                     before={"status": PaymentStatus.PENDING.value}, after=after)
    db.session.commit()
    return bool(done)


def _peek_tx_ref(body: bytes) -> str:
    """The tx_ref a webhook's body names (not trusted: only to pick whose keys check it)."""
    try:
        event = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""
    data = event.get("data") if isinstance(event, dict) else None
    tx_ref = data.get("tx_ref") if isinstance(data, dict) else None
    return tx_ref[:64] if isinstance(tx_ref, str) else ""


def handle_webhook(headers: Mapping[str, str], body: bytes) -> Outcome | None:
    """A provider's notification. Its secret hash (the estate's keys when the payment it
    names is an estate's with keys of its own, else the platform's) is checked first:
    wrong or missing, WebhookRejected (401) and nothing changes. Then the transaction is
    verified with the provider and applied once (`settle`). None: a payment we do not know."""
    tx_ref = _peek_tx_ref(body)
    payment = db.session.scalar(sa.select(Payment).where(Payment.tx_ref == tx_ref)) if tx_ref else None
    estate = db.session.get(Estate, payment.estate_id) if payment is not None else None
    event = gateway_for(estate).check_webhook(headers, body)
    if payment is None or event.tx_ref != payment.tx_ref or payment.method != PaymentMethod.FLUTTERWAVE:
        return None
    return settle(payment, transaction_id=event.provider_transaction_id or None, source="webhook")



def invoices_of(payment: Payment) -> list[Invoice]:
    """The invoices a payment was started for, in the order chosen (their status now)."""
    ids = [int(i) for i in (payment.invoice_ids or [])]
    found = {invoice.id: invoice for invoice in db.session.scalars(
        sa.select(Invoice).where(Invoice.id.in_(ids), Invoice.estate_id == payment.estate_id))} if ids else {}
    return [found[i] for i in ids if i in found]
