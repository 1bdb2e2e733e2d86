"""Dues-linked restrictions on a phone: a resident whose unit is far behind sees the banner
on their pages (why, how much, a link to their bills) and is refused a guest pass with the
reason, while a delivery pass is still issued; in English (greenpark, naira) and in Spanish
(lasflores, quetzales)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import (
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def restricted(browser_database_url):
    """Turn restrictions on in `slug` and make the demo resident's unpaid bill 100 days
    overdue (the bill's due date and the setting are put back afterwards)."""
    engine = sa.create_engine(browser_database_url)
    changed = []

    def restrict(slug: str, email: str) -> None:
        with engine.begin() as conn:
            estate_id = conn.execute(sa.text("SELECT id FROM estate WHERE slug = :s"), {"s": slug}).scalar_one()
            invoice_id, due = conn.execute(sa.text(
                "SELECT i.id, i.due_date FROM invoice i JOIN resident r ON r.unit_id = i.unit_id "
                "JOIN user_account u ON u.id = r.user_id WHERE u.email = :e AND i.balance_minor > 0 "
                "ORDER BY i.due_date LIMIT 1"), {"e": email}).one()
            conn.execute(sa.text("UPDATE billing_settings SET restrict_enabled = :on WHERE estate_id = :id"),
                         {"on": True, "id": estate_id})
            conn.execute(sa.text("UPDATE invoice SET due_date = :d WHERE id = :id"),
                         {"d": date.today() - timedelta(days=100), "id": invoice_id})
            changed.append((estate_id, invoice_id, due))

    yield restrict
    with engine.begin() as conn:
        for estate_id, invoice_id, due in changed:
            conn.execute(sa.text("UPDATE billing_settings SET restrict_enabled = :off WHERE estate_id = :id"),
                         {"off": False, "id": estate_id})
            conn.execute(sa.text("UPDATE invoice SET due_date = :d WHERE id = :id"), {"d": due, "id": invoice_id})
            conn.execute(sa.text("DELETE FROM visit_guest WHERE visit_id IN (SELECT id FROM visit WHERE "
                                 "estate_id = :id AND purpose = 'Dues test delivery')"), {"id": estate_id})
            conn.execute(sa.text("DELETE FROM visit WHERE estate_id = :id AND purpose = 'Dues test delivery'"),
                         {"id": estate_id})
            conn.execute(sa.text("UPDATE dues_override SET ended_at = CURRENT_TIMESTAMP WHERE estate_id = :id "
                                 "AND ended_at IS NULL"), {"id": estate_id})
    engine.dispose()


def _invite(page, name: str) -> None:
    until_new_page(page, page.locator("#home-invite").click)
    page.fill("#guests-0-full_name", name)
    page.fill("#guests-0-phone", "0803 555 0199")


@pytest.mark.parametrize("slug, email, lang, texts", [
    ("greenpark", "resident@greenpark.test", "en", {
        "banner": "Unit A12 is restricted", "reason": "only delivery passes can be issued",
        "amount": "₦", "refusal": "Unit A12 is restricted for unpaid dues", "pay": "See and pay my bills",
        "bills": "My bills"}),
    ("lasflores", "resident@lasflores.test", "es", {
        "banner": "La unidad Casa 7 está restringida", "reason": "solo se pueden emitir pases de entrega",
        "amount": "Q850.00", "refusal": "La unidad Casa 7 está restringida por cuotas impagas",
        "pay": "Ver y pagar mis facturas", "bills": "Mis facturas"}),
])
def test_a_restricted_resident_sees_why_and_is_refused_a_guest_pass(new_page, restricted, slug, email, lang, texts):
    restricted(slug, email)
    page = new_page("phone", locale=lang)
    page.goto("/login")
    choose_language(page, lang)
    sign_in(page, email)
    banner = page.locator(".dues-banner")
    expect(banner).to_have_attribute("data-state", "RESTRICTED")
    expect(banner).to_contain_text(texts["banner"])
    expect(banner).to_contain_text(texts["reason"])
    expect(banner).to_contain_text(texts["amount"])
    assert_no_horizontal_scroll(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"dues_banner_{lang}_phone.png"), full_page=True)

    # A guest pass is refused, with the reason next to the pass type; nothing is issued.
    _invite(page, "Guest Refused")
    until_new_page(page, page.locator("#create-visit").click)
    expect(page.locator("#pass_type-error")).to_contain_text(texts["refusal"])
    expect(page.locator(".dues-banner")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.locator("#pass_type-error").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"dues_pass_refused_{lang}_phone.png"), full_page=False)

    # A delivery still goes through.
    page.select_option("#pass_type", "DELIVERY")
    page.fill("#purpose", "Dues test delivery")
    page.fill("#guests-0-full_name", "")
    page.fill("#guests-0-phone", "")
    until_new_page(page, page.locator("#create-visit").click)
    expect(page.locator(".flash-success")).to_be_visible()

    # The banner's button leads to the bills, to pay.
    until_new_page(page, page.locator(".dues-pay").first.click)
    expect(page.locator("h1")).to_have_text(texts["bills"])
    expect(page.locator(".dues-banner .dues-pay")).to_have_text(texts["pay"])


def test_an_admin_lifts_a_units_restriction_on_a_phone(new_page, restricted, browser_database_url):
    restricted("greenpark", "resident@greenpark.test")
    engine = sa.create_engine(browser_database_url)
    with engine.connect() as conn:
        unit_id = conn.execute(sa.text("SELECT u.id FROM unit u JOIN estate e ON e.id = u.estate_id "
                                       "WHERE e.slug = 'greenpark' AND u.number = 'A12'")).scalar_one()
    page = new_page("phone", locale="en")
    page.goto("/login")
    choose_language(page, "en")
    sign_in(page, "admin@greenpark.test")
    page.goto(f"/e/greenpark/admin/units/{unit_id}/#dues")
    expect(page.locator("#dues-state")).to_have_attribute("data-state", "RESTRICTED")
    expect(page.locator("#dues-state")).to_contain_text("Restricted since")
    page.locator("#dues-override-details > summary").click()
    page.fill("#reason", "Agreed a payment plan")
    page.locator("#grant-dues-override").scroll_into_view_if_needed()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(SCREENSHOTS / "dues_unit_override_form_phone.png"), full_page=False)
    until_new_page(page, page.locator("#grant-dues-override").click)
    expect(page.locator("#dues-state")).to_have_attribute("data-state", "OVERRIDDEN")
    expect(page.locator("#dues-override")).to_contain_text("Agreed a payment plan")
    page.locator("#dues").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "dues_unit_overridden_phone.png"), full_page=False)
    page.on("dialog", lambda dialog: dialog.accept())
    until_new_page(page, page.locator("#end-dues-override").click)
    expect(page.locator("#dues-state")).to_have_attribute("data-state", "RESTRICTED")
    with engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM audit_log WHERE action LIKE 'dues_override.%' "
                                       "ORDER BY id")).scalars().all()
    engine.dispose()
    assert actions[-2:] == ["dues_override.granted", "dues_override.ended"]
