"""The estate admin's pages on a 390 px phone, in English and in Spanish: the admin menu is
one closed line above the page and opens onto every link; the household page with access
cards and the main list pages never scroll sideways (neither the page nor a table inside
its scroller), and their key tables are cards that fit the screen, each value under its
column's name. The same for the enterprise console, whose links stay within two lines like
the resident's and the supervisor guard's, the rest behind "More"."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import (
    admin_link,
    area_link,
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_languages_kept")]  # EN/ES is saved per user

ADMIN = "admin@greenpark.test"
PHONE_WIDTH = 390

# Every link of the admin menu: each must be reachable from the phone's menu.
ADMIN_LINKS = ["nav-dashboard", "nav-members", "nav-residents", "nav-approvals", "nav-invitations", "nav-visit-log",
               "nav-gate-events", "nav-passes", "nav-bans", "nav-admin-incidents", "nav-offline-refused", "nav-units",
               "nav-import", "nav-amenities", "nav-bookings", "nav-settings", "nav-profile-settings", "nav-audit",
               "nav-messages", "nav-integrations", "nav-billing"]

# List pages (path under /e/greenpark/admin/, the table that must fit as cards or None).
LIST_PAGES = [
    ("residents/", "table.resident-list"),
    ("units/", "table.unit-list"),
    ("visits/", "table.visit-log"),
    ("bookings/", "table.booking-list"),
    ("members/", "table.member-list"),
    ("billing/", None),  # invoices: the long totals (19.574.675,00 NGN) once pushed the page sideways
    ("billing/payments/", None),
    ("messages/", None),
    ("audit/", None),
]

# Pages whose tables once scrolled sideways inside their scroller on a phone: (path under
# /e/greenpark/admin/, the tables that must be labelled cards, screenshot name).
CARD_PAGES = [
    ("billing/charges/", ["table.charge-list"], "charges"),  # and one-off charges, when any wait
    ("billing/arrears/", ["table.arrears-list"], "arrears"),
    ("billing/generate", ["table.run-list"], "generate"),
    ("amenities/", ["table.amenity-list"], "amenities"),
]


def _next_month() -> str:
    today = date.today()
    return f"{today.year + today.month // 12}-{today.month % 12 + 1:02d}"


LINES = """nav => { const tops = new Set();
  for (const li of nav.querySelectorAll(':scope > ul > li')) {
    const box = li.getBoundingClientRect();
    if (box.height) tops.add(Math.round(box.top));
  }
  return tops.size; }"""


def _shot(page: Page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


@pytest.fixture
def household_a12(browser_database_url) -> int:
    """The id of unit A12 in greenpark: the demo gives it two issued cards and a request."""
    engine = sa.create_engine(browser_database_url)
    with engine.connect() as conn:
        unit_id = conn.execute(sa.text(
            "SELECT u.id FROM unit u JOIN estate e ON e.id = u.estate_id "
            "WHERE e.slug = 'greenpark' AND u.number = 'A12'")).scalar_one()
    engine.dispose()
    return unit_id


def _phone_signed_in(new_page, login: str, lang: str) -> Page:
    """A phone page signed in as `login`, in `lang`."""
    page = new_page("phone", locale=lang)
    page.goto("/login")
    choose_language(page, lang)
    sign_in(page, login)
    return page


def _assert_thumb_links(page: Page, link_ids) -> None:
    """Each link is shown, on screen, and a thumb's height."""
    for link_id in link_ids:
        link = page.locator(f"#{link_id}")
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH and box["height"] >= 44, (link_id, box)


def _assert_no_sideways_scroll(page: Page) -> None:
    """Neither the page nor any table's scroller is wider than the screen."""
    assert_no_horizontal_scroll(page)
    wide = page.evaluate("""() => [...document.querySelectorAll('main .overflow-auto')]
      .filter(w => w.offsetParent && w.scrollWidth > w.clientWidth + 1)
      .map(w => ({table: (w.querySelector('table') || w).className, scroll: w.scrollWidth, box: w.clientWidth}))""")
    assert not wide, f"a table scrolls sideways in its scroller: {wide}"


def _assert_labelled_cards(page: Page, selector: str | Locator) -> None:
    """The table is one card per row, within the screen: every value but the card's title
    (its first cell) and its buttons carries its column's name, and every button and link
    is on screen."""
    table = page.locator(selector) if isinstance(selector, str) else selector
    expect(table.locator("tbody tr").first).to_be_visible()
    _assert_fits(page, table)
    found = table.evaluate("""t => {
      const rows = [...t.tBodies[0].rows].filter(r => r.cells.length > 1);
      const unlabelled = [], off = [];
      for (const row of rows) {
        if (getComputedStyle(row).display !== 'block') return {notCards: row.id || row.className};
        [...row.cells].forEach((td, i) => {
          if (i > 0 && !td.classList.contains('actions') && td.textContent.trim() && !td.dataset.label)
            unlabelled.push(td.textContent.trim().slice(0, 30));
        });
        for (const el of row.querySelectorAll('a, button')) {
          const box = el.getBoundingClientRect();
          if (box.width && (box.left < 0 || box.right > window.innerWidth)) off.push(el.textContent.trim());
        }
      }
      return {rows: rows.length, unlabelled, off};
    }""")
    assert found.get("rows") and not found["unlabelled"] and not found["off"], (selector, found)


def _assert_fits(page: Page, selector: str | Locator) -> None:
    """The table is no wider than the screen's content column: nothing hides to the right."""
    widths = (page.locator(selector) if isinstance(selector, str) else selector).evaluate(
        "t => ({table: t.scrollWidth, box: t.parentElement.clientWidth, right: t.getBoundingClientRect().right})")
    assert widths["table"] <= widths["box"] + 1 and widths["right"] <= PHONE_WIDTH, (selector, widths)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_admin_menu_and_tables_fit_a_phone(new_page, household_a12, lang):
    page = _phone_signed_in(new_page, ADMIN, lang)

    # The menu is one closed line: the page's title comes right under it.
    menu = page.locator(".admin-menu")
    summary = page.locator("#admin-menu > summary")
    expect(summary).to_be_visible()
    assert menu.bounding_box()["height"] <= 2 * 44 + 16, menu.bounding_box()
    assert page.locator("main h1").first.bounding_box()["y"] < 160
    for link_id in ADMIN_LINKS[1:]:
        expect(page.locator(f"#{link_id}")).to_be_hidden()
    _shot(page, f"phone_admin_menu_closed_{lang}.png")

    # Opened, it shows every link, the current page marked, each a thumb's height.
    summary.click()
    for link_id in ADMIN_LINKS:
        link = page.locator(f"#{link_id}")
        expect(link).to_be_visible()
        assert link.bounding_box()["height"] >= 44, link_id
    expect(page.locator("#nav-dashboard")).to_have_attribute("aria-current", "page")
    assert_no_horizontal_scroll(page)
    _shot(page, f"phone_admin_menu_open_{lang}.png", full_page=True)

    # The household page with its access cards: cards the screen's width, the card
    # number box and the Issue button on screen.
    until_new_page(page, lambda: page.goto(f"/e/greenpark/admin/units/{household_a12}/"))
    cards = page.locator("#cards table.card-table")
    expect(cards.locator("tbody tr")).to_have_count(3)
    assert_no_horizontal_scroll(page)
    _assert_fits(page, "#cards table.card-table")
    issue = cards.locator(".row-form button[type=submit]")
    expect(issue).to_be_visible()
    box = issue.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, box
    expect(page.locator("#nav-units")).to_have_attribute("aria-current", "page")  # the household is under Units
    page.locator("#cards").scroll_into_view_if_needed()
    _shot(page, f"phone_household_cards_{lang}.png")

    for path, table in LIST_PAGES:
        until_new_page(page, lambda path=path: page.goto(f"/e/greenpark/admin/{path}"))
        _assert_no_sideways_scroll(page)
        if table:
            expect(page.locator(table)).to_be_visible()
            _assert_fits(page, table)
        if path == "billing/":
            _shot(page, f"phone_invoices_{lang}.png")
    until_new_page(page, lambda: page.goto("/e/greenpark/admin/residents/"))
    _shot(page, f"phone_residents_{lang}.png")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_billing_and_amenity_tables_are_cards_on_a_phone(new_page, lang):
    """Charges, arrears, invoice generation (preview and past runs), amenities and an
    amenity's week: no sideways scrolling, each row a card with every value named."""
    page = _phone_signed_in(new_page, ADMIN, lang)
    for path, tables, name in CARD_PAGES:
        until_new_page(page, lambda path=path: page.goto(f"/e/greenpark/admin/{path}"))
        _assert_no_sideways_scroll(page)
        for table in tables:
            expect(page.locator(table)).to_be_visible()
        for index in range(page.locator("main table.phone-cards").count()):  # the listed ones and any other
            _assert_labelled_cards(page, page.locator("main table.phone-cards").nth(index))
        _shot(page, f"phone_{name}_{lang}.png", full_page=True)
    # Next month's preview, in Las Flores (test_billing generates GreenPark's next month).
    preview = _phone_signed_in(new_page, "admin@lasflores.test", lang)
    until_new_page(preview, lambda: preview.goto(f"/e/lasflores/admin/billing/generate?period={_next_month()}"))
    _assert_no_sideways_scroll(preview)
    for table in ("table.preview-services", "table.preview-units"):
        _assert_labelled_cards(preview, table)
    preview.locator("#preview").scroll_into_view_if_needed()
    _shot(preview, f"phone_generate_preview_{lang}.png", full_page=True)

    # The labels are the page's language, not the template's English.
    until_new_page(page, lambda: page.goto("/e/greenpark/admin/billing/charges/"))
    expect(page.locator("table.charge-list td.num").first).to_have_attribute(
        "data-label", "Amount" if lang == "en" else "Monto")
    charge = page.locator("table.charge-list tbody tr").first
    for button in charge.locator("td.actions a, td.actions button").all():  # Edit, Disable, Delete
        assert button.bounding_box()["height"] >= 40, button.inner_text()

    until_new_page(page, lambda: page.goto("/e/greenpark/admin/amenities/"))
    until_new_page(page, page.locator("a[id^=calendar-]").first.click)
    _assert_no_sideways_scroll(page)  # the day: its slots, then its bookings
    until_new_page(page, lambda: page.goto(page.url.split("?")[0] + "?view=week"))
    _assert_no_sideways_scroll(page)
    _assert_labelled_cards(page, "table.cal-table")
    _shot(page, f"phone_amenity_week_{lang}.png", full_page=True)

    # Every account's own page: where it is signed in and its recent sign-ins.
    until_new_page(page, lambda: page.goto("/account/"))
    _assert_no_sideways_scroll(page)
    _assert_labelled_cards(page, "table.session-list")
    _assert_labelled_cards(page, "table.sign-in-list")
    page.locator("#sessions").scroll_into_view_if_needed()
    _shot(page, f"phone_profile_sessions_{lang}.png")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_enterprise_console_fits_a_phone(new_page, lang):
    """The enterprise admin's links stay within two lines, the rest behind "More", each a
    thumb's height; the estates and users lists are cards, and no page scrolls sideways."""
    page = _phone_signed_in(new_page, "enterprise@demo.test", lang)
    nav = page.locator("nav.enterprise-nav")
    assert nav.evaluate(LINES) <= 2
    _assert_no_sideways_scroll(page)
    _assert_labelled_cards(page, "table.estate-list")
    _shot(page, f"phone_enterprise_estates_{lang}.png", full_page=True)
    more = page.locator("#enterprise-more > summary")
    expect(more).to_have_text("More" if lang == "en" else "Más")
    expect(page.locator("#nav-enterprise-audit")).to_be_hidden()
    more.click()
    _assert_thumb_links(page, ("nav-integrations", "nav-enterprise-messages", "nav-enterprise-audit"))
    _shot(page, f"phone_enterprise_more_open_{lang}.png")

    until_new_page(page, area_link(page, "nav-enterprise-messages").click)
    expect(more).to_have_class("current")
    expect(page.locator("#nav-enterprise-messages")).to_have_attribute("aria-current", "page")
    _assert_no_sideways_scroll(page)
    for link_id, path in (("nav-integrations", "integrations/"), ("nav-enterprise-audit", "audit/")):
        until_new_page(page, area_link(page, link_id).click)
        assert page.url.endswith(f"/enterprise/{path}"), page.url
        _assert_no_sideways_scroll(page)
    until_new_page(page, area_link(page, "nav-users").click)
    _assert_no_sideways_scroll(page)
    _assert_labelled_cards(page, "table.user-list")
    _shot(page, f"phone_enterprise_users_{lang}.png", full_page=True)
    until_new_page(page, area_link(page, "nav-estates").click)
    until_new_page(page, page.locator("table.estate-list tbody tr a").first.click)
    _assert_no_sideways_scroll(page)


def test_the_guards_resident_search_fits_a_phone(new_page):
    page = _phone_signed_in(new_page, "supervisor@greenpark.test", "es")
    _assert_no_sideways_scroll(page)
    _assert_labelled_cards(page, "table.directory-list")
    page.locator("table.directory-list").scroll_into_view_if_needed()
    _shot(page, "phone_gate_directory_es.png")


def test_the_admin_menu_links_lead_where_they_say(new_page):
    """Through the phone's menu to a page in another group: it is marked in the closed menu."""
    page = _phone_signed_in(new_page, ADMIN, "es")
    until_new_page(page, admin_link(page, "nav-billing").click)
    expect(page.locator("main h1").first).to_have_text("Facturación")
    expect(page.locator("#admin-menu > summary")).to_contain_text("Facturación")
    expect(page.locator("#nav-billing")).to_be_hidden()  # closed again
    until_new_page(page, admin_link(page, "nav-bookings").click)
    expect(page.locator("#nav-bookings")).to_have_attribute("aria-current", "page")
    assert_no_horizontal_scroll(page)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_resident_links_stay_within_two_lines(new_page, lang):
    page = _phone_signed_in(new_page, "resident@greenpark.test", lang)
    nav = page.locator("nav.area-nav")
    assert nav.evaluate(LINES) <= 2
    more = page.locator("#resident-more > summary")
    expect(more).to_have_text("More" if lang == "en" else "Más")
    expect(page.locator("#nav-amenities")).to_be_hidden()  # closed by default
    more.click()
    _assert_thumb_links(page, ("nav-frequent", "nav-amenities", "nav-my-bans"))
    assert_no_horizontal_scroll(page)
    _shot(page, f"phone_resident_more_open_{lang}.png")
    page.keyboard.press("Escape")
    expect(page.locator("#nav-amenities")).to_be_hidden()

    until_new_page(page, area_link(page, "nav-amenities").click)
    expect(page.locator("#nav-amenities")).to_be_hidden()  # closed again on the new page
    expect(more).to_have_class("current")  # the current page is behind "More"
    expect(page.locator("#nav-amenities")).to_have_attribute("aria-current", "page")
    assert_no_horizontal_scroll(page)


def test_the_resident_links_stand_in_one_row_on_a_laptop(new_page):
    page = new_page("desktop")
    page.goto("/login")
    sign_in(page, "resident@greenpark.test")
    expect(page.locator("#resident-more > summary")).to_be_hidden()
    for link_id in ("nav-visits", "nav-bills", "nav-frequent", "nav-amenities", "nav-my-bans"):
        expect(page.locator(f"#{link_id}")).to_be_visible()
    assert page.locator("nav.area-nav").evaluate(LINES) == 1


def test_the_supervisors_gate_links_stay_within_two_lines(new_page):
    page = _phone_signed_in(new_page, "supervisor@greenpark.test", "es")
    nav = page.locator("nav.gate-nav")
    assert nav.evaluate(LINES) <= 2
    expect(page.locator("#nav-gate-passes")).to_be_hidden()
    until_new_page(page, area_link(page, "nav-gate-passes").click)
    expect(page.locator("main h1").first).to_have_text("Pases vigentes")
    expect(page.locator("#gate-more > summary")).to_have_class("current")
    assert_no_horizontal_scroll(page)
    _shot(page, "phone_supervisor_passes_es.png")


def _as_without_details_content(route) -> None:
    """app.css as a browser without ::details-content (Safari before 18.4) applies it."""
    body = route.fetch().text().replace("selector(::details-content)", "selector(::no-such-element)")
    route.fulfill(body=body, headers={"content-type": "text/css"})


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_every_link_is_reachable_without_details_content(new_page, viewport):
    page = new_page(viewport)
    page.route("**/css/app.css*", _as_without_details_content)
    page.goto("/login")
    sign_in(page, ADMIN)
    page.locator("#admin-menu > summary").click()  # on a desktop too: the summary stays
    page.locator("#menu-group-estate > summary").click()  # each group opens by itself
    expect(page.locator("#nav-units")).to_be_visible()
