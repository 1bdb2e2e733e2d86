"""Paying a bill from a phone, end to end: the demo resident opens an unpaid invoice, pays it
on the fake Flutterwave's hosted page (a real server speaking Flutterwave's HTTP), comes back,
sees it PAID and downloads the receipt PDF, whose text holds the invoice number and amount.
The webhook arrives too (the fake sends it after the redirect, as Flutterwave does): the
payment is applied once. Then the Las Flores resident pays part of a bill in Spanish.

The portal runs under gunicorn of its own here, pointed at the fake (FLUTTERWAVE_*), on the
browser tests' demo database."""

from __future__ import annotations

import re
import subprocess
from io import BytesIO

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import PHONE, SCREENSHOTS, gunicorn_server, watch_csp
from tests.browser.test_role_homes import choose_language, sign_in, until_new_page
from tests.fakes.flutterwave import running_fake

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def paying_portal(live_server, live_env):
    """(base URL of a portal that pays through the fake Flutterwave, the fake)."""
    with running_fake(webhook_delay_ms=200) as fake:
        env = {**live_env, "FLUTTERWAVE_BASE_URL": fake.base_url, "FLUTTERWAVE_SECRET_KEY": fake.secret_key,
               "FLUTTERWAVE_SECRET_HASH": fake.secret_hash}
        with gunicorn_server(env, "gunicorn-pay.log", start_timeout=90) as base_url:
            fake.webhook_url = f"{base_url}/webhooks/flutterwave"
            yield base_url, fake


@pytest.fixture
def phone(browser, paying_portal):
    def open_page(locale: str = "en"):
        context = browser.new_context(base_url=paying_portal[0], viewport=PHONE, locale=locale, is_mobile=True,
                                      has_touch=True, accept_downloads=True)
        context.set_default_timeout(15_000)
        watch_csp(context)
        contexts.append(context)
        return context.new_page()

    contexts: list = []
    yield open_page
    for context in contexts:
        context.close()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def save_pdf_picture(data: bytes, name: str) -> None:
    """The PDF's first page as a PNG beside the screenshots (pdftoppm), to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = SCREENSHOTS / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(SCREENSHOTS / name)], check=True,
                   timeout=60)


def download(page, locator) -> bytes:
    with page.expect_download() as info:
        locator.click()
    return open(info.value.path(), "rb").read()


def test_the_demo_resident_pays_a_bill_on_a_phone_and_downloads_the_receipt(phone, paying_portal):
    base_url, fake = paying_portal
    page = phone("en")
    page.goto("/login")
    sign_in(page, "resident@greenpark.test")
    until_new_page(page, page.locator("#home-bills").click)
    unpaid = page.locator(".bill-card", has=page.locator(".badge-invoice-issued, .badge-invoice-overdue")).first
    until_new_page(page, unpaid.click)
    number = re.search(r"GP-\d{4}-\d{6}", page.locator("h1").inner_text()).group(0)
    balance = page.locator("#invoice-balance").inner_text().strip()
    pay = page.locator("#pay-online")
    expect(pay).to_have_text(f"Pay {balance}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "pay_bill_phone.png"), full_page=True)

    pay.tap()  # HX-Redirect to the hosted page (a form redirected off-site would break the CSP)
    page.wait_for_url(f"{fake.base_url}/v3/hosted/pay/*")
    expect(page.get_by_text(f"Invoice {number}")).to_be_visible()
    page.get_by_role("button", name=f"Pay {balance}").tap()

    page.wait_for_url(re.compile(r"/e/greenpark/home/payments/\d+/return\?"))
    expect(page.locator("h1")).to_have_text("Payment received")
    expect(page.locator("#pay-result")).to_have_attribute("data-outcome", "PAID")
    expect(page.locator("#pay-bills")).to_contain_text(number)
    expect(page.locator("#pay-bills .badge-invoice-paid")).to_have_text("Paid")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SCREENSHOTS / "pay_return_phone.png"), full_page=True)

    deliveries = fake.wait_for_webhooks(1)  # the webhook, after the redirect: 200, applied nothing more
    assert [d.status_code for d in deliveries] == [200]

    until_new_page(page, page.locator("#pay-receipt").click)
    expect(page.locator("#receipt-amount")).to_have_text(balance)
    expect(page.locator("#receipt-lines")).to_contain_text(number)
    page.screenshot(path=str(SCREENSHOTS / "pay_receipt_phone.png"), full_page=True)
    data = download(page, page.locator("#receipt-pdf"))
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert number in text and balance in text and "GreenPark" in text and "Receipt" in text
    save_pdf_picture(data, "pay_receipt_pdf")

    until_new_page(page, page.locator("a", has_text="Receipts").first.click)
    expect(page.locator("#receipt-list .bill-card").first).to_contain_text(balance)
    page.goto("/e/greenpark/home/bills/")
    expect(page.locator(".bill-card", has_text=number)).to_contain_text("Paid")


def test_a_spanish_resident_pays_part_of_a_bill(phone, paying_portal):
    base_url, fake = paying_portal
    page = phone("es")
    page.goto("/login")
    choose_language(page, "es")
    sign_in(page, "resident@lasflores.test")
    until_new_page(page, page.locator("#home-bills").click)
    unpaid = page.locator(".bill-card", has=page.locator(".badge-invoice-issued, .badge-invoice-overdue")).first
    until_new_page(page, unpaid.click)
    number = re.search(r"LF-\d{4}-\d{6}", page.locator("h1").inner_text()).group(0)
    expect(page.locator("#pay-online")).to_contain_text("Pagar Q")
    page.locator("#pay-part > summary").tap()
    page.fill("#amount", "99999999")
    page.locator("#pay-part-submit").tap()
    expect(page.locator("#amount-error")).to_contain_text("Puede pagar como máximo")
    page.fill("#amount", "100.00")
    page.screenshot(path=str(SCREENSHOTS / "pay_part_es_phone.png"), full_page=True)
    page.locator("#pay-part-submit").tap()
    page.wait_for_url(f"{fake.base_url}/v3/hosted/pay/*")
    page.get_by_role("button", name="Pay Q100.00").tap()
    page.wait_for_url(re.compile(r"/e/lasflores/home/payments/\d+/return\?"))
    expect(page.locator("h1")).to_have_text("Pago recibido")
    expect(page.locator("#pay-bills")).to_contain_text(number)
    expect(page.locator("#pay-bills .badge")).not_to_have_text("Pagada")
    page.screenshot(path=str(SCREENSHOTS / "pay_return_es_phone.png"), full_page=True)
    until_new_page(page, page.locator("#pay-receipt").click)
    data = download(page, page.locator("#receipt-pdf"))
    text = pdf_text(data)
    assert "Recibo" in text and number in text and "Q100.00" in text and "Las Flores" in text
    save_pdf_picture(data, "pay_receipt_es_pdf")
