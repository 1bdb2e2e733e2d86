"""The estate admin's delivery log in a real browser, on a phone (390x844) in Spanish: open
it from the admin nav, find a failed SMS by the recipient's number (HTMX swaps only the
list), open it, resend it after the confirmation; an invitation's text stays hidden."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.models import OutboxMessage
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import (
    admin_link,
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    until_new_page,
)

pytestmark = pytest.mark.browser

ADMIN = "admin@greenpark.test"


@pytest.fixture
def messages(browser_database_url):
    """Four messages of greenpark, written straight to the live server's database: a failed
    SMS (to a number of its own), a sent email, a failed invitation to a long address, one
    waiting to be sent. Returns (failed SMS id, its number, invitation id)."""
    engine = sa.create_engine(browser_database_url)
    now = datetime.now(UTC)
    number = "+2348055" + "".join(secrets.choice("0123456789") for _ in range(6))
    common = {"subject": "", "language": "es", "provider_message_id": None, "sent_at": None, "next_attempt_at": None,
              "last_error": None, "provider": "", "attempts": 0}
    rows = [
        dict(common, channel="SMS", recipient=number, body="Halima Sani llegó a GreenPark (unidad A12) a las 10:15.",
             reason="visitor_arrived", status="FAILED", attempts=4, provider="termii",
             last_error="Termii: 402 Payment Required — the sender account has insufficient balance to send this "
                        "message", created_at=now - timedelta(minutes=40)),
        dict(common, channel="EMAIL", recipient="resident@greenpark.test", subject="Llegó su visita",
             body="Halima Sani llegó.", reason="visitor_arrived", status="SENT", attempts=1, provider="SMTP",
             provider_message_id="<1@gate.example>", sent_at=now - timedelta(minutes=29),
             created_at=now - timedelta(minutes=30)),
        dict(common, channel="EMAIL", recipient="a.very-long-address.for-a-new-resident@some-long-domain.example.com",
             subject="Invitación", body="Abra este enlace: http://127.0.0.1/invite/SECRET-INVITE-TOKEN",
             reason="invitation", status="FAILED", attempts=1, provider="SMTP",
             last_error="550 5.1.1 No such user here", created_at=now - timedelta(minutes=20)),
        dict(common, channel="SMS", recipient="+2348000000301", body="Un visitante pide verle.",
             reason="walk_in_request", status="QUEUED", next_attempt_at=now + timedelta(minutes=1),
             created_at=now - timedelta(minutes=1)),
    ]
    with engine.begin() as conn:
        estate_id = conn.execute(sa.text("SELECT id FROM estate WHERE slug = 'greenpark'")).scalar_one()
        table = OutboxMessage.__table__
        ids = [conn.execute(sa.insert(table).values(estate_id=estate_id, **row).returning(table.c.id)).scalar_one()
               for row in rows]
    yield ids[0], number, ids[2]
    engine.dispose()


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_an_admin_finds_and_resends_a_failed_sms_on_a_phone_in_spanish(new_page, messages):
    failed, number, invitation = messages
    page = new_page("phone", locale="en")
    page.goto("/login")
    choose_language(page, "es")  # before signing in: the session's choice, not the admin's stored preference
    sign_in(page, ADMIN)
    until_new_page(page, admin_link(page, "nav-messages").click)
    assert page.url.endswith("/e/greenpark/admin/messages/")
    expect(page.locator("h1")).to_have_text("Registro de envíos")
    row = page.locator(f"#message-{failed}")
    expect(row).to_contain_text("Llegó su visita")
    expect(row).to_contain_text("No enviado")
    expect(row).to_contain_text("4 intentos")
    expect(page.locator(f"#message-{invitation}")).to_contain_text("Invitación")
    assert_no_horizontal_scroll(page)
    _shot(page, "delivery_log_phone_es.png")

    # Active search by the recipient's number as people type it: only the list is swapped.
    page.fill("#message-q", "0" + number[4:])
    expect(page.locator("#message-count")).to_have_text("1 mensaje")
    assert "q=" in page.url
    page.select_option("#message-status", "FAILED")
    expect(page.locator("#message-count")).to_have_text("1 mensaje")

    until_new_page(page, page.locator(f"#message-{failed} a").click)
    expect(page.locator("#message-status")).to_have_text("No enviado")
    expect(page.locator("#message-error")).to_contain_text("insufficient balance")
    expect(page.locator("#message-body")).to_contain_text("Halima Sani llegó")
    assert_no_horizontal_scroll(page)
    _shot(page, "delivery_log_message_phone_es.png")
    page.on("dialog", lambda dialog: dialog.accept())
    until_new_page(page, page.locator("#resend-message").click)
    expect(page.locator("main")).to_contain_text("El mensaje está en cola para enviarse de nuevo.")
    expect(page.locator("#message-status")).to_have_text("En espera de envío")
    expect(page.locator("#message-attempts")).to_have_text("0")
    expect(page.locator(".message-resends")).to_contain_text("tras 4 intentos fallidos")
    expect(page.locator("#resend-message")).to_have_count(0)
    _shot(page, "delivery_log_resent_phone_es.png")

    # An invitation carries a link into someone's account: listed, never readable.
    page.goto(f"/e/greenpark/admin/messages/{invitation}")
    expect(page.locator("#message-hidden")).to_be_visible()
    assert "SECRET-INVITE-TOKEN" not in page.content()
    assert_no_horizontal_scroll(page)
