"""A resident on a phone invites two visitors and opens the public pass: QR, code, window."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import assert_no_horizontal_scroll, sign_in, until_new_page

pytestmark = pytest.mark.browser


def test_a_resident_on_a_phone_invites_two_visitors_and_opens_the_pass(new_page):
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
