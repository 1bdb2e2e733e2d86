"""Guard device binding, own sessions, members and audit pages in a real browser,
on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.test_role_homes import (
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser


def _accept_confirms(page):
    page.on("dialog", lambda dialog: dialog.accept())
    return page


@pytest.fixture
def clean_guard_binding(browser_database_url):
    """The demo guard's device binding is left as it was found (free)."""
    yield
    engine = sa.create_engine(browser_database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE membership SET bound_device_id = NULL, bound_at = NULL "
                             "WHERE user_id = (SELECT id FROM user_account WHERE email = 'guard@greenpark.test')"))
    engine.dispose()


def test_a_guard_account_works_on_one_device_until_an_admin_resets_it(new_page, live_server, clean_guard_binding):
    tablet = new_page("phone")
    tablet.goto("/login")
    sign_in(tablet, "guard@greenpark.test")
    expect(tablet).to_have_url(live_server + "/e/greenpark/gate/")
    tablet.wait_for_function("() => window.gatehouseGateDevice")
    device = tablet.evaluate("localStorage.getItem('gatehouse.gateDevice')")
    assert device and len(device) >= 16
    # The next gate request (an htmx search) carries the id and binds it.
    with tablet.expect_response(lambda r: "/gate/?q=" in r.url) as searched:
        tablet.fill("input[name=q]", "Tunde")
    assert searched.value.request.headers.get("x-gate-device") == device and searched.value.status == 200

    phone = new_page("phone")
    phone.goto("/login")
    sign_in(phone, "guard@greenpark.test")
    phone.wait_for_function("() => document.cookie.includes('gate_device=')")
    phone.reload()  # now with this phone's own device cookie
    expect(phone.locator("main")).to_contain_text("This guard account is assigned to a different device.")
    assert_no_horizontal_scroll(phone)

    admin = _accept_confirms(new_page("phone"))
    admin.goto("/login")
    sign_in(admin, "admin@greenpark.test")
    admin.goto("/e/greenpark/admin/members/?role=GUARD")
    row = admin.locator("tr", has_text="Sule Garba")
    expect(row).to_contain_text(f"Device {device[:8]} since")
    assert_no_horizontal_scroll(admin)
    until_new_page(admin, row.get_by_role("button", name="Reset device").click)
    expect(admin.locator(".flash-success")).to_contain_text("was reset")

    phone.reload()
    expect(phone.locator("h1")).to_have_text("Gate")
    tablet.reload()
    expect(tablet.locator("main")).to_contain_text("assigned to a different device")


def test_revoking_another_session_signs_that_browser_out(new_page, live_server):
    laptop = new_page("desktop")
    laptop.goto("/login")
    sign_in(laptop, "resident@lasflores.test")
    phone = _accept_confirms(new_page("phone"))
    phone.goto("/login")
    # The profile now speaks the estate's language (Las Flores: Spanish) like the estate's
    # pages do, unless the person chose one: this phone chooses English.
    choose_language(phone, "en")
    sign_in(phone, "resident@lasflores.test")
    phone.goto("/account/")
    assert_no_horizontal_scroll(phone)
    sessions = phone.locator("#sessions tbody tr")
    expect(sessions.filter(has_text="This device")).to_have_count(1)
    other = sessions.filter(has_not_text="This device").first
    until_new_page(phone, other.get_by_role("button", name="Revoke").click)
    expect(phone.locator(".flash-success")).to_contain_text("That session was signed out.")

    laptop.goto("/e/lasflores/home/")
    expect(laptop).to_have_url(re.compile(re.escape(live_server) + r"/login\?next="))


def test_members_search_and_audit_export_on_a_phone(new_page, live_server):
    page = new_page("phone")
    page.goto("/login")
    sign_in(page, "admin@greenpark.test")
    page.goto("/e/greenpark/admin/members/")
    assert_no_horizontal_scroll(page)
    with page.expect_response(lambda r: "/members/?q=" in r.url):
        page.fill("input[name=q]", "Tunde")
    expect(page.locator("#member-table tbody tr")).to_have_count(1)
    expect(page.locator("#member-table")).to_contain_text("Tunde Bakare")

    page.goto("/e/greenpark/admin/audit/")
    assert_no_horizontal_scroll(page)
    expect(page.locator("#audit-table tbody tr").first).to_be_visible()
    with page.expect_download() as download:
        page.click("#export-csv")
    assert re.fullmatch(r"audit-greenpark-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
