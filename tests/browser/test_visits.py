"""A resident on a phone invites two visitors and opens the public pass (QR, code,
window); the guard on a tablet types the code → ADMIT → records the entry → inside-now
lists them → records the exit."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_gate import SUPERVISOR, TABLET, _type_code, db, free_supervisor_device  # noqa: F401 - fixtures
from tests.browser.test_role_homes import (
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser


def test_a_resident_invites_two_visitors_and_the_guard_admits_them_and_lets_them_out(
        new_page, free_supervisor_device):  # noqa: F811
    page = new_page("phone")
    page.goto("/login")
    sign_in(page, "resident@greenpark.test")
    until_new_page(page, page.locator("#home-invite").click)
    page.fill("#guests-0-full_name", "Phone Visitor One")
    page.fill("#guests-0-phone", "0803 555 0101")
    until_new_page(page, page.locator("#add-guest").click)
    page.fill("#guests-1-full_name", "Phone Visitor Two")
    page.fill("#guests-1-phone", "0803 555 0102")
    page.fill("#guests-1-plate", "lnd 42 xy")
    assert_no_horizontal_scroll(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "visit_form_phone.png"), full_page=True)
    until_new_page(page, page.locator("#create-visit").click)
    expect(page.locator(".flash-success")).to_contain_text("Your pass is ready")
    expect(page.locator("h1")).to_contain_text("Phone Visitor One, Phone Visitor Two")
    code = page.locator(".pass-code").inner_text().strip()
    assert len(code) == 8
    expect(page.locator(".share-whatsapp")).to_have_attribute("href", __import__("re").compile(r"^https://wa\.me/\?text="))
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(SCREENSHOTS / "visit_detail_phone.png"), full_page=True)

    public = new_page("phone")  # the visitor: no login
    public.goto(page.locator("#pass-link").input_value())
    expect(public.locator("#pass-code")).to_have_text(code)
    expect(public.locator(".pass-qr svg")).to_be_visible()
    expect(public.locator(".public-pass")).to_contain_text("Phone Visitor One, Phone Visitor Two")
    assert_no_horizontal_scroll(public)

    # At the gate: the guard on a tablet types the code from the pass.
    gate = new_page(TABLET)
    gate.on("dialog", lambda dialog: dialog.accept())
    gate.goto("/login")
    sign_in(gate, SUPERVISOR)
    gate.goto("/e/greenpark/gate/")
    choose_language(gate, "en")  # another test may have left the supervisor in Spanish
    _type_code(gate, code.lower())
    verdict = gate.locator("#verdict")
    expect(verdict).to_have_class("verdict verdict-admit")
    expect(verdict).to_contain_text("Phone Visitor One")
    expect(verdict).to_contain_text("Phone Visitor Two")
    expect(verdict).to_contain_text("LND42XY")
    gate.click("#record-entry")
    expect(verdict).to_contain_text("ENTRY RECORDED")

    until_new_page(gate, gate.locator("#nav-inside").click)
    row = gate.locator("tr", has_text="Phone Visitor One")
    expect(row).to_contain_text("A12")
    expect(row).to_contain_text("Tunde Bakare")
    gate.screenshot(path=str(SCREENSHOTS / "inside_now_after_invite_tablet.png"))
    row.get_by_role("button", name="Record exit").click()
    expect(gate.locator(".flash-success")).to_contain_text("Exit recorded for unit A12")
    expect(gate.locator("tr", has_text="Phone Visitor One")).to_have_count(0)

    # The resident sees the visit's history: in, then out.
    page.reload()
    expect(page.locator("main")).to_contain_text("Entered · Main gate")
    expect(page.locator("main")).to_contain_text("Left · Main gate")
    expect(page.locator("main")).to_contain_text("Entries used: 1 of 1")
