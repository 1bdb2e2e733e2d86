"""Issue 13, admin side, in a real browser: the grouped admin menu on a phone (Spanish)
and a desktop, the audit log as sentences, the enterprise's "Add an estate" suggestions,
sign out everywhere with its confirmation, and the small things (focus ring, tap sizes,
copy link)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import admin_link, choose_language, sign_in, until_new_page

pytestmark = pytest.mark.browser

ADMIN = "admin@greenpark.test"


def _shot(page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def test_the_admin_menu_on_a_phone_in_spanish(new_page):
    page = new_page("phone", locale="es")
    page.goto("/login")
    sign_in(page, ADMIN)
    choose_language(page, "es")
    until_new_page(page, lambda: page.goto("/e/greenpark/admin/residents/"))
    h1 = page.locator("main h1").first
    expect(h1).to_have_text("Residentes")
    # The title starts within the first 150 px: the menu is one closed line.
    assert h1.bounding_box()["y"] < 150, h1.bounding_box()
    _shot(page, "admin_menu_phone_es_closed.png")
    summary = page.locator("#admin-menu > summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Residentes")  # the current page, named in the closed menu
    assert summary.bounding_box()["height"] >= 44
    expect(page.locator("#nav-units")).to_be_hidden()
    _shot(page, "admin_menu_phone_es_closed.png")

    summary.click()
    for group in ("Personas", "Portería", "Residencial"):
        expect(page.locator(".menu-group > details > summary", has_text=group)).to_be_visible()
    current = page.locator("#nav-residents")
    expect(current).to_have_attribute("aria-current", "page")
    expect(page.locator("#nav-units")).to_be_visible()  # every group is open on a phone
    for link in page.locator(".admin-menu a").all():
        assert link.bounding_box()["height"] >= 44, link.inner_text()
    _shot(page, "admin_menu_phone_es_open.png")

    until_new_page(page, page.locator("#nav-audit").click)
    expect(page.locator("main h1").first).to_have_text("Bitácora de auditoría")
    expect(page.locator("#admin-menu > summary")).to_contain_text("Bitácora de auditoría")
    expect(page.locator("#nav-units")).to_be_hidden()  # closed again after navigating


def test_the_admin_menu_on_a_desktop(new_page):
    page = new_page("desktop")
    page.goto("/login")
    sign_in(page, ADMIN)
    expect(page.locator("#admin-menu > summary")).to_be_hidden()
    nav = page.locator(".admin-menu")
    assert nav.bounding_box()["height"] < 70, nav.bounding_box()  # one row
    expect(page.locator("#nav-dashboard")).to_have_attribute("aria-current", "page")
    expect(page.locator("#nav-members")).to_be_hidden()
    page.locator("#menu-group-people > summary").click()
    expect(page.locator("#nav-members")).to_be_visible()
    _shot(page, "admin_menu_desktop_open.png")
    page.keyboard.press("Escape")
    expect(page.locator("#nav-members")).to_be_hidden()
    until_new_page(page, admin_link(page, "nav-gate-events").click)
    expect(page.locator("#menu-group-gate > summary")).to_have_class("current")
    _shot(page, "admin_menu_desktop_gate_events.png")


def test_add_an_estate_suggests_the_address_and_the_countrys_settings(new_page):
    page = new_page("desktop")
    page.goto("/login")
    sign_in(page, "enterprise@demo.test")
    until_new_page(page, lambda: page.goto("/enterprise/estates/new"))
    page.fill("[name=name]", "Residencial Los Álamos")
    expect(page.locator("[name=slug]")).to_have_value("residencial-los-alamos")
    expect(page.locator("#slug-preview")).to_have_text("/e/residencial-los-alamos/")
    page.select_option("[name=country]", "GH")
    expect(page.locator("[name=timezone]")).to_have_value("Africa/Accra")
    expect(page.locator("[name=currency]")).to_have_value("GHS")
    expect(page.locator("[name=default_language]")).to_have_value("en")
    page.select_option("[name=country]", "GT")
    expect(page.locator("[name=timezone]")).to_have_value("America/Guatemala")
    expect(page.locator("[name=currency]")).to_have_value("GTQ")
    expect(page.locator("[name=default_language]")).to_have_value("es")
    page.fill("[name=slug]", "alamos")  # typed by hand: the name no longer changes it
    page.fill("[name=name]", "Los Álamos")
    expect(page.locator("[name=slug]")).to_have_value("alamos")
    _shot(page, "enterprise_add_estate.png", full_page=True)
