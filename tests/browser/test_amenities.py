"""Amenities on a 390 px phone, in English and in Spanish: a resident books a tennis slot
from the home page, sees it in their bookings and cancels it; books the event hall, which
waits for approval until the admin approves it; a third tennis booking in one week is
refused with the reason."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import (
    admin_link,
    area_link,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser

LAGOS = ZoneInfo("Africa/Lagos")
# Each language's resident books its own hours (the court is exclusive) and its own unit
# (each unit has its own weekly limit).
CASES = {
    "en": {"login": "resident@greenpark.test", "hours": ("10:00", "11:00"), "hall_day": 3,
           "limit": "Your unit already has 2 bookings of Tennis court that week, the most allowed.",
           "booked": "Booked. See you there!", "pending": "Waiting for approval", "confirmed": "Confirmed",
           "cancelled": "Cancelled", "price": "₦50,000.00"},
    "es": {"login": "residente.es@greenpark.test", "hours": ("14:00", "15:00"), "hall_day": 4,
           "limit": "Su unidad ya tiene 2 reservas de Tennis court esa semana, el máximo permitido.",
           "booked": "Reservado. ¡Nos vemos allí!", "pending": "Esperando aprobación", "confirmed": "Confirmada",
           "cancelled": "Cancelada", "price": "50"},
}


def _next_monday() -> date:
    today = datetime.now(LAGOS).date()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture(scope="module")
def spanish_resident(browser_database_url, live_server):
    """A second greenpark resident (unit B2) who reads Spanish, with the demo password."""
    engine = sa.create_engine(browser_database_url)
    try:
        with engine.begin() as conn:
            if conn.execute(sa.text("SELECT id FROM user_account WHERE email = 'residente.es@greenpark.test'")).first():
                return
            estate_id, unit_id = conn.execute(sa.text(
                "SELECT e.id, u.id FROM estate e JOIN unit u ON u.estate_id = e.id "
                "WHERE e.slug = 'greenpark' AND u.number = 'B2'")).one()
            template = conn.execute(sa.text(
                "SELECT * FROM user_account WHERE email = 'resident@greenpark.test'")).mappings().one()
            values = {k: v for k, v in template.items() if k not in ("id", "email", "phone", "full_name")}
            values.update(email="residente.es@greenpark.test", phone=None, full_name="Lucía Pérez",
                          preferred_language="es")
            values = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in values.items()}
            columns = ", ".join(values)
            user_id = conn.execute(sa.text(
                f"INSERT INTO user_account ({columns}) VALUES ({', '.join(':' + k for k in values)}) RETURNING id"),
                values).scalar_one()
            conn.execute(sa.text("INSERT INTO membership (user_id, estate_id, role, is_supervisor, created_at) "
                                 "VALUES (:u, :e, 'RESIDENT', false, CURRENT_TIMESTAMP)"), {"u": user_id, "e": estate_id})
            conn.execute(sa.text(
                "INSERT INTO resident (estate_id, unit_id, user_id, full_name, resident_type, "
                "emergency_contact_name, created_at) VALUES (:e, :unit, :u, 'Lucía Pérez', 'OWNER', '', "
                "CURRENT_TIMESTAMP)"), {"e": estate_id, "unit": unit_id, "u": user_id})
    finally:
        engine.dispose()


def _open_amenity(page, name: str, day: date) -> None:
    until_new_page(page, area_link(page, "nav-amenities").click)
    until_new_page(page, page.locator(".amenity-cards a").filter(has_text=name).click)
    page.fill("#date", day.isoformat())  # the grid follows the date (HTMX)
    expect(page).to_have_url(re.compile(rf"date={day.isoformat()}"))
    expect(page.locator("#slots")).to_be_visible()


def _tick(page, *hours: str) -> None:
    for hour in hours:
        page.locator(f'#slots li[data-start="{hour}"] label').click()


def _book(page, case) -> str:
    until_new_page(page, page.locator("#see-price").click)
    expect(page.locator("#booking-quote")).to_be_visible()
    until_new_page(page, page.locator("#confirm-booking").click)
    expect(page).to_have_url(re.compile(r"/home/bookings/\d+$"))
    return page.url


@pytest.mark.parametrize("lang", ["en", "es"])
def test_resident_books_cancels_waits_for_approval_and_meets_the_weekly_limit(new_page, live_server, lang,
                                                                             spanish_resident):
    case = CASES[lang]
    monday = _next_monday()
    first, second = case["hours"]
    page = new_page("phone", locale=lang)
    page.goto("/login")
    choose_language(page, lang)
    sign_in(page, case["login"])

    # From the home page to the tennis court; book a slot; see it in my bookings; cancel it.
    expect(page.locator("#home-amenities")).to_be_visible()
    until_new_page(page, page.locator("#home-amenities").click)
    page.screenshot(path=str(SCREENSHOTS / f"amenities_list_{lang}_phone.png"), full_page=True)
    _open_amenity(page, "Tennis court", monday)
    _tick(page, first)
    page.screenshot(path=str(SCREENSHOTS / f"amenity_day_grid_{lang}_phone.png"), full_page=True)
    _book(page, case)
    expect(page.locator("#messages")).to_contain_text(case["booked"])
    until_new_page(page, area_link(page, "nav-amenities").click)
    until_new_page(page, page.locator("#my-bookings").click)
    card = page.locator(".booking-cards li").filter(has_text="Tennis court").first
    expect(card).to_contain_text(case["confirmed"])
    page.screenshot(path=str(SCREENSHOTS / f"my_bookings_{lang}_phone.png"), full_page=True)
    until_new_page(page, card.locator("a").click)
    page.once("dialog", lambda dialog: dialog.accept())
    until_new_page(page, page.locator("#cancel-booking").click)
    expect(page.locator(".badge-booking-cancelled")).to_have_text(case["cancelled"])

    # The event hall needs the admin's approval: it waits, the admin approves.
    hall_day = monday + timedelta(days=case["hall_day"])
    _open_amenity(page, "Event hall", hall_day)
    _tick(page, "19:00", "20:00", "21:00")  # the demo hall bookings are earlier in the day
    until_new_page(page, page.locator("#see-price").click)
    expect(page.locator("#quote-price")).to_contain_text(case["price"])
    expect(page.locator("#needs-approval")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / f"booking_confirm_hall_{lang}_phone.png"), full_page=True)
    until_new_page(page, page.locator("#confirm-booking").click)
    expect(page.locator("#waiting-approval")).to_be_visible()
    expect(page.locator(".badge-booking-pending")).to_have_text(case["pending"])
    hall_url = page.url
    booking_id = hall_url.rstrip("/").split("/")[-1]

    admin = new_page("phone", locale="en")
    admin.goto("/login")
    sign_in(admin, "admin@greenpark.test")
    until_new_page(admin, admin_link(admin, "nav-bookings").click)
    expect(admin.locator(f"#booking-{booking_id}")).to_be_visible()
    until_new_page(admin, admin.locator(f"#booking-{booking_id} a").click)
    expect(admin.locator("#booking-unit")).to_contain_text("Unit")
    admin.screenshot(path=str(SCREENSHOTS / f"admin_booking_pending_{lang}_phone.png"), full_page=True)
    until_new_page(admin, admin.locator("#approve-booking").click)
    expect(admin.locator(".badge-booking-confirmed")).to_be_visible()
    admin.goto("/e/greenpark/admin/amenities/")
    until_new_page(admin, admin.locator("tr").filter(has_text="Event hall").locator("a[id^=calendar-]").click)
    until_new_page(admin, lambda: admin.goto(admin.url + f"?date={hall_day.isoformat()}"))
    expect(admin.locator("#calendar-slots")).to_contain_text("Unit")  # admins see who holds a slot
    admin.screenshot(path=str(SCREENSHOTS / f"admin_calendar_{lang}_phone.png"), full_page=True)

    until_new_page(page, lambda: page.goto(hall_url))
    expect(page.locator(".badge-booking-confirmed")).to_have_text(case["confirmed"])

    # Two tennis bookings that week are the most: the third is refused with the reason.
    for day in (monday, monday + timedelta(days=1)):
        _open_amenity(page, "Tennis court", day)
        _tick(page, second)
        _book(page, case)
    _open_amenity(page, "Tennis court", monday + timedelta(days=2))
    _tick(page, second)
    until_new_page(page, page.locator("#see-price").click)
    expect(page.locator("#booking-error")).to_contain_text(case["limit"])
    page.screenshot(path=str(SCREENSHOTS / f"amenity_weekly_limit_{lang}_phone.png"), full_page=True)
    until_new_page(page, page.locator("#week-view").click)
    expect(page.locator("#week-days li")).to_have_count(7)
    page.screenshot(path=str(SCREENSHOTS / f"amenity_week_{lang}_phone.png"), full_page=True)
