"""The "enter your code" page follows its text message's delivery in a real browser: it
says it is sending, and when every SMS provider failed it tells the person so (in their
language) with a way to sign in by email; a later delivery turns it into "on its way".

The live server runs in DEV mode with no worker, so the test moves the outbox row itself
(as the worker would) in the server's database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_role_homes import until_new_page

pytestmark = pytest.mark.browser

GUARD_PHONE = "+2348000000201"  # the demo guard (portal/demo.py)
TEXTS = {
    "en": ("Sending the text message…",
           f"We could not send a text message to {GUARD_PHONE} right now. Try again in a few minutes or sign in "
           "with your email.",
           "Sign in with your email",
           "The text message is on its way. It can take a minute to arrive."),
    "es": ("Enviando el mensaje de texto…",
           f"No pudimos enviar un mensaje de texto al {GUARD_PHONE} en este momento. Inténtelo de nuevo en unos "
           "minutos o inicie sesión con su correo electrónico.",
           "Iniciar sesión con su correo electrónico",
           "El mensaje de texto está en camino. Puede tardar un minuto en llegar."),
}


def _move_latest_code(database_url: str, **values) -> None:
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        latest = conn.execute(sa.text(
            "SELECT id FROM outbox_message WHERE recipient = :phone AND reason = 'sign_in_code' "
            "ORDER BY id DESC LIMIT 1"), {"phone": GUARD_PHONE}).scalar_one()
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        conn.execute(sa.text(f"UPDATE outbox_message SET {assignments} WHERE id = :id"), {**values, "id": latest})
    engine.dispose()


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_code_page_tells_the_person_when_the_text_message_could_not_be_sent(
        new_page, live_server, browser_database_url, language):
    sending, failed, by_email, on_its_way = TEXTS[language]
    page = new_page("phone", locale=language)
    page.goto("/login/code")
    page.fill("input[name=phone]", GUARD_PHONE)
    until_new_page(page, page.locator("main form button[type=submit]").click)

    box = page.locator("#code-delivery")
    expect(box).to_have_attribute("data-delivery", "sending")
    expect(box).to_have_text(sending)

    # The worker's first attempt failed with every provider; a retry is due later.
    _move_latest_code(browser_database_url, status="QUEUED", attempts=1,
                      last_error="termii: HTTP 503; twilio: no answer within 10 s",
                      next_attempt_at=datetime.now(UTC) + timedelta(minutes=5))
    alert = page.locator("#code-delivery-failed")
    expect(alert).to_contain_text(failed)  # the page asked again by itself
    expect(alert.get_by_role("link", name=by_email)).to_have_attribute("href", "/login")
    expect(page.locator("input[name=code]")).to_be_visible()  # a code that did arrive still works
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"sign_in_code_not_sent_{language}_phone.png"), full_page=True)

    # A retry delivered it after all.
    _move_latest_code(browser_database_url, status="SENT", sent_at=datetime.now(UTC), next_attempt_at=None)
    expect(box).to_have_attribute("data-delivery", "sent")
    expect(box).to_have_text(on_its_way)
