"""A resident on a phone makes a recurring pass (issue 13, item 9): choosing "Recurring"
shows a last day three months ahead (not today), saving keeps it; a window that holds
none of the chosen weekdays is refused next to the last day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel import dates
from playwright.sync_api import expect

from portal.web.forms import months_later
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import assert_no_horizontal_scroll, sign_in, until_new_page

pytestmark = pytest.mark.browser

LAGOS = ZoneInfo("Africa/Lagos")  # GreenPark's time zone in the demo


def test_a_recurring_pass_defaults_to_three_months_and_refuses_a_window_without_its_days(new_page):
    today = datetime.now(LAGOS).date()
    page = new_page("phone")
    page.goto("/login")
    sign_in(page, "resident@greenpark.test")
    page.goto("/e/greenpark/home/visits/new")
    expect(page.locator("#last_day")).to_be_hidden()  # a one-off visit has no "last day"
    page.select_option("#pass_type", "RECURRING")
    expect(page.locator("#last_day")).to_be_visible()
    expect(page.locator("#last_day")).to_have_value(months_later(today, 3).isoformat())
    expect(page.locator("#end_date")).to_be_hidden()
    page.fill("#guests-0-full_name", "Recurring Cleaner")
    page.fill("#guests-0-phone", "0803 555 0177")
    tomorrow = today + timedelta(days=1)
    other = str(tomorrow.isoweekday() % 7 + 1)  # a weekday that is not tomorrow's
    page.fill("#start_date", tomorrow.isoformat())
    page.fill("#last_day", tomorrow.isoformat())
    page.check(f"input[name=weekdays][value='{other}']")
    assert_no_horizontal_scroll(page)
    until_new_page(page, page.locator("#create-visit").click)
    error = page.locator("#last_day-error")
    expect(error).to_have_text("None of the chosen days of the week falls between the first and the last day. "
                               "Choose a later last day or other days.")
    expect(page.locator("#last_day")).to_have_attribute("aria-invalid", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "recurring_pass_refused_phone.png"), full_page=True)

    page.fill("#last_day", months_later(tomorrow, 3).isoformat())
    until_new_page(page, page.locator("#create-visit").click)
    expect(page.locator(".flash-success")).to_contain_text("Your pass is ready")
    expect(page.locator("main")).to_contain_text("Recurring Cleaner")
    last = months_later(tomorrow, 3)
    first_shown, last_shown = (dates.format_date(d, "medium", locale="en_NG") for d in (tomorrow, last))
    expect(page.locator("main")).to_contain_text(f"From {first_shown} until {last_shown}")
    page.screenshot(path=str(SCREENSHOTS / "recurring_pass_saved_phone.png"), full_page=True)
