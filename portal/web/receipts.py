"""A receipt as a PDF download, in the reader's language (the resident's and the admin's
receipt pages share it)."""

from __future__ import annotations

from flask import Response
from flask_babel import get_locale

from portal.billing.receipts import Receipt, receipt_document
from portal.models import Estate
from portal.web.documents import document_pdf, pdf_response


def receipt_pdf(receipt: Receipt, estate: Estate) -> Response:
    doc = receipt_document(receipt, estate, str(get_locale() or estate.default_language or "en"))
    return pdf_response(document_pdf(doc), f"receipt-{receipt.number}.pdf")
