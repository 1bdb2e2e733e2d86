"""The estate admin's visit log in a real browser, on a phone and on a desktop: open the
log from the admin nav, see today's numbers, search (HTMX swaps only the table), filter
by status, open a visit's detail with its gate events; revoke a fresh pass with the
confirmation; open the gate events log filtered to denials."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, insert_pass
from tests.browser.test_role_homes import (
    admin_link,
    assert_no_horizontal_scroll,
    sign_in,
    until_new_page,
    wait_until_settled,
)

pytestmark = pytest.mark.browser

ADMIN = "admin@greenpark.test"


@pytest.fixture
def db(browser_database_url):
    engine = sa.create_engine(browser_database_url)
    yield engine
    engine.dispose()


def _fresh_visit(db, name: str) -> tuple[int, str]:
    """A SINGLE_USE pass in greenpark for `name` (fresh data: the demo's stay as they are)."""
    return insert_pass(db, name)


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_an_admin_searches_the_visit_log_and_opens_a_visit(new_page, viewport):
    page = new_page(viewport)
    page.goto("/login")
    sign_in(page, ADMIN)
    expect(page.locator("#today-stats")).to_be_visible()  # the dashboard's numbers
    inside = page.locator("#stat-inside .stat-value").inner_text().strip()
    until_new_page(page, admin_link(page, "nav-visit-log").click)
    assert page.url.endswith("/e/greenpark/admin/visits/")
    expect(page.locator("h1")).to_have_text("Visits")
    expect(page.locator("#today-stats")).to_be_visible()
    assert_no_horizontal_scroll(page)
    _shot(page, f"admin_visit_log_{viewport}.png")

    # Active search: only the table is swapped, the URL follows.
    page.fill("#visit-q", "chinedu")
    expect(page.locator("#visit-count")).to_have_text("1 visit")
    expect(page.locator("#visit-table tbody tr")).to_have_count(1)
    expect(page.locator("#visit-table")).to_contain_text("DEMSNG22")
    assert "q=chinedu" in page.url
    page.fill("#visit-q", "")
    page.select_option("#visit-status", "INSIDE")
    expect(page.locator("#visit-count")).to_have_text(re.compile(rf"^{inside} visits?$"))
    assert "status=INSIDE" in page.url
    wait_until_settled(page)
    _shot(page, f"admin_visit_log_inside_{viewport}.png")

    until_new_page(page, page.locator("#visit-table a.visit-link").first.click)
    expect(page.locator(".gate-history")).to_contain_text("Main gate")
    expect(page.locator(".visit-events tbody tr").first).to_contain_text("Entry")
    assert_no_horizontal_scroll(page)
    _shot(page, f"admin_visit_detail_{viewport}.png")

    until_new_page(page, admin_link(page, "nav-gate-events").click)
    page.select_option("#event-type", "EXIT")
    expect(page.locator("#event-table tbody tr").first).to_contain_text("Exit")
    assert "type=EXIT" in page.url
    assert_no_horizontal_scroll(page)


def test_an_admin_revokes_a_fresh_pass_from_its_detail(new_page, db):
    visit_id, code = _fresh_visit(db, "Revocable Visitor")
    page = new_page("desktop")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/login")
    sign_in(page, ADMIN)
    page.goto(f"/e/greenpark/admin/visits/?status=ACTIVE&q={code}")  # (active search: tested above)
    expect(page.locator("#visit-count")).to_have_text("1 visit")
    until_new_page(page, page.locator("#visit-table a.visit-link").click)
    until_new_page(page, page.locator("#revoke-visit").click)
    expect(page.locator("main")).to_contain_text(f"Pass {code} was revoked.")
    expect(page.locator("#revoke-visit")).to_have_count(0)
    expect(page.locator(".pass-state")).to_have_attribute("data-state", "REVOKED")
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM visit WHERE id = :id"), {"id": visit_id}).scalar_one() \
            == "REVOKED"
