"""Invoice and receipt PDFs: the text a reader sees (read back with pypdf) holds the number,
the amounts in the reader's language with the currency's symbol (₦ needs the embedded
font), and labels in the reader's language; the estate's logo when there is one."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader

from portal.billing.documents import (
    BilledTo,
    BillingDocument,
    Branding,
    DocumentKind,
    DocumentLine,
    format_day,
    format_money,
)
from portal.web.documents import document_pdf, logo_data_uri, pdf_response


def invoice(**changes) -> BillingDocument:
    doc = BillingDocument(
        kind=DocumentKind.INVOICE, number="GP-2026-000123", issue_date=date(2026, 5, 1), due_date=date(2026, 5, 15),
        currency="NGN", language="es",
        estate=Branding(name="GreenPark Estate", address="12 Admiralty Way\nLekki, Lagos", colour="#1e6b52"),
        billed_to=BilledTo(name="Adaeze Okafor", unit="A12", email="resident@greenpark.test"),
        lines=[DocumentLine("Cuota de mantenimiento — mayo 2026", 4500000), DocumentLine("Seguridad", 500000)],
        subtotal_minor=5000000, tax_minor=375000, total_minor=5375000, paid_minor=2000000, balance_minor=3375000,
        period="mayo 2026",
    )
    return replace(doc, **changes)


def receipt(**changes) -> BillingDocument:
    doc = BillingDocument(
        kind=DocumentKind.RECEIPT, number="LF-R-2026-000042", issue_date=date(2026, 6, 3), currency="GTQ",
        language="es", estate=Branding(name="Residencial Las Flores", address="Zona 15, Ciudad de Guatemala",
                                       colour="#7a3e9d"),
        billed_to=BilledTo(name="José Pérez Muñoz", unit="Casa 4"),
        lines=[DocumentLine("Factura LF-2026-000031", 125050)],
        subtotal_minor=125050, tax_minor=0, total_minor=125050, paid_minor=125050, balance_minor=0,
        payment_method="Tarjeta (Flutterwave)", payment_reference="FLW-MOCK-5a1b",
    )
    return replace(doc, **changes)


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def images(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_spanish_reader_s_invoice_in_naira(app):
    with app.app_context():
        text = pdf_text(document_pdf(invoice()))
    assert "GP-2026-000123" in text
    assert "53.750,00 ₦" in text  # the total, as a Spanish reader writes it, with the naira sign
    assert "33.750,00 ₦" in text and "45.000,00 ₦" in text
    for label in ("Factura", "Fecha de emisión", "Fecha de vencimiento", "Facturado a", "Descripción", "Monto",
                  "Impuesto", "Monto pagado", "Saldo pendiente", "Unidad A12", "Periodo", "1 may 2026"):
        assert label in text, label
    for english in ("Invoice", "Balance due", "Amount paid", "Issue date"):
        assert english not in text, english
    assert "Cuota de mantenimiento — mayo 2026" in text and "GreenPark Estate" in text and "Lekki, Lagos" in text


def test_an_english_reader_s_invoice_in_naira(app):
    with app.app_context():
        text = pdf_text(document_pdf(invoice(language="en", tax_label="VAT 7.5%", status="Partially paid")))
    for expected in ("Invoice", "GP-2026-000123", "₦53,750.00", "₦33,750.00", "Balance due", "VAT 7.5%",
                     "Partially paid", "May 1, 2026", "May 15, 2026"):
        assert expected in text, expected
    assert "Factura" not in text


def test_a_spanish_receipt_in_quetzales(app):
    with app.app_context():
        text = pdf_text(document_pdf(receipt()))
    for expected in ("Recibo", "LF-R-2026-000042", "Q1,250.50", "Monto recibido", "Tarjeta (Flutterwave)",
                     "FLW-MOCK-5a1b", "Aplicado a", "Factura LF-2026-000031", "Saldo después de este pago",
                     "Recibido de", "José Pérez Muñoz", "Gracias por su pago.", "Residencial Las Flores"):
        assert expected in text, expected


def test_the_logo_is_drawn_when_there_is_one_and_left_out_otherwise(app, tmp_path):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (30, 107, 82)).save(logo)
    not_an_image = tmp_path / "logo.txt"
    not_an_image.write_text("hello")
    with app.app_context():
        with_logo = document_pdf(invoice(estate=Branding("GreenPark Estate", logo=logo)))
        assert images(with_logo) == 1
        for missing in (None, tmp_path / "gone.png", not_an_image):
            pdf = document_pdf(invoice(estate=Branding("GreenPark Estate", logo=missing)))
            assert images(pdf) == 0 and "GreenPark Estate" in pdf_text(pdf)
    assert logo_data_uri(logo).startswith("data:image/png;base64,")


def test_what_residents_typed_is_text_not_markup_and_fetches_nothing(app):
    hostile = '<img src="/etc/passwd"> <b>bold</b> & “quotes”'
    with app.app_context():
        pdf = document_pdf(invoice(lines=[DocumentLine(hostile, 5000000)], billed_to=BilledTo(name=hostile),
                                   estate=Branding("GreenPark Estate", colour="red; } body { display: none")))
    assert images(pdf) == 0
    assert '<img src="/etc/passwd"> <b>bold</b> & “quotes”' in pdf_text(pdf)


def test_document_amounts_are_integers_that_add_up():
    with pytest.raises(TypeError):
        invoice(tax_minor=375000.0)
    with pytest.raises(TypeError):
        invoice(lines=[DocumentLine("x", True)], subtotal_minor=1, total_minor=375001)
    with pytest.raises(ValueError, match="subtotal"):
        invoice(subtotal_minor=5000001)
    with pytest.raises(ValueError, match="total"):
        invoice(total_minor=5375001)
    receipt(lines=[])  # a receipt's lines say what it settled; they need not add up to anything


@pytest.mark.parametrize(("amount", "currency", "language", "text"), [
    (500000, "NGN", "en", "₦5,000.00"),
    (500000, "NGN", "es", "5.000,00\xa0₦"),  # a no-break space, as CLDR writes it
    (123456, "GTQ", "es", "Q1,234.56"),
    (123456, "GTQ", "en", "Q1,234.56"),
    (5, "NGN", "en", "₦0.05"),
    (-2500, "NGN", "en", "-₦25.00"),
    (5000, "UGX", "en", "USh5,000"),
    (1999, "USD", "es", "19,99\xa0US$"),
    (1999, "EUR", "es", "19,99\xa0€"),
])
def test_format_money(amount, currency, language, text):
    assert format_money(amount, currency, language) == text


def test_format_money_refuses_floats_and_unknown_currencies():
    with pytest.raises(TypeError):
        format_money(50.0, "NGN", "en")
    with pytest.raises(ValueError):
        format_money(5000, "ZZZ", "en")


def test_format_day_is_in_the_reader_s_language():
    assert format_day(date(2026, 5, 1), "es") == "1 may 2026"
    assert format_day(date(2026, 5, 1), "en") == "May 1, 2026"
    assert format_day(date(2026, 5, 1), "xx") == "May 1, 2026"


def test_pdf_response_is_a_safe_download(app):
    with app.app_context():
        response = pdf_response(b"%PDF-1.4 test", 'GP-2026/000123 "x".pdf')
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="GP-2026-000123-x-.pdf"'
    assert response.headers["Cache-Control"] == "private, no-store"
