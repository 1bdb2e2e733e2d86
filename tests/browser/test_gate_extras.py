"""Gate page extras in a real browser: the camera QR scanner (Chromium's fake camera
playing a .y4m of a pass's QR), its messages without a camera or permission, the gate
picker, the incident log (phone and tablet), the admin's incidents and settings pages,
and DENY for a used-up pass and a banned visitor in English and Spanish."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
import segno
import sqlalchemy as sa
from babel.messages.pofile import read_po
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, SCREENSHOTS, watch_csp
from tests.browser.test_gate import SUPERVISOR, TABLET, _type_code, _visit
from tests.browser.test_gate import db as db  # noqa: F401 - fixtures
from tests.browser.test_role_homes import (
    admin_link,
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser

PO = Path(__file__).resolve().parents[2] / "translations" / "es" / "LC_MESSAGES" / "messages.po"
with PO.open("rb") as _f:
    SPANISH = {m.id: m.string for m in read_po(_f) if m.id and isinstance(m.id, str)}


@pytest.fixture
def free_supervisor_device(db):
    """The demo supervisor's gate device binding is free (each browser context is a new
    device) and their language English, before and after: the Spanish checks switch
    it, and it is kept on the account."""
    reset = [sa.text("UPDATE membership SET bound_device_id = NULL, bound_at = NULL "
                     "WHERE user_id = (SELECT id FROM user_account WHERE email = :email)"),
             sa.text("UPDATE user_account SET preferred_language = 'en' WHERE email = :email")]

    def run():
        with db.begin() as conn:
            for statement in reset:
                conn.execute(statement, {"email": SUPERVISOR})

    run()
    yield
    run()


def _es(english: str, **params) -> str:
    """The Spanish of a catalogue message (English if not translated yet), filled in."""
    return (SPANISH.get(english) or english) % params if params else (SPANISH.get(english) or english)


def _shot(page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def _token(db, code: str) -> str:
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT qr_token FROM visit WHERE visitor_code = :c"), {"c": code}).scalar_one()


# --- Chromium with a fake camera ----------------------------------------------------------


def write_y4m(path: Path, text: str | None, size=(640, 480), frames: int = 3) -> Path:
    """A YUV4MPEG2 (4:2:0) clip of a QR code of `text` on white (or a blank frame)."""
    width, height = size
    frame = Image.new("L", size, 235)
    if text is not None:
        png = io.BytesIO()
        segno.make(text, error="m").save(png, kind="png", scale=8, border=4)
        qr = Image.open(png).convert("L")
        side = int(height * 0.8)
        qr = qr.resize((side, side), Image.NEAREST)
        frame.paste(qr, ((width - side) // 2, (height - side) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (width * height // 4)
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + (b"FRAME\n" + luma + chroma + chroma) * frames)
    return path


@pytest.fixture
def camera_page(browser, live_server, request):
    """Factory: `camera_page(y4m, viewport)`, a page in a separate Chromium whose camera
    plays the file (permission granted)."""
    launched = []

    def _open(y4m: Path, viewport: dict = TABLET):
        chromium = browser.browser_type.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={y4m}"])
        launched.append(chromium)
        phone = viewport["width"] < 768
        context = chromium.new_context(base_url=live_server, viewport=viewport, is_mobile=phone, has_touch=phone,
                                       permissions=["camera"])
        context.set_default_timeout(10_000)
        watch_csp(context)
        return context.new_page()

    yield _open
    for chromium in launched:
        chromium.close()


def _gate(page) -> None:
    page.goto("/login")
    sign_in(page, SUPERVISOR)
    page.goto("/e/greenpark/gate/")


def test_a_scanned_qr_admits_the_visitor_on_a_tablet(camera_page, db, tmp_path, free_supervisor_device):
    code = _visit(db, "Camera Visitor", timedelta(hours=-1), timedelta(hours=4))
    page = camera_page(write_y4m(tmp_path / "pass.y4m", _token(db, code)))
    _gate(page)
    scan = page.locator("#scan-qr")
    expect(scan).to_be_visible()
    assert scan.bounding_box()["height"] >= 56  # a big target
    _shot(page, "gate_scanner_tablet_idle")
    with page.expect_response(lambda r: r.url.endswith("/gate/check")) as answer:
        scan.click()
    assert "qr_token" in answer.value.request.post_data
    verdict = page.locator("#verdict")
    expect(verdict).to_have_class("verdict verdict-admit")
    expect(verdict).to_contain_text("Camera Visitor")
    expect(page.locator("#scanner-view")).to_be_hidden()  # the camera is off again
    assert page.evaluate("document.getElementById('scanner-video').srcObject") is None
    expect(scan).to_be_visible()
    _shot(page, "gate_scanner_tablet_admit")
    page.click("#record-entry")
    expect(verdict).to_contain_text("ENTRY RECORDED")


def test_a_scanned_pass_url_works_on_a_phone(camera_page, db, tmp_path, live_server, free_supervisor_device):
    code = _visit(db, "Phone Camera Visitor", timedelta(hours=-1), timedelta(hours=4))
    url = f"{live_server}/p/{_token(db, code)}"
    page = camera_page(write_y4m(tmp_path / "url.y4m", url), PHONE)
    _gate(page)
    assert_no_horizontal_scroll(page)
    _shot(page, "gate_scanner_phone_idle", full_page=True)
    page.click("#scan-qr")
    expect(page.locator("#verdict")).to_have_class("verdict verdict-admit")
    expect(page.locator("#verdict")).to_contain_text("Phone Camera Visitor")
    assert_no_horizontal_scroll(page)
    _shot(page, "gate_scanner_phone_admit")


def test_the_camera_view_and_cancel(camera_page, tmp_path, free_supervisor_device):
    page = camera_page(write_y4m(tmp_path / "blank.y4m", None), PHONE)
    _gate(page)
    page.click("#scan-qr")
    expect(page.locator("#scanner-view")).to_be_visible()
    page.wait_for_function("() => document.getElementById('scanner-video').videoWidth > 0")  # a function: no eval under the CSP
    assert_no_horizontal_scroll(page)
    _shot(page, "gate_scanner_phone_camera")
    page.click("#scan-cancel")
    expect(page.locator("#scanner-view")).to_be_hidden()
    assert page.evaluate("document.getElementById('scanner-video').srcObject") is None
    expect(page.locator(".gate-idle")).to_be_visible()  # nothing was checked


def test_a_qr_that_is_not_a_pass_is_reported_and_scanning_goes_on(camera_page, tmp_path, free_supervisor_device):
    page = camera_page(write_y4m(tmp_path / "other.y4m", "https://example.com/menu"))
    _gate(page)
    page.click("#scan-qr")
    expect(page.locator("#scanner-message")).to_have_text(
        "This QR code is not a Gatehouse pass. Keep scanning or type the code.")
    expect(page.locator("#scanner-view")).to_be_visible()


@pytest.mark.parametrize("script, message, lang", [
    ("navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', 'NotAllowedError'));",
     "Camera permission was refused. Allow the camera for this site in the browser settings, or type the visitor "
     "code.", "en"),
    ("navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', 'NotFoundError'));",
     "This device has no camera the browser can use. Type the visitor code instead.", "en"),
    ("Object.defineProperty(navigator, 'mediaDevices', {value: undefined});",
     "This device has no camera the browser can use. Type the visitor code instead.", "es"),
])
def test_no_camera_or_refused_permission_gets_a_clear_message(new_page, free_supervisor_device, script, message,
                                                               lang):
    page = new_page(PHONE)
    page.add_init_script(script)
    _gate(page)
    if lang == "es":
        choose_language(page, "es")
        message = _es(message)
    page.click("#scan-qr")
    expect(page.locator("#scanner-message")).to_have_text(message)
    expect(page.locator("#scanner-view")).to_be_hidden()
    expect(page.locator("#code")).to_be_visible()  # typing the code still works
    _shot(page, f"gate_scanner_message_{lang}")


def test_the_decoder_reads_a_pass_image(new_page, free_supervisor_device):
    """The decode path itself: the same jsQR call the camera loop makes, on a QR image."""
    png = io.BytesIO()
    segno.make("abcDEF123_-abcDEF123_-abcDEF1234", error="m").save(png, kind="png", scale=6, border=4)
    page = new_page(TABLET)
    _gate(page)
    decoded = page.evaluate("""async (bytes) => {
        await window.gatehouseScanner.loadJsQR();
        const blob = new Blob([new Uint8Array(bytes)], {type: 'image/png'});
        const bitmap = await createImageBitmap(blob);
        const canvas = document.createElement('canvas');
        canvas.width = bitmap.width; canvas.height = bitmap.height;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(bitmap, 0, 0);
        const text = window.gatehouseScanner.decodeImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
        return [text, window.gatehouseScanner.extractToken(text),
                window.gatehouseScanner.extractToken('https://gate.example/p/' + text + '?x=1'),
                window.gatehouseScanner.extractToken('hello')];
    }""", list(png.getvalue()))
    assert decoded == ["abcDEF123_-abcDEF123_-abcDEF1234"] * 3 + [None]


# --- gate picker, incidents, admin pages --------------------------------------------------


def test_the_guard_picks_the_back_gate(new_page, free_supervisor_device):
    page = new_page(TABLET)
    _gate(page)
    picker = page.locator("#gate-select")
    expect(picker).to_have_value("Main gate")
    until_new_page(page, lambda: picker.select_option("Back gate"))
    expect(page.locator("#gate-select")).to_have_value("Back gate")
    expect(page.locator(".flash-success")).to_contain_text("You are at Back gate.")
    _shot(page, "gate_picker_tablet")
    page.goto("/e/greenpark/gate/incidents")
    expect(page.locator("#incident-form")).to_contain_text("Logged at Back gate.")


def _png_file(tmp_path: Path) -> Path:
    path = tmp_path / "scene.png"
    Image.new("RGB", (640, 480), (30, 90, 160)).save(path)
    return path


def test_a_guard_logs_an_incident_with_a_photo_on_a_phone(new_page, tmp_path, free_supervisor_device):
    page = new_page(PHONE)
    _gate(page)
    until_new_page(page, page.locator("#nav-incidents").click)
    expect(page.locator("h1")).to_have_text("Log an incident")
    assert_no_horizontal_scroll(page)
    until_new_page(page, page.locator("#log-incident").click)  # empty: errors, nothing logged
    expect(page.locator("#incident_type-error")).to_have_text("Choose the type of incident.")
    assert_no_horizontal_scroll(page)
    _shot(page, "gate_incident_errors_phone", full_page=True)
    page.select_option("#incident_type", "SUSPICIOUS_PERSON")
    page.fill("#description", "Man in a grey hoodie photographing the gate from a parked car.")
    page.set_input_files("#photo", str(_png_file(tmp_path)))
    until_new_page(page, page.locator("#log-incident").click)
    expect(page.locator(".flash-success")).to_contain_text("The incident was logged.")
    item = page.locator(".incident", has_text="grey hoodie")
    expect(item).to_contain_text("Suspicious person")
    expect(item.locator("img")).to_have_js_property("complete", True)
    assert item.locator("img").evaluate("img => img.naturalWidth") > 0
    assert_no_horizontal_scroll(page)
    _shot(page, "gate_incident_logged_phone", full_page=True)


def test_admin_incidents_and_settings_pages(new_page, tmp_path, free_supervisor_device):
    guard = new_page(TABLET)
    _gate(guard)
    guard.goto("/e/greenpark/gate/incidents")
    guard.select_option("#incident_type", "FIRE")
    guard.fill("#description", "Smoke from the generator house behind block C.")
    guard.set_input_files("#photo", str(_png_file(tmp_path)))
    until_new_page(guard, guard.locator("#log-incident").click)
    expect(guard.locator(".flash-success")).to_be_visible()
    _shot(guard, "gate_incidents_tablet", full_page=True)

    for viewport in (TABLET, PHONE):
        page = new_page(viewport)
        page.goto("/login")
        sign_in(page, "admin@greenpark.test")
        until_new_page(page, admin_link(page, "nav-admin-incidents").click)
        row = page.locator(".incident", has_text="Smoke from the generator")
        expect(row).to_contain_text("Fire")
        assert row.locator("img").evaluate("img => img.naturalWidth") > 0
        page.select_option("#filter-type", "MEDICAL")
        expect(page.locator(".incident", has_text="Smoke from the generator")).to_have_count(0)
        page.select_option("#filter-type", "FIRE")
        expect(page.locator(".incident", has_text="Smoke from the generator")).to_have_count(1)
        assert_no_horizontal_scroll(page)
        name = "phone" if viewport == PHONE else "tablet"
        _shot(page, f"admin_incidents_{name}", full_page=True)
        until_new_page(page, admin_link(page, "nav-settings").click)
        expect(page.locator("#gate_names")).to_have_value("Main gate\nBack gate")
        page.fill("#gate_names", "Main gate\nmain gate")
        until_new_page(page, page.locator("#save-settings").click)
        expect(page.locator("#gate_names-error")).to_contain_text("is listed twice")
        assert_no_horizontal_scroll(page)
        _shot(page, f"admin_settings_{name}", full_page=True)


# --- DENY: a used-up pass and a banned visitor, in English and Spanish ------------------------


def test_a_used_up_pass_is_denied_in_english_and_spanish(new_page, db, free_supervisor_device):
    code = _visit(db, "Once Only", timedelta(hours=-1), timedelta(hours=4))
    page = new_page(TABLET)
    _gate(page)
    _type_code(page, code)
    page.click("#record-entry")
    expect(page.locator("#verdict")).to_contain_text("ENTRY RECORDED")
    page.click("#record-exit")
    expect(page.locator("#verdict")).to_contain_text("EXIT RECORDED")
    _type_code(page, code)
    expect(page.locator("#verdict")).to_have_class("verdict verdict-deny")
    expect(page.locator("#verdict-reason")).to_have_text("This pass has no entries left.")
    expect(page.locator("#record-entry")).to_have_count(0)
    _shot(page, "gate_deny_used_up_tablet")

    choose_language(page, "es")
    _type_code(page, code)
    expect(page.locator("#verdict")).to_have_class("verdict verdict-deny")
    expect(page.locator("#verdict-reason")).to_have_text(_es("This pass has no entries left."))
    _shot(page, "gate_deny_used_up_tablet_es")


def test_a_banned_visitor_is_denied_with_the_reason_in_english_and_spanish(new_page, free_supervisor_device):
    page = new_page(TABLET)
    _gate(page)
    _type_code(page, "DEMBAN55")
    expect(page.locator("#verdict")).to_have_class("verdict verdict-deny")
    expect(page.locator("#verdict-reason")).to_have_text("This visitor is banned from the estate.")
    expect(page.locator(".verdict-ban")).to_have_text("Ban (High): Caught stealing from a parked car")
    expect(page.locator("#record-entry")).to_have_count(0)
    _shot(page, "gate_deny_banned_tablet")

    choose_language(page, "es")
    _type_code(page, "DEMBAN55")
    expect(page.locator("#verdict-reason")).to_have_text(_es("This visitor is banned from the estate."))
    expect(page.locator(".verdict-ban")).to_have_text(
        _es("Ban (%(severity)s): %(reason)s", severity=_es("High"), reason="Caught stealing from a parked car"))
    _shot(page, "gate_deny_banned_tablet_es")
