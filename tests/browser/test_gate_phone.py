"""The gate on a phone (390×844), as guards really use it: after Check the verdict is on
the screen and has the focus, and "Record entry" can be tapped where it is, without
scrolling; the typed code stays; a code of the wrong shape gets a hint next to the
field; "Inside now" and "Active passes" are cards with their buttons on the screen."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SCREENSHOTS, insert_pass
from tests.browser.test_role_homes import (
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser

GUARD = "guard@greenpark.test"
SUPERVISOR = "supervisor@greenpark.test"


@pytest.fixture
def db(browser_database_url):
    engine = sa.create_engine(browser_database_url)
    yield engine
    engine.dispose()


def _gate(new_page, email: str = GUARD):
    page = new_page("phone")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/login")
    sign_in(page, email)
    page.goto("/e/greenpark/gate/")
    choose_language(page, "en")  # another test may have left the account in Spanish
    return page


def _check(page, typed: str) -> None:
    page.fill("#code", typed)
    with page.expect_response(lambda r: r.url.endswith("/gate/check")):
        page.click("#check-code")


def _in_viewport(box: dict, height: int = PHONE["height"], width: int = PHONE["width"]) -> bool:
    return box["y"] >= 0 and box["y"] + box["height"] <= height and box["x"] >= 0 and box["x"] + box["width"] <= width


def test_after_check_the_verdict_takes_the_phone_screen_and_record_entry_is_tappable_without_scrolling(new_page, db):
    _, code = insert_pass(db, "Phone Gate Visitor", plate="KJA555PH")
    page = _gate(new_page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "gate_phone_before_check.png"))
    placeholder = page.locator("#code").get_attribute("placeholder")
    assert placeholder == "8 letters or digits"  # a hint, not something that reads as a typed code

    typed = f"{code[:4].lower()} {code[4:]}"
    _check(page, typed)
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("ADMIT")
    expect(verdict).to_contain_text("Phone Gate Visitor")
    expect(verdict).to_be_focused()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'verdict'")
    box = verdict.bounding_box()
    # The verdict starts on the screen (it was ~250 px below the fold before).
    assert 0 <= box["y"] < 200, box
    button = page.locator("#record-entry")
    button_box = button.bounding_box()
    assert _in_viewport(button_box), button_box
    centre = (button_box["x"] + button_box["width"] / 2, button_box["y"] + button_box["height"] / 2)
    # Nothing covers it: the element at the button's centre is the button.
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).id", list(centre)) == "record-entry"
    expect(page.locator("#code")).to_have_value(typed)  # the typed code stays, a typo can be seen
    page.screenshot(path=str(SCREENSHOTS / "gate_phone_after_check.png"))

    scroll_before = page.evaluate("window.scrollY")
    with page.expect_response(lambda r: r.url.endswith("/entry")):
        page.touchscreen.tap(*centre)  # a tap where the button is, no scrolling first
    expect(verdict).to_contain_text("ENTRY RECORDED")
    assert page.evaluate("window.scrollY") >= scroll_before - 1
    expect(page.locator("#verdict")).to_be_in_viewport()
    page.screenshot(path=str(SCREENSHOTS / "gate_phone_entry_recorded.png"))


def test_a_code_of_the_wrong_shape_gets_a_hint_next_to_the_field_and_a_missing_code_repeats_what_was_typed(new_page):
    page = _gate(new_page)
    _check(page, "ab12")
    hint = page.locator("#code-hint")
    expect(hint).to_have_text("A visitor code has 8 characters; “AB12” has 4. Check it on the visitor's pass.")
    expect(hint).to_be_in_viewport()
    expect(page.locator("#code")).to_be_focused()
    expect(page.locator("#verdict")).to_have_count(0)  # not "no pass matches"
    page.screenshot(path=str(SCREENSHOTS / "gate_phone_code_hint.png"))

    _check(page, "ZZZZ-2222")  # well formed, but nobody's
    expect(hint).to_be_hidden()
    expect(page.locator("#verdict-reason")).to_have_text("No pass matches this code.")
    expect(page.locator("#verdict-code")).to_have_text("Code typed: ZZZZ2222")
    expect(page.locator("#verdict")).to_be_in_viewport()

    choose_language(page, "es")
    _check(page, "abc#defg")
    expect(page.locator("#code-hint")).to_contain_text("solo letras y números")
    choose_language(page, "en")


def test_inside_now_and_active_passes_are_cards_on_a_phone_with_their_buttons_on_screen(new_page, db):
    visit_id, _ = insert_pass(db, "Card Layout Visitor", entries_used=1)
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE visit SET people_inside = true, entries_used = 1, max_entries = 2 WHERE id = :id"),
                     {"id": visit_id})
    page = _gate(new_page, SUPERVISOR)
    until_new_page(page, page.locator("#nav-inside").click)
    row = page.locator(f"#inside-{visit_id}")
    expect(row).to_contain_text("Card Layout Visitor")
    row.scroll_into_view_if_needed()
    exit_box = row.get_by_role("button", name="Record exit").bounding_box()
    assert exit_box["x"] >= 0 and exit_box["x"] + exit_box["width"] <= PHONE["width"], exit_box
    assert_no_horizontal_scroll(page)
    head = page.locator(".inside-table thead").bounding_box()
    assert head["height"] <= 1 and head["width"] <= 1, head  # a card per visit, labelled fields instead
    assert row.locator("td").first.evaluate("td => getComputedStyle(td, '::before').content") == '"Visitors"'
    page.screenshot(path=str(SCREENSHOTS / "gate_phone_inside_cards.png"), full_page=True)

    page.goto(f"/e/greenpark/gate/passes/?q={'Card Layout Visitor'.replace(' ', '+')}")
    card = page.locator(f"#pass-{visit_id}")
    expect(card).to_contain_text("Card Layout Visitor")
    revoke = card.get_by_role("button", name="Revoke")
    revoke_box = revoke.bounding_box()
    assert revoke_box["x"] >= 0 and revoke_box["x"] + revoke_box["width"] <= PHONE["width"], revoke_box
    assert_no_horizontal_scroll(page)
    # Destructive, and it looks it: the danger colour, not the link blue.
    assert "danger" in (revoke.get_attribute("class") or "")
    colour = revoke.evaluate("el => getComputedStyle(el).color")
    assert colour == "rgb(198, 40, 40)", colour
    page.screenshot(path=str(SCREENSHOTS / "gate_phone_passes_cards.png"), full_page=True)
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE visit SET people_inside = false WHERE id = :id"), {"id": visit_id})


def test_a_guard_on_another_phone_asks_for_it_and_the_admin_approves_in_one_tap(new_page, db):
    with db.begin() as conn:  # the guard's account is bound to a tablet somewhere else
        conn.execute(sa.text("UPDATE membership SET bound_device_id = 'old-tablet-0123456789', bound_at = now(), "
                             "device_change_requested_at = NULL WHERE role = 'GUARD' AND user_id = "
                             "(SELECT id FROM user_account WHERE email = :email)")
                     if db.dialect.name == "postgresql" else
                     sa.text("UPDATE membership SET bound_device_id = 'old-tablet-0123456789', "
                             "bound_at = CURRENT_TIMESTAMP, device_change_requested_at = NULL WHERE role = 'GUARD' "
                             "AND user_id = (SELECT id FROM user_account WHERE email = :email)"), {"email": GUARD})
    page = new_page("phone")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/login")
    sign_in(page, GUARD)
    page.goto("/e/greenpark/gate/")
    expect(page.locator("h1")).to_have_text("Another device")
    expect(page.locator("#device-sign-out")).to_be_visible()
    expect(page.locator("#device-contacts")).to_contain_text("Estate admin")
    until_new_page(page, page.locator("#device-change-request").click)
    expect(page.locator("#device-change-pending")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(SCREENSHOTS / "gate_phone_device_change_pending.png"), full_page=True)

    admin = new_page("desktop")
    admin.goto("/login")
    sign_in(admin, "admin@greenpark.test")
    request = admin.locator("#device-requests")
    expect(request).to_contain_text("Sule Garba")
    until_new_page(admin, request.get_by_role("button", name="Approve").click)  # one tap, no dialog
    expect(admin.locator(".flash-success")).to_contain_text("Device change approved")
    expect(admin.locator("#device-requests")).to_have_count(0)

    until_new_page(page, page.locator("#device-check-again").click)
    expect(page.locator("h1")).to_have_text("Gate")
    expect(page.locator("#code")).to_be_visible()
