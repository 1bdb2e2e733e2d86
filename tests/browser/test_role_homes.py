"""Every demo account signs in, in each language and on a phone and a desktop, and
lands on its role's home; plus wrong password, phone-code sign-in and sign-out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "demo1234"  # noqa: S105 - published demo password (portal/demo.py)

# email, home, h1 in English, h1 in Spanish
ACCOUNTS = [
    pytest.param("enterprise@demo.test", "/enterprise/", "Enterprise console", "Consola empresarial",
                 id="enterprise"),
    pytest.param("admin@greenpark.test", "/e/greenpark/admin/", "Estate dashboard", "Panel del residencial",
                 id="greenpark-admin"),
    pytest.param("guard@greenpark.test", "/e/greenpark/gate/", "Gate", "Portería",
                 id="greenpark-guard"),
    pytest.param("resident@greenpark.test", "/e/greenpark/home/", "Hello, Tunde Bakare", "Hola, Tunde Bakare",
                 id="greenpark-resident"),
    pytest.param("admin@lasflores.test", "/e/lasflores/admin/", "Estate dashboard", "Panel del residencial",
                 id="lasflores-admin"),
    pytest.param("resident@lasflores.test", "/e/lasflores/home/", "Hello, Andrés Morales",
                 "Hola, Andrés Morales", id="lasflores-resident"),
]


def until_new_page(page: Page, action) -> None:
    """Do `action` (a click that submits or follows a link) and wait until its answer
    has replaced <main>: with hx-boost that is a swap, not a page load."""
    page.evaluate("document.querySelector('main').setAttribute('data-old', '')")
    action()
    expect(page.locator("main[data-old]")).to_have_count(0)
    wait_until_settled(page)


def wait_until_settled(page: Page) -> None:
    """htmx wires up swapped-in elements (hx-get, hx-trigger, scripts) only when the
    swap settles, a moment after the new content appears; typing before that is lost."""
    page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-swapping, .htmx-request')")


def choose_language(page: Page, lang: str) -> None:
    """Press the header's language button for `lang`, which stores the choice in the
    session (it outranks the estate's default after signing in). The current
    language's button takes no pointer events, so that one is pressed from the keyboard."""
    button = page.locator(f"button[name=lang][value={lang}]")
    if button.get_attribute("aria-pressed") == "true":
        until_new_page(page, lambda: button.press("Enter"))
    else:
        until_new_page(page, button.click)
    expect(page.locator(f"button[name=lang][value={lang}]")).to_have_attribute("aria-pressed", "true")


def sign_in(page: Page, login: str, password: str = DEMO_PASSWORD) -> None:
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    until_new_page(page, page.locator("main form button[type=submit]").click)


def admin_link(page: Page, link_id: str):
    """The admin menu's link `link_id` (e.g. "nav-visit-log"), made visible: the menu is one
    closed disclosure on a phone and a row of group dropdowns on a desktop."""
    link = page.locator(f"#{link_id}")
    if not link.is_visible():
        panel = page.locator("#admin-menu > summary")
        if panel.is_visible():
            panel.click()
        if not link.is_visible():
            page.locator(f"details.menu-group-details:has(#{link_id}) > summary").click()
    expect(link).to_be_visible()
    return link


def area_link(page: Page, link_id: str):
    """The resident's or the guard's link `link_id`, made visible: on a phone the less used
    ones sit behind "More"."""
    link = page.locator(f"#{link_id}")
    if not link.is_visible():
        page.locator(f"details.nav-more:has(#{link_id}) > summary").click()
    expect(link).to_be_visible()
    return link


def assert_no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    viewport = page.viewport_size["width"]
    # A mobile browser zooms out to fit content wider than the screen, which widens
    # innerWidth too; so innerWidth must also still be the screen's width.
    assert widths["scroll"] <= widths["inner"] + 1 and widths["inner"] <= viewport + 1, (
        f"horizontal scroll on a {viewport}px screen: {widths}"
    )


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize(("email", "home", "h1_en", "h1_es"), ACCOUNTS)
def test_role_lands_on_home(new_page, live_server, email, home, h1_en, h1_es, viewport, lang):
    # The browser asks for the other language, so only the switcher can give `lang`.
    page = new_page(viewport, locale="es" if lang == "en" else "en")
    page.goto("/login")
    choose_language(page, lang)
    if viewport == "phone":
        assert_no_horizontal_scroll(page)

    sign_in(page, email)

    expect(page).to_have_url(live_server + home)
    expect(page.locator("h1")).to_have_text(h1_en if lang == "en" else h1_es)
    if viewport == "phone":
        assert_no_horizontal_scroll(page)
    expect(page.locator("html")).to_have_attribute("lang", lang)


def test_wrong_password_shows_error_and_stays_on_login(new_page, live_server):
    page = new_page("desktop", locale="en")
    page.goto("/login")
    sign_in(page, "admin@greenpark.test", "not-the-password")

    expect(page.get_by_role("alert")).to_have_text("The email, phone or password is not correct.")
    expect(page).to_have_url(re.compile(re.escape(live_server) + r"/login(\?.*)?$"))
    expect(page.locator("input[name=password]")).to_have_value("")


def test_sign_in_with_phone_code(new_page, live_server):
    page = new_page("phone", locale="en")
    page.goto("/login")
    until_new_page(page, page.get_by_role("link", name="Sign in with a code sent to your phone").click)
    expect(page).to_have_url(re.compile(re.escape(live_server) + r"/login/code(\?.*)?$"))

    page.fill("input[name=phone]", "+2348000000201")
    until_new_page(page, page.locator("main form button[type=submit]").click)

    dev_code = page.locator("#dev-code")
    expect(dev_code).to_have_text(re.compile(r"DEV mode: your code is \d{6}"))
    code = re.search(r"\d{6}", dev_code.inner_text()).group()
    page.fill("input[name=code]", code)
    until_new_page(page, page.locator("main form button[type=submit]").click)

    expect(page).to_have_url(live_server + "/e/greenpark/gate/")
    expect(page.locator("h1")).to_have_text("Gate")


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_sign_out_from_header_menu(new_page, live_server, viewport):
    page = new_page(viewport, locale="en")
    page.goto("/login")
    sign_in(page, "resident@greenpark.test")
    expect(page).to_have_url(live_server + "/e/greenpark/home/")

    page.click("#main-menu summary")
    until_new_page(page, lambda: page.click("#sign-out"))

    expect(page).to_have_url(re.compile(re.escape(live_server) + r"/login(\?.*)?$"))
    expect(page.locator("input[name=login]")).to_be_visible()
    expect(page.locator("#main-menu")).to_have_count(0)

    # Signed out for real: the home page sends the browser back to sign in.
    page.goto("/e/greenpark/home/")
    expect(page).to_have_url(re.compile(re.escape(live_server) + r"/login\?next="))
