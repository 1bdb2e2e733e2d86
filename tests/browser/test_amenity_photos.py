"""An admin adds a photo of the pool; a resident sees it on the pool's page on a 390 px
phone (loaded from the estate's photo route); the admin removes it after a confirmation.
A portrait phone photo shows upright and is served without its GPS position."""

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


def _admin_adds_pool_photo(new_page, path: str):
    """The admin's phone page after adding the photo to the pool, and the photo's id."""
    admin = new_page("phone", locale="en")
    admin.goto("/login")
    sign_in(admin, "admin@greenpark.test")
    admin.goto("/e/greenpark/admin/amenities/")
    until_new_page(admin, admin.locator("tr").filter(has_text="Swimming pool").locator("a").first.click)
    admin.set_input_files("#photo", path)
    until_new_page(admin, admin.locator("#add-photo").click)
    return admin, admin.locator("#photo-list li").last.get_attribute("id").removeprefix("photo-")


def _residents_pool_page(new_page):
    page = new_page("phone", locale="en")
    page.goto("/login")
    sign_in(page, "resident@greenpark.test")
    until_new_page(page, page.locator("#home-amenities").click)
    until_new_page(page, page.locator(".amenity-cards a").filter(has_text="Swimming pool").click)
    return page


def test_a_photo_added_by_the_admin_shows_on_the_residents_phone(new_page, live_server, tmp_path):
    admin, photo_id = _admin_adds_pool_photo(new_page, _pool_photo(tmp_path / "pool.jpg"))
    expect(admin.locator("#photo-list img")).to_have_count(1)

    page = _residents_pool_page(new_page)
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


def _portrait_phone_photo(path) -> str:
    """A portrait shot as a phone stores it: landscape sensor pixels (an upright white arrow
    on green, turned a quarter left) with EXIF orientation 6, GPS and the camera's serial."""
    from PIL import Image, ImageDraw

    from tests.test_image_metadata import phone_exif

    upright = Image.new("RGB", (900, 1200), (40, 140, 80))
    ImageDraw.Draw(upright).polygon([(450, 150), (750, 600), (550, 600), (550, 1050), (350, 1050), (350, 600),
                                     (150, 600)], fill=(250, 250, 250))
    out = io.BytesIO()
    upright.rotate(90, expand=True).save(out, "JPEG", quality=85, exif=phone_exif())
    path.write_bytes(out.getvalue())
    return str(path)


def test_a_portrait_phone_photo_shows_upright_and_is_served_without_its_gps(new_page, live_server, tmp_path):
    from PIL import Image

    admin, photo_id = _admin_adds_pool_photo(new_page, _portrait_phone_photo(tmp_path / "lawn.jpg"))
    page = _residents_pool_page(new_page)
    photo = page.locator(f'#amenity-photos img[src*="/photos/{photo_id}"]')
    photo.scroll_into_view_if_needed()
    expect(photo).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    served = page.request.get(photo.get_attribute("src"))
    image = Image.open(io.BytesIO(served.body()))
    assert image.size == (900, 1200) and not image.getexif()  # upright in its pixels, no GPS or serial
    box = photo.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the card crops it to its own shape
    page.screenshot(path=str(SCREENSHOTS / "amenity_photo_portrait_phone.png"))
    admin.on("dialog", lambda dialog: dialog.accept())
    until_new_page(admin, admin.locator(f"#remove-photo-{photo_id}").click)
