"""Manual payments, shared by the admin and resident areas: the forms (an admin records a
payment or rejects a reported one; a resident reports a transfer) and the proof's answer.

The amount arrives as typed ("45,000.00") and is read by portal.billing.money.parse_amount
in the admin's locale; portal.billing.manual checks the rest (unit, method, reference,
day, proof, invoices) and says what is wrong with each."""

from __future__ import annotations

from flask import Response
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.billing.manual import (
    MANUAL_METHODS,
    PROOF_EXTENSIONS,
    PROOF_MAX_BYTES,
    REASON_MAX,
    REFERENCE_MAX,
    ManualPaymentData,
    Proof,
    TransferReport,
)
from portal.labels import PAYMENT_METHOD_LABELS
from portal.models import PaymentMethod
from portal.web.forms import MultiCheckboxField
from portal.web.inputs import BoundedDateField, db_int

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")
BAD_DATE = _l("Enter a date as YYYY-MM-DD.")
PROOF_ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"


def read_proof(field: FileField) -> Proof | None:
    """The uploaded proof (at most one byte past the limit is read: enough to refuse it)."""
    upload = field.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    return Proof(upload.read(PROOF_MAX_BYTES + 1), upload.filename or "")


def invoice_ids(values: list[str]) -> list[int] | None:
    """The ticked invoices as ids; None when one is not a number at all."""
    ids = []
    for value in values or []:
        try:
            ids.append(db_int(value))
        except (TypeError, ValueError):
            return None
    return ids


class ManualPaymentForm(FlaskForm):
    unit_number = HiddenField(validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])
    method = SelectField(_l("How it was paid"), choices=[SelectChoice(m.value, PAYMENT_METHOD_LABELS[m.value])
                                                         for m in MANUAL_METHODS],
                         default=PaymentMethod.BANK_TRANSFER.value, validate_choice=False)
    reference = StringField(_l("Reference or cheque number"),
                            validators=[Optional(), Length(max=REFERENCE_MAX, message=TOO_LONG)])
    paid_on = BoundedDateField(_l("Day it was paid"), validators=[DataRequired(BAD_DATE)])
    amount = StringField(_l("Amount received"), validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])
    invoice_ids = MultiCheckboxField(_l("Invoices it pays"), validate_choice=False, choices=[])
    proof = FileField(_l("Proof (optional: a photo or a PDF, up to 5 MB)"), render_kw={"accept": PROOF_ACCEPT})

    def data_for_service(self, amount_minor: int, ids: list[int]) -> ManualPaymentData:
        return ManualPaymentData(unit_number=self.unit_number.data or "", method=self.method.data or "",
                                 reference=self.reference.data or "", paid_on=self.paid_on.data,
                                 amount_minor=amount_minor, invoice_ids=ids, proof=read_proof(self.proof))


class TransferReportForm(FlaskForm):
    reference = StringField(_l("Reference of the transfer"),
                            validators=[DataRequired(_l("Enter the reference of the transfer or the cheque number.")),
                                        Length(max=REFERENCE_MAX, message=TOO_LONG)])
    paid_on = BoundedDateField(_l("Day you paid"), validators=[DataRequired(BAD_DATE)])
    amount = StringField(_l("Amount you paid"), validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])
    proof = FileField(_l("Proof (optional: a screenshot, photo or PDF, up to 5 MB)"),
                      render_kw={"accept": PROOF_ACCEPT})

    def data_for_service(self, amount_minor: int) -> TransferReport:
        return TransferReport(reference=self.reference.data or "", paid_on=self.paid_on.data,
                              amount_minor=amount_minor, proof=read_proof(self.proof))


class RejectPaymentForm(FlaskForm):
    reason = TextAreaField(_l("Why is it rejected? (the resident will read it)"),
                           validators=[DataRequired(_l("Say why it is rejected (the resident will read it).")),
                                       Length(max=REASON_MAX, message=TOO_LONG)], render_kw={"rows": 2})


def proof_response(content: bytes, mime: str, filename: str, *, payment_id: int) -> Response:
    """A proof as its own type: an image shown, a PDF downloaded; sandboxed either way (what
    a person uploaded runs nothing on the portal's origin)."""
    disposition = "inline" if mime.startswith("image/") else "attachment"
    safe_name = filename.encode("ascii", "ignore").decode().strip() or f"proof-{payment_id}.{PROOF_EXTENSIONS[mime]}"
    return Response(content, mimetype=mime, headers={
        "Content-Disposition": f'{disposition}; filename="{safe_name}"', "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'",
        "Cache-Control": "private, no-store"})
