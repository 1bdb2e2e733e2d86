"""PDF documents: a Jinja template rendered to PDF bytes with xhtml2pdf, in the reader's
language, with the estate's name, address, colour and logo.

`document_pdf(doc)` renders a `portal.billing.documents.BillingDocument` (an invoice or a
receipt, templates/documents/); `render_pdf(template, context, language=…)` any template;
`pdf_response(pdf, filename)` sends one. The text is set in DejaVu Sans (static/fonts/),
which has ₦; the render may read only those font files (xhtml2pdf's resource policy: no
network, no other local file), and the logo travels inside the document as a data: URI.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Response, current_app
from flask_babel import force_locale
from PIL import Image, UnidentifiedImageError
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from portal.billing.documents import (
    DEFAULT_COLOUR,
    BillingDocument,
    DocumentKind,
    format_day,
    format_money,
)
from portal.config import PROJECT_ROOT

FONT_DIR = PROJECT_ROOT / "static" / "fonts" / "dejavu-sans-2.37"
FONTS = {"regular": FONT_DIR / "DejaVuSans.ttf", "bold": FONT_DIR / "DejaVuSans-Bold.ttf"}
TEMPLATES = {DocumentKind.INVOICE: "documents/invoice.html", DocumentKind.RECEIPT: "documents/receipt.html"}
MAX_LOGO_BYTES = 2 * 1024 * 1024
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class PdfRenderError(RuntimeError):
    """xhtml2pdf could not make the document."""


def render_pdf(template: str, context: Mapping[str, Any], *, language: str) -> bytes:
    """The template rendered in `language` and turned into PDF bytes."""
    with force_locale(language):
        html = current_app.jinja_env.get_template(template).render(
            {**context, "language": language, "fonts": {name: path.name for name, path in FONTS.items()}}
        )
    out = io.BytesIO()
    # Local reads confined to the font folder, no network: a document never fetches anything else.
    policy = ResourceAccessPolicy.server(base_dir=FONT_DIR, allow_remote=False)
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", path=str(FONT_DIR / "document.html"),
                            resource_policy=policy)
    if result.err:
        raise PdfRenderError(f"{template}: {result.err} error(s)")
    return out.getvalue()


def document_pdf(doc: BillingDocument) -> bytes:
    """An invoice or a receipt as PDF bytes, in the document's language."""
    language = doc.language
    money = {
        "subtotal": doc.subtotal_minor, "tax": doc.tax_minor, "total": doc.total_minor,
        "paid": doc.paid_minor, "balance": doc.balance_minor,
    }
    context = {
        "doc": doc,
        "colour": doc.estate.colour if _COLOUR.fullmatch(doc.estate.colour or "") else DEFAULT_COLOUR,
        "logo": logo_data_uri(doc.estate.logo),
        "address_lines": [line for line in doc.estate.address.splitlines() if line.strip()],
        "billed_to_lines": [line for line in doc.billed_to.address.splitlines() if line.strip()],
        "amounts": {name: format_money(value, doc.currency, language) for name, value in money.items()},
        "lines": [(line.description, format_money(line.amount_minor, doc.currency, language)) for line in doc.lines],
        "issue_date": format_day(doc.issue_date, language),
        "due_date": format_day(doc.due_date, language) if doc.due_date else "",
    }
    return render_pdf(TEMPLATES[doc.kind], context, language=language)


def logo_data_uri(path: Path | bytes | None) -> str | None:
    """The logo (a file, or its bytes) as a data: URI, if it is a PNG, JPEG or GIF image of
    at most 2 MB; otherwise None (the document shows the estate's name alone)."""
    if not path:
        return None
    try:
        data = path if isinstance(path, bytes) else Path(path).read_bytes()
        if len(data) > MAX_LOGO_BYTES:
            return None
        with Image.open(io.BytesIO(data)) as image:
            kind = (image.format or "").lower()
            image.verify()
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    mime = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif"}.get(kind)
    if mime is None:
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def pdf_response(pdf: bytes, filename: str, *, inline: bool = False) -> Response:
    """A PDF download (or, `inline`, shown in the browser) under a safe file name."""
    name = _FILENAME_UNSAFE.sub("-", filename).strip("-.") or "document"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
