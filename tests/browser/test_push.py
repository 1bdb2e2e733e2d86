"""Web push in a real Chromium on a phone-sized screen: the demo resident turns on
notifications on their profile and the browser's subscription is stored; a walk-in for
their unit is pushed, the browser decrypts it and its service worker shows it with
Approve / Decline; "Turn off" removes the subscription.

How, offline. Headless Chromium subscribes through its GCM client, which talks to
Google's servers: offline, `pushManager.subscribe()` never settles (and in an incognito
context, Playwright's usual one, Chromium refuses push outright). So this test runs
Chromium with a persistent profile and points its GCM client at a local stand-in
(tests/fakes/gcm_server.py: --gcm-checkin-url, --gcm-registration-url, and
--gcm-mcs-endpoint for the TLS connection that carries pushes down). Real here: the
permission, the service worker's registration, `subscribe()` with the portal's VAPID key,
the browser's own keys, the POST with its CSRF token, the stored row; then the portal's
push provider (pywebpush: encryption and VAPID signature, the same code the worker runs,
called from this process) POSTing to a push service, the browser decrypting the message
and the service worker's notification (read back with getNotifications).

Stood in for: Google's servers. The browser's endpoint is an FCM address
(https://…google.com/fcm/send/<token>); the test points the stored row at the local fake
push service instead (tests/fakes/push_service.py), which checks nothing itself and hands
the encrypted body, unchanged, to the browser over the MCS stand-in, as FCM would. Not
tested: a tap on the notification (openWindow; headless Chromium cannot click one).
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, SCREENSHOTS, watch_csp
from tests.browser.test_gate import db as db  # noqa: F401 - fixture
from tests.browser.test_role_homes import (
    assert_no_horizontal_scroll,
    choose_language,
    sign_in,
    wait_until_settled,
)
from tests.fakes.gcm_server import local_gcm_server
from tests.fakes.push_service import local_push_service, verified_claims

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RESIDENT = "resident@greenpark.test"  # Tunde Bakare, unit A12


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(autouse=True)
def _keep_residents_language(db):
    """These tests choose a language for the demo resident; later tests expect the one it had."""
    query = sa.text("SELECT preferred_language FROM user_account WHERE email = :email")
    with db.begin() as conn:
        before = conn.execute(query, {"email": RESIDENT}).scalar()
    yield
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE user_account SET preferred_language = :lang WHERE email = :email"),
                     {"lang": before, "email": RESIDENT})


@pytest.fixture
def gcm():
    with local_gcm_server() as server:
        yield server


@pytest.fixture
def phone_profile(browser, live_server, gcm, tmp_path, request):
    """A phone-sized Chromium with a persistent profile (push works only outside incognito)
    whose GCM client talks to the local stand-in; notifications allowed for the portal."""
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, *gcm.chromium_args()], headless=True, base_url=live_server, viewport=PHONE,
        is_mobile=True, has_touch=True, locale="en")
    context.set_default_timeout(10_000)
    context.grant_permissions(["notifications"], origin=live_server)
    watch_csp(context)
    yield context
    context.close()


def _rows(db, email=RESIDENT):
    with db.begin() as conn:
        return conn.execute(sa.text(
            "SELECT s.id, s.endpoint, s.p256dh, s.auth, s.device_label FROM push_subscription s "
            "JOIN user_account u ON u.id = s.user_id WHERE u.email = :email ORDER BY s.id"), {"email": email}).all()


def _walk_in_pushed(browser_database_url, vapid_keys_file, subscription_id: int) -> dict:
    """A walk-in for unit A12 asked by the demo guard through the portal's own service, in an
    app of this process on the live server's database and with its VAPID keys; then the
    PUSH message it wrote for this browser's subscription is delivered as the worker would
    (portal.integrations.outbox.deliver). Returns the payload and the delivery's outcome."""
    from portal import create_app
    from portal.extensions import db as portal_db
    from portal.gate import walkins
    from portal.integrations import outbox
    from portal.models import Estate, OutboxMessage, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": browser_database_url, "DEV_MODE": True, "TESTING": True,
                      "VAPID_KEYS_FILE": str(vapid_keys_file), "JOBS_IMMEDIATE": True,
                      "MESSAGE_DELIVERY": "portal.integrations.delivery:dev"})
    try:
        with app.app_context():
            guard = portal_db.session.scalar(sa.select(User).where(User.email == "guard@greenpark.test"))
            estate = portal_db.session.scalar(sa.select(Estate).where(Estate.slug == "greenpark"))
            walkins.create_walk_in(guard, estate, walkins.WalkInData(visitor_name="Chidi Okeke", unit_number="A12",
                                                                     gate="Main gate"), datetime.now(UTC))
            message = portal_db.session.scalar(
                sa.select(OutboxMessage).where(OutboxMessage.channel == "PUSH",
                                               OutboxMessage.recipient == str(subscription_id))
                .order_by(OutboxMessage.id.desc()).limit(1))
            payload = json.loads(message.body)
            outcome = outbox.deliver(message.id)
            portal_db.session.remove()
        return {"payload": payload, "status": outcome.status}
    finally:
        with app.app_context():
            portal_db.engine.dispose()


def _notifications(page, wait: float = 10.0) -> list[dict]:
    """The notifications the portal's service worker is showing (waiting for the first)."""
    deadline = time.monotonic() + wait
    while True:
        shown = page.evaluate(
            "() => navigator.serviceWorker.getRegistration('/').then(r => r.getNotifications())"
            ".then(list => list.map(n => ({title: n.title, body: n.body, icon: n.icon, tag: n.tag, data: n.data,"
            " actions: n.actions.map(a => ({action: a.action, title: a.title}))})))")
        if shown or time.monotonic() > deadline:
            return shown
        time.sleep(0.2)


def test_the_resident_turns_notifications_on_and_off_on_a_phone(phone_profile, gcm, live_server, db,
                                                               browser_database_url, vapid_keys_file):
    page = phone_profile.new_page()
    page.goto("/login")
    sign_in(page, RESIDENT)
    choose_language(page, "en")  # other tests may leave the demo accounts in Spanish
    with db.begin() as conn:  # earlier runs on this database
        conn.execute(sa.text("DELETE FROM push_subscription WHERE user_id = "
                             "(SELECT id FROM user_account WHERE email = :email)"), {"email": RESIDENT})
    page.goto("/account/#notifications")
    wait_until_settled(page)
    control = page.locator("#push")
    expect(control).to_have_attribute("data-state", "off")
    expect(control.locator("[data-push-state]")).to_have_text("Notifications are off for this device.")
    expect(page.locator("#push-devices-empty")).to_be_visible()
    key = control.get_attribute("data-key")

    page.click("#push-on")
    expect(control).to_have_attribute("data-state", "on", timeout=30_000)
    expect(control.locator("[data-push-state]")).to_have_text("Notifications are on for this device.")
    expect(page.locator("#push-off")).to_be_visible()
    expect(page.locator("#push-on")).to_be_hidden()
    expect(page.locator("#push-devices li")).to_have_count(1)  # the list reloaded itself
    control.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "push_on_phone.png"))

    # The browser subscribed with the portal's VAPID key, and the server stored what it got.
    [registration] = gcm.web_push_registrations()
    assert registration["sender"] == key and registration["X-subtype"].startswith(f"wp:{live_server}/")
    [row] = _rows(db)
    browser_subscription = page.evaluate(
        "() => navigator.serviceWorker.getRegistration('/').then(r => r.pushManager.getSubscription())"
        ".then(s => s.toJSON())")
    assert row.endpoint == browser_subscription["endpoint"]
    assert row.endpoint.endswith("/fcm/send/" + registration["token"])
    assert (row.p256dh, row.auth) == (browser_subscription["keys"]["p256dh"], browser_subscription["keys"]["auth"])
    assert len(_b64(row.p256dh)) == 65 and len(_b64(row.auth)) == 16
    assert row.device_label.startswith("Chrome")

    # A reload shows it on (this browser's endpoint is one of the user's devices).
    page.reload()
    expect(control).to_have_attribute("data-state", "on")

    # A walk-in for unit A12 is pushed to this browser: the provider encrypts and signs it
    # and POSTs it to the push service (here the local fake, which hands it to the browser).
    with local_push_service() as service:
        service.forward = lambda received: gcm.deliver(registration, received.body)
        with db.begin() as conn:
            conn.execute(sa.text("UPDATE push_subscription SET endpoint = :endpoint WHERE id = :id"),
                         {"endpoint": service.endpoint(registration["token"]), "id": row.id})
        pushed = _walk_in_pushed(browser_database_url, vapid_keys_file, row.id)
        [received] = service.wait_for(1)
    assert pushed["status"] == "SENT"
    assert received.headers["content-encoding"] == "aes128gcm"
    assert verified_claims(received.headers["authorization"], key)["aud"] == service.origin
    [shown] = _notifications(page)  # decrypted by the browser with its own keys, shown by sw.js
    assert shown["title"] == "A visitor at the gate asks to see you"
    assert shown["body"] == "Chidi Okeke is at Main gate and asks to see unit A12. Approve or decline."
    assert shown["icon"] == f"{live_server}/static/img/icon-192.png"
    assert shown["tag"] == pushed["payload"]["tag"]
    assert shown["actions"] == [{"action": "approve", "title": "Approve"}, {"action": "decline", "title": "Decline"}]
    link = pushed["payload"]["url"]
    assert link.startswith("/e/greenpark/home/walk-ins/")
    assert shown["data"]["links"] == {"default": link, "approve": f"{link}?answer=approve",
                                      "decline": f"{link}?answer=decline"}
    with db.begin() as conn:  # as the browser gave it, for "Turn off" below
        conn.execute(sa.text("UPDATE push_subscription SET endpoint = :endpoint WHERE id = :id"),
                     {"endpoint": browser_subscription["endpoint"], "id": row.id})

    # Turn off: the browser unsubscribes and the row goes.
    page.click("#push-off")
    expect(control).to_have_attribute("data-state", "off")
    expect(control.locator("[data-push-state]")).to_have_text("Notifications are off for this device.")
    expect(page.locator("#push-devices-empty")).to_be_visible()
    assert _rows(db) == []
    assert page.evaluate("() => navigator.serviceWorker.getRegistration('/')"
                         ".then(r => r.pushManager.getSubscription()).then(s => s === null)")


def test_a_browser_that_refuses_notifications_says_so_in_spanish(new_page, db):
    page = new_page("phone", locale="es")
    page.goto("/login")
    sign_in(page, RESIDENT)
    choose_language(page, "es")
    page.goto("/account/#notifications")
    wait_until_settled(page)
    control = page.locator("#push")
    expect(control).to_have_attribute("data-state", "off")
    expect(page.locator("#push-on")).to_have_text("Activar notificaciones en este dispositivo")
    page.click("#push-on")  # headless Chromium denies a permission nobody granted
    expect(control).to_have_attribute("data-state", "blocked")
    expect(control.locator("[data-push-state]")).to_contain_text("Su navegador bloquea las notificaciones")
    expect(page.locator("#push-on")).to_be_hidden()
    assert _rows(db) == []
    control.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "push_blocked_phone_es.png"))
    assert_no_horizontal_scroll(page)
    assert page.evaluate("() => { const t = document.querySelector('.notification-prefs');"
                         " return t.scrollWidth <= t.parentElement.clientWidth + 1; }"), "the Push column is cut off"
    choose_language(page, "en")
