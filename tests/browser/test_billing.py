"""Billing in the browser, on a phone: the GreenPark admin previews next month's invoices,
generates them and watches the progress reach 100 % and the summary (a real job worker
runs the generation); the Las Flores resident reads their bill in Spanish, in quetzales."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import admin_link, choose_language, sign_in, until_new_page

pytestmark = pytest.mark.browser


def _next_month() -> str:
    today = date.today()
    return f"{today.year + today.month // 12}-{today.month % 12 + 1:02d}"


def test_admin_previews_and_generates_next_month(new_page, live_server, job_worker):
    page = new_page("phone", locale="en")
    page.goto("/login")
    sign_in(page, "admin@greenpark.test")
    until_new_page(page, admin_link(page, "nav-billing").click)
    expect(page.locator("#invoice-totals")).to_be_visible()
    until_new_page(page, page.locator("#tab-generate").click)

    page.fill("#period", _next_month())
    until_new_page(page, page.locator("#preview-button").click)
    expect(page.locator("#preview-count")).to_have_text("48")
    expect(page.locator(".preview-service").filter(has_text="Service charge")).to_contain_text("₦2,160,000.00")
    expect(page.locator("#generate-button")).to_have_text("Generate 48 invoices")
    total = page.locator("#preview-total").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "billing_preview_phone.png"), full_page=True)

    page.on("dialog", lambda dialog: dialog.accept())  # "Generate 48 invoices for …?"
    until_new_page(page, page.locator("#generate-button").click)
    expect(page).to_have_url(re.compile(r"/e/greenpark/admin/billing/runs/\d+$"))
    expect(page.locator("#run-bar")).to_be_visible()
    # The worker picks the job up; the page polls every second until it is done.
    expect(page.locator("#run-progress")).to_have_attribute("data-status", "DONE", timeout=30_000)
    expect(page.locator("#run-percent")).to_have_text("100 %")
    expect(page.locator("#run-bar")).to_have_attribute("value", "100")
    expect(page.locator("#summary-created")).to_have_text("48")
    expect(page.locator("#summary-total")).to_have_text(total)
    expect(page.locator("#run-units")).to_contain_text("48 of 48 units done")

    page.screenshot(path=str(SCREENSHOTS / "billing_run_done_phone.png"), full_page=True)

    until_new_page(page, page.locator("#run-invoices").click)
    expect(page.locator("#total-count")).to_have_text("48")
    expect(page.locator("#total-invoiced")).to_have_text(total)
    first = page.locator(".invoice-number").first
    expect(first).to_have_text(re.compile(r"GP-\d{4}-\d{6}"))
    page.screenshot(path=str(SCREENSHOTS / "billing_invoices_phone.png"), full_page=True)
    until_new_page(page, first.click)
    expect(page.locator(".invoice-lines")).to_contain_text("Service charge")
    expect(page.locator("#void-open")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "billing_invoice_detail_phone.png"), full_page=True)
    until_new_page(page, admin_link(page, "nav-billing").click)
    until_new_page(page, page.locator("#tab-charges").click)
    expect(page.locator("#charge-list")).to_contain_text("Waste management")
    page.screenshot(path=str(SCREENSHOTS / "billing_charges_phone.png"), full_page=True)

    until_new_page(page, page.locator("#add-charge").click)
    page.fill("#name", "Water")
    page.fill("#amount", "1.500,00")  # the wrong way round for English
    until_new_page(page, page.locator("#save-charge").click)
    expect(page.locator("#amount-error")).to_have_text("Enter an amount such as 1,500.00.")
    page.fill("#amount", "2,500.50")
    until_new_page(page, page.locator("#save-charge").click)
    expect(page.locator("#charge-list")).to_contain_text("₦2,500.50")


def test_resident_reads_their_bill_in_spanish(new_page, live_server):
    page = new_page("phone", locale="es")
    page.goto("/login")
    choose_language(page, "es")
    sign_in(page, "resident@lasflores.test")
    until_new_page(page, page.locator("#home-bills").click)
    expect(page.locator("h1")).to_have_text("Mis facturas")
    card = page.locator(".bill-card").first
    expect(card).to_contain_text("Q850.00")
    expect(card).to_contain_text("Pendiente")
    expect(page.locator("#owed-summary")).to_contain_text("1 factura por pagar, Q850.00 en total.")
    page.screenshot(path=str(SCREENSHOTS / "billing_resident_list_es_phone.png"), full_page=True)

    until_new_page(page, card.click)
    expect(page.locator("h1")).to_have_text(re.compile(r"Factura LF-\d{4}-\d{6}"))
    expect(page.locator(".invoice-lines")).to_contain_text("Cuota de mantenimiento")
    expect(page.locator("#invoice-balance")).to_have_text("Q850.00")
    expect(page.locator("#pay-online")).to_be_enabled()
    expect(page.locator("#pay-online")).to_have_text("Pagar Q850.00")
