"""Paying bills online through the fake Flutterwave (real HTTP on a real port): the pay
button, the return from the hosted page, the webhook (the exact bytes the fake sends,
replayed into the app), receipts and the "payment received" message.

A payment is applied once however often and by whichever path it is reported; nothing is
applied unless Flutterwave's own record shows a successful payment of the amount and
currency asked for."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.billing.periods import month
from portal.extensions import db
from portal.models import AuditLog, Invoice, OutboxMessage, Payment, PaymentAllocation, Role, User
from tests.billing_support import add_charge, generate, invoices_of, set_billing
from tests.fakes.flutterwave import running_fake, running_receiver

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app, estate_pair):
    """Alpha's A1 billed for November and December (₦45,000.00 each); the fake Flutterwave
    serving, its webhooks recorded by a receiver (the tests replay them into the app)."""
    a = estate_pair.alpha
    set_billing(app, a.estate, prefix="AL")
    add_charge(app, a.estate, "Service charge", 4_500_000)
    generate(app, a.estate, month(2026, 11))
    generate(app, a.estate, month(2026, 12))
    bills = {i.period_start.month: i for i in invoices_of(app, a.estate)}
    with running_receiver() as receiver, running_fake(app, webhook_url=f"{receiver.url}/webhooks/flutterwave",
                                                      webhook_timing="off") as fake:
        yield a, bills, fake, receiver


def start_paying(client, invoice_ids, amount: str | None = None, slug: str = "alpha") -> tuple[Payment, str]:
    data = {"invoice": [str(i) for i in invoice_ids]}
    if amount is not None:
        data["amount"] = amount
    response = client.post(f"/e/{slug}/home/bills/pay", data=data, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    url = response.headers["HX-Redirect"]
    payment = db.session.scalars(sa.select(Payment).order_by(Payment.id.desc()).limit(1)).one()
    return payment, url


def return_url(fake, tx_ref: str) -> str:
    """Where the hosted page sends the payer back, with Flutterwave's query."""
    paid = fake.payment(tx_ref)
    query = {"status": "cancelled" if paid.status == "cancelled" else paid.status, "tx_ref": tx_ref}
    if paid.id is not None:
        query["transaction_id"] = str(paid.id)
    parts = urlsplit(paid.redirect_url)
    return f"{parts.path}?{'&'.join(f'{k}={v}' for k, v in query.items())}"


def replay_webhooks(client, receiver, count: int) -> list[int]:
    webhooks = receiver.wait_for_webhooks(count)
    assert len(webhooks) >= count
    return [client.post("/webhooks/flutterwave", data=w.body,
                        headers={"Content-Type": "application/json", "verif-hash": w.headers.get("Verif-Hash", "")}
                        ).status_code for w in webhooks[-count:]]


def state(invoice_id: int) -> tuple[str, int, int]:
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice_id)
    return invoice.status.value, invoice.amount_paid_minor, invoice.balance_minor


def allocations() -> list[tuple[int, int]]:
    return [(a.invoice_id, a.amount_minor) for a in db.session.scalars(
        sa.select(PaymentAllocation).order_by(PaymentAllocation.id))]


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditLog.action).where(AuditLog.action.like("payment.%"))
                                   .order_by(AuditLog.id)))


def test_the_webhook_five_times_and_the_return_apply_one_payment(client, world, login, app):
    a, bills, fake, receiver = world
    december = bills[12]
    login("resident@alpha.test")
    with app.app_context():
        payment, url = start_paying(client, [december.id])
        assert url.startswith(fake.base_url + "/v3/hosted/pay/")
        assert (payment.status.value, payment.amount_minor, payment.currency) == ("PENDING", 4_500_000, "NGN")
        assert payment.tx_ref.startswith("GH-ALPHA-") and payment.invoice_ids == [december.id]
        sent = fake.requests[-1][2]
        assert sent["amount"] == "45000.00" and sent["tx_ref"] == payment.tx_ref
        assert sent["redirect_url"].endswith(f"/e/alpha/home/payments/{payment.id}/return")

        fake.complete(payment.tx_ref)
        fake.send_webhook(payment.tx_ref, times=5)
        assert replay_webhooks(client, receiver, 5) == [200] * 5
        page = client.get(return_url(fake, payment.tx_ref)).get_data(as_text=True)
        assert 'data-outcome="PAID"' in page and "Payment received" in page
        assert client.get(return_url(fake, payment.tx_ref)).status_code == 200  # a reload changes nothing

        assert state(december.id) == ("PAID", 4_500_000, 0)
        assert allocations() == [(december.id, 4_500_000)]
        db.session.expire_all()
        paid = db.session.get(Payment, payment.id)
        assert paid.status.value == "SUCCESSFUL" and paid.provider_transaction_id == str(fake.payment(paid.tx_ref).id)
        assert '"status": "successful"' in paid.provider_response
        assert audit_actions() == ["payment.created", "payment.applied"]
        receipts = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.reason == "payment_received")).all()
        assert [m.channel for m in receipts] == ["EMAIL"]  # once, by email (the default), not per report
        assert "received your payment of ₦45,000.00 for AL-2026-000002" in receipts[0].body
        assert receipts[0].recipient == "resident@alpha.test" and receipts[0].language == "en"


def test_the_return_first_then_the_webhooks(client, world, login, app):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    with app.app_context():
        payment, _ = start_paying(client, [bills[11].id])
        fake.complete(payment.tx_ref)
        assert 'data-outcome="PAID"' in client.get(return_url(fake, payment.tx_ref)).get_data(as_text=True)
        fake.send_webhook(payment.tx_ref, times=3)
        assert replay_webhooks(client, receiver, 3) == [200] * 3
        assert allocations() == [(bills[11].id, 4_500_000)]
        assert audit_actions().count("payment.applied") == 1


def test_a_webhook_with_a_wrong_or_missing_hash_is_refused_and_changes_nothing(client, world, login, app):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    with app.app_context():
        payment, _ = start_paying(client, [bills[12].id])
        fake.complete(payment.tx_ref)
        fake.send_webhook(payment.tx_ref, verif_hash="not-the-secret")
        body = receiver.wait_for_webhooks(1)[0].body
        wrong = client.post("/webhooks/flutterwave", data=body,
                            headers={"Content-Type": "application/json", "verif-hash": "not-the-secret"})
        missing = client.post("/webhooks/flutterwave", data=body, headers={"Content-Type": "application/json"})
        assert (wrong.status_code, missing.status_code) == (401, 401)
        assert state(bills[12].id) == ("ISSUED", 0, 4_500_000)
        assert db.session.get(Payment, payment.id).status.value == "PENDING"
        assert allocations() == [] and audit_actions() == ["payment.created"]


@pytest.mark.parametrize(("paid", "reason"), [
    ({"amount": Decimal("40000.00")}, "amount"),
    ({"currency": "USD"}, "currency"),
    ({"status": "failed"}, "failed"),
])
def test_a_wrong_amount_currency_or_a_failed_transaction_applies_nothing(client, world, login, app, paid, reason):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    with app.app_context():
        payment, _ = start_paying(client, [bills[12].id])
        fake.complete(payment.tx_ref, paid.get("status", "successful"), amount=paid.get("amount"),
                      currency=paid.get("currency"))
        fake.send_webhook(payment.tx_ref, times=2)
        assert replay_webhooks(client, receiver, 2) == [200, 200]
        page = client.get(return_url(fake, payment.tx_ref)).get_data(as_text=True)
        assert 'data-outcome="FAILED"' in page and "Payment not made" in page
        db.session.expire_all()
        failed = db.session.get(Payment, payment.id)
        assert (failed.status.value, failed.failure_reason) == ("FAILED", reason)
        assert state(bills[12].id) == ("ISSUED", 0, 4_500_000)
        assert allocations() == []
        assert audit_actions() == ["payment.created", "payment.failed"]  # failed once, however often reported
        assert not db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.reason == "payment_received")).all()


def test_a_cancelled_checkout_says_so_and_marks_the_payment_failed(client, world, login, app):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    with app.app_context():
        payment, url = start_paying(client, [bills[12].id])
        fake.payment(payment.tx_ref).status = "cancelled"
        page = client.get(return_url(fake, payment.tx_ref)).get_data(as_text=True)
        assert "You cancelled the payment. Nothing was charged" in page
        db.session.expire_all()
        assert db.session.get(Payment, payment.id).failure_reason == "cancelled"
        assert state(bills[12].id) == ("ISSUED", 0, 4_500_000)
        # The payer goes back to the hosted page and pays after all: the money counts.
        fake.complete(payment.tx_ref)
        fake.send_webhook(payment.tx_ref)
        assert replay_webhooks(client, receiver, 1) == [200]
        assert state(bills[12].id) == ("PAID", 4_500_000, 0)


def test_a_partial_payment_leaves_the_bill_partly_paid(client, world, login, app):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    with app.app_context():
        payment, _ = start_paying(client, [bills[12].id], amount="20,000.50")
        assert payment.amount_minor == 2_000_050 and fake.requests[-1][2]["amount"] == "20000.50"
        fake.complete(payment.tx_ref)
        client.get(return_url(fake, payment.tx_ref))
        assert state(bills[12].id) == ("PARTIALLY_PAID", 2_000_050, 2_499_950)
        assert state(bills[11].id) == ("ISSUED", 0, 4_500_000)
        html = client.get(f"/e/alpha/home/bills/{bills[12].id}").get_data(as_text=True)
        assert "Pay ₦24,999.50" in html and f"/e/alpha/home/receipts/{payment.id}" in html


def test_more_than_the_balance_or_a_bad_amount_is_refused_and_nothing_is_created(client, world, login, app):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    with app.app_context():
        for amount, message in [("45,000.01", "You can pay at most ₦45,000.00"), ("abc", "Enter an amount such as"),
                                ("0", "The amount must be more than zero.")]:
            response = client.post("/e/alpha/home/bills/pay", data={"invoice": str(bills[12].id), "amount": amount},
                                   headers=HX)
            assert response.status_code == 422 and message in response.get_data(as_text=True)
            assert 'id="pay-form"' in response.get_data(as_text=True) and "<html" not in response.get_data(as_text=True)
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0 and fake.requests == []


def test_paying_two_bills_at_once(client, world, login, app):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    with app.app_context():
        listing = client.get("/e/alpha/home/bills/").get_data(as_text=True)
        assert 'id="pay-many"' in listing and f'id="choose-{bills[11].id}"' in listing
        payment, _ = start_paying(client, [bills[12].id, bills[11].id])
        assert payment.amount_minor == 9_000_000 and payment.invoice_ids == [bills[12].id, bills[11].id]
        assert fake.requests[-1][2]["customizations"]["description"] == \
            f"Invoices {bills[12].number}, {bills[11].number}"
        fake.complete(payment.tx_ref)
        page = client.get(return_url(fake, payment.tx_ref)).get_data(as_text=True)
        assert page.count("badge-invoice-paid") == 2
        assert state(bills[11].id) == ("PAID", 4_500_000, 0) and state(bills[12].id) == ("PAID", 4_500_000, 0)
        assert sorted(allocations()) == sorted([(bills[12].id, 4_500_000), (bills[11].id, 4_500_000)])
        receipt = client.get(f"/e/alpha/home/receipts/{payment.id}").get_data(as_text=True)
        assert bills[11].number in receipt and bills[12].number in receipt and "₦90,000.00" in receipt


def test_another_units_or_estates_bill_or_payment_is_a_404(client, world, login, app, make, estate_pair):
    a, bills, fake, receiver = world
    b = estate_pair.beta
    add_charge(app, b.estate, "Beta charge", 10_000)
    generate(app, b.estate)
    beta_bill = invoices_of(app, b.estate)[0]
    a2 = make.unit(a.estate, "A2")
    neighbour = make.user("neighbour@alpha.test", estate=a.estate, role=Role.RESIDENT)
    make.resident(a.estate, a2, "Neighbour", user=neighbour)
    generate(app, a.estate, month(2027, 1))
    a2_bill = next(i for i in invoices_of(app, a.estate) if i.unit == "A2")
    login("resident@alpha.test")
    with app.app_context():
        for invoice_ids in ([beta_bill.id], [a2_bill.id], [bills[12].id, a2_bill.id]):
            assert client.post("/e/alpha/home/bills/pay", data={"invoice": [str(i) for i in invoice_ids]},
                               headers=HX).status_code == 404
        assert client.post("/e/beta/home/bills/pay", data={"invoice": str(beta_bill.id)}).status_code == 404
        payment, _ = start_paying(client, [bills[12].id])
        fake.complete(payment.tx_ref)
        client.get(return_url(fake, payment.tx_ref))
    other = app.test_client()
    login("neighbour@alpha.test", as_client=other)
    for url in (f"/e/alpha/home/payments/{payment.id}/return", f"/e/alpha/home/receipts/{payment.id}",
                f"/e/alpha/home/receipts/{payment.id}/pdf"):
        assert other.get(url).status_code == 404
    beta_admin, alpha_admin = app.test_client(), app.test_client()
    login("admin@beta.test", as_client=beta_admin)
    assert beta_admin.get(f"/e/beta/admin/billing/payments/{payment.id}/receipt").status_code == 404
    login("admin@alpha.test", as_client=alpha_admin)
    assert alpha_admin.get(f"/e/alpha/admin/billing/payments/{payment.id}/receipt").status_code == 200
    pdf = alpha_admin.get(f"/e/alpha/admin/billing/payments/{payment.id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_receipts_page_list_and_pdf_hold_the_invoice_number_and_amount(client, world, login, app):
    from io import BytesIO

    from pypdf import PdfReader

    a, bills, fake, receiver = world
    login("resident@alpha.test")
    with app.app_context():
        payment, _ = start_paying(client, [bills[12].id])
        fake.complete(payment.tx_ref)
        client.get(return_url(fake, payment.tx_ref))
    listing = client.get("/e/alpha/home/receipts/").get_data(as_text=True)
    assert f'id="receipt-{payment.id}"' in listing and f"AL-R-{payment.id:06d}" in listing and "₦45,000.00" in listing
    page = client.get(f"/e/alpha/home/receipts/{payment.id}").get_data(as_text=True)
    assert bills[12].number in page and "Online (Flutterwave)" in page
    response = client.get(f"/e/alpha/home/receipts/{payment.id}/pdf")
    assert response.mimetype == "application/pdf" and "attachment" in response.headers["Content-Disposition"]
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(response.data)).pages)
    assert bills[12].number in text and "₦45,000.00" in text and "Alpha Court" in text and "Receipt" in text
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == "resident@alpha.test").values(preferred_language="es"))
        db.session.commit()
    spanish = client.get(f"/e/alpha/home/receipts/{payment.id}/pdf").data
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(spanish)).pages)
    assert "Recibo" in text and bills[12].number in text and "45.000,00" in text


def test_a_spanish_resident_gets_the_receipt_message_in_spanish(client, world, login, app):
    a, bills, fake, receiver = world
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == "resident@alpha.test").values(preferred_language="es"))
        db.session.commit()
    login("resident@alpha.test")
    with app.app_context():
        payment, _ = start_paying(client, [bills[12].id])
        fake.complete(payment.tx_ref)
        page = client.get(return_url(fake, payment.tx_ref)).get_data(as_text=True)
        assert "Pago recibido" in page
        message = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.reason == "payment_received")).one()
        assert message.language == "es" and "recibió su pago" in message.body and bills[12].number in message.body


def test_the_bills_page_runs_the_same_queries_however_many_bills(client, world, login, app, count_queries):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    client.get("/e/alpha/home/bills/")
    with count_queries() as few:
        client.get("/e/alpha/home/bills/")
    add_charge(app, a.estate, "Water", 50_000, starts_on=date(2025, 1, 1))
    for n in range(1, 9):
        generate(app, a.estate, month(2026, n))
    with count_queries() as many:
        html = client.get("/e/alpha/home/bills/").get_data(as_text=True)
    assert len(re.findall(r'<li id="bill-', html)) == 10
    assert many.count == few.count


def test_the_unreachable_provider_leaves_a_clear_message_and_a_failed_attempt(client, world, login, app):
    a, bills, fake, receiver = world
    fake.outage = True
    login("resident@alpha.test")
    with app.app_context():
        response = client.post("/e/alpha/home/bills/pay", data={"invoice": str(bills[12].id)}, headers=HX)
        assert response.status_code == 503 and "HX-Redirect" not in response.headers
        assert "cannot be reached right now" in response.get_data(as_text=True)
        payment = db.session.scalars(sa.select(Payment)).one()
        assert (payment.status.value, payment.failure_reason) == ("FAILED", "gateway")
        assert state(bills[12].id) == ("ISSUED", 0, 4_500_000)


def test_without_javascript_the_pay_button_leads_to_a_page_with_the_link(client, world, login, app):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    response = client.post("/e/alpha/home/bills/pay", data={"invoice": str(bills[12].id)})
    html = response.get_data(as_text=True)
    link = re.search(r'href="([^"]+)" role="button" id="pay-continue-link"', html).group(1)
    assert link.startswith(fake.base_url + "/v3/hosted/pay/")


def test_a_webhook_for_an_unknown_payment_is_acknowledged_and_ignored(client, world, app):
    a, bills, fake, receiver = world
    body = b'{"event": "charge.completed", "data": {"id": 1, "tx_ref": "GH-NOPE-1", "status": "successful"}}'
    answer = client.post("/webhooks/flutterwave", data=body,
                         headers={"Content-Type": "application/json", "verif-hash": fake.secret_hash})
    assert answer.status_code == 200 and answer.json["status"] == "UNKNOWN"
    assert client.post("/webhooks/flutterwave", data=b"not json", headers={"verif-hash": fake.secret_hash}
                       ).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PaymentAllocation.id))) == 0


def test_an_estates_own_keys_check_its_webhooks(client, world, login, app):
    """FLUTTERWAVE_ESTATES: alpha's own secret hash; the platform's no longer opens alpha's payments."""
    a, bills, fake, receiver = world
    app.config["FLUTTERWAVE_ESTATES"] = {"alpha": {"secret_hash": "alpha-own-hash"}}
    login("resident@alpha.test")
    with app.app_context():
        payment, _ = start_paying(client, [bills[12].id])
        fake.complete(payment.tx_ref)
        fake.send_webhook(payment.tx_ref)
        body = receiver.wait_for_webhooks(1)[0].body
        platform = client.post("/webhooks/flutterwave", data=body, headers={"verif-hash": fake.secret_hash})
        assert platform.status_code == 401 and state(bills[12].id)[0] == "ISSUED"
        own = client.post("/webhooks/flutterwave", data=body, headers={"verif-hash": "alpha-own-hash"})
        assert own.status_code == 200 and state(bills[12].id)[0] == "PAID"
    app.config["FLUTTERWAVE_ESTATES"] = {}


def test_the_return_query_cannot_point_at_another_transaction(client, world, login, app):
    a, bills, fake, receiver = world
    login("resident@alpha.test")
    with app.app_context():
        first, _ = start_paying(client, [bills[11].id], amount="1,000.00")
        fake.complete(first.tx_ref)
        second, _ = start_paying(client, [bills[12].id])
        other = fake.payment(first.tx_ref).id
        page = client.get(f"/e/alpha/home/payments/{second.id}/return?status=successful&tx_ref={second.tx_ref}"
                          f"&transaction_id={other}").get_data(as_text=True)
        assert 'data-outcome="PENDING"' in page
        assert state(bills[12].id) == ("ISSUED", 0, 4_500_000)
