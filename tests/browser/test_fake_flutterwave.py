"""The fake Flutterwave's hosted checkout in a real browser on a phone: the payer sees the
amount, pays (or declines, or cancels) and lands on the estate's return URL with
Flutterwave's query; the payment then verifies, and the webhook arrives with its hash."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from portal.billing.flutterwave import FlutterwaveConfig, FlutterwaveGateway
from portal.billing.gateway import (
    CheckoutRequest,
    Customer,
    PaymentStatus,
    confirm_payment,
    new_tx_ref,
)
from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.fakes.flutterwave import running_fake, running_receiver

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def checkout_world():
    with running_receiver() as receiver, running_fake(webhook_url=f"{receiver.url}/webhooks/flutterwave",
                                                      webhook_delay_ms=50) as fake:
        gateway = FlutterwaveGateway(FlutterwaveConfig(
            base_url=fake.base_url, secret_key=fake.secret_key, secret_hash=fake.secret_hash))
        yield receiver, fake, gateway


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def start(receiver, amount_minor=500000) -> CheckoutRequest:
    return CheckoutRequest(
        tx_ref=new_tx_ref("greenpark"), amount_minor=amount_minor, currency="NGN",
        redirect_url=f"{receiver.url}/return?invoice=7", customer=Customer("resident@greenpark.test", "Tunde Bakare"),
        title="GreenPark Estate", description="Invoice GP-2026-000123",
    )


def returned_query(page, receiver) -> dict[str, list[str]]:
    page.wait_for_url(f"{receiver.url}/return?*")
    expect(page.locator("h1")).to_have_text("Back at the estate")
    return parse_qs(urlsplit(page.url).query)


def test_paying_on_the_hosted_page_returns_to_the_estate_and_verifies(checkout_world, phone):
    receiver, fake, gateway = checkout_world
    request = start(receiver)
    phone.goto(gateway.create_checkout(request).url)

    pay = phone.get_by_role("button", name="Pay ₦5,000.00")
    expect(pay).to_be_visible()
    expect(phone.get_by_text("Invoice GP-2026-000123")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "fake_flutterwave_checkout_phone.png"), full_page=True)
    pay.tap()

    query = returned_query(phone, receiver)
    payment = fake.payment(request.tx_ref)
    assert query == {"invoice": ["7"], "status": ["successful"], "tx_ref": [request.tx_ref],
                     "transaction_id": [str(payment.id)]}
    verified = gateway.verify(transaction_id=query["transaction_id"][0])
    assert confirm_payment(verified, tx_ref=request.tx_ref, currency="NGN", amount_minor=500000) == 500000

    webhook = receiver.wait_for_webhooks(1)[0]
    event = gateway.check_webhook(webhook.headers, webhook.body)
    assert (event.tx_ref, event.provider_transaction_id) == (request.tx_ref, str(payment.id))

    phone.go_back()  # the hosted page again: already paid, nothing to press twice
    expect(phone.get_by_text("This payment is successful.")).to_be_visible()
    expect(phone.get_by_role("button", name="Pay ₦5,000.00")).to_have_count(0)


def test_declining_and_cancelling_return_with_their_status(checkout_world, phone):
    receiver, fake, gateway = checkout_world
    declined, cancelled = start(receiver, 250000), start(receiver, 250000)

    phone.goto(gateway.create_checkout(declined).url)
    phone.get_by_role("button", name="Decline (a failed payment)").tap()
    query = returned_query(phone, receiver)
    assert query["status"] == ["failed"] and query["tx_ref"] == [declined.tx_ref]
    assert gateway.verify(transaction_id=query["transaction_id"][0]).status == PaymentStatus.FAILED

    phone.goto(gateway.create_checkout(cancelled).url)
    phone.get_by_role("button", name="Cancel").tap()
    query = returned_query(phone, receiver)
    assert query == {"invoice": ["7"], "status": ["cancelled"], "tx_ref": [cancelled.tx_ref]}
    assert fake.payment(cancelled.tx_ref).id is None  # no transaction: nothing to verify
