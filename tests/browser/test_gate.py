"""The guard's gate page in a real browser on a 10" tablet (1280×800): type a code →
ADMIT → record entry → inside-now lists the visit → record exit; an expired pass →
DENY with the reason, in English and in Spanish."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, insert_pass
from tests.browser.test_role_homes import (
    choose_language,
    sign_in,
    until_new_page,
    wait_until_settled,
)

pytestmark = pytest.mark.browser

TABLET = {"width": 1280, "height": 800}
SUPERVISOR = "supervisor@greenpark.test"


@pytest.fixture
def db(browser_database_url):
    engine = sa.create_engine(browser_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def free_supervisor_device(db):
    """The demo supervisor's gate device binding is free before and after (each browser
    context is a new device)."""
    reset = sa.text("UPDATE membership SET bound_device_id = NULL, bound_at = NULL "
                    "WHERE user_id = (SELECT id FROM user_account WHERE email = :email)")
    with db.begin() as conn:
        conn.execute(reset, {"email": SUPERVISOR})
    yield
    with db.begin() as conn:
        conn.execute(reset, {"email": SUPERVISOR})


def _visit(db, name: str, starts: timedelta, ends: timedelta) -> str:
    """A SINGLE_USE pass in greenpark for `name`, written to the live server's database; its code."""
    return insert_pass(db, name, starts=starts, ends=ends)[1]


def _type_code(page, code: str) -> None:
    typed = f"{code[:4].lower()} {code[4:]}"  # as a guard might type it
    wait_until_settled(page)  # the last answer's swap (it rewrites the code field) is over
    page.fill("#code", typed)
    expect(page.locator("#code")).to_have_value(typed)
    with page.expect_response(lambda r: r.url.endswith("/gate/check")):
        page.click("#check-code")


def test_a_guard_admits_a_visitor_sees_them_inside_and_lets_them_out(new_page, db, free_supervisor_device):
    code = _visit(db, "Tablet Visitor", timedelta(hours=-1), timedelta(hours=4))
    page = new_page(TABLET)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/login")
    sign_in(page, SUPERVISOR)
    page.goto("/e/greenpark/gate/")
    _type_code(page, code)
    verdict = page.locator("#verdict")
    expect(verdict).to_have_class("verdict verdict-admit")
    expect(verdict).to_contain_text("ADMIT")
    expect(verdict).to_contain_text("Tablet Visitor")
    expect(verdict).to_contain_text("A12")
    expect(verdict).to_contain_text("LAG777GH")
    box = verdict.bounding_box()
    assert box["width"] >= 600  # the answer fills the right-hand side of the tablet
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "gate_admit_tablet.png"))
    with page.expect_request(lambda r: r.url.endswith("/entry") and r.method == "POST") as entry:
        page.click("#record-entry")
    assert "client_event_id=" in (entry.value.post_data or "")  # a lost answer can't count twice
    expect(verdict).to_contain_text("ENTRY RECORDED")

    until_new_page(page, page.locator("#nav-inside").click)
    row = page.locator("tr", has_text="Tablet Visitor")
    expect(row).to_contain_text("A12")
    row.get_by_role("button", name="Record exit").click()
    expect(page.locator(".flash-success")).to_contain_text("Exit recorded for unit A12")
    expect(page.locator("tr", has_text="Tablet Visitor")).to_have_count(0)


def test_an_expired_pass_is_denied_with_the_reason_in_english_and_spanish(new_page, db, free_supervisor_device):
    code = _visit(db, "Late Visitor", timedelta(hours=-30), timedelta(hours=-20))
    page = new_page(TABLET)
    page.goto("/login")
    sign_in(page, SUPERVISOR)
    page.goto("/e/greenpark/gate/")
    _type_code(page, code)
    verdict = page.locator("#verdict")
    expect(verdict).to_have_class("verdict verdict-deny")
    expect(page.locator("#verdict-reason")).to_have_text("This pass has expired.")
    expect(page.locator("#record-entry")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "gate_deny_tablet.png"))

    choose_language(page, "es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    _type_code(page, code)
    expect(page.locator("#verdict-reason")).to_have_text("Este pase ya venció.")
    page.screenshot(path=str(SCREENSHOTS / "gate_deny_tablet_es.png"))
