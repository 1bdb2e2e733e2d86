"""SMS delivery through real provider clients talking to local fake gateways
(tests/fakes/sms.py) that speak each provider's HTTP API: Termii, Africa's Talking, Twilio
(its official SDK) and a generic HTTP gateway; failover across an estate's providers;
sign-in codes on their short retry schedule; what the person waiting for a code sees.

Delivery runs inline after a real commit (MESSAGE_DELIVERY inline): `real_commits`."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal import jobs
from portal.extensions import db
from portal.integrations import messaging, outbox, settings
from portal.integrations.outbox import ProviderError
from portal.integrations.settings import ProviderSettings
from portal.integrations.sms import FailoverSms, sms_kinds
from portal.integrations.sms.africastalking import SANDBOX_BASE_URL, AfricasTalkingClient
from portal.integrations.sms.generic_http import GenericHttpClient
from portal.models import Estate, MessageStatus, OutboxMessage, Role, utcnow
from tests.fakes.sms import FakeSmsServer

pytestmark = pytest.mark.real_commits

PHONE = "+2348031234567"
UNKNOWN = "+2348039999999"
FAILURE_EN = "We could not send a text message to {phone} right now. Try again in a few minutes or sign in with your email."
FAILURE_ES = ("No pudimos enviar un mensaje de texto al {phone} en este momento. Inténtelo de nuevo en unos "
              "minutos o inicie sesión con su correo electrónico.")
SENT_EN = "The text message is on its way. It can take a minute to arrive."


@pytest.fixture
def fakes():
    """`fakes("termii")`: a started fake gateway of that kind, stopped after the test."""
    started: list[FakeSmsServer] = []

    def start(kind: str, **kwargs) -> FakeSmsServer:
        fake = FakeSmsServer(kind, **kwargs).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def outcomes(monkeypatch):
    """Every settings.record_outcome call, as (label, estate_id, ok, error)."""
    calls: list[tuple[str, int | None, bool, str]] = []

    def record(setting, estate_id, *, ok, error=""):
        calls.append((setting.label, estate_id, ok, error))

    monkeypatch.setattr(settings, "record_outcome", record)
    return calls


def configure(app, *providers: dict) -> None:
    """Real delivery: these providers in order, no DEV fallback, inline after the commit."""
    app.config.update(SMS_PROVIDERS=list(providers), DEV_MODE=False, SMS_TIMEOUT=0.5,
                      MESSAGE_DELIVERY="portal.integrations.delivery:inline")


def termii(fake: FakeSmsServer, **extra) -> dict:
    return {"kind": "termii", "base_url": fake.url, "api_key": fake.api_key, "sender_id": "Gatehouse", **extra}


def africastalking(fake: FakeSmsServer, **extra) -> dict:
    return {"kind": "africastalking", "base_url": fake.url, "username": fake.username, "api_key": fake.api_key,
            "sender_id": "GATEHOUSE", **extra}


def twilio(fake: FakeSmsServer, **extra) -> dict:
    return {"kind": "twilio", "base_url": fake.url, "account_sid": fake.account_sid,
            "auth_token": fake.auth_token, "from_number": "+15005550006", **extra}


def generic(fake: FakeSmsServer, **extra) -> dict:
    return {"kind": "http", "url": fake.url + "/v2/sms?to={to}", "method": "POST",
            "headers": json.dumps({"Authorization": f"Bearer {fake.api_key}"}),
            "body": '{"recipient": "{to}", "message": "{text}", "from": "{sender}"}',
            "sender_id": "Gatehouse", "message_id_path": "data.id", **extra}


def _sms(app, recipient: str = PHONE, body: str = "Hello", **about) -> int:
    with app.app_context():
        message_id = messaging.send_sms(recipient, body, **about).id
        db.session.commit()  # delivered inline after this commit
        return message_id


def _row(dbs, message_id: int | None = None, **where) -> OutboxMessage:
    with dbs() as s:
        query = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())
        if message_id is not None:
            query = query.where(OutboxMessage.id == message_id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        row = s.scalars(query.limit(1)).one()
        s.expunge(row)
        return row


def _due_now(dbs, message_id: int) -> None:
    with dbs() as s:
        s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
                  .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        s.commit()


def _deliver(app, message_id: int) -> outbox.Outcome:
    with app.app_context():
        return outbox.deliver(message_id)


def _code_in(text: str) -> str:
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found.group(1)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- phone sign-in by Termii ------------------------------------------------------------------


def test_a_phone_sign_in_code_is_delivered_by_termii_and_signs_the_person_in(app, client, make, dbs, fakes,
                                                                             outcomes):
    gateway = fakes("termii")
    configure(app, termii(gateway))
    make.user("ada@example.test", estate=make.estate(), role=Role.RESIDENT, phone=PHONE)

    response = client.post("/login/code", data={"phone": "0803 123 4567"})
    assert response.status_code == 302

    [sent] = gateway.requests
    assert (sent.method, sent.path) == ("POST", "/api/sms/send")
    body = sent.json
    assert {k: body[k] for k in ("to", "from", "type", "channel", "api_key")} == {
        "to": "2348031234567", "from": "Gatehouse", "type": "plain", "channel": "generic", "api_key": gateway.api_key}
    assert "Your Gatehouse sign-in code is" in body["sms"]
    code = _code_in(body["sms"])

    row = _row(dbs)
    assert (row.status, row.attempts, row.provider, row.reason) == (MessageStatus.SENT, 1, "termii", "sign_in_code")
    assert row.provider_message_id == "3000000000000000001" and row.last_error is None
    assert outcomes == [("termii", None, True, "")]

    page = client.get("/login/code/verify")
    assert SENT_EN in _text(page.get_data(as_text=True))
    assert code not in page.get_data(as_text=True)  # not DEV mode: the code is only in the SMS
    signed_in = client.post("/login/code/verify", data={"code": code})
    assert signed_in.status_code == 302 and "/login" not in signed_in.headers["Location"]


def test_termii_route_and_address_come_from_the_settings(app, dbs, fakes):
    gateway = fakes("termii")
    configure(app, termii(gateway, channel="dnd", base_url=gateway.url + "/"))
    message_id = _sms(app, body="Gate code 1234")
    assert gateway.requests[0].json["channel"] == "dnd" and gateway.requests[0].json["sms"] == "Gate code 1234"
    assert _row(dbs, message_id).status == MessageStatus.SENT


# --- failover ---------------------------------------------------------------------------------


def test_the_first_provider_failing_the_second_delivers(app, client, make, dbs, fakes, outcomes):
    first, second = fakes("termii").fail(500, {"message": "Internal Server Error"}), fakes("africastalking")
    configure(app, termii(first), africastalking(second))
    make.user("ada@example.test", estate=make.estate(), role=Role.RESIDENT, phone=PHONE)

    assert client.post("/login/code", data={"phone": PHONE}).status_code == 302

    assert len(first.requests) == 1 and len(second.requests) == 1
    code = _code_in(second.requests[0].form["message"])
    row = _row(dbs)
    assert (row.status, row.attempts, row.provider, row.last_error) == (
        MessageStatus.SENT, 1, "africastalking", None)
    assert row.provider_message_id.startswith("ATXid_")
    assert outcomes == [("termii", None, False, "HTTP 500: Internal Server Error"), ("africastalking", None, True, "")]
    assert client.post("/login/code/verify", data={"code": code}).status_code == 302


def test_every_provider_failing_a_sign_in_code_is_retried_after_10_and_30_seconds_then_failed(
        app, client, make, dbs, fakes, outcomes):
    down, slow = fakes("termii").fail(503, {"message": "Service Unavailable"}), fakes("twilio").hang(5)
    configure(app, termii(down), twilio(slow))
    make.user("ada@example.test", estate=make.estate(), role=Role.RESIDENT, phone=PHONE)

    before = utcnow()
    assert client.post("/login/code", data={"phone": PHONE}).status_code == 302
    row = _row(dbs)
    assert (row.status, row.attempts) == (MessageStatus.QUEUED, 1)
    assert row.last_error == "termii: HTTP 503: Service Unavailable; twilio: no answer within 0.5 s"
    assert before + timedelta(seconds=10) <= row.next_attempt_at <= utcnow() + timedelta(seconds=10)
    # A job of its own for the retry (the sweep runs only once a minute).
    scheduled = [t for t in jobs.get(app).huey.scheduled() if t.name == "deliver_message" and t.args == (row.id,)]
    assert len(scheduled) == 1

    # The person is told at once, while the retries go on.
    page = client.get("/login/code/verify").get_data(as_text=True)
    assert FAILURE_EN.format(phone=PHONE) in _text(page)
    assert 'hx-trigger="every 5s"' in page  # still asking: a retry may deliver it

    _due_now(dbs, row.id)
    assert _deliver(app, row.id) == outbox.Outcome("QUEUED", 2, _row(dbs, row.id).next_attempt_at)
    retry = _row(dbs, row.id)
    assert timedelta(seconds=29) <= retry.next_attempt_at - utcnow() <= timedelta(seconds=30)
    _due_now(dbs, row.id)
    assert _deliver(app, row.id).status == "FAILED"

    row = _row(dbs, row.id)
    assert (row.status, row.attempts, row.next_attempt_at, row.provider) == (
        MessageStatus.FAILED, 3, None, "termii, twilio")
    assert row.last_error == "termii: HTTP 503: Service Unavailable; twilio: no answer within 0.5 s"
    assert len(down.requests) == 3 and len(slow.requests) == 3
    assert [(label, ok) for label, _, ok, _ in outcomes] == [("termii", False), ("twilio", False)] * 3

    status = client.get("/login/code/status", headers={"HX-Request": "true"})
    html = status.get_data(as_text=True)
    assert FAILURE_EN.format(phone=PHONE) in _text(html)
    assert "hx-trigger" not in html  # final: no more asking
    spanish = client.get("/login/code/status", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert FAILURE_ES.format(phone=PHONE) in _text(spanish)


def test_a_sign_in_code_that_a_retry_delivers_shows_as_sent(app, client, make, dbs, fakes):
    gateway = fakes("termii").fail(502, times=1)
    configure(app, termii(gateway))
    make.user("ada@example.test", estate=make.estate(), role=Role.RESIDENT, phone=PHONE)
    client.post("/login/code", data={"phone": PHONE})
    row = _row(dbs)
    assert row.status == MessageStatus.QUEUED
    assert FAILURE_EN.format(phone=PHONE) in _text(client.get("/login/code/status").get_data(as_text=True))
    _due_now(dbs, row.id)
    assert _deliver(app, row.id).status == "SENT"
    html = client.get("/login/code/status").get_data(as_text=True)
    assert SENT_EN in _text(html) and "hx-trigger" not in html


def test_a_mix_of_refusals_and_outages_is_retried_but_refusals_everywhere_fail_at_once(app, dbs, fakes):
    refused, down = fakes("termii", api_key="the-right-key"), fakes("africastalking").fail(500)
    configure(app, termii(refused, api_key="a-wrong-key"), africastalking(down))
    mixed = _row(dbs, _sms(app))
    assert (mixed.status, mixed.attempts) == (MessageStatus.QUEUED, 1)

    down.reset()
    configure(app, termii(refused, api_key="a-wrong-key"), africastalking(down, api_key="also-wrong"))
    both = _row(dbs, _sms(app))
    assert (both.status, both.attempts) == (MessageStatus.FAILED, 1)
    assert both.last_error == ("termii: HTTP 401: Unauthorized: invalid api_key; "
                               "africastalking: HTTP 401: The supplied authentication is invalid")


def test_each_estate_uses_its_own_providers(app, make, dbs, fakes, outcomes, monkeypatch):
    alpha, beta = make.estate("alpha"), make.estate("beta")
    alpha_gateway, platform_gateway = fakes("termii"), fakes("africastalking")
    configure(app)
    asked = []

    def providers(channel, estate_id):
        asked.append((channel, estate_id))
        chosen = termii(alpha_gateway) if estate_id == alpha.id else africastalking(platform_gateway)
        values = {k: v for k, v in chosen.items() if k != "kind"}
        return [ProviderSettings(kind=chosen["kind"], values=values)]

    monkeypatch.setattr(settings, "providers", providers)
    with app.app_context():
        for estate_id in (alpha.id, beta.id):
            messaging.send_sms(PHONE, "Your visitor has arrived", estate=db.session.get(Estate, estate_id))
            db.session.commit()
    assert asked == [("SMS", alpha.id), ("SMS", beta.id)]
    assert len(alpha_gateway.requests) == 1 and len(platform_gateway.requests) == 1
    assert outcomes == [("termii", alpha.id, True, ""), ("africastalking", beta.id, True, "")]


def test_a_provider_with_incomplete_settings_is_skipped_with_a_clear_error(app, dbs, fakes, outcomes):
    gateway = fakes("http")
    configure(app, {"kind": "termii", "sender_id": "Gatehouse"}, {"kind": "nexmo"}, generic(gateway))
    row = _row(dbs, _sms(app))
    assert (row.status, row.provider) == (MessageStatus.SENT, "http")
    assert [(label, ok, error) for label, _, ok, error in outcomes] == [
        ("termii", False, "missing api_key"),
        ("nexmo", False, "unknown SMS provider kind 'nexmo' (known: termii, africastalking, twilio, http)"),
        ("http", True, "")]


# --- each provider ---------------------------------------------------------------------------


def test_twilio_messages_go_through_its_official_sdk_to_the_fake(app, dbs, fakes):
    gateway = fakes("twilio")
    configure(app, twilio(gateway))
    row = _row(dbs, _sms(app, "+50255551234", "Su código es 123456"))

    [request] = gateway.requests
    assert (request.method, request.path) == ("POST", f"/2010-04-01/Accounts/{gateway.account_sid}/Messages.json")
    assert request.header("User-Agent").startswith("twilio-python/")  # the SDK's own request
    assert request.header("Authorization").startswith("Basic ")
    assert request.form == {"To": "+50255551234", "From": "+15005550006", "Body": "Su código es 123456"}
    assert (row.status, row.provider) == (MessageStatus.SENT, "twilio")
    assert re.fullmatch(r"SM[0-9a-f]{32}", row.provider_message_id)


def test_twilio_can_send_through_a_messaging_service(app, dbs, fakes):
    gateway = fakes("twilio")
    configure(app, twilio(gateway, from_number="", messaging_service_sid="MG" + "1" * 32))
    assert _row(dbs, _sms(app)).status == MessageStatus.SENT
    assert gateway.requests[0].form["MessagingServiceSid"] == "MG" + "1" * 32


def test_africas_talking_delivers(app, dbs, fakes):
    gateway = fakes("africastalking")
    configure(app, africastalking(gateway))
    row = _row(dbs, _sms(app, body="Your visitor Halima has arrived"))

    [request] = gateway.requests
    assert (request.method, request.path) == ("POST", "/version1/messaging")
    assert request.header("apiKey") == gateway.api_key and request.header("Accept") == "application/json"
    assert request.form == {"username": gateway.username, "to": PHONE, "message": "Your visitor Halima has arrived",
                            "from": "GATEHOUSE"}
    assert (row.status, row.provider) == (MessageStatus.SENT, "africastalking")
    assert row.provider_message_id.startswith("ATXid_")


def test_africas_talking_refusing_the_number_is_permanent_and_a_risk_hold_is_not(app, fakes):
    gateway = fakes("africastalking").refuse_recipient(403, "InvalidPhoneNumber")
    client = AfricasTalkingClient(username=gateway.username, api_key=gateway.api_key, base_url=gateway.url)
    with pytest.raises(ProviderError, match="status 403 InvalidPhoneNumber") as refused:
        client.send(PHONE, "Hi")
    assert refused.value.permanent
    gateway.refuse_recipient(401, "RiskHold")
    with pytest.raises(ProviderError, match="status 401 RiskHold") as held:
        client.send(PHONE, "Hi")
    assert not held.value.permanent


def test_africas_talking_sandbox_username_uses_the_sandbox():
    assert AfricasTalkingClient(username="sandbox", api_key="k").base_url == SANDBOX_BASE_URL
    assert AfricasTalkingClient(username="gatehouse", api_key="k").base_url == "https://api.africastalking.com"


def test_a_generic_http_gateway_delivers(app, dbs, fakes):
    gateway = fakes("http")
    configure(app, generic(gateway))
    text = 'Code 123456 — "quoted"\nsecond line'
    row = _row(dbs, _sms(app, body=text))

    [request] = gateway.requests
    assert (request.method, request.path, request.query) == ("POST", "/v2/sms", {"to": [PHONE]})
    assert request.header("Authorization") == f"Bearer {gateway.api_key}"
    assert request.header("Content-Type") == "application/json"
    assert request.json == {"recipient": PHONE, "message": text, "from": "Gatehouse"}  # escaped for JSON
    assert (row.status, row.provider, row.provider_message_id) == (MessageStatus.SENT, "http", "gw-1")


def test_a_generic_http_gateway_with_a_form_body_and_no_id(fakes):
    gateway = fakes("http", api_key="")
    client = GenericHttpClient(url=gateway.url + "/send", headers='{"Content-Type": "application/x-www-form-urlencoded"}',
                               body="number={to}&text={text}", timeout=1)
    assert client.send(PHONE, "a&b=c d") == ""
    assert gateway.requests[0].form == {"number": PHONE, "text": "a&b=c d"}


@pytest.mark.parametrize("kind", ["termii", "africastalking", "twilio", "http"])
def test_a_401_from_a_provider_is_permanent(app, dbs, fakes, kind):
    gateway = fakes(kind)
    builders = {"termii": termii, "africastalking": africastalking, "twilio": twilio, "http": generic}
    wrong = {"twilio": {"auth_token": "wrong"}, "http": {"headers": '{"Authorization": "Bearer wrong"}'}}.get(
        kind, {"api_key": "wrong"})
    configure(app, builders[kind](gateway, **wrong))
    row = _row(dbs, _sms(app))
    assert (row.status, row.attempts, row.next_attempt_at) == (MessageStatus.FAILED, 1, None)
    assert row.last_error.startswith(f"{kind}: HTTP 401")
    assert len(gateway.requests) == 1  # never tried again


@pytest.mark.parametrize("kind", ["termii", "africastalking", "twilio", "http"])
def test_5xx_and_timeouts_are_transient(app, fakes, kind):
    builders = {"termii": termii, "africastalking": africastalking, "twilio": twilio, "http": generic}
    with app.app_context():
        app.config["SMS_TIMEOUT"] = 0.3
        for program, expected in ((lambda f: f.fail(503), "HTTP 503"),
                                  (lambda f: f.hang(2), "no answer within 0.3 s")):
            gateway = program(fakes(kind))
            setting = builders[kind](gateway)
            provider = FailoverSms()
            app.config["SMS_PROVIDERS"] = [setting]
            message = OutboxMessage(id=1, channel="SMS", recipient=PHONE, body="Hi", reason="")
            started = time.monotonic()
            with pytest.raises(ProviderError) as failed:
                provider.send(message, None)
            assert time.monotonic() - started < 1.5
            assert expected in str(failed.value) and not failed.value.permanent


def test_a_gateway_that_is_not_there_is_transient(app):
    with app.app_context():
        app.config.update(SMS_TIMEOUT=0.5, SMS_PROVIDERS=[{"kind": "termii", "base_url": "http://127.0.0.1:9",
                                                           "api_key": "k", "sender_id": "Gatehouse"}])
        with pytest.raises(ProviderError, match="could not connect") as failed:
            FailoverSms().send(OutboxMessage(id=1, channel="SMS", recipient=PHONE, body="Hi", reason=""), None)
    assert not failed.value.permanent


# --- no providers -----------------------------------------------------------------------------


def test_without_providers_dev_mode_keeps_the_outbox_and_the_code_on_screen(app, client, make, dbs):
    app.config.update(SMS_PROVIDERS="", DEV_MODE=True, MESSAGE_DELIVERY="portal.integrations.delivery:inline")
    make.user("ada@example.test", estate=make.estate(), role=Role.RESIDENT, phone=PHONE)
    client.post("/login/code", data={"phone": PHONE})
    row = _row(dbs)
    assert (row.status, row.provider) == (MessageStatus.SENT, "DEV")
    page = client.get("/login/code/verify").get_data(as_text=True)
    assert f"DEV mode: your code is {_code_in(row.body)}" in page


# --- what an unknown number sees --------------------------------------------------------------


def _requested(client, seconds_ago: float) -> None:
    with client.session_transaction() as s:
        s["otp_requested_at"] = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).timestamp()


def _delivery_box(client) -> str:
    html = client.get("/login/code/status").get_data(as_text=True)
    return _text(html.replace(UNKNOWN, "PHONE").replace(PHONE, "PHONE"))


def test_an_unknown_number_sees_what_a_known_one_sees(app, client, make, dbs, fakes):
    gateway = fakes("termii")
    configure(app, termii(gateway))
    make.user("ada@example.test", estate=make.estate(), role=Role.RESIDENT, phone=PHONE)
    stranger = app.test_client()

    known = client.post("/login/code", data={"phone": PHONE})
    unknown = stranger.post("/login/code", data={"phone": UNKNOWN})
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert len(gateway.requests) == 1  # nothing is sent to a number without an account
    assert "Sending the text message…" in _delivery_box(stranger)  # as a real delivery does at first
    _requested(stranger, 10)
    assert _delivery_box(stranger) == _delivery_box(client)
    assert SENT_EN in _delivery_box(stranger)

    # While the providers fail, a code for an unknown number "fails" too.
    gateway.fail(503)
    client.post("/login/code", data={"phone": PHONE})
    stranger.post("/login/code", data={"phone": UNKNOWN})
    _requested(stranger, 10)
    assert FAILURE_EN.format(phone="PHONE") in _delivery_box(client)
    assert _delivery_box(stranger) == _delivery_box(client)


# --- the registry -----------------------------------------------------------------------------


def test_the_kinds_registry_describes_each_providers_fields(app):
    kinds = sms_kinds()
    assert list(kinds) == ["termii", "africastalking", "twilio", "http"]
    assert kinds["termii"].required == ("api_key", "sender_id") and kinds["termii"].secrets == ("api_key",)
    assert kinds["africastalking"].required == ("username", "api_key")
    assert kinds["twilio"].required == ("account_sid", "auth_token") and kinds["twilio"].secrets == ("auth_token",)
    assert kinds["http"].required == ("url",) and kinds["http"].secrets == ("headers",)
    with app.test_request_context(), force_locale("es"):
        assert str(kinds["termii"].fields[0].label) == "Clave de API"
        assert str(kinds["http"].label) == "Otra pasarela (HTTP)"


# --- the short schedule -----------------------------------------------------------------------


def test_a_lapsed_claim_on_a_sign_in_codes_last_attempt_becomes_failed(app, dbs):
    message_id = _sms(app, body="code", reason="sign_in_code")  # conftest's `dev` dispatcher: not sent
    past = utcnow() - timedelta(seconds=1)
    with dbs() as s:
        s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
                  .values(status="SENDING", attempts=outbox.SHORT_MAX_ATTEMPTS, next_attempt_at=past))
        s.commit()
    assert _deliver(app, message_id).status == ""  # not claimable: its attempts are spent
    with app.app_context():
        assert outbox.sweep(utcnow()) == []
    assert _row(dbs, message_id).status == MessageStatus.FAILED
