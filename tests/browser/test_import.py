"""An estate admin on a phone imports units from a CSV file: a file with one bad row
is previewed with that row named and why, cannot be confirmed and imports nothing;
the corrected file then imports."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import assert_no_horizontal_scroll, sign_in, until_new_page

pytestmark = pytest.mark.browser

HEADER = "number,block,floor,type,bedrooms,bathrooms,area_sqm,notes\n"


def choose_file(page: Page, content: str, name: str = "units.csv") -> None:
    page.set_input_files("input[name=file]", files=[
        {"name": name, "mimeType": "text/csv", "buffer": content.encode("utf-8")}])


def units_matching(page: Page, prefix: str) -> str:
    page.goto(f"/e/greenpark/admin/units/?q={prefix}")
    return page.locator("#unit-table").inner_text()


def test_a_csv_with_one_bad_row_imports_nothing_then_the_good_file_imports(new_page, live_server):
    prefix = "T" + uuid.uuid4().hex[:5].upper()  # new unit numbers on every run
    page = new_page("phone", locale="en")
    page.goto("/login")
    sign_in(page, "admin@greenpark.test")

    page.goto("/e/greenpark/admin/units/")
    until_new_page(page, page.locator("#import-units").click)
    expect(page).to_have_url(live_server + "/e/greenpark/admin/import/units")
    expect(page.locator("h1")).to_have_text("Import units")
    expect(page.locator("#download-template")).to_have_attribute("href", "/e/greenpark/admin/import/units/template.csv")

    bad = HEADER + f"{prefix}1,T,1,APARTMENT,2,1,60,\n{prefix}2,T,1,CASTLE,3,2,80,\n{prefix}3,T,2,HOUSE,4,3,120,\n"
    choose_file(page, bad)
    until_new_page(page, page.locator("#check-file").click)

    errors = page.locator("#preview-errors")
    expect(errors).to_contain_text("1 row has errors.")
    expect(errors).to_contain_text("Nothing was imported.")
    expect(errors).to_contain_text(
        "Row 3, column type: Unknown type “CASTLE”. Use one of: APARTMENT (Apartment), HOUSE (House), "
        "TERRACE (Terrace house), DUPLEX (Duplex), STUDIO (Studio), SHOP (Shop), OTHER (Other).")
    expect(page.locator("#row-3")).to_have_class(re.compile(r"\brow-bad\b"))
    expect(page.locator("#row-2")).not_to_have_class(re.compile(r"\brow-bad\b"))
    expect(page.locator("#confirm-import")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import_bad_row_phone.png"), full_page=True)

    checker = page.context.new_page()  # a second tab, to look at the units list meanwhile
    assert "No unit matches these filters." in units_matching(checker, prefix)

    good = bad.replace("CASTLE", "duplex")
    choose_file(page, good)
    until_new_page(page, page.locator("#check-file").click)
    expect(page.locator("#preview-ok")).to_have_text("All 3 rows are valid. Nothing has been imported yet.")
    assert "No unit matches these filters." in units_matching(checker, prefix)  # the preview wrote nothing
    checker.close()

    until_new_page(page, page.locator("#confirm-import").click)
    expect(page).to_have_url(live_server + "/e/greenpark/admin/units/")
    expect(page.locator("#messages")).to_contain_text("3 units were imported.")

    table = units_matching(page, prefix)
    assert "3 units" in table
    for n in (1, 2, 3):
        assert f"{prefix}{n}" in table
    assert "Duplex" in table
    assert_no_horizontal_scroll(page)
