"""Approvals (issue 13, item 5): a request's "Review" link opens the request at once — it
is not inside the bulk form and asks nothing — while the bulk buttons still ask first."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_onboarding import _phone_number, fill_join_form, send_join_request
from tests.browser.test_role_homes import sign_in, until_new_page

pytestmark = pytest.mark.browser


def test_review_opens_the_request_without_the_bulk_confirmation_and_bulk_still_asks(new_page, live_server):
    tag = uuid.uuid4().hex[:6]
    name = f"Review {tag} Person"
    applicant = new_page("desktop", locale="en")
    applicant.goto("/e/greenpark/join")
    fill_join_form(applicant, name, f"review.{tag}@example.test", _phone_number(), unit="C3")
    send_join_request(applicant)

    admin = new_page("desktop", locale="en")
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()  # "Cancel": before the fix this made the Review link dead

    admin.on("dialog", on_dialog)
    admin.goto("/login")
    sign_in(admin, "admin@greenpark.test")
    admin.goto(f"/e/greenpark/admin/approvals/?q=Review+{tag}")
    row = admin.locator("#approval-table tbody tr")
    expect(row).to_have_count(1)
    review = row.get_by_role("link", name="Review")
    assert review.evaluate("a => a.closest('form') === null")  # not inside any form
    until_new_page(admin, review.click)
    expect(admin.locator("h1")).to_have_text(f"Request of {name}")
    assert dialogs == []

    admin.go_back()
    expect(admin.locator("#approval-table tbody tr")).to_have_count(1)
    admin.locator("#approval-table input[name=ids]").check()
    admin.locator("#bulk-approve").click()
    for _ in range(50):  # the confirmation is asked before anything is sent
        if dialogs:
            break
        admin.wait_for_timeout(100)
    assert dialogs == ["Apply this decision to every selected request? The applicants will be told."]
    expect(admin.locator("#approval-table tbody tr")).to_have_count(1)  # cancelled: still pending
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    admin.screenshot(path=str(SCREENSHOTS / "approvals_review_link.png"))

    admin.remove_listener("dialog", on_dialog)
    admin.on("dialog", lambda dialog: dialog.accept())
    until_new_page(admin, admin.locator("#bulk-approve").click)
    expect(admin.locator("#messages")).to_contain_text("1 request was approved.")
