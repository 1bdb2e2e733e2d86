"""The Flutterwave client against the fake Flutterwave over real HTTP: create → hosted link,
verify (successful, failed, wrong amount, wrong currency, another payment's id, unknown),
errors (wrong key, outage, timeout, nothing listening), the webhook secret (right, wrong,
missing, compared in constant time), and the configuration around it."""

from __future__ import annotations

import json
import socket
from decimal import Decimal

import pytest
import requests

from portal import config as config_module
from portal.billing import flutterwave
from portal.billing.flutterwave import FlutterwaveConfig, FlutterwaveGateway
from portal.billing.gateway import (
    CheckoutRequest,
    Customer,
    GatewayError,
    GatewayNotConfigured,
    GatewayUnavailable,
    PaymentGateway,
    PaymentNotConfirmed,
    PaymentStatus,
    TransactionNotFound,
    WebhookRejected,
    confirm_payment,
    gateway_for,
    new_tx_ref,
)
from tests.fakes.flutterwave import running_fake, running_receiver

RETURN = "https://portal.example/e/greenpark/home/payments/return?invoice=7"


@pytest.fixture
def fake():
    with running_fake() as fake:
        yield fake


def gateway_to(fake, **overrides) -> FlutterwaveGateway:
    settings = {"base_url": fake.base_url, "secret_key": fake.secret_key, "secret_hash": fake.secret_hash}
    settings.update(overrides)
    return FlutterwaveGateway(FlutterwaveConfig(**settings))


def checkout(amount_minor=500050, currency="NGN", **overrides) -> CheckoutRequest:
    values = dict(
        tx_ref=new_tx_ref("greenpark"), amount_minor=amount_minor, currency=currency, redirect_url=RETURN,
        customer=Customer(email="resident@greenpark.test", name="Adaeze Okafor", phone="+2348000000301"),
        title="GreenPark Estate", description="Invoice GP-2026-000123",
        logo_url="https://portal.example/static/logo.png", meta={"estate": "greenpark", "invoices": "7"},
    )
    values.update(overrides)
    return CheckoutRequest(**values)


# --- create ------------------------------------------------------------------------------------


def test_create_checkout_sends_a_decimal_amount_and_returns_the_hosted_link(fake):
    gateway = gateway_to(fake)
    request = checkout(500050)
    link = gateway.create_checkout(request)

    assert link.tx_ref == request.tx_ref
    assert link.url.startswith(f"{fake.base_url}/v3/hosted/pay/")
    method, path, body = fake.requests[-1]
    assert (method, path) == ("POST", "/v3/payments")
    assert body == {
        "tx_ref": request.tx_ref, "amount": "5000.50", "currency": "NGN", "redirect_url": RETURN,
        "customer": {"email": "resident@greenpark.test", "name": "Adaeze Okafor", "phonenumber": "+2348000000301"},
        "customizations": {"title": "GreenPark Estate", "description": "Invoice GP-2026-000123",
                           "logo": "https://portal.example/static/logo.png"},
        "meta": {"estate": "greenpark", "invoices": "7"},
    }
    page = requests.get(link.url, timeout=5)
    assert page.status_code == 200 and "Pay ₦5,000.50" in page.text


@pytest.mark.parametrize(("amount_minor", "currency", "sent"), [
    (123456, "GTQ", "1234.56"), (5000, "UGX", "5000"), (1, "NGN", "0.01"), (1000, "KWD", "1.000"),
])
def test_amounts_are_sent_with_the_currency_s_own_decimals(fake, amount_minor, currency, sent):
    request = checkout(amount_minor, currency)
    gateway_to(fake).create_checkout(request)
    assert fake.requests[-1][2]["amount"] == sent
    fake.complete(request.tx_ref)
    verified = gateway_to(fake).verify(tx_ref=request.tx_ref)
    assert (verified.amount_minor, verified.currency) == (amount_minor, currency)


def test_a_refused_checkout_says_why(fake):
    with pytest.raises(GatewayError) as refused:
        gateway_to(fake).create_checkout(checkout(customer=Customer(email="")))
    assert type(refused.value) is GatewayError
    assert "customer.email is required" in refused.value.detail


# --- verify ------------------------------------------------------------------------------------


def test_a_successful_payment_verifies_by_id_and_by_reference(fake):
    gateway = gateway_to(fake)
    request = checkout(500050)
    gateway.create_checkout(request)
    payment = fake.complete(request.tx_ref, "successful")

    by_id = gateway.verify(transaction_id=str(payment.id))
    by_ref = gateway.verify(tx_ref=request.tx_ref)
    for verified in (by_id, by_ref):
        assert verified.status == PaymentStatus.SUCCESSFUL
        assert (verified.amount_minor, verified.currency, verified.tx_ref) == (500050, "NGN", request.tx_ref)
        assert verified.provider_transaction_id == str(payment.id)
        assert verified.raw["flw_ref"].startswith("FLW-MOCK-")
        assert isinstance(verified.raw["amount"], Decimal)  # never a float, even in the raw record
    assert confirm_payment(by_id, tx_ref=request.tx_ref, currency="NGN", amount_minor=500050) == 500050
    assert fake.requests[-1][:2] == ("GET", f"/v3/transactions/verify_by_reference?tx_ref={request.tx_ref}")


def test_a_failed_payment_is_not_confirmed(fake):
    gateway = gateway_to(fake)
    request = checkout()
    gateway.create_checkout(request)
    payment = fake.complete(request.tx_ref, "failed")
    verified = gateway.verify(transaction_id=str(payment.id))
    assert verified.status == PaymentStatus.FAILED
    with pytest.raises(PaymentNotConfirmed) as refused:
        confirm_payment(verified, tx_ref=request.tx_ref, currency="NGN", amount_minor=request.amount_minor)
    assert refused.value.reason == "status"


def test_a_smaller_payment_is_not_confirmed_and_a_larger_one_is_taken_whole(fake):
    gateway = gateway_to(fake)
    short, more = checkout(500000), checkout(500000)
    for request in (short, more):
        gateway.create_checkout(request)
    fake.complete(short.tx_ref, amount=Decimal("4999.99"))
    fake.complete(more.tx_ref, amount=Decimal("6000"))

    with pytest.raises(PaymentNotConfirmed) as refused:
        confirm_payment(gateway.verify(tx_ref=short.tx_ref), tx_ref=short.tx_ref, currency="NGN", amount_minor=500000)
    assert refused.value.reason == "amount"
    assert confirm_payment(gateway.verify(tx_ref=more.tx_ref), tx_ref=more.tx_ref, currency="NGN",
                           amount_minor=500000) == 600000


def test_a_payment_in_another_currency_is_not_confirmed(fake):
    gateway = gateway_to(fake)
    request = checkout(500000, "NGN")
    gateway.create_checkout(request)
    fake.complete(request.tx_ref, currency="USD")  # 5000 dollars is more, but not naira
    verified = gateway.verify(tx_ref=request.tx_ref)
    assert verified.currency == "USD"
    with pytest.raises(PaymentNotConfirmed) as refused:
        confirm_payment(verified, tx_ref=request.tx_ref, currency="NGN", amount_minor=500000)
    assert refused.value.reason == "currency"


def test_another_payment_s_transaction_id_does_not_confirm_this_one(fake):
    """A return URL carrying the id of some other (cheap, successful) payment."""
    gateway = gateway_to(fake)
    cheap, dear = checkout(100), checkout(900000)
    for request in (cheap, dear):
        gateway.create_checkout(request)
    cheap_payment = fake.complete(cheap.tx_ref)
    verified = gateway.verify(transaction_id=str(cheap_payment.id))
    with pytest.raises(PaymentNotConfirmed) as refused:
        confirm_payment(verified, tx_ref=dear.tx_ref, currency="NGN", amount_minor=100)
    assert refused.value.reason == "tx_ref"


def test_unknown_transactions_are_not_found(fake):
    gateway = gateway_to(fake)
    request = checkout()
    gateway.create_checkout(request)  # created, never paid: Flutterwave has no transaction yet
    for kwargs in ({"transaction_id": "99999999"}, {"tx_ref": "GH-NOPE"}, {"tx_ref": request.tx_ref}):
        with pytest.raises(TransactionNotFound) as missing:
            gateway.verify(**kwargs)
        assert "No transaction was found" in missing.value.detail
        assert missing.value.http_status == 404


@pytest.mark.parametrize("bad_id", ["../payments", "12a", "", "1" * 21, "7000001/verify?x="])
def test_a_transaction_id_that_is_not_a_number_is_refused_before_any_call(fake, bad_id):
    calls = len(fake.requests)
    with pytest.raises(TransactionNotFound):
        gateway_to(fake).verify(transaction_id=bad_id)
    assert len(fake.requests) == calls


def test_verify_takes_one_of_id_or_reference(fake):
    with pytest.raises(TypeError):
        gateway_to(fake).verify()
    with pytest.raises(TypeError):
        gateway_to(fake).verify(transaction_id="1", tx_ref="x")


# --- failures --------------------------------------------------------------------------------------


def test_a_wrong_secret_key_is_a_clear_error(fake):
    with pytest.raises(GatewayError) as refused:
        gateway_to(fake, secret_key="FLWSECK_TEST-wrong").create_checkout(checkout())
    assert type(refused.value) is GatewayError
    assert "authorization refused" in refused.value.detail and "Invalid authorization key" in refused.value.detail


def test_no_secret_key_is_not_configured():
    gateway = FlutterwaveGateway(FlutterwaveConfig(base_url="http://127.0.0.1:9", secret_key=""))
    with pytest.raises(GatewayNotConfigured):
        gateway.create_checkout(checkout())


def test_an_outage_a_slow_answer_and_nobody_listening_are_unavailable(fake):
    fake.outage = True
    with pytest.raises(GatewayUnavailable, match="HTTP 500"):
        gateway_to(fake).verify(tx_ref="GH-X")
    fake.outage = False
    fake.delay_ms = 1500
    with pytest.raises(GatewayUnavailable, match="no answer in time"):
        gateway_to(fake, read_timeout=1).verify(tx_ref="GH-X")
    fake.delay_ms = 0

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(GatewayUnavailable) as unreachable:
        gateway_to(fake, base_url=f"http://127.0.0.1:{closed}").create_checkout(checkout())
    assert unreachable.value.http_status == 503


def test_the_base_url_may_be_given_with_its_v3(fake):
    request = checkout()
    link = gateway_to(fake, base_url=f"{fake.base_url}/v3/").create_checkout(request)
    assert link.url.startswith(fake.base_url)


# --- webhooks ------------------------------------------------------------------------------------


def webhook_body(fake, tx_ref: str) -> bytes:
    payment = fake.payment(tx_ref)
    return json.dumps({"event": "charge.completed", "data": {"id": payment.id, "tx_ref": tx_ref, "status": "successful",
                                                             "amount": 5000}}).encode()


def test_a_webhook_with_the_right_hash_is_an_event_to_verify(fake):
    gateway = gateway_to(fake)
    request = checkout()
    gateway.create_checkout(request)
    payment = fake.complete(request.tx_ref)
    body = webhook_body(fake, request.tx_ref)
    for name in ("verif-hash", "Verif-Hash", "VERIF-HASH"):
        event = gateway.check_webhook({name: fake.secret_hash, "Content-Type": "application/json"}, body)
        assert (event.kind, event.tx_ref, event.provider_transaction_id) == ("charge.completed", request.tx_ref,
                                                                              str(payment.id))
        assert event.reported_status == PaymentStatus.SUCCESSFUL


@pytest.mark.parametrize("headers", [
    {}, {"verif-hash": ""}, {"verif-hash": "wrong"}, {"verif-hash": "gatehouse-fake-webhook-has"},
    {"verif-hash": "gatehouse-fake-webhook-hash "}, {"X-Verif-Hash": "gatehouse-fake-webhook-hash"},
])
def test_a_webhook_with_a_wrong_or_missing_hash_is_refused_with_401(fake, headers):
    with pytest.raises(WebhookRejected) as refused:
        gateway_to(fake).check_webhook(headers, b'{"event": "charge.completed", "data": {"id": 1}}')
    assert refused.value.http_status == 401


def test_no_configured_hash_refuses_every_webhook(fake):
    gateway = gateway_to(fake, secret_hash="")
    for headers in ({}, {"verif-hash": ""}, {"verif-hash": "anything"}):
        with pytest.raises(WebhookRejected, match="not set") as refused:
            gateway.check_webhook(headers, b'{"event": "charge.completed", "data": {"id": 1}}')
        assert refused.value.http_status == 401


def test_the_hash_is_compared_in_constant_time(fake, monkeypatch):
    seen = []
    real = flutterwave.hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(flutterwave.hmac, "compare_digest", spy)
    gateway = gateway_to(fake)
    gateway.check_webhook({"verif-hash": fake.secret_hash}, b'{"event": "charge.completed", "data": {"id": 1}}')
    with pytest.raises(WebhookRejected):
        gateway.check_webhook({"verif-hash": "nope"}, b"{}")
    assert seen == [(fake.secret_hash.encode(), fake.secret_hash.encode()), (b"nope", fake.secret_hash.encode())]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"event": "charge.completed"}', b'{"data": {"id": 1}}',
                                  b'{"event": "charge.completed", "data": {"amount": NaN, "id": 1}}', b"\xff\xfe"])
def test_a_webhook_body_that_is_not_a_v3_event_is_a_400(fake, body):
    with pytest.raises(WebhookRejected) as refused:
        gateway_to(fake).check_webhook({"verif-hash": fake.secret_hash}, body)
    assert refused.value.http_status == 400


def test_the_fake_delivers_one_webhook_five_times_and_each_is_the_same_verified_payment():
    """Flutterwave may report a payment many times; each delivery names the same transaction,
    so billing can apply it once (its own test checks that it does)."""
    with running_receiver() as receiver, running_fake(webhook_url=f"{receiver.url}/webhooks/flutterwave") as fake:
        gateway = gateway_to(fake)
        request = checkout()
        gateway.create_checkout(request)
        payment = fake.complete(request.tx_ref)
        deliveries = fake.send_webhook(request.tx_ref, times=5)
        assert [d.status_code for d in deliveries] == [200] * 5
        received = receiver.wait_for_webhooks(5)
        events = [gateway.check_webhook(r.headers, r.body) for r in received]
        assert {e.provider_transaction_id for e in events} == {str(payment.id)}
        assert all(r.path == "/webhooks/flutterwave" for r in received)
        verified = gateway.verify(transaction_id=events[0].provider_transaction_id)
        assert confirm_payment(verified, tx_ref=request.tx_ref, currency="NGN", amount_minor=500050) == 500050


# --- configuration ---------------------------------------------------------------------------------


def test_gateway_for_reads_the_configuration(app):
    with running_fake(app) as fake, app.app_context():
        gateway = gateway_for(None)
        assert isinstance(gateway, PaymentGateway) and gateway.name == "flutterwave"
        assert gateway.config.base_url == fake.base_url
        request = checkout()
        assert gateway.create_checkout(request).url.startswith(fake.base_url)


def test_dev_mode_without_keys_uses_the_local_fake(monkeypatch):
    for name in ("FLUTTERWAVE_BASE_URL", "FLUTTERWAVE_SECRET_KEY", "FLUTTERWAVE_SECRET_HASH", "GATEHOUSE_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = config_module.flutterwave_settings(dev_mode=True)
    assert settings["FLUTTERWAVE_BASE_URL"] == config_module.FAKE_FLUTTERWAVE_URL
    assert settings["FLUTTERWAVE_SECRET_HASH"] == config_module.FAKE_FLUTTERWAVE_SECRET_HASH
    assert config_module.flutterwave_settings(dev_mode=False)["FLUTTERWAVE_BASE_URL"] == "https://api.flutterwave.com"
    assert config_module.flutterwave_settings(dev_mode=False)["FLUTTERWAVE_SECRET_KEY"] == ""
    monkeypatch.setenv("FLUTTERWAVE_SECRET_KEY", "FLWSECK_TEST-real")
    assert config_module.flutterwave_settings(dev_mode=True)["FLUTTERWAVE_BASE_URL"] == "https://api.flutterwave.com"


PRODUCTION = {"ENV_NAME": "production", "SECRET_KEY": "a-real-secret", "DEV_MODE": False,
              "INTEGRATION_KEYS": "6cKZvTz1sYkAVIdp0AcIhRVz6X1ZrmzMWp1zOxqO9Lg="}


@pytest.mark.parametrize(("settings", "complaint"), [
    ({"FLUTTERWAVE_BASE_URL": "http://127.0.0.1:5001"}, "https"),
    ({"FLUTTERWAVE_BASE_URL": "http://api.flutterwave.com"}, "https"),
    ({"FLUTTERWAVE_SECRET_KEY": config_module.FAKE_FLUTTERWAVE_SECRET_KEY, "FLUTTERWAVE_SECRET_HASH": "h"}, "test keys"),
    ({"FLUTTERWAVE_SECRET_KEY": "FLWSECK-live", "FLUTTERWAVE_SECRET_HASH": config_module.FAKE_FLUTTERWAVE_SECRET_HASH},
     "test keys"),
    ({"FLUTTERWAVE_SECRET_KEY": "FLWSECK-live", "FLUTTERWAVE_SECRET_HASH": ""}, "SECRET_HASH"),
])
def test_production_never_uses_the_fake_nor_plain_http(settings, complaint):
    with pytest.raises(config_module.ConfigError, match=complaint):
        config_module.check(dict(PRODUCTION, **settings))


def test_production_with_real_keys_starts():
    config_module.check(dict(PRODUCTION, FLUTTERWAVE_BASE_URL="https://api.flutterwave.com",
                             FLUTTERWAVE_SECRET_KEY="FLWSECK-live", FLUTTERWAVE_SECRET_HASH="a-long-random-hash"))
    config_module.check(dict(PRODUCTION))  # no payments configured at all


def test_the_fake_command_runs_in_dev_mode_only(app):
    runner = app.test_cli_runner()
    app.config.update(DEV_MODE=False)
    result = runner.invoke(args=["fake-flutterwave"])
    assert result.exit_code != 0 and "DEV mode only" in result.output
    app.config.update(DEV_MODE=True, FLUTTERWAVE_BASE_URL="https://api.flutterwave.com")
    result = runner.invoke(args=["fake-flutterwave"])
    assert result.exit_code == 0 and "not started" in result.output
