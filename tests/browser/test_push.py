"""Web push in a real Chromium on a phone-sized screen: the demo resident turns on
notifications on their profile and the browser's subscription is stored; the service
worker shows a walk-in request with Approve / Decline; "Turn off" removes it.

What this proves, and what it does not. Headless Chromium subscribes through its GCM
client, which needs Google's servers: offline, `pushManager.subscribe()` never settles
(and in an incognito context, Playwright's usual one, Chromium refuses push outright).
So this test runs Chromium with a persistent profile and points its GCM client at a
local stand-in (tests/fakes/gcm_server.py, via --gcm-checkin-url/--gcm-registration-url):
the permission, the service worker's registration, `subscribe()` with the portal's VAPID
key, the browser's own encryption keys, the POST with its CSRF token and the stored row
are all real. The endpoint is then an FCM address (https://…google.com/fcm/send/<token>)
that cannot be reached from here, so the push itself is not carried to this browser:
the message the server wrote for the walk-in (the outbox row's payload) is handed to
the service worker through the DevTools protocol (ServiceWorker.deliverPushMessage),
unencrypted, and the notification it shows is read back (getNotifications). The
encryption and the VAPID signature of real deliveries are checked against a local fake
push service in tests/test_push_delivery.py. A tap on the notification (openWindow)
cannot be simulated in headless Chromium and is not tested here.
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
from tests.browser.test_role_homes import assert_no_horizontal_scroll, choose_language, sign_in, wait_until_settled
from tests.fakes.gcm_server import local_gcm_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RESIDENT = "resident@greenpark.test"  # Tunde Bakare, unit A12


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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


def _walk_in_push(db, browser_database_url, subscription_id: int) -> str:
    """A walk-in for unit A12 made by the demo guard through the portal's own service (in an
    app of this process, on the live server's database): the body of the PUSH message it
    wrote for this browser's subscription."""
    from portal import create_app
    from portal.extensions import db as portal_db
    from portal.gate import walkins
    from portal.models import Estate, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": browser_database_url, "DEV_MODE": True, "TESTING": True,
                      "MESSAGE_DELIVERY": "portal.integrations.delivery:dev"})
    with app.app_context():
        guard = portal_db.session.scalar(sa.select(User).where(User.email == "guard@greenpark.test"))
        estate = portal_db.session.scalar(sa.select(Estate).where(Estate.slug == "greenpark"))
        walkins.create_walk_in(guard, estate, walkins.WalkInData(visitor_name="Chidi Okeke", unit_number="A12",
                                                                 gate="Main gate"), datetime.now(UTC))
        portal_db.session.remove()
        portal_db.engine.dispose()
    with db.begin() as conn:
        return conn.execute(sa.text("SELECT body FROM outbox_message WHERE channel = 'PUSH' AND recipient = :id "
                                    "ORDER BY id DESC LIMIT 1"), {"id": str(subscription_id)}).scalar_one()


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
                                                               browser_database_url):
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

    # The service worker shows the walk-in request the server wrote for this device.
    payload = _walk_in_push(db, browser_database_url, row.id)
    cdp = phone_profile.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    root = next(r for r in registrations if r["scopeURL"] == f"{live_server}/" and not r["isDeleted"])
    cdp.send("ServiceWorker.deliverPushMessage",
             {"origin": live_server, "registrationId": root["registrationId"], "data": payload})
    [shown] = _notifications(page)
    sent = json.loads(payload)
    assert shown["title"] == "A visitor at the gate asks to see you"
    assert shown["body"] == "Chidi Okeke is at Main gate and asks to see unit A12. Approve or decline."
    assert shown["icon"] == f"{live_server}/static/img/icon-192.png" and shown["tag"] == sent["tag"]
    assert shown["actions"] == [{"action": "approve", "title": "Approve"}, {"action": "decline", "title": "Decline"}]
    link = sent["url"]
    assert link.startswith("/e/greenpark/home/walk-ins/")
    assert shown["data"]["links"] == {"default": link, "approve": f"{link}?answer=approve",
                                      "decline": f"{link}?answer=decline"}

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
