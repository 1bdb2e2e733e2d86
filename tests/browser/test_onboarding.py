"""A new resident joins from a phone, the admin approves it on a desktop, and the
resident signs in; and an admin approves two requests at once with checkboxes."""

from __future__ import annotations

import re
import urllib.parse
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import (
    admin_link,
    assert_no_horizontal_scroll,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser

NEW_PASSWORD = "joining-pass-9"  # noqa: S105 - a throwaway password for a test account


def _phone_number() -> str:
    return "0803" + str(uuid.uuid4().int)[:7]


def fill_join_form(page: Page, name: str, email: str, phone: str, unit: str = "B5") -> None:
    page.fill("input[name=full_name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=phone]", phone)
    page.select_option("select[name=unit_id]", label=unit)
    page.select_option("select[name=resident_type]", "TENANT")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    page.fill("input[name=emergency_contact_name]", "Next Of Kin")
    page.fill("input[name=emergency_contact_phone]", _phone_number())
    page.check("input[name=consent]")


def send_join_request(page: Page) -> None:
    until_new_page(page, page.locator("#send-request").click)
    expect(page.locator("h1")).to_have_text("Your request was sent")


def search_approvals(page: Page, text: str) -> None:
    """Type in the active search and wait for its answer to be swapped in."""
    wanted = "q=" + urllib.parse.quote_plus(text)
    with page.expect_response(lambda r: "/approvals/?" in r.url and wanted in r.url, timeout=15_000):
        page.fill("input[name=q]", text)


def admin_page(new_page) -> Page:
    page = new_page("desktop", locale="en")
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
    page.goto("/login")
    sign_in(page, "admin@greenpark.test")
    return page



def test_a_resident_joins_from_a_phone_is_approved_and_signs_in(new_page, live_server):
    tag = uuid.uuid4().hex[:6]
    name, email = f"Amaka Joiner {tag}", f"amaka.{tag}@example.test"

    phone = new_page("phone", locale="en")
    phone.goto("/e/greenpark/join")
    expect(phone.locator("h1")).to_have_text("Join GreenPark Estate")
    assert_no_horizontal_scroll(phone)
    fill_join_form(phone, name, email, _phone_number())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "join_page_phone.png"), full_page=True)
    send_join_request(phone)
    assert_no_horizontal_scroll(phone)

    # Waiting: signing in is refused with a clear message.
    phone.goto("/login")
    sign_in(phone, email, NEW_PASSWORD)
    expect(phone.get_by_role("alert")).to_contain_text("waiting for approval")

    admin = admin_page(new_page)
    expect(admin.locator(".admin-menu .badge-count:visible").first).to_be_visible()  # on the menu, grouped or not
    until_new_page(admin, admin_link(admin, "nav-approvals").click)
    expect(admin).to_have_url(live_server + "/e/greenpark/admin/approvals/")
    search_approvals(admin, tag)
    expect(admin.locator("#approval-table tbody tr")).to_have_count(1)
    until_new_page(admin, admin.locator("#approval-table tbody tr").get_by_role("link", name="Review").click)
    expect(admin.locator("h1")).to_have_text(f"Request of {name}")
    until_new_page(admin, admin.locator("#approve").click)
    expect(admin.locator("#messages")).to_contain_text(f"{name} was approved and can sign in now.")

    resident = new_page("phone", locale="en")
    resident.goto("/login")
    sign_in(resident, email, NEW_PASSWORD)
    expect(resident).to_have_url(live_server + "/e/greenpark/home/")
    expect(resident.locator("h1")).to_have_text(f"Hello, {name}")
    assert_no_horizontal_scroll(resident)


def test_an_admin_approves_two_requests_at_once(new_page, live_server):
    tag = uuid.uuid4().hex[:6]
    applicant = new_page("desktop", locale="en")
    for n in (1, 2):
        applicant.goto("/e/greenpark/join")
        fill_join_form(applicant, f"Bulk {tag} Person {n}", f"bulk{n}.{tag}@example.test", _phone_number(),
                       unit=f"C{n}")
        send_join_request(applicant)

    admin = admin_page(new_page)
    admin.goto(f"/e/greenpark/admin/approvals/?q=Bulk+{tag}")  # (the active search has its own test)
    rows = admin.locator("#approval-table tbody tr")
    expect(rows).to_have_count(2)
    admin.check("#select-all")
    expect(admin.locator("#approval-table input[name=ids]:checked")).to_have_count(2)
    until_new_page(admin, admin.locator("#bulk-approve").click)
    expect(admin.locator("#messages")).to_contain_text("2 requests were approved.")

    admin.goto(f"/e/greenpark/admin/approvals/?status=APPROVED&q=Bulk+{tag}")
    expect(admin.locator("#approval-table tbody tr")).to_have_count(2)
    expect(admin.locator("#approval-table .badge-approved")).to_have_count(2)
    assert re.search(r"\b2 requests\b", admin.locator("#approval-table .count").inner_text())


def test_a_resident_joins_las_flores_in_spanish_and_is_approved(new_page, live_server):
    """The same flow in Guatemala City, where everything is in Spanish."""
    from pathlib import Path

    from babel.support import Translations

    es = Translations.load(str(Path(__file__).resolve().parents[2] / "translations"), ["es"])
    tag = uuid.uuid4().hex[:6]
    name, email = f"Lucía Pérez {tag}", f"lucia.{tag}@example.test"

    phone = new_page("phone", locale="es-GT")
    phone.goto("/e/lasflores/join")
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    expect(phone.locator("h1")).to_have_text(es.gettext("Join %(estate)s") % {"estate": "Residencial Las Flores"})
    fill_join_form(phone, name, email, "5555" + str(uuid.uuid4().int)[:4], unit="Casa 13")
    until_new_page(phone, phone.locator("#send-request").click)
    expect(phone.locator("h1")).to_have_text(es.gettext("Your request was sent"))
    assert_no_horizontal_scroll(phone)

    admin = new_page("phone", locale="es-GT")
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.goto("/login")
    sign_in(admin, "admin@lasflores.test")
    until_new_page(admin, admin_link(admin, "nav-approvals").click)
    search_approvals(admin, tag)
    expect(admin.locator("#approval-table tbody tr")).to_have_count(1)
    until_new_page(admin, admin.locator("#approval-table tbody tr a").first.click)
    until_new_page(admin, admin.locator("#approve").click)
    expect(admin.locator("#messages")).to_contain_text(
        es.gettext("%(name)s was approved and can sign in now.") % {"name": name})
    assert_no_horizontal_scroll(admin)

    resident = new_page("phone", locale="es-GT")
    resident.goto("/login")
    sign_in(resident, email, NEW_PASSWORD)
    expect(resident).to_have_url(live_server + "/e/lasflores/home/")
    expect(resident.locator("h1")).to_have_text(f"Hola, {name}")
