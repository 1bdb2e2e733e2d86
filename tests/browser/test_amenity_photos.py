"""An admin adds a photo of the pool; a resident sees it on the pool's page on a 390 px
phone (loaded from the estate's photo route); the admin removes it after a confirmation."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import sign_in, until_new_page

pytestmark = pytest.mark.browser


def _pool_photo(path) -> str:
    """A 1200×900 JPEG: water-blue fading to a paler blue, with a lane line."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 900))
    draw = ImageDraw.Draw(image)
    for y in range(900):
        draw.line([(0, y), (1200, y)], fill=(30, 110 + y // 8, 200 + y // 30))
    draw.rectangle([(580, 0), (620, 900)], fill=(240, 240, 250))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    path.write_bytes(out.getvalue())
    return str(path)


def test_a_photo_added_by_the_admin_shows_on_the_residents_phone(new_page, live_server, tmp_path):
    admin = new_page("phone", locale="en")
    admin.goto("/login")
    sign_in(admin, "admin@greenpark.test")
    admin.goto("/e/greenpark/admin/amenities/")
    until_new_page(admin, admin.locator("tr").filter(has_text="Swimming pool").locator("a").first.click)
    admin.set_input_files("#photo", _pool_photo(tmp_path / "pool.jpg"))
    until_new_page(admin, admin.locator("#add-photo").click)
    expect(admin.locator("#photo-list img")).to_have_count(1)
    photo_id = admin.locator("#photo-list li").first.get_attribute("id").removeprefix("photo-")

    page = new_page("phone", locale="en")
    page.goto("/login")
    sign_in(page, "resident@greenpark.test")
    until_new_page(page, page.locator("#home-amenities").click)
    until_new_page(page, page.locator(".amenity-cards a").filter(has_text="Swimming pool").click)
    photo = page.locator("#amenity-photos img").first
    expect(photo).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth", photo.element_handle()) == 1200
    box = photo.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # fits the phone's width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "amenity_photo_resident_phone.png"))

    thumb = admin.locator("#photo-list img")
    thumb.scroll_into_view_if_needed()
    admin.wait_for_function("() => document.querySelector('#photo-list img').naturalWidth > 0")
    admin.screenshot(path=str(SCREENSHOTS / "amenity_photo_admin_phone.png"))
    admin.on("dialog", lambda dialog: dialog.accept())
    until_new_page(admin, admin.locator(f"#remove-photo-{photo_id}").click)
    expect(admin.locator("#photo-list")).to_have_count(0)
