"""Walk-ins end to end: the guard on a tablet asks unit A12 about a visitor; the
resident of A12 on a phone sees the request appear on their home page and approves;
the guard's screen turns to APPROVED by itself (no reload) and one tap records the
entry: ADMIT."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_gate import SUPERVISOR, TABLET
from tests.browser.test_gate import db as db  # noqa: F401 - fixtures
from tests.browser.test_gate import free_supervisor_device as free_supervisor_device  # noqa: F401
from tests.browser.test_role_homes import (
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    wait_until_settled,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RESIDENT = "resident@greenpark.test"  # Tunde Bakare, unit A12


def test_a_walk_in_is_approved_on_the_phone_and_admitted_at_the_gate(new_page, free_supervisor_device):
    visitor = f"Walk-in {secrets.token_hex(3).upper()}"
    phone = "+23480" + "".join(secrets.choice("0123456789") for _ in range(8))

    gate = new_page(TABLET)
    gate.on("dialog", lambda dialog: dialog.accept())
    gate.goto("/login")
    sign_in(gate, SUPERVISOR)
    choose_language(gate, "en")  # other tests may leave the demo accounts in Spanish
    gate.goto("/e/greenpark/gate/")
    wait_until_settled(gate)
    gate.evaluate("window.__sameDocument = true")  # gone if the page reloads
    gate.click("#walkin-button")
    form = gate.locator("#walkin-form")
    form.locator("[name=visitor_name]").fill(visitor)
    form.locator("[name=unit_number]").fill("a12")
    form.locator("[name=people_count]").fill("2")
    form.locator("[name=phone]").fill(phone)
    form.locator("[name=plate]").fill("lag 42 kj")
    form.locator("[name=purpose]").fill("Delivering a sofa")
    with gate.expect_response(lambda r: r.url.endswith("/gate/walk-ins/") and r.request.method == "POST"):
        gate.click("#walkin-send")
    row = gate.locator("article.walkin", has_text=visitor)
    expect(row).to_have_attribute("data-status", "PENDING")
    expect(row).to_contain_text("Waiting for unit A12 to answer")
    expect(row).to_contain_text("LAG42KJ")
    expect(gate.locator("#walkin-details")).not_to_have_attribute("open", "")  # the form folds away
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    gate.screenshot(path=str(SCREENSHOTS / "walkin_gate_pending_tablet.png"))

    home = new_page("phone")
    home.goto("/login")
    sign_in(home, RESIDENT)
    choose_language(home, "en")
    home.goto("/e/greenpark/home/")
    card = home.locator("article.walkin-request", has_text=visitor)
    expect(card).to_be_visible()
    for text in (phone, "LAG42KJ", "Delivering a sofa", "2"):
        expect(card).to_contain_text(text)
    assert_no_horizontal_scroll(home)
    home.screenshot(path=str(SCREENSHOTS / "walkin_resident_request_phone.png"), full_page=True)
    card.get_by_role("button", name="Approve").click()
    expect(card).to_have_attribute("data-status", "APPROVED")
    expect(home.locator(".flash-success")).to_contain_text(f"You let {visitor} in")
    assert_no_horizontal_scroll(home)
    home.screenshot(path=str(SCREENSHOTS / "walkin_resident_approved_phone.png"), full_page=True)

    expect(row).to_have_attribute("data-status", "APPROVED")  # by itself: the pending row polls
    expect(row).to_contain_text("Approved by Tunde Bakare")
    entry = row.locator(".walkin-entry")
    expect(entry).to_be_visible()
    gate.screenshot(path=str(SCREENSHOTS / "walkin_gate_approved_tablet.png"))
    entry.click()
    verdict = gate.locator("#verdict")
    expect(verdict).to_have_class("verdict verdict-admit")
    expect(verdict).to_be_in_viewport()
    expect(verdict).to_contain_text("ENTRY RECORDED")
    expect(verdict).to_contain_text(visitor)
    expect(verdict).to_contain_text("A12")
    expect(row).to_contain_text("Entered.")
    assert gate.evaluate("window.__sameDocument === true")
    gate.screenshot(path=str(SCREENSHOTS / "walkin_gate_admitted_tablet.png"))


def test_a_declined_walk_in_shows_the_reason_at_the_gate_on_a_phone(new_page, free_supervisor_device):
    visitor = f"Walk-in {secrets.token_hex(3).upper()}"
    gate = new_page("phone")
    gate.goto("/login")
    sign_in(gate, SUPERVISOR)
    choose_language(gate, "en")  # other tests may leave the demo accounts in Spanish
    gate.goto("/e/greenpark/gate/")
    wait_until_settled(gate)
    gate.click("#walkin-button")
    gate.locator("#walkin-form [name=visitor_name]").fill(visitor)
    gate.locator("#walkin-form [name=unit_number]").fill("A12")
    gate.click("#walkin-send")
    row = gate.locator("article.walkin", has_text=visitor)
    expect(row).to_have_attribute("data-status", "PENDING")
    assert_no_horizontal_scroll(gate)

    home = new_page("phone")
    home.goto("/login")
    sign_in(home, RESIDENT)
    choose_language(home, "en")
    home.goto("/e/greenpark/home/")
    card = home.locator("article.walkin-request", has_text=visitor)
    card.locator("summary", has_text="Decline").click()
    card.locator("input[name=reason]").fill("Not expecting anyone")
    card.get_by_role("button", name="Decline the visitor").click()
    expect(card).to_have_attribute("data-status", "DECLINED")

    expect(row).to_have_attribute("data-status", "DECLINED")
    expect(row).to_contain_text("Reason: Not expecting anyone")
    gate.screenshot(path=str(SCREENSHOTS / "walkin_gate_declined_phone.png"), full_page=True)
