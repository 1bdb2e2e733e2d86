"""The public visitor pass: /p/<qr_token> and its PDF, no login."""

from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from portal.models import PassType, VisitStatus


@pytest.fixture
def estate(make):
    estate = make.estate("greenpark", name="Green Park Estate", address="12 Palm Avenue", city="Lekki")
    unit = make.unit(estate, "B12")
    return estate, unit


def _pdf_text(data: bytes) -> bytes:
    """Everything readable in a PDF: its plain parts and its inflated streams."""
    chunks = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\n?endstream", data, re.S):
        raw = match.group(1).strip()
        try:
            if raw.endswith(b"~>"):  # ReportLab: ASCII85 over Flate
                raw = base64.a85decode(raw[:-2], adobe=False)
            chunks.append(zlib.decompress(raw))
        except (ValueError, zlib.error):
            pass
    return b"\n".join(chunks)


def test_public_pass_shows_qr_code_visitors_window_and_estate_without_login(client, estate, make):
    estate_row, unit = estate
    start = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)  # 10:30 in Lagos
    visit = make.visit(estate_row, unit, guests=(("Tunde Bakare", "+2348031234567", None), ("Ngozi", None, None)),
                       code="PASS2345", valid_from=start, valid_until=start + timedelta(hours=3))
    response = client.get(f"/p/{visit.qr_token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store" and "noindex" in response.headers["X-Robots-Tag"]
    html = response.get_data(as_text=True)
    assert "<svg" in html and 'class="segno"' in html
    assert 'id="pass-code">PASS2345<' in html
    assert "Tunde Bakare, Ngozi" in html
    assert "Green Park Estate" in html and "12 Palm Avenue, Lekki" in html and "Unit B12" in html
    assert "Tuesday, 4 March 2031 10:30" in html and "13:30" in html  # Lagos time, not UTC
    assert "Not valid yet" in html
    assert "+2348031234567" not in html  # the pass does not spread the visitors' phones


def test_the_qr_encodes_just_the_token(estate, make, app):
    from portal.web.public.pass_views import qr_svg

    visit = make.visit(*estate)
    import segno

    assert qr_svg(visit.qr_token) == segno.make(visit.qr_token, error="m").svg_inline(
        scale=6, border=4, omitsize=True, light="#fff")


def test_public_pass_speaks_the_estates_language_and_time_zone(client, make):
    estate = make.estate("zona-10", name="Condominio Zona 10", country="GT", timezone="America/Guatemala",
                         default_language="es", currency="GTQ")
    unit = make.unit(estate, "4")
    start = datetime(2031, 3, 4, 16, 0, tzinfo=UTC)  # 10:00 in Guatemala
    visit = make.visit(estate, unit, guests=(("Ana López", "+50255551234", None),), valid_from=start,
                       valid_until=start + timedelta(hours=2))
    html = client.get(f"/p/{visit.qr_token}").get_data(as_text=True)
    assert '<html lang="es">' in html and "10:00" in html and "12:00" in html and "2031" in html


def test_cancelled_and_expired_passes_say_so(client, estate, make):
    cancelled = make.visit(*estate, status=VisitStatus.CANCELLED)
    html = client.get(f"/p/{cancelled.qr_token}").get_data(as_text=True)
    assert "This pass was cancelled by your host. It will not open the gate." in html
    assert 'class="public-pass pass-cancelled"' in html
    expired = make.visit(*estate, starts=timedelta(days=-2), ends=timedelta(days=-1))
    assert "This pass has expired." in client.get(f"/p/{expired.qr_token}").get_data(as_text=True)
    valid = make.visit(*estate, pass_type=PassType.MULTI_ENTRY, max_entries=3)
    html = client.get(f"/p/{valid.qr_token}").get_data(as_text=True)
    assert "Valid now" in html and "Entries used: 0 of 3" in html and 'role="alert"' not in html


def test_unknown_token_is_a_404_page(client, estate):
    for url in ("/p/not-a-real-token", "/p/not-a-real-token.pdf", "/p/" + "x" * 200):
        response = client.get(url)
        assert response.status_code == 404 and b"Page not found" in response.data


def test_pass_pdf_is_a_printable_pdf_with_the_code(client, estate, make):
    visit = make.visit(*estate, code="PDFC0DE7".replace("0", "Q"), guests=(("Tunde Bakare", "+2348031234567", None),))
    response = client.get(f"/p/{visit.qr_token}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    text = _pdf_text(response.data)
    assert b"PDFCQDE7" in text and b"Tunde Bakare" in text and b"Green Park Estate" in text
    assert b"/Subtype /Image" in response.data  # the QR, as a PNG


def test_cancelled_pass_pdf_says_cancelled(client, estate, make):
    visit = make.visit(*estate, status=VisitStatus.CANCELLED)
    assert b"Cancelled" in _pdf_text(client.get(f"/p/{visit.qr_token}.pdf").data)


def test_public_pass_routes_are_rate_limited(client, estate, make, app):
    from portal.web.public import pass_views as passes

    assert passes.PUBLIC_LIMIT == "60/minute"
    app.config["PASS_RATE_LIMIT"] = "3/minute"
    visit = make.visit(*estate)
    statuses = [client.get(f"/p/{visit.qr_token}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
