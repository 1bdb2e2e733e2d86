"""Message providers kept in the database (issue 10, point 6): values encrypted at rest
with INTEGRATION_KEYS and readable after a key rotation; the estate's providers replace
the platform's, which replace configuration; secrets never shown back in full, kept when
left empty, never in the audit trail; estate admins see neither another estate's
providers nor the platform's settings; a test message through one provider reaches a
real local SMTP server; the status page shows a failing provider's error."""

from __future__ import annotations

import html
import json

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from portal import config as config_module
from portal.extensions import db
from portal.integrations import keys, messaging, outbox, settings
from portal.models import (
    AuditLog,
    Estate,
    IntegrationSetting,
    MessageStatus,
    OutboxMessage,
    Role,
    User,
)
from tests.browser.conftest import _free_port
from tests.fakes.sms import FakeSmsServer
from tests.smtp_server import local_smtp, parts
from tests.test_spanish_pages import _assert_spanish

PLATFORM = "/enterprise/integrations"
SECRET = "TL-secret-key-0001-WXYZ"
TERMII = {"api_key": SECRET, "sender_id": "Gatehouse", "base_url": "https://api.ng.termii.com", "enabled": "y"}


def _add(client, base: str, kind: str, data: dict):
    return client.post(f"{base}/new?kind={kind}", data=data)


def _settings(dbs) -> list[IntegrationSetting]:
    with dbs() as s:
        rows = list(s.scalars(sa.select(IntegrationSetting).order_by(IntegrationSetting.id)))
        s.expunge_all()
        return rows


def _values(app, row: IntegrationSetting) -> dict:
    with app.app_context():
        return keys.decrypt(row.values_encrypted)


@pytest.fixture
def boss(make, login, client):
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    return client


# --- stored encrypted; key rotation ------------------------------------------------------------------


def test_values_are_stored_encrypted(app, boss, dbs):
    response = _add(boss, PLATFORM, "termii", TERMII)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    [row] = _settings(dbs)
    with dbs() as s:
        raw = s.execute(sa.text("SELECT * FROM integration_setting")).mappings().one()
    stored = json.dumps({k: str(v) for k, v in raw.items()})
    assert SECRET not in stored and "Gatehouse" not in stored  # every value is encrypted, not only secrets
    assert raw["values_encrypted"].startswith("gAAAAA")  # a Fernet token
    assert (row.channel.value, row.kind, row.estate_id, row.enabled, row.position) == ("SMS", "termii", None, True, 0)
    assert _values(app, row) == {"api_key": SECRET, "sender_id": "Gatehouse", "channel": "generic",
                                 "base_url": "https://api.ng.termii.com"}


def test_values_decrypt_after_key_rotation_and_the_rotate_command_reencrypts(app, boss, dbs):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["INTEGRATION_KEYS"] = old
    assert _add(boss, PLATFORM, "termii", TERMII).status_code == 302
    [row] = _settings(dbs)
    before = row.values_encrypted

    app.config["INTEGRATION_KEYS"] = f"{new}, {old}"  # a new key first; the old one still decrypts
    assert _values(app, row)["api_key"] == SECRET
    page = boss.get(f"{PLATFORM}/").get_data(as_text=True)
    assert "••••WXYZ" in page and "cannot be read" not in page

    result = app.test_cli_runner().invoke(args=["integrations", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "Provider settings encrypted with the first key: 1" in result.output
    [row] = _settings(dbs)
    assert row.values_encrypted != before
    app.config["INTEGRATION_KEYS"] = new  # the old key dropped: still readable
    assert _values(app, row)["api_key"] == SECRET
    app.config["INTEGRATION_KEYS"] = old  # and the old key alone no longer opens it
    with app.app_context(), pytest.raises(keys.UnreadableValues):
        keys.decrypt(row.values_encrypted)
    page = boss.get(f"{PLATFORM}/").get_data(as_text=True)
    assert "cannot be read with the current keys" in page  # said on the page, not a 500
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).where(AuditLog.action == "integration.keys_rotated")) == 1

    result = app.test_cli_runner().invoke(args=["integrations", "rotate-keys"])  # the row no key opens
    assert result.exit_code == 1 and f"opens the settings {row.id}" in result.output


def test_production_refuses_to_start_without_integration_keys():
    production = {"ENV_NAME": "production", "SECRET_KEY": "a-real-secret", "DEV_MODE": False,
                  "RATELIMIT_ENABLED": False}
    with pytest.raises(config_module.ConfigError, match="INTEGRATION_KEYS must be set"):
        config_module.check(production)
    config_module.check(dict(production, INTEGRATION_KEYS=Fernet.generate_key().decode()))
    with pytest.raises(config_module.ConfigError, match="key 2 is not a Fernet key"):
        config_module.check({"INTEGRATION_KEYS": f"{Fernet.generate_key().decode()},not-a-key"})


def test_without_integration_keys_a_key_derived_from_the_secret_key_is_used(app):
    app.config["INTEGRATION_KEYS"] = ""
    with app.app_context():
        token = keys.encrypt({"api_key": SECRET})
        assert keys.decrypt(token) == {"api_key": SECRET}
        app.config["SECRET_KEY"] = "another-secret"
        with pytest.raises(keys.UnreadableValues):
            keys.decrypt(token)


# --- which providers a message uses ---------------------------------------------------------------------


def _store(app, estate_id, channel, kind, values, *, enabled=True, position=0, name="") -> int:
    with app.app_context():
        row = IntegrationSetting(estate_id=estate_id, channel=channel, kind=kind, values_encrypted=keys.encrypt(values),
                                 enabled=enabled, position=position, name=name)
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.mark.real_commits  # providers() reads in a session of its own, as the worker does
def test_the_estates_providers_win_over_the_platforms_which_win_over_configuration(app, make):
    alpha, beta = make.estate("alpha"), make.estate("beta")
    app.config["SMS_PROVIDERS"] = json.dumps([{"kind": "termii", "api_key": "from-config", "sender_id": "Cfg"}])
    app.config.update(MAIL_SERVER="mail.config.test", MAIL_PORT=2525)

    def used(channel, estate_id):
        with app.app_context():
            return [(p.scope, p.kind, p.id) for p in settings.providers(channel, estate_id)]

    assert used("SMS", alpha.id) == [("config", "termii", None)]
    assert used("EMAIL", alpha.id) == [("config", "smtp", None)]
    twilio = _store(app, None, "SMS", "twilio", {"account_sid": "AC" + "0" * 32, "auth_token": "t" * 32,
                                                "from_number": "+15005550006"}, position=1)
    termii = _store(app, None, "SMS", "termii", {"api_key": "platform-key", "sender_id": "Gate"}, position=0)
    off = _store(app, None, "SMS", "http", {"url": "https://sms.example/send"}, enabled=False, position=2)
    assert used("SMS", alpha.id) == [("platform", "termii", termii), ("platform", "twilio", twilio)]
    assert used("SMS", None) == [("platform", "termii", termii), ("platform", "twilio", twilio)]
    own = _store(app, alpha.id, "SMS", "http", {"url": "https://alpha.example/sms"})
    assert used("SMS", alpha.id) == [("estate", "http", own)]
    assert used("SMS", beta.id) == [("platform", "termii", termii), ("platform", "twilio", twilio)]
    assert used("EMAIL", alpha.id) == [("config", "smtp", None)]  # an SMS override says nothing of email
    with app.app_context():
        db.session.execute(sa.update(IntegrationSetting).where(IntegrationSetting.id == own).values(enabled=False))
        db.session.execute(sa.update(IntegrationSetting).where(IntegrationSetting.estate_id.is_(None))
                           .values(enabled=False))
        db.session.commit()
    assert used("SMS", alpha.id) == [("config", "termii", None)]  # nothing enabled stored: configuration
    with settings.pinned(off), app.app_context():
        [pinned] = settings.providers("SMS", alpha.id)
        assert (pinned.id, pinned.values["url"]) == (off, "https://sms.example/send")  # a test: that one, even off
        assert settings.providers("EMAIL", alpha.id) == []


# --- the pages: secrets, validation, order ------------------------------------------------------------------


def test_a_secret_is_masked_in_the_page_and_kept_when_left_empty(app, boss, dbs):
    assert _add(boss, PLATFORM, "termii", TERMII).status_code == 302
    [row] = _settings(dbs)
    for path in (f"{PLATFORM}/", f"{PLATFORM}/{row.id}/edit", f"{PLATFORM}/status"):
        page = boss.get(path).get_data(as_text=True)
        assert SECRET not in page and SECRET[:-4] not in page, path
    edit = boss.get(f"{PLATFORM}/{row.id}/edit").get_data(as_text=True)
    assert "Stored: ••••WXYZ. Leave empty to keep it." in edit and 'value="Gatehouse"' in edit

    saved = boss.post(f"{PLATFORM}/{row.id}/edit", data={**TERMII, "api_key": "", "sender_id": "GateNew"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    [row] = _settings(dbs)
    assert _values(app, row) == {**_values(app, row), "api_key": SECRET, "sender_id": "GateNew"}
    assert boss.post(f"{PLATFORM}/{row.id}/edit", data={**TERMII, "api_key": "a-brand-new-key-9876"}).status_code == 302
    assert _values(app, _settings(dbs)[0])["api_key"] == "a-brand-new-key-9876"

    # An optional secret (an SMTP password) can be removed; a bad value leaves it as it was.
    smtp = {"host": "smtp.example.test", "port": "587", "username": "gate", "password": "smtp-password-1234",
            "use_tls": "y", "from_address": "GreenPark <gate@greenpark.example>", "enabled": "y"}
    assert _add(boss, PLATFORM, "smtp", smtp).status_code == 302
    mail = _settings(dbs)[1]
    bad = boss.post(f"{PLATFORM}/{mail.id}/edit", data={**smtp, "password": "", "port": "70000"})
    assert bad.status_code == 422 and "Enter a whole number from 1 to 65535." in bad.get_data(as_text=True)
    assert "smtp-password-1234" not in bad.get_data(as_text=True)
    assert _values(app, _settings(dbs)[1])["password"] == "smtp-password-1234"
    cleared = boss.post(f"{PLATFORM}/{mail.id}/edit", data={**smtp, "password": "", "clear_password": "y"})
    assert cleared.status_code == 302
    assert "password" not in _values(app, _settings(dbs)[1])


@pytest.mark.parametrize("kind, data, field, message", [
    ("termii", {**TERMII, "api_key": ""}, "api_key", "This field is required."),
    ("termii", {**TERMII, "base_url": "ftp://x"}, "base_url", "Enter an address starting with https:// or http://."),
    ("termii", {**TERMII, "sender_id": "Gate-House!!"}, "sender_id", "Use at most 11 characters."),
    ("termii", {**TERMII, "sender_id": "G!"}, "sender_id", "Use 3 to 11 letters or digits."),
    ("twilio", {"account_sid": "AC123", "auth_token": "x" * 32, "from_number": "+15005550006"}, "account_sid",
     "A Twilio Account SID is AC followed by 32 letters and digits."),
    ("twilio", {"account_sid": "AC" + "a" * 32, "auth_token": "x" * 32, "from_number": "12"}, "from_number",
     "Enter a phone number in international format"),
    ("http", {"url": "https://sms.example/send", "method": "POST", "headers": "[1, 2]"}, "headers",
     "Enter a JSON object of names and texts"),
    ("http", {"url": "https://sms.example/send", "method": "DELETE"}, "method", "Choose one of the options."),
    ("smtp", {"host": "smtp.example", "port": "587", "from_address": "not an address"}, "from_address",
     "Enter a valid email address"),
    ("smtp", {"host": "smtp.example", "port": "465", "from_address": "a@example.com", "use_tls": "y", "use_ssl": "y"},
     "use_ssl", "Choose STARTTLS or TLS from the start, not both."),
])
def test_bad_values_are_refused_with_a_message_and_nothing_is_stored(boss, dbs, kind, data, field, message):
    response = _add(boss, PLATFORM, kind, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page and message in page
    assert _settings(dbs) == []


def test_validation_messages_and_the_pages_read_in_spanish(app, make, login, client):
    make.enterprise_admin("boss@example.test")
    client.post("/language", data={"lang": "es"})
    login("boss@example.test")
    response = _add(client, PLATFORM, "smtp", {"host": "", "port": "0", "from_address": "x"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Este campo es obligatorio." in page and "Escriba un número entero del 1 al 65535." in page
    _assert_spanish(response)
    assert _add(client, PLATFORM, "termii", TERMII).status_code == 302
    setting_id = db_id(app)
    for path in (f"{PLATFORM}/", f"{PLATFORM}/new", f"{PLATFORM}/new?kind=http", f"{PLATFORM}/status",
                 f"{PLATFORM}/{setting_id}/edit", f"{PLATFORM}/{setting_id}/test"):
        _assert_spanish(client.get(path))
    bad = client.post(f"{PLATFORM}/{setting_id}/test", data={"recipient": "12"})
    assert bad.status_code == 422 and "Escriba un número de teléfono en formato internacional" in bad.get_data(
        as_text=True)
    sent = client.post(f"{PLATFORM}/{setting_id}/test", data={"recipient": "+2348031234567"})
    _assert_spanish(client.get(sent.headers["Location"]))
    estate = make.estate("flores", name="Las Flores", country="GT")
    make.user("admin@flores.test", estate=estate, role=Role.ESTATE_ADMIN)
    admin = app.test_client()
    admin.post("/language", data={"lang": "es"})
    login("admin@flores.test", as_client=admin)
    for path in ("/e/flores/admin/integrations/", "/e/flores/admin/integrations/status",
                 "/e/flores/admin/integrations/new?kind=smtp"):
        _assert_spanish(admin.get(path))


def db_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(IntegrationSetting.id)))


def test_providers_are_reordered_turned_off_and_deleted_with_an_audit_record_without_secrets(app, boss, dbs):
    assert _add(boss, PLATFORM, "termii", TERMII).status_code == 302
    assert _add(boss, PLATFORM, "africastalking", {"username": "sandbox", "api_key": "AT-secret-api-key-5555",
                                                   "base_url": ""}).status_code == 302
    termii, at = _settings(dbs)
    assert (termii.position, at.position) == (0, 1)
    assert boss.post(f"{PLATFORM}/{at.id}/move", data={"direction": "up"}).status_code == 302
    assert [r.id for r in sorted(_settings(dbs), key=lambda r: r.position)] == [at.id, termii.id]
    page = boss.get(f"{PLATFORM}/").get_data(as_text=True)
    assert page.index(f'id="provider-{at.id}"') < page.index(f'id="provider-{termii.id}"')
    assert boss.post(f"{PLATFORM}/{termii.id}/enabled", data={"enabled": "0"}).status_code == 302
    assert not next(r for r in _settings(dbs) if r.id == termii.id).enabled
    assert 'hx-confirm="Delete Termii?' in page  # deleting asks first
    assert boss.post(f"{PLATFORM}/{termii.id}/delete").status_code == 302
    assert [r.id for r in _settings(dbs)] == [at.id]

    with dbs() as s:
        logs = list(s.scalars(sa.select(AuditLog).where(AuditLog.target_type == "IntegrationSetting")
                              .order_by(AuditLog.id)))
        s.expunge_all()
    assert [log.action for log in logs] == ["integration.created", "integration.created", "integration.moved",
                                           "integration.disabled", "integration.deleted"]
    assert logs[0].after["values"] == {"base_url": "https://api.ng.termii.com", "sender_id": "Gatehouse",
                                        "channel": "generic"}
    assert logs[0].after["secrets_set"] == ["api_key"] and logs[0].estate_id is None
    assert all(log.actor_user_id for log in logs)
    trail = json.dumps([[log.before, log.after] for log in logs])
    assert SECRET not in trail and "AT-secret-api-key-5555" not in trail and SECRET[-4:] not in trail


def test_an_update_is_audited_naming_the_changed_secret_not_its_value(app, boss, dbs):
    assert _add(boss, PLATFORM, "termii", TERMII).status_code == 302
    [row] = _settings(dbs)
    assert boss.post(f"{PLATFORM}/{row.id}/edit", data={**TERMII, "api_key": "replacement-key-4242"}).status_code == 302
    with dbs() as s:
        log = s.scalars(sa.select(AuditLog).where(AuditLog.action == "integration.updated")).one()
        before, after = log.before, log.after
    assert after["secrets_changed"] == ["api_key"] and before["secrets_set"] == ["api_key"]
    assert "replacement-key-4242" not in json.dumps([before, after]) and SECRET not in json.dumps([before, after])


def test_the_list_pages_run_a_constant_number_of_queries(app, boss, count_queries):
    boss.get(f"{PLATFORM}/")
    with count_queries() as few:
        assert boss.get(f"{PLATFORM}/").status_code == 200
    with count_queries() as few_status:
        assert boss.get(f"{PLATFORM}/status").status_code == 200
    for n in range(4):
        assert _add(boss, PLATFORM, "termii", {**TERMII, "name": f"Termii {n}"}).status_code == 302
    with count_queries() as many:
        assert boss.get(f"{PLATFORM}/").status_code == 200
    with count_queries() as many_status:
        assert boss.get(f"{PLATFORM}/status").status_code == 200
    assert many.count == few.count and many_status.count <= few_status.count + 1  # + the page's count


def test_a_list_holds_at_most_ten_providers_of_a_channel(boss, dbs):
    for _ in range(10):
        assert _add(boss, PLATFORM, "termii", TERMII).status_code == 302
    response = _add(boss, PLATFORM, "twilio", {"account_sid": "AC" + "a" * 32, "auth_token": "x" * 32,
                                               "from_number": "+15005550006"})
    assert response.status_code == 422 and "at most 10 providers" in response.get_data(as_text=True)
    assert len(_settings(dbs)) == 10


# --- estate admins ---------------------------------------------------------------------------------------------


def test_an_estate_admin_overrides_for_their_estate_and_sees_the_platforms_otherwise(app, estate_pair, make, login,
                                                                                   client, dbs):
    make.enterprise_admin("boss@example.test")
    boss = app.test_client()
    login("boss@example.test", as_client=boss)
    assert _add(boss, PLATFORM, "termii", {**TERMII, "name": "Platform Termii"}).status_code == 302
    login("admin@alpha.test")
    page = html.unescape(client.get("/e/alpha/admin/integrations/").get_data(as_text=True))
    assert "Using the platform's providers: Platform Termii." in page and SECRET[-4:] not in page
    response = _add(client, "/e/alpha/admin/integrations", "http", {
        "url": "https://alpha.example/sms", "method": "POST", "headers": '{"Authorization": "Bearer alpha-token-77"}',
        "enabled": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    page = client.get("/e/alpha/admin/integrations/").get_data(as_text=True)
    assert "This estate uses its own providers" in page and "alpha-token-77" not in page
    own = next(r for r in _settings(dbs) if r.estate_id)
    assert own.estate_id == estate_pair.alpha.estate.id
    with dbs() as s:
        log = s.scalars(sa.select(AuditLog).where(AuditLog.action == "integration.created",
                                                  AuditLog.target_id == own.id)).one()
        assert log.estate_id == estate_pair.alpha.estate.id and "alpha-token-77" not in json.dumps(log.after)
    # The platform's list does not show an estate's override; the enterprise status page does.
    assert "alpha.example" not in boss.get(f"{PLATFORM}/").get_data(as_text=True)
    assert f'id="status-{own.id}"' in boss.get(f"{PLATFORM}/status").get_data(as_text=True)


def test_an_estate_admin_can_neither_see_nor_change_another_estates_or_the_platforms_settings(
        app, estate_pair, make, login, client, dbs):
    alpha, beta = estate_pair.alpha, estate_pair.beta
    platform = _store(app, None, "SMS", "termii", {"api_key": SECRET, "sender_id": "Gate"})
    betas = _store(app, beta.estate.id, "EMAIL", "smtp", {"host": "smtp.beta.test", "port": "25",
                                                          "from_address": "gate@beta.test", "password": "beta-pw-1234"})
    login("admin@alpha.test")
    assert client.get(f"{PLATFORM}/").status_code == 403
    assert client.post(f"{PLATFORM}/{platform}/delete").status_code == 403
    assert client.get(f"{PLATFORM}/status").status_code == 403
    for setting_id in (platform, betas):
        base = f"/e/alpha/admin/integrations/{setting_id}"
        assert client.get(f"{base}/edit").status_code == 404
        assert client.post(f"{base}/edit", data={"host": "evil.test", "port": "25"}).status_code == 404
        assert client.post(f"{base}/delete").status_code == 404
        assert client.post(f"{base}/enabled", data={"enabled": "0"}).status_code == 404
        assert client.post(f"{base}/move", data={"direction": "up"}).status_code == 404
    assert client.get(f"/e/alpha/admin/integrations/{betas}/test").status_code == 404
    assert client.post(f"/e/alpha/admin/integrations/{betas}/test", data={"recipient": "x@y.test"}).status_code == 404
    assert client.get(f"/e/beta/admin/integrations/{betas}/edit").status_code == 404  # not a member of beta
    assert len(_settings(dbs)) == 2 and all(r.enabled for r in _settings(dbs))
    page = client.get("/e/alpha/admin/integrations/status").get_data(as_text=True)
    assert "smtp.beta.test" not in page and f'id="status-{betas}"' not in page
    # The platform's provider is what alpha's SMS use: alpha may test it, until alpha has its own.
    assert f'id="test-{platform}"' in page
    assert client.get(f"/e/alpha/admin/integrations/{platform}/test").status_code == 200
    _store(app, alpha.estate.id, "SMS", "http", {"url": "https://alpha.example/sms"})
    assert client.get(f"/e/alpha/admin/integrations/{platform}/test").status_code == 404
    # A guard of the estate gets no further than a 403.
    guard = app.test_client()
    login("guard@alpha.test", as_client=guard)
    assert guard.get("/e/alpha/admin/integrations/").status_code == 403


# --- test messages and the status page -----------------------------------------------------------------------


@pytest.fixture
def smtp(app):
    with local_smtp(refuse=("nobody@example.test",)) as inbox:
        app.config.update(MAIL_SERVER="", MESSAGE_DELIVERY="portal.integrations.delivery:queue")  # jobs run at once
        yield inbox


@pytest.mark.real_commits
def test_a_test_message_goes_through_the_stored_smtp_server_and_the_page_shows_how_it_went(app, boss, smtp, dbs):
    response = _add(boss, PLATFORM, "smtp", {
        "host": "127.0.0.1", "port": str(smtp.port), "username": "", "password": "",
        "from_address": "Gatehouse Platform <platform@gatehouse.example>", "enabled": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    [setting] = _settings(dbs)
    status = boss.get(f"{PLATFORM}/status").get_data(as_text=True)
    assert f'href="{PLATFORM}/{setting.id}/test"' in status
    form = boss.get(f"{PLATFORM}/{setting.id}/test").get_data(as_text=True)
    assert 'value="boss@example.test"' in form  # the admin's own address by default

    bad = boss.post(f"{PLATFORM}/{setting.id}/test", data={"recipient": "not-an-address"})
    assert bad.status_code == 422 and "Enter a valid email address." in bad.get_data(as_text=True)
    sent = boss.post(f"{PLATFORM}/{setting.id}/test", data={"recipient": "ops@example.test"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:800]
    [mail] = smtp.wait_for(1)
    assert smtp.envelopes == [("platform@gatehouse.example", ["ops@example.test"])]
    assert mail["From"] == "Gatehouse Platform <platform@gatehouse.example>"
    assert mail["Subject"] == "Gatehouse test message"
    text, _html = parts(mail)
    assert "sent through SMTP server at the request of" in text and "sent a test message to this address" in text

    page = boss.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'data-status="SENT"' in page and f"SMTP#{setting.id}" in page and 'hx-trigger="every 2s"' not in page
    fragment = boss.get(sent.headers["Location"], headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="test-outcome"') and "<html" not in fragment
    [row] = _settings(dbs)
    assert row.last_success_at is not None and row.last_failure_at is None
    with dbs() as s:
        message = s.scalars(sa.select(OutboxMessage)).one()
        assert (message.provider_setting_id, message.reason, message.status) == (setting.id, "integration_test",
                                                                                 MessageStatus.SENT)
        log = s.scalars(sa.select(AuditLog).where(AuditLog.action == "integration.test_sent")).one()
        assert log.after["recipient"] == "ops@example.test" and log.target_id == setting.id


@pytest.mark.real_commits
def test_a_waiting_test_message_polls_and_a_deleted_providers_test_fails(app, boss, dbs):
    app.config["MESSAGE_DELIVERY"] = "portal.integrations.delivery:dev"  # nobody delivers yet
    assert _add(boss, PLATFORM, "smtp", {"host": "127.0.0.1", "port": "25", "from_address": "a@example.com",
                                         "enabled": "y"}).status_code == 302
    [setting] = _settings(dbs)
    sent = boss.post(f"{PLATFORM}/{setting.id}/test", data={"recipient": "ops@example.test"})
    page = boss.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'data-status="QUEUED"' in page and 'hx-trigger="every 2s"' in page
    assert boss.post(f"{PLATFORM}/{setting.id}/delete").status_code == 302
    with dbs() as s:
        message_id = s.scalar(sa.select(OutboxMessage.id))
    with app.app_context():
        assert outbox.deliver(message_id).status == "FAILED"
    page = boss.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'data-status="FAILED"' in page and outbox.GONE in page


@pytest.mark.real_commits
def test_the_status_page_shows_a_failing_providers_error_and_the_next_one_delivers(app, estate_pair, make, login,
                                                                                   client, smtp, dbs):
    make.enterprise_admin("boss@example.test")
    boss = app.test_client()
    login("boss@example.test", as_client=boss)
    closed = _free_port()  # nothing listens there
    down = _store(app, None, "EMAIL", "smtp", {"host": "127.0.0.1", "port": str(closed), "from_address": "a@example.com",
                                               "password": "down-secret-5678"}, position=0, name="Primary")
    up = _store(app, None, "EMAIL", "smtp", {"host": "127.0.0.1", "port": str(smtp.port),
                                             "from_address": "backup@example.com"}, position=1, name="Backup")
    with app.app_context():
        messaging.send_email("ada@example.test", "Hello", "Hi", estate=db.session.get(Estate, estate_pair.alpha.estate.id))
        db.session.commit()
    [mail] = smtp.wait_for(1)
    assert smtp.envelopes == [("backup@example.com", ["ada@example.test"])]
    with dbs() as s:
        message = s.scalars(sa.select(OutboxMessage)).one()
        assert (message.status, message.provider) == (MessageStatus.SENT, f"SMTP#{up}")
    rows = {r.id: r for r in _settings(dbs)}
    assert rows[down].last_failure_at and "refused" in rows[down].last_error.lower()
    assert rows[down].last_failure_estate_id == estate_pair.alpha.estate.id and rows[up].last_success_at

    status = boss.get(f"{PLATFORM}/status").get_data(as_text=True)
    row_html = status[status.index(f'id="status-{down}"'):status.index(f'id="status-{up}"')]
    assert "refused" in row_html.lower() and "Never" in row_html  # no success yet, the error shown
    # Alpha's admin (alpha's message failed) sees the error; beta's admin only that there was one.
    login("admin@alpha.test")
    assert "connection refused" in client.get("/e/alpha/admin/integrations/status").get_data(as_text=True).lower()
    beta = app.test_client()
    login("admin@beta.test", as_client=beta)
    page = beta.get("/e/beta/admin/integrations/status").get_data(as_text=True)
    assert "connection refused" not in page.lower() and "with another estate's message" in html.unescape(page)


def test_an_error_never_stores_the_providers_secret(app):
    setting = settings.ProviderSettings(kind="termii", values={"api_key": SECRET, "sender_id": "Gate"}, id=None)
    assert settings.scrub(f"403 for https://api.ng.termii.com/?api_key={SECRET}", setting) == \
        "403 for https://api.ng.termii.com/?api_key=••••"


def test_estate_admin_sends_a_test_sms_to_their_own_phone_by_default(app, estate_pair, make, login, client, dbs):
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == "admin@alpha.test").values(phone="+2348031234567"))
        db.session.commit()
    own = _store(app, estate_pair.alpha.estate.id, "SMS", "termii", {"api_key": SECRET, "sender_id": "Alpha"})
    login("admin@alpha.test")
    form = client.get(f"/e/alpha/admin/integrations/{own}/test").get_data(as_text=True)
    assert 'value="+2348031234567"' in form
    sent = client.post(f"/e/alpha/admin/integrations/{own}/test", data={"recipient": "0803 123 4568"})
    assert sent.status_code == 302  # a national number of the estate's country
    with dbs() as s:
        message = s.scalars(sa.select(OutboxMessage)).one()
        assert (message.channel, message.recipient, message.estate_id, message.provider_setting_id) == (
            "SMS", "+2348031234568", estate_pair.alpha.estate.id, own)
    assert client.get(sent.headers["Location"]).status_code == 200
    beta = app.test_client()
    login("admin@beta.test", as_client=beta)
    assert beta.get(sent.headers["Location"].replace("/alpha/", "/beta/")).status_code == 404



@pytest.mark.real_commits
def test_a_stored_termii_delivers_real_sms_and_a_test_message_uses_only_its_own_provider(app, estate_pair, make,
                                                                                           login, client, dbs):
    """The provider pages and the SMS clients together: an estate's stored gateways carry its
    messages in order, and a test message through the second one skips the first."""
    app.config.update(MESSAGE_DELIVERY="portal.integrations.delivery:inline", SMS_PROVIDERS="")
    alpha = estate_pair.alpha.estate.id
    with FakeSmsServer("termii", api_key=SECRET).start() as first, \
            FakeSmsServer("africastalking", api_key="AT-key-0000", username="alpha").start() as second:
        one = _store(app, alpha, "SMS", "termii", {"api_key": SECRET, "sender_id": "Alpha", "base_url": first.url},
                     position=0)
        two = _store(app, alpha, "SMS", "africastalking", {"username": "alpha", "api_key": "AT-key-0000",
                                                           "base_url": second.url}, position=1)
        with app.app_context():
            messaging.send_sms("+2348031234567", "Your visitor has arrived", estate=db.session.get(Estate, alpha))
            db.session.commit()
        [request] = first.wait_for(1)
        assert request.json["sms"] == "Your visitor has arrived" and request.json["from"] == "Alpha"
        assert second.requests == []

        login("admin@alpha.test")
        sent = client.post(f"/e/alpha/admin/integrations/{two}/test", data={"recipient": "+2348031234568"})
        assert sent.status_code == 302, sent.get_data(as_text=True)[:800]
        [test_sms] = second.wait_for(1)
        assert test_sms.form["to"] == "+2348031234568"
        assert len(first.requests) == 1  # the pinned test never went through the first gateway
        assert 'data-status="SENT"' in client.get(sent.headers["Location"]).get_data(as_text=True)
    rows = {r.id: r for r in _settings(dbs)}
    assert rows[one].last_success_at and rows[two].last_success_at
