"""Billing documents and reports in the browser, on a phone: the GreenPark resident opens
their statement of account and downloads it as a PDF (its text read back), then their
bill's PDF; the admin reads the arrears list, sorts it by age and opens a unit's statement."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy.orm import Session

from portal.models import (
    Estate,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    Unit,
)
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import admin_link, sign_in, until_new_page

pytestmark = pytest.mark.browser


def _overdue_invoice(s, estate, unit, number: str, sequence: int, reference: str) -> int:
    """₦80,000 due 40 days ago, ₦30,000 of it paid 20 days ago by transfer `reference`."""
    today = date.today()
    issued = today - timedelta(days=50)
    invoice = Invoice(estate_id=estate.id, unit_id=unit.id, number=number, year=1999, sequence=sequence,
                      kind=InvoiceKind.ONE_OFF, period_start=issued, period_end=issued, issue_date=issued,
                      due_date=today - timedelta(days=40), subtotal_minor=8_000_000, tax_minor=0,
                      total_minor=8_000_000, amount_paid_minor=3_000_000, balance_minor=5_000_000,
                      currency="NGN", status=InvoiceStatus.OVERDUE, billed_to_name="Tunde Bakare")
    s.add(invoice)
    s.flush()
    s.add(InvoiceLine(invoice_id=invoice.id, estate_id=estate.id, description="Generator repair",
                      unit_amount_minor=8_000_000, amount_minor=8_000_000))
    paid = datetime.combine(today - timedelta(days=20), datetime.min.time(), tzinfo=UTC) + timedelta(hours=11)
    payment = Payment(estate_id=estate.id, unit_id=unit.id, amount_minor=3_000_000, currency="NGN",
                      method=PaymentMethod.BANK_TRANSFER, status=PaymentStatus.SUCCESSFUL,
                      tx_ref=f"reports-browser-{sequence}", reference=reference, paid_at=paid)
    s.add(payment)
    s.flush()
    s.add(PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id, estate_id=estate.id,
                            amount_minor=3_000_000))
    return invoice.id


@pytest.fixture(scope="module")
def overdue(live_server, browser_database_url):
    """On greenpark: the demo resident's A12 and a new unit R1 (block R, which the demo does
    not have, so its arrears are all the block's) each owe ₦50,000 of an ₦80,000 invoice
    due 40 days ago (GP-1999-990001 and GP-1999-990002). The A12 invoice's id."""
    engine = sa.create_engine(browser_database_url)
    with Session(engine) as s:
        estate = s.scalar(sa.select(Estate).where(Estate.slug == "greenpark"))
        a12 = s.scalar(sa.select(Unit).where(Unit.estate_id == estate.id, Unit.number == "A12"))
        r1 = Unit(estate_id=estate.id, number="R1", block="R")
        s.add(r1)
        s.flush()
        invoice_id = _overdue_invoice(s, estate, a12, "GP-1999-990001", 990001, "TRF-REPORTS-1")
        _overdue_invoice(s, estate, r1, "GP-1999-990002", 990002, "TRF-REPORTS-2")
        s.commit()
    engine.dispose()
    yield invoice_id


def _pdf_text(path) -> str:
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF-")
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_resident_opens_and_downloads_their_statement(new_page, overdue):
    page = new_page("phone", locale="en")
    page.goto("/login")
    sign_in(page, "resident@greenpark.test")
    until_new_page(page, page.locator("#home-bills").click)
    until_new_page(page, page.locator("#my-statement").click)
    expect(page.locator("h1")).to_have_text("Statement of account")
    expect(page.locator("#statement")).to_contain_text("Invoice GP-1999-990001")
    expect(page.locator("#statement")).to_contain_text("TRF-REPORTS-1")
    closing = page.locator("#statement-closing").inner_text()
    assert closing.startswith("₦")
    # No horizontal scrolling on the phone: the table fits.
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
        .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    page.screenshot(path=str(SCREENSHOTS / "billing_statement_phone.png"), full_page=True)

    with page.expect_download() as download:
        page.locator("#statement-pdf").click()
    text = _pdf_text(download.value.path())
    assert download.value.suggested_filename.startswith("statement-A12-")
    for expected in ("Statement of account", "GreenPark Estate", "Opening balance", "Closing balance",
                     "GP-1999-990001", "TRF-REPORTS-1", closing):
        assert expected in text, expected

    # A bad range: a message next to the field, and no download offered.
    page.fill("#statement-from", "2026-05-01")
    page.fill("#statement-to", "2026-04-01")
    until_new_page(page, page.locator("#statement-show").click)
    expect(page.locator("#to-error")).to_have_text("The end date is before the start date.")
    expect(page.locator("#statement-pdf")).to_have_count(0)

    page.goto(f"/e/greenpark/home/bills/{overdue}")
    with page.expect_download() as download:
        page.locator("#invoice-pdf").click()
    text = _pdf_text(download.value.path())
    assert "GP-1999-990001" in text and "₦80,000.00" in text and "₦50,000.00" in text and "Overdue" in text


def test_admin_reads_the_arrears_on_a_phone(new_page, overdue):
    page = new_page("phone", locale="en")
    page.goto("/login")
    sign_in(page, "admin@greenpark.test")
    until_new_page(page, admin_link(page, "nav-billing").click)
    until_new_page(page, page.locator("#tab-arrears").click)
    expect(page.locator("h1")).to_have_text("Billing")
    page.select_option("#arrears-block", "R")
    expect(page).to_have_url(re.compile(r"block=R"))
    expect(page.locator(".arrears-unit")).to_have_count(1)
    row = page.locator("tr", has=page.locator(".arrears-unit", has_text="R1"))
    expect(row).to_contain_text("₦50,000.00")
    expect(row).to_contain_text("40")
    expect(page.locator("#arrears-units")).to_have_text("1")
    expect(page.locator("#aging-2")).to_have_text("₦50,000.00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "billing_arrears_phone.png"), full_page=True)

    page.select_option("#arrears-sort", "age")
    expect(page).to_have_url(re.compile(r"sort=age"))
    expect(page.locator(".arrears-unit").first).to_have_text("Unit R1")

    # The export follows the filters the page shows.
    with page.expect_download() as download:
        page.locator("#arrears-csv").click()
    assert download.value.suggested_filename.startswith("arrears-greenpark-")
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("R1,R,")

    until_new_page(page, page.locator(".arrears-unit").first.click)
    expect(page.locator("h1")).to_have_text("Statement of account")
    expect(page.locator("#statement")).to_contain_text("GP-1999-990002")
    expect(page.locator("#statement-closing")).to_have_text("₦50,000.00")

    until_new_page(page, admin_link(page, "nav-billing").click)
    until_new_page(page, page.locator("#tab-reports").click)
    expect(page.locator("#collection-rate")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "billing_collection_phone.png"), full_page=True)
