"""The invoice and statement PDFs the admin and resident pages offer, in the reader's
language (portal/web/documents.py renders them with xhtml2pdf)."""

from __future__ import annotations

from types import SimpleNamespace

from flask_babel import get_locale

from portal.billing.documents import estate_branding, format_day, format_money
from portal.billing.invoice_document import invoice_document
from portal.billing.statements import Statement
from portal.models import Estate, Invoice
from portal.web.documents import (
    _COLOUR,
    DEFAULT_COLOUR,
    document_pdf,
    logo_data_uri,
    pdf_response,
    render_pdf,
)


def reader_language() -> str:
    return str(get_locale() or "en")


def invoice_pdf_response(invoice: Invoice, estate: Estate):
    pdf = document_pdf(invoice_document(invoice, estate, reader_language()))
    return pdf_response(pdf, f"{invoice.number}.pdf")


def statement_pdf(statement: Statement, estate: Estate, language: str) -> bytes:
    """The statement of account as PDF bytes, in `language`."""
    branding = estate_branding(estate)

    def money(amount: int) -> str:
        return format_money(amount, statement.currency, language)

    context = {
        "doc": SimpleNamespace(estate=branding, number=statement.unit.number, notes=""),
        "statement": statement,
        "colour": branding.colour if _COLOUR.fullmatch(branding.colour or "") else DEFAULT_COLOUR,
        "logo": logo_data_uri(branding.logo),
        "address_lines": [line for line in branding.address.splitlines() if line.strip()],
        "fmt_money": money,
        "fmt_day": lambda day: format_day(day, language),
    }
    return render_pdf("documents/statement.html", context, language=language)


def statement_pdf_response(statement: Statement, estate: Estate):
    pdf = statement_pdf(statement, estate, reader_language())
    name = f"statement-{statement.unit.number}-{statement.start.isoformat()}-{statement.end.isoformat()}.pdf"
    return pdf_response(pdf, name)
