"""An invoice of the database as the `BillingDocument` its PDF shows, in the reader's
language: the estate's branding, the unit and who it is billed to, the period, the lines,
the totals, what has been paid, the balance and the status (a void invoice says so, and why)."""

from __future__ import annotations

from decimal import Decimal

from babel import numbers
from babel.dates import format_date
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.billing.documents import (
    BilledTo,
    BillingDocument,
    DocumentKind,
    DocumentLine,
    estate_branding,
)
from portal.labels import CHARGE_FREQUENCY_LABELS, INVOICE_STATUS_LABELS
from portal.models import Estate, Invoice, InvoiceKind, InvoiceStatus


def _month(day, language: str) -> str:
    return format_date(day, "LLLL y", locale=language)


def invoice_document(invoice: Invoice, estate: Estate, language: str) -> BillingDocument:
    """`invoice` (with its unit and lines loaded) as its document for a reader of `language`."""
    with force_locale(language):
        lines = []
        for line in invoice.lines:
            text = line.description
            if line.frequency and line.covers_start and line.covers_end and line.covers_start != line.covers_end:
                text += f" · {CHARGE_FREQUENCY_LABELS[line.frequency.value]} " \
                        f"({format_date(line.covers_start, 'MMM y', locale=language)} – " \
                        f"{format_date(line.covers_end, 'MMM y', locale=language)})"
            lines.append(DocumentLine(text, line.amount_minor))
        if invoice.kind == InvoiceKind.PERIODIC:
            period = _month(invoice.period_start, language)
        else:
            period = f"{format_date(invoice.period_start, 'medium', locale=language)} – " \
                     f"{format_date(invoice.period_end, 'medium', locale=language)}"
        unit = invoice.unit.number + (" · " + _("Block %(block)s", block=invoice.unit.block)
                                      if invoice.unit.block else "")
        rate = numbers.format_decimal(Decimal(invoice.tax_rate_bp).scaleb(-2), format="0.##", locale=language)
        tax_label = _("Tax (%(rate)s %%)", rate=rate) if invoice.tax_rate_bp else ""
        void = invoice.status == InvoiceStatus.VOID
        void_note = ""
        if void:
            void_note = _("This invoice is void: %(reason)s", reason=invoice.void_reason) if invoice.void_reason \
                else _("This invoice is void.")
        return BillingDocument(
            kind=DocumentKind.INVOICE, number=invoice.number, issue_date=invoice.issue_date,
            due_date=invoice.due_date, currency=invoice.currency, language=language,
            estate=estate_branding(estate),
            billed_to=BilledTo(name=invoice.billed_to_name or _("The occupants of the unit"), unit=unit),
            lines=lines, subtotal_minor=invoice.subtotal_minor, tax_minor=invoice.tax_minor,
            total_minor=invoice.total_minor, paid_minor=invoice.amount_paid_minor,
            # A void invoice is owed nothing; what it showed before stays readable in its lines.
            balance_minor=invoice.balance_minor, period=period, tax_label=tax_label,
            status=str(INVOICE_STATUS_LABELS[invoice.status.value]), void_note=void_note)
