"""The fake Flutterwave behaves like Flutterwave where billing can tell: its hosted page pays,
declines or cancels and sends the payer back to `redirect_url` with Flutterwave's query, its
API answers with Flutterwave's JSON (amounts as JSON numbers), and it sends the
charge.completed webhook with `verif-hash`."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.config import FAKE_FLUTTERWAVE_SECRET_KEY
from portal.devtools.fake_flutterwave import FakeFlutterwave
from tests.fakes.flutterwave import running_fake, running_receiver

AUTH = {"Authorization": f"Bearer {FAKE_FLUTTERWAVE_SECRET_KEY}"}
RETURN = "https://portal.example/e/greenpark/home/payments/return?invoice=7"


def create(client, tx_ref="GH-T-1", amount="5000.00", currency="NGN", **extra) -> str:
    body = {"tx_ref": tx_ref, "amount": amount, "currency": currency, "redirect_url": RETURN,
            "customer": {"email": "resident@greenpark.test", "name": "Adaeze Okafor"},
            "customizations": {"title": "GreenPark Estate"}, **extra}
    answer = client.post("/v3/payments", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["status"] == "success" and answer.json["message"] == "Hosted Link"
    return answer.json["data"]["link"]


def path_of(link: str) -> str:
    return urlsplit(link).path


def query_of(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


@pytest.fixture
def fake():
    return FakeFlutterwave(webhook_timing="off")


def test_the_hosted_page_pays_and_returns_to_the_redirect_url_like_flutterwave(fake):
    client = fake.app.test_client()
    link = create(client)
    page = client.get(path_of(link)).get_data(as_text=True)
    assert "GreenPark Estate" in page and "Pay ₦5,000.00" in page and "Cancel" in page and "Decline" in page

    back = client.post(path_of(link), data={"action": "pay"})
    assert back.status_code == 302
    location = back.headers["Location"]
    assert location.startswith("https://portal.example/e/greenpark/home/payments/return?")
    payment = fake.payment("GH-T-1")
    assert query_of(location) == {"invoice": ["7"], "status": ["successful"], "tx_ref": ["GH-T-1"],
                                  "transaction_id": [str(payment.id)]}

    verified = client.get(f"/v3/transactions/{payment.id}/verify", headers=AUTH)
    assert verified.json["status"] == "success"
    data = verified.json["data"]
    assert (data["status"], data["tx_ref"], data["currency"], data["amount"]) == ("successful", "GH-T-1", "NGN", 5000)
    assert '"amount": 5000,' in verified.get_data(as_text=True)  # a JSON number, as Flutterwave writes it

    again = client.get(path_of(link)).get_data(as_text=True)
    assert "This payment is successful." in again and "Pay ₦" not in again
    assert client.post(path_of(link), data={"action": "decline"}).status_code == 303  # nothing changes
    assert fake.payment("GH-T-1").status == "successful"


def test_declining_is_a_failed_transaction_and_cancelling_is_none(fake):
    client = fake.app.test_client()
    declined, cancelled = create(client, "GH-T-D"), create(client, "GH-T-C")

    location = client.post(path_of(declined), data={"action": "decline"}).headers["Location"]
    failed = fake.payment("GH-T-D")
    assert query_of(location)["status"] == ["failed"] and query_of(location)["transaction_id"] == [str(failed.id)]
    answer = client.get("/v3/transactions/verify_by_reference?tx_ref=GH-T-D", headers=AUTH)
    assert answer.json["data"]["status"] == "failed"

    location = client.post(path_of(cancelled), data={"action": "cancel"}).headers["Location"]
    assert query_of(location) == {"invoice": ["7"], "status": ["cancelled"], "tx_ref": ["GH-T-C"]}
    missing = client.get("/v3/transactions/verify_by_reference?tx_ref=GH-T-C", headers=AUTH)
    assert missing.status_code == 400
    assert missing.json == {"status": "error", "message": "No transaction was found for this id", "data": None}


def test_the_api_wants_the_secret_key_and_good_data(fake):
    client = fake.app.test_client()
    answer = client.post("/v3/payments", json={"tx_ref": "x"}, headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401 and answer.json["message"] == "Invalid authorization key"
    assert client.get("/v3/transactions/1/verify").status_code == 401
    for body, message in [
        ({"amount": "10", "redirect_url": RETURN, "customer": {"email": "a@b.c"}}, "tx_ref is required"),
        ({"tx_ref": "a", "amount": "10", "redirect_url": RETURN}, "customer.email is required"),
        ({"tx_ref": "a", "amount": "-1", "redirect_url": RETURN, "customer": {"email": "a@b.c"}}, "greater than 0"),
        ({"tx_ref": "a", "amount": "ten", "redirect_url": RETURN, "customer": {"email": "a@b.c"}}, "number"),
        ({"tx_ref": "a", "amount": "1", "currency": "XYZ", "redirect_url": RETURN, "customer": {"email": "a@b.c"}},
         "Invalid currency"),
    ]:
        answer = client.post("/v3/payments", json=body, headers=AUTH)
        assert answer.status_code == 400 and message in answer.json["message"], body
    link = create(client, "GH-T-USED")
    client.post(path_of(link), data={"action": "pay"})
    reused = client.post("/v3/payments", headers=AUTH, json={
        "tx_ref": "GH-T-USED", "amount": "1", "redirect_url": RETURN, "customer": {"email": "a@b.c"}})
    assert reused.status_code == 400 and "tx_ref" in reused.json["message"]
    assert client.get("/v3/hosted/pay/no-such-page").status_code == 404


def test_paying_sends_the_webhook_with_the_secret_hash_before_the_payer_returns():
    with running_receiver() as receiver, running_fake(
        webhook_url=f"{receiver.url}/webhooks/flutterwave", webhook_timing="before_redirect", webhook_times=3,
    ) as fake:
        client = fake.app.test_client()
        link = create(client, "GH-T-W", amount="1234.5", currency="GTQ")
        client.post(path_of(link), data={"action": "pay"})
        received = receiver.webhooks()  # already there: sent before the redirect
        assert len(received) == 3
        for webhook in received:
            assert webhook.path == "/webhooks/flutterwave"
            assert webhook.headers["Verif-Hash"] == fake.secret_hash
            event = json.loads(webhook.body)
            assert event["event"] == "charge.completed"
            assert event["data"]["tx_ref"] == "GH-T-W" and event["data"]["status"] == "successful"
            assert event["data"]["currency"] == "GTQ" and b'"amount": 1234.5,' in webhook.body
        assert [d.status_code for d in fake.webhooks] == [200, 200, 200]


def test_by_default_the_webhook_follows_the_redirect_and_can_be_sent_again_from_the_page():
    with running_receiver() as receiver, running_fake(webhook_url=f"{receiver.url}/webhooks/flutterwave",
                                                      webhook_delay_ms=50) as fake:
        client = fake.app.test_client()
        link = create(client, "GH-T-L")
        client.post(path_of(link), data={"action": "pay"})
        assert len(receiver.wait_for_webhooks(1)) == 1
        page = client.get(path_of(link)).get_data(as_text=True)
        assert "Send the webhook again" in page
        client.post(path_of(link), data={"action": "resend-webhook"})
        assert len(receiver.wait_for_webhooks(2)) == 2


def test_a_webhook_that_nobody_takes_is_recorded_as_such():
    with running_receiver() as receiver, running_fake(webhook_url=f"{receiver.url}/webhooks/flutterwave") as fake:
        receiver.status = 401
        client = fake.app.test_client()
        create(client, "GH-T-R")
        fake.complete("GH-T-R")
        assert [d.status_code for d in fake.send_webhook("GH-T-R", verif_hash="wrong")] == [401]
        assert receiver.webhooks()[0].headers["Verif-Hash"] == "wrong"


@pytest.mark.slow
def test_the_fake_command_of_make_run_serves_checkouts_with_the_dev_keys(tmp_path):
    """`flask fake-flutterwave` (started by `make run`) at FLUTTERWAVE_BASE_URL, with the DEV
    keys the portal uses when no Flutterwave keys are set."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests

    from portal import config as config_module
    from portal.billing.flutterwave import FlutterwaveConfig, FlutterwaveGateway
    from portal.billing.gateway import CheckoutRequest, Customer
    from tests.browser.conftest import _free_port

    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLUTTERWAVE_", "GATEHOUSE_"))}
    env.update(FLUTTERWAVE_BASE_URL=f"http://127.0.0.1:{port}", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
               PUBLIC_BASE_URL="http://127.0.0.1:9")
    flask = Path(sys.executable).parent / "flask"
    process = subprocess.Popen([str(flask), "--app", "wsgi", "fake-flutterwave"], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=Path(__file__).resolve().parent.parent)
    try:
        gateway = FlutterwaveGateway(FlutterwaveConfig.from_mapping(config_module.flutterwave_settings(dev_mode=True)
                                                                    | {"FLUTTERWAVE_BASE_URL": env["FLUTTERWAVE_BASE_URL"]}))
        request = CheckoutRequest(tx_ref="GH-CLI-1", amount_minor=123400, currency="NGN", redirect_url=RETURN,
                                  customer=Customer("resident@greenpark.test"), title="GreenPark Estate")
        deadline = time.monotonic() + 20
        while True:
            try:
                link = gateway.create_checkout(request)
                break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert "Pay ₦1,234.00" in requests.get(link.url, timeout=5).text
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert f"Fake Flutterwave on http://127.0.0.1:{port} (webhooks to http://127.0.0.1:9/webhooks/flutterwave)" in output
