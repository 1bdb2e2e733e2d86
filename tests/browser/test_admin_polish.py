"""Issue 13, admin side, in a real browser: the grouped admin menu on a phone (Spanish)
and a desktop, the audit log as sentences, the enterprise's "Add an estate" suggestions,
sign out everywhere with its confirmation, and the small things (focus ring, tap sizes,
copy link)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import (
    admin_link,
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

# These tests switch demo users to Spanish, which saves their choice: each puts them back.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_languages_kept")]

ADMIN = "admin@greenpark.test"


def _shot(page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def test_the_admin_menu_on_a_phone_in_spanish(new_page):
    page = new_page("phone", locale="es")
    page.goto("/login")
    sign_in(page, ADMIN)
    choose_language(page, "es")
    until_new_page(page, lambda: page.goto("/e/greenpark/admin/residents/"))
    h1 = page.locator("main h1").first
    expect(h1).to_have_text("Residentes")
    # The title starts within the first 150 px: the menu is one closed line.
    assert h1.bounding_box()["y"] < 150, h1.bounding_box()
    _shot(page, "admin_menu_phone_es_closed.png")
    summary = page.locator("#admin-menu > summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Residentes")  # the current page, named in the closed menu
    assert summary.bounding_box()["height"] >= 44
    expect(page.locator("#nav-units")).to_be_hidden()
    assert_no_horizontal_scroll(page)
    _shot(page, "admin_menu_phone_es_closed.png")

    summary.click()
    for group in ("Personas", "Portería", "Residencial"):
        expect(page.locator(".menu-group > details > summary", has_text=group)).to_be_visible()
    current = page.locator("#nav-residents")
    expect(current).to_have_attribute("aria-current", "page")
    expect(page.locator("#nav-units")).to_be_visible()  # every group is open on a phone
    for link in page.locator(".admin-menu a").all():
        assert link.bounding_box()["height"] >= 44, link.inner_text()
    _shot(page, "admin_menu_phone_es_open.png")

    until_new_page(page, page.locator("#nav-audit").click)
    expect(page.locator("main h1").first).to_have_text("Bitácora de auditoría")
    expect(page.locator("#admin-menu > summary")).to_contain_text("Bitácora de auditoría")
    expect(page.locator("#nav-units")).to_be_hidden()  # closed again after navigating


def test_the_admin_menu_on_a_desktop(new_page):
    page = new_page("desktop")
    page.goto("/login")
    sign_in(page, ADMIN)
    expect(page.locator("#admin-menu > summary")).to_be_hidden()
    nav = page.locator(".admin-menu")
    assert nav.bounding_box()["height"] < 70, nav.bounding_box()  # one row
    expect(page.locator("#nav-dashboard")).to_have_attribute("aria-current", "page")
    expect(page.locator("#nav-members")).to_be_hidden()
    page.locator("#menu-group-people > summary").click()
    expect(page.locator("#nav-members")).to_be_visible()
    _shot(page, "admin_menu_desktop_open.png")
    page.keyboard.press("Escape")
    expect(page.locator("#nav-members")).to_be_hidden()
    until_new_page(page, admin_link(page, "nav-gate-events").click)
    expect(page.locator("#menu-group-gate > summary")).to_have_class("current")
    _shot(page, "admin_menu_desktop_gate_events.png")


def test_add_an_estate_suggests_the_address_and_the_countrys_settings(new_page):
    page = new_page("desktop")
    page.goto("/login")
    sign_in(page, "enterprise@demo.test")
    until_new_page(page, lambda: page.goto("/enterprise/estates/new"))
    page.fill("[name=name]", "Residencial Los Álamos")
    expect(page.locator("[name=slug]")).to_have_value("residencial-los-alamos")
    expect(page.locator("#slug-preview")).to_have_text("/e/residencial-los-alamos/")
    page.select_option("[name=country]", "GH")
    expect(page.locator("[name=timezone]")).to_have_value("Africa/Accra")
    expect(page.locator("[name=currency]")).to_have_value("GHS")
    expect(page.locator("[name=default_language]")).to_have_value("en")
    page.select_option("[name=country]", "GT")
    expect(page.locator("[name=timezone]")).to_have_value("America/Guatemala")
    expect(page.locator("[name=currency]")).to_have_value("GTQ")
    expect(page.locator("[name=default_language]")).to_have_value("es")
    page.fill("[name=slug]", "alamos")  # typed by hand: the name no longer changes it
    page.fill("[name=name]", "Los Álamos")
    expect(page.locator("[name=slug]")).to_have_value("alamos")
    _shot(page, "enterprise_add_estate.png", full_page=True)


def test_the_audit_log_reads_as_sentences(new_page, browser_database_url):
    import sqlalchemy as sa

    engine = sa.create_engine(browser_database_url)
    with engine.begin() as conn:  # what a working day leaves in the log
        estate_id, guard_membership, guard_id, admin_id = conn.execute(sa.text(
            "SELECT e.id, m.id, m.user_id, (SELECT id FROM user_account WHERE email = 'admin@greenpark.test') "
            "FROM estate e JOIN membership m ON m.estate_id = e.id JOIN user_account u ON u.id = m.user_id "
            "WHERE e.slug = 'greenpark' AND u.email = 'guard@greenpark.test'")).one()
        for action, target_type, target_id, actor, after in [
            ("guard.device_bound", "Membership", guard_membership, guard_id, '{"device": "abcd1234"}'),
            ("estate.settings_changed", "Estate", estate_id, admin_id, '{"access_card_limit": 5}'),
        ]:
            conn.execute(sa.text(
                "INSERT INTO audit_log (estate_id, actor_user_id, action, target_type, target_id, after, created_at) "
                "VALUES (:e, :a, :action, :t, :tid, :after, CURRENT_TIMESTAMP)"),
                dict(e=estate_id, a=actor, action=action, t=target_type, tid=target_id, after=after))
    engine.dispose()
    for viewport in ("phone", "desktop"):
        page = new_page(viewport)
        page.goto("/login")
        sign_in(page, ADMIN)
        choose_language(page, "en")
        until_new_page(page, admin_link(page, "nav-audit").click)
        first = page.locator(".audit-sentence").first
        expect(first).to_be_visible()
        expect(page.locator(".audit-sentence", has_text="The gate device of Sule Garba was linked to their account")
               .first).to_be_visible()
        assert_no_horizontal_scroll(page)
        sentences = page.locator(".audit-sentence").all_inner_texts()
        assert sentences and not [s for s in sentences if "." in s.split(" ")[0] or "LocalProxy" in s], sentences
        raw = page.locator(".audit-raw").first
        expect(raw.locator("dl")).to_be_hidden()
        raw.locator("summary").click()  # the raw record, one click away
        expect(raw.locator("code")).to_be_visible()
        _shot(page, f"audit_log_{viewport}.png", full_page=True)


def test_sign_out_everywhere_asks_first_and_stays_in_spanish(new_page):
    page = new_page("phone", locale="es")
    page.goto("/login")
    sign_in(page, "resident@lasflores.test")
    choose_language(page, "es")
    page.locator("#main-menu > summary").click()
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    until_new_page(page, page.locator("#menu-sign-out-everywhere").click)
    assert asked == ["¿Cerrar sesión en todos los dispositivos, incluido este?"]
    expect(page.locator("main h1")).to_have_text("Iniciar sesión")
    expect(page.locator("html")).to_have_attribute("lang", "es")


def test_tap_targets_focus_ring_and_an_honest_copy_button(new_page, live_server, browser_database_url):
    import sqlalchemy as sa

    from tests.browser.conftest import insert_pass

    engine = sa.create_engine(browser_database_url)
    visit_id, _code = insert_pass(engine, "Copy Tester")
    engine.dispose()
    page = new_page("phone")
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined, configurable: true})")
    page.goto("/login")
    # A focus ring one can see: the keyboard reaches the first link with a 3 px outline.
    page.locator("#join-estate").focus()
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                         " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert ring[0] == "solid" and ring[1] >= 3, ring
    sign_in(page, "resident@greenpark.test")
    for selector in ("#bell", ".lang-switch button[value=en]", ".lang-switch button[value=es]"):
        box = page.locator(selector).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (selector, box)
    until_new_page(page, lambda: page.goto(f"/e/greenpark/home/visits/{visit_id}"))
    copy = page.locator("button[data-copy]")
    copy.click()
    expect(copy).to_have_text("Link selected: copy it yourself")  # never "Copied" without a clipboard
    selected = page.evaluate("() => { const f = document.querySelector('#pass-link');"
                             " return [document.activeElement === f, f.selectionEnd - f.selectionStart, f.value.length]; }")
    assert selected[0] and selected[1] == selected[2] > 0, selected
    _shot(page, "copy_link_without_clipboard.png")
    # Phone links on the admin's residents list are 44 px tall too.
    page.context.clear_cookies()
    page.goto("/login")
    sign_in(page, ADMIN)
    until_new_page(page, lambda: page.goto("/e/greenpark/admin/residents/"))
    tel = page.locator("a[href^='tel:']").first
    assert tel.bounding_box()["height"] >= 44


def test_the_csv_preview_shows_a_bad_rows_errors_on_a_desktop(new_page):
    page = new_page("desktop")
    page.goto("/login")
    sign_in(page, ADMIN)
    choose_language(page, "en")
    until_new_page(page, lambda: page.goto("/e/greenpark/admin/import/units"))
    long_note = "a long note " * 12
    content = ("number,block,floor,type,bedrooms,bathrooms,area_sqm,notes\n"
               f"Z901,Z,1,APARTMENT,2,1,60,{long_note}\nZ902,Z,1,CASTLE,3,2,80,{long_note}\n")
    page.set_input_files("input[name=file]", files=[
        {"name": "units.csv", "mimeType": "text/csv", "buffer": content.encode("utf-8")}])
    until_new_page(page, page.locator("#check-file").click)
    bad = page.locator("#row-3")
    expect(bad).to_have_class("row-bad")
    errors = bad.locator("td.errors-col")
    expect(errors).to_contain_text("Unknown type")
    box = errors.bounding_box()
    assert box["x"] + box["width"] <= 1280, box  # not off-screen to the right
    tint = bad.locator("td").nth(2).evaluate("e => getComputedStyle(e).backgroundColor")
    good = page.locator("#row-2 td").nth(2).evaluate("e => getComputedStyle(e).backgroundColor")
    assert tint == "rgb(253, 236, 234)" and tint != good, (tint, good)
    _shot(page, "import_preview_desktop.png")


def test_the_residents_home_on_a_phone(new_page):
    page = new_page("phone", locale="es")
    page.goto("/login")
    sign_in(page, "resident@greenpark.test")
    choose_language(page, "es")
    expect(page.locator("#home-upcoming h2")).to_have_text("Sus visitas de hoy y las próximas")
    expect(page.locator("#stat-units")).to_have_count(0)
    expect(page.locator(".home-vehicles li").first).to_be_visible()
    assert_no_horizontal_scroll(page)
    _shot(page, "resident_home_phone_es.png", full_page=True)
