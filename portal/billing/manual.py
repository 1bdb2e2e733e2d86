"""Manual payments: bank transfers, cash and cheques.

- An estate admin records one for a unit (`record_payment`): it is applied at once, to the
  invoices the admin ticked and then the unit's other open invoices, oldest first.
- A resident reports "I paid by transfer" from a bill (`report_transfer`): a PENDING
  payment waits in the admins' "to confirm" queue until one confirms it (`confirm_payment`:
  applied through `apply_payment`, once however often it is posted) or rejects it with a
  reason (`reject_payment`: REJECTED, no invoice touched). The resident is told either way
  through the messaging outbox, in their language.

A bank reference or cheque number counts once in an estate while its payment is pending
or applied (a unique index decides, also between two requests at once); a rejected report
frees it. Each payment may carry a proof, a JPEG, PNG or WebP image or a PDF of at most
5 MB, judged by its bytes (not by its name), kept in payment_proof: a PDF byte for byte, an
image re-encoded upright without its metadata (a phone's GPS position…: portal.images).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal import audit, links
from portal.accounts.profile import wants_notification
from portal.billing import money
from portal.billing.gateway import new_tx_ref
from portal.billing.generation import estate_today
from portal.billing.payments import ApplyResult, apply_payment
from portal.errors import Conflict, FieldErrors, InvalidValue, NotFound
from portal.extensions import db
from portal.images import NotAnImage, clean_image
from portal.integrations import messaging
from portal.integrations.push import PushNotice
from portal.models import (
    OPEN_STATUSES,
    Estate,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentProof,
    PaymentStatus,
    Resident,
    Unit,
    User,
    utcnow,
)

MANUAL_METHODS = (PaymentMethod.BANK_TRANSFER, PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.OTHER)
# A transfer or a cheque is found again by its reference; cash and "other" may have none.
NEEDS_REFERENCE = frozenset({PaymentMethod.BANK_TRANSFER, PaymentMethod.CHEQUE})
REFERENCE_MAX = 60
REASON_MAX = 300
PROOF_MAX_BYTES = 5 * 1024 * 1024
PDF_TYPE = "application/pdf"
PROOF_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}
OLDEST_YEARS = 5  # a payment dated further back is a typing mistake

REQUIRED = _l("This field is required.")
REFERENCE_TAKEN = _l("A payment with the reference %(reference)s is already recorded or waiting to be confirmed.")


@dataclass(frozen=True)
class Proof:
    content: bytes
    filename: str = ""


@dataclass
class ManualPaymentData:
    """What an admin typed (the amount already read into minor units by money.parse_amount)."""

    unit_number: str
    method: str
    reference: str
    paid_on: date | None
    amount_minor: int
    invoice_ids: list[int] = field(default_factory=list)  # ticked invoices, paid first (none: oldest first)
    proof: Proof | None = None


@dataclass
class TransferReport:
    """What a resident says they paid, from one bill."""

    reference: str
    paid_on: date | None
    amount_minor: int
    proof: Proof | None = None


# --- checking what was typed ------------------------------------------------------------------------


def clean_reference(text: str) -> str:
    """" ft 2612 0099 " → "FT 2612 0099": spaces collapsed, upper case (a bank's reference is
    read out in any case; stored one way, it is found again whichever way it is typed)."""
    return " ".join((text or "").split()).upper()


def clean_proof(content: bytes) -> tuple[bytes, str]:
    """A proof as it is kept, and its MIME type, judged by its bytes: a PDF (its header,
    and its end-of-file marker where a PDF has it) as it is, or a JPEG, PNG or WebP image
    that Pillow can read, re-encoded upright without its metadata."""
    if len(content) > PROOF_MAX_BYTES:
        raise InvalidValue("proof", _l("The proof is too large: the limit is %(mb)d MB.",
                                       mb=PROOF_MAX_BYTES // (1024 * 1024)))
    if content.startswith(b"%PDF-"):
        if b"%%EOF" not in content[-2048:]:
            raise InvalidValue("proof", _l("That PDF is damaged or incomplete. Save it again and upload it."))
        return content, PDF_TYPE
    try:
        image = clean_image(content)
    except NotAnImage:
        raise InvalidValue("proof", _l("The proof must be a JPEG, PNG or WebP image, or a PDF.")) from None
    return image.content, image.mime


def _check_proof(proof: Proof | None, errors: dict) -> tuple[Proof | None, str | None]:
    """The proof to keep (cleaned) and its MIME type; (None, None) without one or with an
    error (noted in `errors`)."""
    if proof is None or not proof.content:
        return None, None
    try:
        content, mime = clean_proof(proof.content)
    except InvalidValue as exc:
        errors["proof"] = exc.message
        return None, None
    return Proof(content, proof.filename), mime


def _check_reference(text: str, required: bool, errors: dict) -> str:
    reference = clean_reference(text)
    if not reference and required:
        errors["reference"] = _l("Enter the reference of the transfer or the cheque number.")
    elif len(reference) > REFERENCE_MAX:
        errors["reference"] = _l("Use at most %(max)d characters.", max=REFERENCE_MAX)
    return reference


def _check_paid_on(paid_on: date | None, estate: Estate, errors: dict) -> None:
    today = estate_today(estate)
    if paid_on is None:
        errors["paid_on"] = _l("Enter the day it was paid, as YYYY-MM-DD.")
    elif paid_on > today:
        errors["paid_on"] = _l("The day it was paid cannot be in the future.")
    elif paid_on < today.replace(year=today.year - OLDEST_YEARS, day=min(today.day, 28)):
        errors["paid_on"] = _l("Enter a day in the last %(years)d years.", years=OLDEST_YEARS)


def _check_amount(amount_minor: int, errors: dict) -> None:
    if amount_minor <= 0:
        errors["amount"] = _l("The amount must be more than zero.")
    elif amount_minor > money.MAX_AMOUNT_MINOR:
        errors["amount"] = money.TOO_LARGE


def _start_of_day(day: date, estate: Estate) -> datetime:
    """The day as the moment it began in the estate's time zone (what `paid_at` keeps for a
    payment known by its day; lists filter and show it as that day there)."""
    return datetime.combine(day, time.min, ZoneInfo(estate.timezone))


def _unit(estate: Estate, number: str) -> Unit | None:
    return db.session.scalar(sa.select(Unit).where(Unit.estate_id == estate.id,
                                                   sa.func.lower(Unit.number) == number.strip().lower()))


def open_invoices(estate: Estate, unit_id: int) -> list[Invoice]:
    """The unit's invoices still owed, oldest due first (what a payment pays by default)."""
    return list(db.session.scalars(
        sa.select(Invoice).where(Invoice.estate_id == estate.id, Invoice.unit_id == unit_id,
                                 Invoice.status.in_(OPEN_STATUSES), Invoice.balance_minor > 0)
        .order_by(Invoice.due_date, Invoice.id)))


def find_unit(estate: Estate, number: str) -> Unit | None:
    """The unit of this estate with that number (any case), archived ones included: a past
    occupant may still settle a debt."""
    number = (number or "").strip()
    return _unit(estate, number) if number and len(number) <= 40 else None


def _save(payment: Payment, proof: Proof | None, mime: str | None, field_name: str) -> None:
    """Insert the payment (and its proof); a reference that already counts is refused (the
    unique index decides, also between two requests at once)."""
    taken = REFERENCE_TAKEN % {"reference": payment.reference}
    db.session.add(payment)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise FieldErrors({field_name: taken}) from None
    if proof is not None and mime is not None:
        db.session.add(PaymentProof(payment_id=payment.id, estate_id=payment.estate_id, content=proof.content,
                                    content_type=mime, filename=_safe_filename(proof.filename, mime),
                                    size=len(proof.content)))


def _safe_filename(name: str, mime: str) -> str:
    """The uploaded file's name without its folders or odd characters, for the download."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isalnum() or ch in "-_. ").strip(" .")[:100]
    return base or f"proof.{PROOF_EXTENSIONS[mime]}"


def _snapshot(payment: Payment, unit_number: str) -> dict:
    return {"unit": unit_number, "method": payment.method.value, "reference": payment.reference,
            "amount_minor": payment.amount_minor, "currency": payment.currency,
            "paid_on": payment.paid_at.date().isoformat() if payment.paid_at else None,
            "status": payment.status.value}


# --- an admin records a payment -----------------------------------------------------------------------


def record_payment(actor: User, estate: Estate, data: ManualPaymentData) -> tuple[Payment, ApplyResult]:
    """Record a transfer, cash or a cheque received for a unit and apply it at once (one
    transaction: the payment, its proof, the allocations and the audit, or nothing)."""
    errors: dict = {}
    unit = find_unit(estate, data.unit_number)
    if not (data.unit_number or "").strip():
        errors["unit_number"] = REQUIRED
    elif unit is None:
        errors["unit_number"] = _l("No unit numbered %(numbers)s in this estate.", numbers=data.unit_number.strip())
    method = PaymentMethod(data.method) if data.method in {m.value for m in MANUAL_METHODS} else None
    if method is None:
        errors["method"] = _l("Choose how it was paid.")
    reference = _check_reference(data.reference, method in NEEDS_REFERENCE, errors)
    _check_paid_on(data.paid_on, estate, errors)
    _check_amount(data.amount_minor, errors)
    proof, mime = _check_proof(data.proof, errors)
    chosen = list(dict.fromkeys(data.invoice_ids))
    if unit is not None and chosen:
        owed = {invoice.id for invoice in open_invoices(estate, unit.id)}
        if not set(chosen) <= owed:
            errors["invoice_ids"] = _l("Tick only invoices of this unit that are still owed.")
    if errors:
        raise FieldErrors(errors)
    payment = Payment(estate_id=estate.id, unit_id=unit.id, amount_minor=data.amount_minor, currency=estate.currency,
                      method=method, status=PaymentStatus.PENDING, tx_ref=new_tx_ref(f"{estate.slug}-M"),
                      reference=reference, paid_at=_start_of_day(data.paid_on, estate), recorded_by_id=actor.id)
    _save(payment, proof, mime, "reference")
    audit.record("payment.recorded", payment, actor_id=actor.id,
                 after={**_snapshot(payment, unit.number), "invoice_ids": chosen, "proof": mime is not None})
    result = apply_payment(payment.id, chosen, actor_id=actor.id)  # commits all of it
    return payment, result


# --- a resident reports a transfer --------------------------------------------------------------------


def _resident_unit_ids(user: User, estate: Estate):
    return sa.select(Resident.unit_id).where(Resident.estate_id == estate.id, Resident.user_id == user.id,
                                             Resident.move_out_date.is_(None))


def reportable_invoice(user: User, estate: Estate, invoice_id: int) -> Invoice:
    """An invoice of the user's units that is still owed (404 for anyone else's; a paid or
    void one is a Conflict: there is nothing to report)."""
    invoice = db.session.scalar(
        sa.select(Invoice).where(Invoice.id == invoice_id, Invoice.estate_id == estate.id,
                                 Invoice.status != InvoiceStatus.DRAFT,
                                 Invoice.unit_id.in_(_resident_unit_ids(user, estate))))
    if invoice is None:
        raise NotFound()
    if invoice.status not in OPEN_STATUSES or invoice.balance_minor <= 0:
        raise Conflict(_l("Invoice %(number)s has nothing left to pay.", number=invoice.number))
    return invoice


def report_transfer(user: User, estate: Estate, invoice_id: int, data: TransferReport) -> Payment:
    """A resident says they paid (part of) a bill by bank transfer: a PENDING payment for the
    bill's unit, waiting for an admin. The same reference cannot be reported twice."""
    invoice = reportable_invoice(user, estate, invoice_id)
    errors: dict = {}
    reference = _check_reference(data.reference, True, errors)
    _check_paid_on(data.paid_on, estate, errors)
    _check_amount(data.amount_minor, errors)
    proof, mime = _check_proof(data.proof, errors)
    if errors:
        raise FieldErrors(errors)
    payment = Payment(estate_id=estate.id, unit_id=invoice.unit_id, payer_user_id=user.id,
                      amount_minor=data.amount_minor, currency=invoice.currency, method=PaymentMethod.BANK_TRANSFER,
                      status=PaymentStatus.PENDING, tx_ref=new_tx_ref(f"{estate.slug}-T"), reference=reference,
                      paid_at=_start_of_day(data.paid_on, estate), recorded_by_id=user.id,
                      reported_invoice_id=invoice.id)
    _save(payment, proof, mime, "reference")
    audit.record("payment.reported", payment, actor_id=user.id,
                 after={**_snapshot(payment, invoice.unit.number), "invoice": invoice.number,
                        "proof": mime is not None})
    db.session.commit()
    return payment


def reports_for_invoice(user: User, estate: Estate, invoice: Invoice) -> list[tuple[Payment, bool]]:
    """The transfers reported from this bill by the people of its unit, newest first, each
    with whether the user may open its proof (they sent it) — one query."""
    rows = db.session.execute(
        sa.select(Payment, PaymentProof.payment_id).outerjoin(PaymentProof, PaymentProof.payment_id == Payment.id)
        .where(Payment.estate_id == estate.id, Payment.reported_invoice_id == invoice.id,
               Payment.unit_id.in_(_resident_unit_ids(user, estate)))
        .order_by(Payment.created_at.desc(), Payment.id.desc()))
    return [(payment, proof is not None and payment.payer_user_id == user.id) for payment, proof in rows]


def awaiting_confirmation(estate: Estate, invoice_ids: list[int]) -> set[int]:
    """Which of these invoices have a reported transfer the estate office has not answered
    yet (the bills list says so on their cards) — one query."""
    if not invoice_ids:
        return set()
    return set(db.session.scalars(
        sa.select(Payment.reported_invoice_id).distinct()
        .where(Payment.estate_id == estate.id, Payment.reported_invoice_id.in_(invoice_ids),
               Payment.status == PaymentStatus.PENDING)))


# --- an admin decides ----------------------------------------------------------------------------------


def get_manual_payment(estate: Estate, payment_id: int) -> Payment:
    payment = db.session.scalar(sa.select(Payment).where(Payment.id == payment_id, Payment.estate_id == estate.id))
    if payment is None:
        raise NotFound()
    return payment


def _pending_manual(estate: Estate, payment_id: int) -> Payment:
    payment = get_manual_payment(estate, payment_id)
    if payment.method not in MANUAL_METHODS:
        raise Conflict(_l("Only bank transfers, cash and cheques are confirmed here."))
    if payment.status != PaymentStatus.PENDING:
        raise Conflict(_l("This payment was answered already (%(status)s).",
                          status=_STATUS_WORDS.get(payment.status, payment.status.value)))
    return payment


_STATUS_WORDS = {PaymentStatus.SUCCESSFUL: _l("confirmed"), PaymentStatus.REJECTED: _l("rejected"),
                 PaymentStatus.FAILED: _l("failed")}


def confirm_payment(actor: User, estate: Estate, payment_id: int) -> ApplyResult:
    """Confirm a reported payment: applied to its bill first, then the unit's other open
    invoices (apply_payment's conditional UPDATE: confirmed twice, or by two admins at once,
    it is applied once; the second gets a Conflict). The resident is told by the receipt
    notice apply_payment writes (portal.billing.receipts.queue_notice)."""
    payment = _pending_manual(estate, payment_id)
    now = utcnow()
    audit.record("payment.confirmed", payment, actor_id=actor.id, before={"status": PaymentStatus.PENDING.value},
                 after={"status": PaymentStatus.SUCCESSFUL.value, "reference": payment.reference,
                        "amount_minor": payment.amount_minor})
    db.session.execute(sa.update(Payment).where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
                       .values(reviewed_by_id=actor.id, reviewed_at=now)
                       .execution_options(synchronize_session=False))
    invoices = [payment.reported_invoice_id] if payment.reported_invoice_id else []
    result = apply_payment(payment.id, invoices, actor_id=actor.id)  # commits, or rolls all of it back
    if not result.applied:  # another request answered it meanwhile
        status = db.session.scalar(sa.select(Payment.status).where(Payment.id == payment.id))
        raise Conflict(_l("This payment was answered already (%(status)s).",
                          status=_STATUS_WORDS.get(status, status.value if status else "")))
    return result


def reject_payment(actor: User, estate: Estate, payment_id: int, reason: str) -> Payment:
    """Reject a reported payment with a reason the resident reads; no invoice changes."""
    payment = _pending_manual(estate, payment_id)
    reason = " ".join((reason or "").split())
    if not reason:
        raise FieldErrors({"reason": _l("Say why it is rejected (the resident will read it).")})
    if len(reason) > REASON_MAX:
        raise FieldErrors({"reason": _l("Use at most %(max)d characters.", max=REASON_MAX)})
    done = db.session.execute(
        sa.update(Payment).where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
        .values(status=PaymentStatus.REJECTED, reviewed_by_id=actor.id, reviewed_at=utcnow(), review_note=reason)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict(_l("This payment was answered already."))
    db.session.refresh(payment)
    audit.record("payment.rejected", payment, actor_id=actor.id, before={"status": PaymentStatus.PENDING.value},
                 after={"status": PaymentStatus.REJECTED.value, "reason": reason, "reference": payment.reference})
    _tell_payer(estate, payment)
    db.session.commit()
    return payment


# --- telling the resident ------------------------------------------------------------------------------

REJECTED_SUBJECT = _l("Your payment to %(estate)s was not confirmed")
REJECTED_BODY = _l("Your payment of %(amount)s (reference %(reference)s) was not confirmed: %(reason)s")
SEE_BILLS = _l("See your bills: %(link)s")



def _tell_payer(estate: Estate, payment: Payment) -> None:
    """The answer to a resident's report, by email, SMS and push as they chose for payments
    ("payment_received"), in their language; written in the caller's transaction."""
    user = db.session.get(User, payment.payer_user_id) if payment.payer_user_id else None
    if user is None:
        return
    language = messaging.language_for(user.preferred_language, estate)
    link = links.bills_for_resident(estate)
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    absolute = f"{base}{link}" if base and link.startswith("/") else link
    with force_locale(language):
        amount = money.format_money(payment.amount_minor, payment.currency,
                                    money.reader_locale(language, estate.country))
        params = {"estate": estate.name, "amount": amount, "reference": payment.reference or "—",
                  "reason": payment.review_note}
        subject = str(REJECTED_SUBJECT % params)
        body = str(REJECTED_BODY % params)
        see = str(SEE_BILLS % {"link": absolute})
    messages = []
    if user.email and wants_notification(user, "payment_received", "email"):
        messages.append(("EMAIL", user.email, subject, f"{body}\n\n{see}"))
    if user.phone and wants_notification(user, "payment_received", "sms"):
        messages.append(("SMS", user.phone, "", f"{body} {absolute}"))
    push = (PushNotice(user.id, subject, body, link, tag=f"payment-{payment.id}")
            if wants_notification(user, "payment_received", "push") else None)
    messaging.send_many(messages, push=push, estate=estate, language=language, reason="payment_received")


# --- the proof -------------------------------------------------------------------------------------------


def proof_info(payment: Payment) -> PaymentProof | None:
    """The proof's type, name and size (not its bytes), or None."""
    return db.session.scalar(sa.select(PaymentProof).where(PaymentProof.payment_id == payment.id,
                                                           PaymentProof.estate_id == payment.estate_id))


def get_proof(estate: Estate, payment_id: int, *, payer: User | None = None) -> tuple[bytes, str, str]:
    """A payment's proof: bytes, MIME type, file name. For an admin of the estate (`payer`
    None), any payment of the estate; for a resident, only a payment they reported
    themselves. Anything else (another estate's, another resident's, none) is a 404."""
    stmt = (sa.select(PaymentProof.content, PaymentProof.content_type, PaymentProof.filename)
            .join(Payment, Payment.id == PaymentProof.payment_id)
            .where(PaymentProof.payment_id == payment_id, PaymentProof.estate_id == estate.id,
                   Payment.estate_id == estate.id))
    if payer is not None:
        stmt = stmt.where(Payment.payer_user_id == payer.id)
    row = db.session.execute(stmt).first()
    if row is None or row.content_type not in PROOF_EXTENSIONS:
        raise NotFound()
    return row.content, row.content_type, row.filename


def paid_on(payment: Payment, estate: Estate) -> date | None:
    """The day a payment was made, in the estate's time zone."""
    return payment.paid_at.astimezone(ZoneInfo(estate.timezone)).date() if payment.paid_at else None
