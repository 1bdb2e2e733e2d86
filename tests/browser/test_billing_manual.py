"""Manual payments in the browser, on a 390 px phone: the GreenPark admin bills unit A12 a
one-off charge at once; its resident reports "I paid by transfer" with a screenshot as
proof; the admin finds it in the "to confirm" queue and confirms it; the resident's bill
shows PAID. Then a Las Flores resident reports a transfer in Spanish (a bad amount first)."""

from __future__ import annotations

import io
import re
import secrets

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import (
    admin_link,
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 120), (20, 120, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_resident_reports_a_transfer_and_the_admin_confirms_it(new_page, live_server):
    reference = f"TRF-{secrets.token_hex(3).upper()}"
    admin = new_page("phone", locale="en")
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.goto("/login")
    sign_in(admin, "admin@greenpark.test")
    until_new_page(admin, admin_link(admin, "nav-billing").click)
    until_new_page(admin, admin.locator("#tab-charges").click)
    until_new_page(admin, admin.locator("#add-one-off").click)
    admin.fill("#unit_number", "A12")
    admin.fill("#description", "Gate remote")
    admin.fill("#amount", "7,500")  # ₦8,062.50 with GreenPark's 7.5 % tax
    admin.check("#invoice_now")
    until_new_page(admin, admin.locator("#save-unit-charge").click)
    number = re.search(r"GP-\d{4}-\d{6}", admin.locator("h1").inner_text()).group(0)

    resident = new_page("phone", locale="en")
    resident.goto("/login")
    sign_in(resident, "resident@greenpark.test")
    until_new_page(resident, resident.locator("#home-bills").click)
    until_new_page(resident, resident.locator(".bill-cards li", has_text=number).locator("a").click)
    expect(resident.locator("#invoice-balance")).to_have_text("₦8,062.50")
    until_new_page(resident, resident.locator("#report-transfer").click)
    expect(resident.locator("h1")).to_have_text("I paid by transfer")
    expect(resident.locator("#amount")).to_have_value("8,062.50")
    resident.fill("#reference", reference.lower())
    resident.set_input_files("#proof", files=[{"name": "transfer.png", "mimeType": "image/png", "buffer": _png()}])
    assert_no_horizontal_scroll(resident)
    _shot(resident, "manual_payment_report_phone.png")
    until_new_page(resident, resident.locator("#send-transfer").click)
    expect(resident.locator(".report-state")).to_have_text("Waiting for the estate office to confirm it.")
    expect(resident.locator("#transfer-reports")).to_contain_text(reference)
    _shot(resident, "manual_payment_waiting_phone.png")

    until_new_page(admin, admin_link(admin, "nav-billing").click)
    until_new_page(admin, admin.locator("#tab-payments").click)
    until_new_page(admin, admin.locator("#to-confirm-link").click)
    card = admin.locator(".queue-card", has_text=reference)
    expect(card).to_contain_text("₦8,062.50")
    expect(card).to_contain_text(number)
    expect(card.locator("a", has_text="Open the proof")).to_be_visible()
    assert_no_horizontal_scroll(admin)
    _shot(admin, "manual_payment_queue_phone.png")
    until_new_page(admin, card.locator("button", has_text="Confirm").click)
    expect(admin.locator(".queue-card", has_text=reference)).to_have_count(0)
    expect(admin.locator("main")).to_contain_text("₦8,062.50 was applied to 1 invoice.")
    until_new_page(admin, admin.locator("#tab-payments").click)
    expect(admin.locator("#payment-table")).to_contain_text(reference)
    assert_no_horizontal_scroll(admin)
    _shot(admin, "manual_payment_list_phone.png")
    until_new_page(admin, admin.locator("#payment-table tr", has_text=reference).locator("a.payment-link").click)
    expect(admin.locator("#payment-status")).to_have_text("Successful")
    expect(admin.locator("#allocations")).to_contain_text(number)
    expect(admin.locator("#proof-link")).to_be_visible()
    _shot(admin, "manual_payment_detail_phone.png")

    # Recording one by hand: a transfer without its reference is refused, and nothing is written.
    until_new_page(admin, admin.locator("#back-link").click)
    until_new_page(admin, admin.locator("#record-payment").click)
    admin.fill("#unit", "a12")
    until_new_page(admin, admin.locator("#unit-choose").click)
    expect(admin.locator("#invoice-choice")).to_be_visible()
    until_new_page(admin, admin.locator("#save-payment").click)
    expect(admin.locator("#reference-error")).to_have_text("Enter the reference of the transfer or the cheque number.")
    assert_no_horizontal_scroll(admin)
    _shot(admin, "manual_payment_record_error_phone.png")

    until_new_page(resident, lambda: resident.reload())
    expect(resident.locator("#invoice .badge-invoice-paid")).to_have_text("Paid")
    expect(resident.locator("#invoice-balance")).to_have_text("₦0.00")
    expect(resident.locator(".report-state")).to_contain_text("Confirmed on")
    expect(resident.locator("#report-transfer")).to_have_count(0)
    _shot(resident, "manual_payment_paid_phone.png")


def test_a_spanish_resident_reports_a_transfer_and_the_admin_rejects_it(new_page, live_server):
    reference = f"GT-{secrets.token_hex(3).upper()}"
    page = new_page("phone", locale="es")
    page.goto("/login")
    choose_language(page, "es")
    sign_in(page, "resident@lasflores.test")
    until_new_page(page, page.locator("#home-bills").click)
    until_new_page(page, page.locator(".bill-card-link").first.click)
    until_new_page(page, page.locator("#report-transfer").click)
    expect(page.locator("h1")).to_have_text("Pagué por transferencia")
    page.fill("#reference", reference)
    page.fill("#amount", "ochocientos")
    until_new_page(page, page.locator("#send-transfer").click)
    expect(page.locator("#amount-error")).to_have_text("Ingrese un monto como 1,500.00.")
    assert_no_horizontal_scroll(page)
    _shot(page, "manual_payment_error_es_phone.png")
    page.fill("#amount", "Q850.00")
    until_new_page(page, page.locator("#send-transfer").click)
    expect(page.locator(".report-state")).to_have_text("Esperando que la administración la confirme.")
    _shot(page, "manual_payment_waiting_es_phone.png")
    bill_url = page.url
    until_new_page(page, lambda: page.goto("/e/lasflores/home/bills/"))  # the list says which bill waits
    expect(page.locator(".bill-card .report-state").first).to_have_text(
        "Transferencia reportada: esperando que la administración la confirme.")
    assert_no_horizontal_scroll(page)
    _shot(page, "manual_payment_waiting_list_es_phone.png")
    until_new_page(page, lambda: page.goto(bill_url))

    admin = new_page("phone", locale="es")
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.goto("/login")
    choose_language(admin, "es")
    sign_in(admin, "admin@lasflores.test")
    until_new_page(admin, admin_link(admin, "nav-billing").click)
    until_new_page(admin, admin.locator("#tab-payments").click)
    until_new_page(admin, admin.locator("#to-confirm-link").click)
    until_new_page(admin, admin.locator(".queue-card", has_text=reference).locator("a", has_text="Revisar o rechazar")
                   .click)
    expect(admin.locator("h1")).to_have_text("Pago de Q850.00")
    admin.locator("#reject-open").click()
    until_new_page(admin, admin.locator("#reject-submit").click)  # no reason yet
    expect(admin.locator("#reason-error")).to_have_text("Indique por qué se rechaza (el residente lo leerá).")
    admin.fill("#reason", "No vemos la transferencia en la cuenta")
    assert_no_horizontal_scroll(admin)
    _shot(admin, "manual_payment_reject_es_phone.png")
    until_new_page(admin, admin.locator("#reject-submit").click)
    expect(admin.locator("main")).to_contain_text("El pago fue rechazado. Se le informa al residente el motivo.")

    until_new_page(page, lambda: page.reload())
    expect(page.locator(".report-state")).to_have_text("No confirmada: No vemos la transferencia en la cuenta")
    expect(page.locator("#invoice-balance")).to_have_text("Q850.00")
    _shot(page, "manual_payment_rejected_es_phone.png")
