"""The message-provider pages in a real browser, on a phone (390x844) in Spanish: an
enterprise admin adds the platform's SMTP server (a bad port first: a Spanish message
next to the field), sees it in the list with its password masked, looks at the status
page, sends a test message (no worker runs here: the page shows it waiting and keeps
asking), and deletes the server after confirming; the estate admin of Las Flores sees that the
estate uses the platform's providers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import (
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser

PASSWORD = "smtp-browser-secret-7788"  # noqa: S105 - a throwaway value typed into the form


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_an_enterprise_admin_manages_the_platforms_smtp_server_on_a_phone_in_spanish(new_page):
    page = new_page("phone", locale="es")
    page.goto("/login")
    choose_language(page, "es")
    sign_in(page, "enterprise@demo.test")
    page.goto("/enterprise/integrations/")
    expect(page.locator("h1")).to_have_text("Proveedores de mensajes")
    expect(page.locator("#channel-EMAIL h2")).to_have_text("Correo electrónico")
    assert_no_horizontal_scroll(page)

    until_new_page(page, page.locator("#add-EMAIL button").click)
    expect(page.locator("h1")).to_have_text("Añadir un proveedor: Servidor SMTP")
    page.fill("#name", "Correo principal")
    page.fill("#host", "smtp.gatehouse.example")
    page.fill("#port", "70000")
    page.fill("#username", "gate")
    page.fill("#password", PASSWORD)
    page.fill("#from_address", "Gatehouse <no-reply@gatehouse.example>")
    until_new_page(page, page.locator("#save-provider").click)
    expect(page.locator("#port-error")).to_have_text("Escriba un número entero del 1 al 65535.")
    expect(page.locator("#port")).to_have_attribute("aria-invalid", "true")
    assert PASSWORD not in page.content()  # a password input never comes back filled
    assert_no_horizontal_scroll(page)
    _shot(page, "integrations_form_error_phone_es.png")

    page.fill("#port", "587")
    page.fill("#password", PASSWORD)
    until_new_page(page, page.locator("#save-provider").click)
    expect(page.locator(".flash-success")).to_contain_text("Correo principal se añadió")
    card = page.locator("#channel-EMAIL li.provider").first
    expect(card.locator(".provider-title")).to_have_text("Correo principal")
    expect(card).to_contain_text("••••7788")
    expect(card).to_contain_text("smtp.gatehouse.example")
    assert PASSWORD not in page.content()
    assert_no_horizontal_scroll(page)
    _shot(page, "integrations_settings_phone_es.png")

    until_new_page(page, page.locator("#tab-status").click)
    expect(page.locator(".status-list")).to_contain_text("Correo principal")
    expect(page.locator(".status-list")).to_contain_text("Enviar un mensaje de prueba")
    _shot(page, "integrations_status_phone_es.png")

    # A test message: to the admin's own address by default; no worker runs here, so it waits
    # (and the page keeps asking).
    until_new_page(page, page.locator(".status-list a", has_text="Enviar un mensaje de prueba").click)
    expect(page.locator("#recipient")).to_have_value("enterprise@demo.test")
    until_new_page(page, page.locator("#send-test").click)
    expect(page.locator("#test-outcome")).to_have_attribute("data-status", "QUEUED")
    expect(page.locator("#test-status")).to_contain_text("Esperando al worker")
    expect(page.locator("#test-outcome")).to_have_attribute("hx-trigger", "every 2s")
    assert_no_horizontal_scroll(page)
    _shot(page, "integrations_test_message_phone_es.png")

    # Las Flores has none of its own: its admin sees the platform's server named.
    other = new_page("phone", locale="es")
    other.goto("/login")
    choose_language(other, "es")
    sign_in(other, "admin@lasflores.test")
    other.goto("/e/lasflores/admin/integrations/")
    expect(other.locator("#channel-EMAIL .using-platform")).to_contain_text(
        "Se usan los proveedores de la plataforma: Correo principal")
    assert PASSWORD not in other.content() and "7788" not in other.content()
    assert_no_horizontal_scroll(other)
    _shot(other, "integrations_estate_phone_es.png")

    # Deleting asks first (so other browser tests keep the DEV outbox for email).
    page.goto("/enterprise/integrations/")
    page.once("dialog", lambda dialog: dialog.accept())
    until_new_page(page, page.locator("#channel-EMAIL li.provider button", has_text="Eliminar").click)
    expect(page.locator(".flash-success")).to_contain_text("Correo principal se eliminó")
    expect(page.locator("#channel-EMAIL li.provider")).to_have_count(0)
