"""Web push, the device side: turning notifications on and off (the subscription
endpoints refuse bad input with translated messages, and anyone else's device), the
control on the profile and notifications pages, the service worker at /sw.js, the VAPID
keys (configuration, the DEV key file, the production check, the generate command)."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from portal import config as config_module
from portal import create_app
from portal.config import ConfigError
from portal.integrations import push
from portal.models import AuditLog, PushSubscription, Role
from tests.fakes.push_service import Browser
from tests.test_profile import CHROME_ANDROID

ENDPOINT = "https://fcm.googleapis.com/fcm/send/device-token-1"


def subscription(endpoint: str = ENDPOINT, browser: Browser | None = None, **keys) -> dict:
    """What a browser's PushSubscription.toJSON() gives."""
    return {"endpoint": endpoint, "expirationTime": None, "keys": {**(browser or Browser()).keys, **keys}}


@pytest.fixture
def people(make):
    estate = make.estate("alpha", name="Alpha Court")
    return {
        "ana": make.user("ana@example.test", estate=estate, role=Role.RESIDENT, full_name="Ana Okafor"),
        "rosa": make.user("rosa@example.test", estate=estate, role=Role.RESIDENT, full_name="Rosa Pérez",
                          preferred_language="es"),
        "estate": estate,
    }


def _on(client, body, **headers):
    return client.post("/account/push/subscription", json={"subscription": body},
                       headers={"User-Agent": CHROME_ANDROID, **headers})


def _rows(dbs) -> list[PushSubscription]:
    with dbs() as s:
        rows = list(s.scalars(sa.select(PushSubscription).order_by(PushSubscription.id)))
        s.expunge_all()
        return rows


def _actions(dbs) -> list[str]:
    with dbs() as s:
        return list(s.scalars(sa.select(AuditLog.action).where(AuditLog.action.like("push.%")).order_by(AuditLog.id)))


# --- turning it on and off -----------------------------------------------------------------


def test_turning_notifications_on_stores_this_device(client, people, login, dbs):
    login("ana@example.test")
    browser = Browser()
    answer = _on(client, subscription(browser=browser))
    assert answer.status_code == 200
    assert answer.get_json() == {"ok": True, "state": "on", "endpoint": ENDPOINT,
                                 "message": "Notifications are on for this device."}
    [row] = _rows(dbs)
    assert (row.user_id, row.estate_id, row.endpoint) == (people["ana"].id, people["estate"].id, ENDPOINT)
    assert (row.p256dh, row.auth) == (browser.keys["p256dh"], browser.keys["auth"])
    assert row.device_label == "Chrome · Android" and "Pixel 8" in row.user_agent
    assert row.failure_count == 0 and row.last_success_at is None

    assert _on(client, subscription(browser=browser)).status_code == 200  # the same again: nothing new
    renewed = Browser()
    assert _on(client, subscription(browser=renewed)).status_code == 200  # new keys for the same endpoint
    [row] = _rows(dbs)
    assert row.p256dh == renewed.keys["p256dh"]
    assert _actions(dbs) == ["push.subscribed", "push.subscription_renewed"]

    page = client.get("/account/").get_data(as_text=True)
    assert "Chrome · Android" in page and 'id="push-devices"' in page
    off = client.post("/account/push/subscription/delete", json={"endpoint": ENDPOINT})
    assert off.status_code == 200 and off.get_json()["state"] == "off"
    assert _rows(dbs) == [] and _actions(dbs)[-1] == "push.unsubscribed"


BAD = [
    ("no subscription", None, "The browser sent no push address. Try again.",
     "El navegador no envió ninguna dirección de notificaciones. Inténtelo de nuevo."),
    ("no endpoint", {"keys": Browser().keys}, "The browser sent no push address. Try again.",
     "El navegador no envió ninguna dirección de notificaciones. Inténtelo de nuevo."),
    ("not a web address", subscription("mailto:someone@example.test"),
     "The browser sent a push address that is not a web address.",
     "El navegador envió una dirección de notificaciones que no es una dirección web."),
    ("no keys", {"endpoint": ENDPOINT}, "The browser sent no encryption keys for notifications.",
     "El navegador no envió las claves de cifrado de las notificaciones."),
    ("no auth", {"endpoint": ENDPOINT, "keys": {"p256dh": Browser().keys["p256dh"]}},
     "The browser sent no encryption keys for notifications.",
     "El navegador no envió las claves de cifrado de las notificaciones."),
    ("a key off the curve", subscription(p256dh="BA" + "A" * 85),
     "The browser's encryption keys for notifications are not valid.",
     "Las claves de cifrado de las notificaciones del navegador no son válidas."),
    ("a short auth secret", subscription(auth="AAAA"),
     "The browser's encryption keys for notifications are not valid.",
     "Las claves de cifrado de las notificaciones del navegador no son válidas."),
    ("keys that are not text", subscription(p256dh=["x"]), "The browser sent no encryption keys for notifications.",
     "El navegador no envió las claves de cifrado de las notificaciones."),
]


@pytest.mark.parametrize(("case", "body", "english", "spanish"), BAD, ids=[c[0] for c in BAD])
def test_a_bad_subscription_is_refused_in_the_users_language(app, client, people, login, dbs, case, body, english,
                                                             spanish):
    login("ana@example.test")
    answer = _on(client, body)
    assert answer.status_code == 422 and answer.get_json()["ok"] is False
    assert answer.get_json()["message"].startswith(english)
    rosa = app.test_client()
    login("rosa@example.test", as_client=rosa)  # prefers Spanish
    answer = _on(rosa, body)
    assert answer.status_code == 422 and answer.get_json()["message"].startswith(spanish)
    assert _rows(dbs) == [] and _actions(dbs) == []


def test_a_body_that_is_not_json_is_refused_without_an_error(client, people, login, dbs):
    login("ana@example.test")
    for body in ("not json", "[1, 2]", '{"subscription": "x"}'):
        answer = client.post("/account/push/subscription", data=body, content_type="application/json")
        assert answer.status_code == 422, body
    assert client.post("/account/push/subscription/delete", data="[]", content_type="application/json"
                       ).status_code == 422
    assert _rows(dbs) == []


def test_outside_dev_mode_the_push_address_must_be_https_and_not_local(app, client, people, login, dbs):
    app.config.update(DEV_MODE=False, VAPID_PUBLIC_KEY=(pair := push.generate_keys())[0], VAPID_PRIVATE_KEY=pair[1])
    login("ana@example.test")
    answer = _on(client, subscription("http://push.example.test/send/1"))
    assert answer.status_code == 422
    assert answer.get_json()["message"].startswith("The browser sent a push address that is not secure (https).")
    for local in ("https://127.0.0.1/push/1", "https://localhost:8443/push/1", "https://10.0.0.5/push/1",
                  "https://[::1]/push/1"):
        assert _on(client, subscription(local)).status_code == 422, local
    assert _rows(dbs) == []
    assert _on(client, subscription()).status_code == 200
    assert [r.endpoint for r in _rows(dbs)] == [ENDPOINT]


def test_in_dev_mode_a_local_fake_push_service_is_allowed(client, people, login, dbs):
    login("ana@example.test")
    assert _on(client, subscription("http://127.0.0.1:9/push/dev")).status_code == 200


def test_someone_elses_device_is_refused(client, people, login, dbs, app):
    login("ana@example.test")
    assert _on(client, subscription()).status_code == 200
    [anas] = _rows(dbs)
    other = app.test_client()
    login("rosa@example.test", as_client=other)
    taken = other.post("/account/push/subscription", json={"subscription": subscription()})
    assert taken.status_code == 409
    assert taken.get_json()["message"] == ("Las notificaciones de este dispositivo están activadas para otra cuenta. "
                                           "Desactívelas allí primero.")
    gone = other.post("/account/push/subscription/delete", json={"endpoint": ENDPOINT})
    assert gone.status_code == 404 and gone.get_json()["code"] == "NOT_FOUND"
    assert "no está entre los suyos" in gone.get_json()["message"]
    assert other.post(f"/account/push/devices/{anas.id}/remove").status_code == 404
    [row] = _rows(dbs)
    assert (row.id, row.user_id) == (anas.id, people["ana"].id)
    assert _actions(dbs) == ["push.subscribed"]


def test_a_device_is_removed_from_the_list(client, people, login, dbs):
    login("ana@example.test")
    _on(client, subscription())
    [row] = _rows(dbs)
    answer = client.post(f"/account/push/devices/{row.id}/remove")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/#push")
    assert _rows(dbs) == [] and _actions(dbs) == ["push.subscribed", "push.device_removed"]
    assert "That device will no longer get notifications." in client.get("/account/").get_data(as_text=True)


def test_the_subscription_endpoints_need_the_csrf_token(app, client, people, login, dbs):
    login("ana@example.test")
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/account/").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    assert _on(client, subscription()).status_code == 400
    assert _rows(dbs) == []
    assert _on(client, subscription(), **{"X-CSRFToken": token}).status_code == 200
    assert client.post("/account/push/subscription/delete", json={"endpoint": ENDPOINT}).status_code == 400
    assert len(_rows(dbs)) == 1


def test_signed_out_nobody_can_subscribe(client, people, dbs):
    answer = _on(client, subscription())
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert _rows(dbs) == []


def test_a_user_keeps_at_most_twenty_devices(client, people, login, dbs):
    login("ana@example.test")
    for n in range(21):
        assert _on(client, subscription(f"{ENDPOINT}-{n}")).status_code == 200
    rows = _rows(dbs)
    assert len(rows) == 20 and f"{ENDPOINT}-0" not in {r.endpoint for r in rows}


# --- the pages -----------------------------------------------------------------------------


def test_the_profile_and_notifications_pages_have_the_control(client, people, login):
    login("ana@example.test")
    _on(client, subscription())
    with client.application.app_context():
        key = push.public_key()
    for path in ("/account/", "/account/notifications"):
        page = client.get(path).get_data(as_text=True)
        control = re.search(r"<section class=\"push-control\"[^>]*>", page).group(0)
        assert f'data-key="{key}"' in control and 'data-sw="/sw.js"' in control
        assert f"data-endpoints='[\"{ENDPOINT}\"]'" in control
        assert "Turn on notifications on this device" in page and "Turn off" in page
    assert '<script src="/static/js/push.js" defer>' in page
    rosa = client.application.test_client()
    login("rosa@example.test", as_client=rosa)
    page = rosa.get("/account/").get_data(as_text=True)
    assert "Activar notificaciones en este dispositivo" in page and "data-endpoints='[]'" in page
    assert "Ningún dispositivo recibe notificaciones todavía." in page


def test_with_push_off_there_is_no_control_and_no_subscription(app, client, people, login, dbs):
    app.config["PUSH_ENABLED"] = False
    login("ana@example.test")
    assert "data-push-control" not in client.get("/account/").get_data(as_text=True)
    answer = _on(client, subscription())
    assert answer.status_code == 409 and answer.get_json()["code"] == "PUSH_OFF"
    assert _rows(dbs) == []


def test_a_walk_in_page_opened_from_a_notification_button_gets_that_answer_ready(app, client, estate_pair, login):
    from datetime import UTC, datetime

    from portal.extensions import db
    from portal.gate import walkins
    from portal.models import Estate, User

    with app.app_context():
        guard = db.session.scalar(sa.select(User).where(User.email == "guard@alpha.test"))
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
        walk_in_id = walkins.create_walk_in(guard, estate, walkins.WalkInData(visitor_name="Bola", unit_number="A1"),
                                            datetime.now(UTC)).id
    login("resident@alpha.test")
    plain = client.get(f"/e/alpha/home/walk-ins/{walk_in_id}").get_data(as_text=True)
    approve = client.get(f"/e/alpha/home/walk-ins/{walk_in_id}?answer=approve").get_data(as_text=True)
    decline = client.get(f"/e/alpha/home/walk-ins/{walk_in_id}?answer=decline").get_data(as_text=True)
    assert "autofocus" not in plain and '<details class="walkin-decline">' in plain
    assert re.search(rf'id="walkin-{walk_in_id}-approve" autofocus', approve)
    assert '<details class="walkin-decline" open>' in decline
    assert re.search(rf'id="walkin-{walk_in_id}-reason"[^>]*autofocus', decline)


def test_the_service_worker_is_served_at_the_root(client):
    answer = client.get("/sw.js")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    assert answer.headers["Service-Worker-Allowed"] == "/" and answer.headers["Cache-Control"] == "no-cache"
    script = answer.get_data(as_text=True)
    assert 'addEventListener("push"' in script and 'addEventListener("notificationclick"' in script
    assert "showNotification" in script and "openWindow" in script and 'addEventListener("fetch"' not in script
    policy = answer.headers["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert client.get("/static/img/icon-192.png").status_code == 200
    assert client.get("/static/img/badge-96.png").status_code == 200


# --- keys and configuration --------------------------------------------------------------


def test_generate_vapid_keys_prints_a_working_pair(app):
    result = app.test_cli_runner().invoke(args=["push", "generate-vapid-keys"])
    assert result.exit_code == 0, result.output
    values = dict(line.split("=", 1) for line in result.output.split())
    public, private = values["VAPID_PUBLIC_KEY"], values["VAPID_PRIVATE_KEY"]
    assert push.public_key_of(private) == public and len(push.b64decode(public)) == 65
    assert push.problem_with(public, private, "mailto:ops@example.test") is None
    again = app.test_cli_runner().invoke(args=["push", "generate-vapid-keys"]).output
    assert public not in again


def test_dev_mode_makes_a_key_pair_once_and_keeps_it(app, tmp_path):
    app.config.update(VAPID_KEYS_FILE=str(tmp_path / "keys" / "vapid-keys.json"), VAPID_PUBLIC_KEY="",
                      VAPID_PRIVATE_KEY="")
    with app.app_context():
        first = push.keys()
        push._dev_keys_cache.clear()  # another process: reads the file
        second = push.keys()
    assert first == second and first.subject == push.DEV_SUBJECT
    assert push.public_key_of(first.private_key) == first.public_key
    assert json.loads((tmp_path / "keys" / "vapid-keys.json").read_text())["public_key"] == first.public_key
    app.config["DEV_MODE"] = False
    with app.app_context():
        assert push.keys() is None  # outside DEV mode only configured keys are used
    public, private = push.generate_keys()
    app.config.update(VAPID_PUBLIC_KEY=public, VAPID_PRIVATE_KEY=private, VAPID_SUBJECT="mailto:ops@example.test")
    with app.app_context():
        assert push.keys() == push.VapidKeys(public, private, "mailto:ops@example.test")


PRODUCTION = {"ENV_NAME": "production", "SECRET_KEY": "a-real-secret", "DEV_MODE": False, "TESTING": True,
              "SQLALCHEMY_DATABASE_URI": "sqlite://", "INTEGRATION_KEYS": Fernet.generate_key().decode(),
              **config_module.flutterwave_settings(dev_mode=False)}


def test_production_wants_working_vapid_keys_when_push_is_on():
    public, private = push.generate_keys()
    other_public, _ = push.generate_keys()
    create_app(PRODUCTION)  # no keys, push not asked for: push is off
    assert create_app({**PRODUCTION, "PUSH_ENABLED": False}).config["PUSH_ENABLED"] is False
    with pytest.raises(ConfigError, match="set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY"):
        create_app({**PRODUCTION, "PUSH_ENABLED": True})
    with pytest.raises(ConfigError, match="VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY"):
        create_app({**PRODUCTION, "VAPID_PUBLIC_KEY": other_public, "VAPID_PRIVATE_KEY": private,
                    "VAPID_SUBJECT": "mailto:ops@example.test"})
    with pytest.raises(ConfigError, match="VAPID_PRIVATE_KEY is not a base64url-encoded 32-byte P-256 key"):
        create_app({**PRODUCTION, "VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": "not-a-key"})
    with pytest.raises(ConfigError, match="VAPID_SUBJECT must be a mailto: or https: contact"):
        create_app({**PRODUCTION, "VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private})
    app = create_app({**PRODUCTION, "VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private,
                      "VAPID_SUBJECT": "mailto:ops@example.test"})
    with app.app_context():
        assert push.public_key() == public
    # Outside production, configured keys are checked too; missing ones are made in DEV mode.
    with pytest.raises(ConfigError, match="does not belong"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "VAPID_PUBLIC_KEY": other_public,
                    "VAPID_PRIVATE_KEY": private})
