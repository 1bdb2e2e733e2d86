"""Manual payments: an admin records a transfer, cash or a cheque (applied at once, to the
ticked invoices, else oldest first); a resident reports "I paid by transfer" from a bill,
an admin confirms it (applied once, however often it is posted) or rejects it with a
reason (no bill touched); the resident is told in their language; proofs are checked by
their bytes and open only for the estate's admins and the resident who sent them; every
bad input has its message and writes nothing."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.billing import manual
from portal.billing.periods import month
from portal.errors import InvalidValue
from portal.extensions import db
from portal.models import (
    AuditLog,
    Invoice,
    InvoiceStatus,
    OutboxMessage,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentProof,
    PaymentStatus,
    Role,
)
from tests.billing_support import add_charge, generate, invoices_of, set_billing

NOVEMBER, DECEMBER = month(2026, 11), month(2026, 12)


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (12, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def today(tz: str = "Africa/Lagos") -> date:
    return datetime.now(ZoneInfo(tz)).date()


@pytest.fixture
def billed(app, estate_pair, make):
    """Alpha's A1 (the resident's) billed ₦45,000 for November and December; B2 in block B
    billed too. Returns {(unit, month): invoice}."""
    a = estate_pair.alpha
    set_billing(app, a.estate, prefix="AL")
    make.unit(a.estate, "B2", block="B")
    add_charge(app, a.estate, "Service charge", 4_500_000)
    generate(app, a.estate, NOVEMBER)
    generate(app, a.estate, DECEMBER)
    return {(i.unit, i.period_start.month): i for i in invoices_of(app, a.estate)}


@pytest.fixture
def admin(client, estate_pair, login, billed):
    login("admin@alpha.test")
    return estate_pair


def _invoice_state(app, invoice_id: int) -> tuple:
    with app.app_context():
        inv = db.session.get(Invoice, invoice_id)
        return inv.status, inv.amount_paid_minor, inv.balance_minor


def _counts(dbs) -> dict:
    with dbs() as s:
        return {model.__name__: s.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Payment, PaymentProof, PaymentAllocation, OutboxMessage)} | {
            "audit": s.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action.like("payment.%")))}


def _payment(dbs, **where) -> Payment:
    with dbs() as s:
        payment = s.scalar(sa.select(Payment).filter_by(**where).order_by(Payment.id.desc()))
        s.expunge_all()
        return payment


GOOD = {"unit_number": "A1", "method": "BANK_TRANSFER", "reference": "ft 2611 0042", "amount": "60,000.00"}


def _post_payment(client, change: dict | None = None, proof: tuple[bytes, str] | None = None):
    data = {**GOOD, "paid_on": today().isoformat(), **(change or {})}
    if proof is not None:
        data["proof"] = (io.BytesIO(proof[0]), proof[1])
    return client.post("/e/alpha/admin/billing/payments/new", data=data, content_type="multipart/form-data")


# --- an admin records a payment ------------------------------------------------------------------


def test_an_admin_records_a_transfer_applied_oldest_first_with_its_proof(client, admin, billed, app, dbs):
    nov, dec = billed[("A1", 11)], billed[("A1", 12)]
    form = client.get("/e/alpha/admin/billing/payments/new?unit=a1").get_data(as_text=True)
    assert nov.number in form and dec.number in form and 'value="90,000.00"' in form  # what A1 owes
    response = _post_payment(client, proof=(image_bytes(), "slip.png"))
    assert response.status_code == 303
    payment = _payment(dbs)
    assert response.headers["Location"] == f"/e/alpha/admin/billing/payments/{payment.id}"
    assert (payment.status, payment.method, payment.reference, payment.amount_minor, payment.recorded_by_id) == (
        PaymentStatus.SUCCESSFUL, PaymentMethod.BANK_TRANSFER, "FT 2611 0042", 6_000_000, admin.alpha.admin.id)
    assert manual.paid_on(payment, type("E", (), {"timezone": "Africa/Lagos"})) == today()
    assert _invoice_state(app, nov.id) == (InvoiceStatus.PAID, 4_500_000, 0)
    assert _invoice_state(app, dec.id) == (InvoiceStatus.PARTIALLY_PAID, 1_500_000, 3_000_000)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "₦60,000.00 was applied to 2 invoices." in page
    assert nov.number in page and dec.number in page and "₦15,000.00" in page and 'id="proof-link"' in page
    proof = client.get(f"/e/alpha/admin/billing/payments/{payment.id}/proof")
    assert proof.status_code == 200 and proof.mimetype == "image/png" and proof.data == image_bytes()
    assert proof.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in proof.headers["Content-Security-Policy"]
    with dbs() as s:
        actions = s.scalars(sa.select(AuditLog.action).where(AuditLog.action.like("payment.%"))
                            .order_by(AuditLog.id)).all()
    assert actions == ["payment.recorded", "payment.applied"]


def test_the_ticked_invoice_is_paid_first_and_more_is_kept_as_credit(client, admin, billed, app, dbs):
    nov, dec = billed[("A1", 11)], billed[("A1", 12)]
    page = client.get(f"/e/alpha/admin/billing/payments/new?unit=A1&invoice={dec.id}").get_data(as_text=True)
    assert f'value="{dec.id}" id="invoice-{dec.id}"\n              checked' in page
    response = _post_payment(client, {"method": "CASH", "reference": "", "amount": "100000",
                                      "invoice_ids": [str(dec.id)]}, proof=(PDF, "receipt.pdf"))
    assert response.status_code == 303
    assert _invoice_state(app, dec.id) == (InvoiceStatus.PAID, 4_500_000, 0)
    assert _invoice_state(app, nov.id) == (InvoiceStatus.PAID, 4_500_000, 0)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "₦10,000.00 more than the unit owed is kept as its credit." in page
    payment = _payment(dbs)
    pdf = client.get(f"/e/alpha/admin/billing/payments/{payment.id}/proof")
    assert pdf.mimetype == "application/pdf" and pdf.headers["Content-Disposition"].startswith("attachment;")


BAD_PAYMENTS = [
    ({"unit_number": ""}, "This field is required."),
    ({"unit_number": "Z99"}, "No unit numbered Z99 in this estate."),
    ({"method": "FLUTTERWAVE"}, "Choose how it was paid."),
    ({"method": "BITCOIN"}, "Choose how it was paid."),
    ({"reference": ""}, "Enter the reference of the transfer or the cheque number."),
    ({"method": "CHEQUE", "reference": "  "}, "Enter the reference of the transfer or the cheque number."),
    ({"reference": "x" * 61}, "Use at most 60 characters."),
    ({"paid_on": ""}, "Enter a date as YYYY-MM-DD."),
    ({"paid_on": "01/12/2026"}, "Enter a date as YYYY-MM-DD."),
    ({"paid_on": (today() + timedelta(days=2)).isoformat()}, "The day it was paid cannot be in the future."),
    ({"paid_on": "2001-01-01"}, "Enter a day in the last 5 years."),
    ({"amount": ""}, "This field is required."),
    ({"amount": "abc"}, "Enter an amount such as 1,500.00."),
    ({"amount": "0"}, "The amount must be more than zero."),
    ({"amount": "-5"}, "Enter an amount such as 1,500.00."),
    ({"amount": "10.005"}, "NGN has at most 2 decimal places."),
    ({"amount": "99999999999999"}, "That amount is too large."),
    ({"invoice_ids": ["999999"]}, "Tick only invoices of this unit that are still owed."),
    ({"invoice_ids": ["abc"]}, "Tick only invoices of this unit that are still owed."),
]


@pytest.mark.parametrize("change, message", BAD_PAYMENTS)
def test_bad_payments_are_refused_with_a_message_and_nothing_written(client, admin, billed, app, dbs, change,
                                                                      message):
    before = _counts(dbs)
    response = _post_payment(client, change)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _counts(dbs) == before
    assert _invoice_state(app, billed[("A1", 11)].id) == (InvoiceStatus.ISSUED, 0, 4_500_000)


@pytest.mark.parametrize("proof, message", [
    ((b"hello, not an image", "slip.png"), "The proof must be a JPEG, PNG or WebP image, or a PDF."),
    ((image_bytes("GIF"), "slip.gif"), "The proof must be a JPEG, PNG or WebP image, or a PDF."),
    ((b"%PDF-1.4 cut short", "slip.pdf"), "That PDF is damaged or incomplete."),
    ((b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024) + b"%%EOF", "big.pdf"), "The proof is too large: the limit is 5 MB."),
])
def test_bad_proofs_are_refused_and_nothing_written(client, admin, dbs, proof, message):
    before = _counts(dbs)
    response = _post_payment(client, proof=proof)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _counts(dbs) == before


def test_another_units_invoice_cannot_be_ticked(client, admin, billed, app, dbs):
    before = _counts(dbs)
    response = _post_payment(client, {"invoice_ids": [str(billed[("B2", 12)].id)]})
    assert response.status_code == 422 and "Tick only invoices of this unit" in response.get_data(as_text=True)
    assert _counts(dbs) == before


def test_a_reference_counts_once_in_an_estate(client, admin, dbs):
    assert _post_payment(client).status_code == 303
    before = _counts(dbs)
    again = _post_payment(client, {"reference": "FT  2611 0042 ", "method": "CHEQUE"})
    assert again.status_code == 422
    assert "A payment with the reference FT 2611 0042 is already recorded" in again.get_data(as_text=True)
    assert _counts(dbs) == before
    assert _post_payment(client, {"method": "CASH", "reference": ""}).status_code == 303  # cash needs none
    assert _post_payment(client, {"method": "CASH", "reference": ""}).status_code == 303


def test_an_unknown_unit_on_the_form_says_so(client, admin):
    page = client.get("/e/alpha/admin/billing/payments/new?unit=nowhere")
    assert page.status_code == 422 and "No unit numbered nowhere in this estate." in page.get_data(as_text=True)
    assert 'id="payment-form"' not in page.get_data(as_text=True)
    assert 'id="payment-form"' not in client.get("/e/alpha/admin/billing/payments/new").get_data(as_text=True)


# --- a resident reports a transfer; an admin answers ---------------------------------------------


def _resident(app, login, email: str = "resident@alpha.test"):
    c = app.test_client()
    login(email, as_client=c)
    return c


def _report(c, invoice_id: int, change: dict | None = None, proof: tuple[bytes, str] | None = None,
            slug: str = "alpha", tz: str = "Africa/Lagos"):
    data = {"reference": "TRF-778812", "paid_on": today(tz).isoformat(), "amount": "45,000.00", **(change or {})}
    if proof is not None:
        data["proof"] = (io.BytesIO(proof[0]), proof[1])
    return c.post(f"/e/{slug}/home/bills/{invoice_id}/transfer", data=data, content_type="multipart/form-data")


def test_a_reported_transfer_waits_then_is_confirmed_once(client, admin, billed, app, login, dbs):
    dec = billed[("A1", 12)]
    resident = _resident(app, login)
    bill = resident.get(f"/e/alpha/home/bills/{dec.id}").get_data(as_text=True)
    assert 'id="report-transfer"' in bill
    form = resident.get(f"/e/alpha/home/bills/{dec.id}/transfer").get_data(as_text=True)
    assert 'value="45,000.00"' in form and f'value="{today().isoformat()}"' in form
    response = _report(resident, dec.id, proof=(image_bytes("JPEG"), "screenshot.jpg"))
    assert response.status_code == 303 and response.headers["Location"] == f"/e/alpha/home/bills/{dec.id}"
    bill = resident.get(response.headers["Location"]).get_data(as_text=True)
    assert "The estate office will check your transfer" in bill and "Waiting for the estate office to confirm it." in bill
    payment = _payment(dbs)
    assert (payment.status, payment.method, payment.payer_user_id, payment.reported_invoice_id, payment.reference) == (
        PaymentStatus.PENDING, PaymentMethod.BANK_TRANSFER, admin.alpha.resident.id, dec.id, "TRF-778812")
    assert _invoice_state(app, dec.id) == (InvoiceStatus.ISSUED, 0, 4_500_000)  # nothing paid until confirmed
    own_proof = resident.get(f"/e/alpha/home/payments/{payment.id}/proof")
    assert own_proof.status_code == 200 and own_proof.mimetype == "image/jpeg"

    listing = client.get("/e/alpha/admin/billing/payments/").get_data(as_text=True)
    assert "1 reported transfer to confirm" in listing
    queue = client.get("/e/alpha/admin/billing/payments/to-confirm").get_data(as_text=True)
    assert "TRF-778812" in queue and "₦45,000.00" in queue and dec.number in queue and "Open the proof" in queue

    first = client.post(f"/e/alpha/admin/billing/payments/{payment.id}/confirm", data={"back": "queue"})
    assert first.status_code == 303 and first.headers["Location"] == "/e/alpha/admin/billing/payments/to-confirm"
    second = client.post(f"/e/alpha/admin/billing/payments/{payment.id}/confirm", follow_redirects=True)
    assert "This payment was answered already (confirmed)." in second.get_data(as_text=True)
    assert _invoice_state(app, dec.id) == (InvoiceStatus.PAID, 4_500_000, 0)
    assert _invoice_state(app, billed[("A1", 11)].id) == (InvoiceStatus.ISSUED, 0, 4_500_000)  # the bill it was for
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(PaymentAllocation)) == 1
        actions = s.scalars(sa.select(AuditLog.action).where(AuditLog.action.like("payment.%"))
                            .order_by(AuditLog.id)).all()
        assert actions == ["payment.reported", "payment.confirmed", "payment.applied"]
        message = s.scalar(sa.select(OutboxMessage).where(OutboxMessage.reason == "payment_received"))
        assert (message.channel, message.recipient, message.language) == ("EMAIL", "resident@alpha.test", "en")
        assert "received your payment of ₦45,000.00 for " + dec.number in message.body  # the receipt notice
        assert s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.reason == "payment_received")) == 1  # one message, not two
    bill = resident.get(f"/e/alpha/home/bills/{dec.id}").get_data(as_text=True)
    assert "Confirmed on" in bill and "badge-invoice-paid" in bill and 'id="report-transfer"' not in bill
    assert "Nothing to confirm." in client.get("/e/alpha/admin/billing/payments/to-confirm").get_data(as_text=True)


def test_the_bills_list_says_which_bill_waits_for_a_reported_transfer(client, admin, billed, app, login, dbs,
                                                                      count_queries):
    nov, dec = billed[("A1", 11)], billed[("A1", 12)]
    resident = _resident(app, login)
    waiting = "Transfer reported: waiting for the estate office to confirm it."
    resident.get("/e/alpha/home/bills/")
    with count_queries() as none_waiting:
        listing = resident.get("/e/alpha/home/bills/").get_data(as_text=True)
    assert waiting not in listing
    _report(resident, dec.id)
    listing = resident.get("/e/alpha/home/bills/").get_data(as_text=True)
    assert f'id="awaiting-{dec.id}"' in listing and f'id="awaiting-{nov.id}"' not in listing
    assert listing.count(waiting) == 1
    _report(resident, nov.id, {"reference": "TRF-900001"})
    with count_queries() as two_waiting:
        listing = resident.get("/e/alpha/home/bills/").get_data(as_text=True)
    assert listing.count(waiting) == 2 and two_waiting.count == none_waiting.count
    block = resident.get("/e/alpha/home/bills/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert block.count(waiting) == 2 and "<html" not in block  # the list's HTMX block says it too
    with dbs() as s:
        first = s.scalar(sa.select(Payment.id).where(Payment.reported_invoice_id == dec.id))
    client.post(f"/e/alpha/admin/billing/payments/{first}/confirm")  # answered: no longer waiting
    listing = resident.get("/e/alpha/home/bills/").get_data(as_text=True)
    assert f'id="awaiting-{dec.id}"' not in listing and f'id="awaiting-{nov.id}"' in listing


def test_a_rejected_transfer_leaves_the_bills_alone_and_frees_its_reference(client, admin, billed, app, login, dbs):
    dec = billed[("A1", 12)]
    resident = _resident(app, login)
    _report(resident, dec.id)
    payment = _payment(dbs)
    url = f"/e/alpha/admin/billing/payments/{payment.id}"
    detail = client.get(url).get_data(as_text=True)
    assert 'class="danger" id="reject-submit"' in detail and "hx-confirm=" in detail
    before = _counts(dbs)
    refused = client.post(url + "/reject", data={"reason": "  "})
    assert refused.status_code == 422 and "Say why it is rejected" in refused.get_data(as_text=True)
    assert _counts(dbs) == before and _payment(dbs).status == PaymentStatus.PENDING
    done = client.post(url + "/reject", data={"reason": "No such transfer reached the account"})
    assert done.status_code == 303
    assert _payment(dbs).status == PaymentStatus.REJECTED
    assert _invoice_state(app, dec.id) == (InvoiceStatus.ISSUED, 0, 4_500_000)
    again = client.post(url + "/confirm", follow_redirects=True)
    assert "This payment was answered already (rejected)." in again.get_data(as_text=True)
    assert _invoice_state(app, dec.id) == (InvoiceStatus.ISSUED, 0, 4_500_000)
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(PaymentAllocation)) == 0
        message = s.scalar(sa.select(OutboxMessage).where(OutboxMessage.reason == "payment_received"))
        assert "was not confirmed: No such transfer reached the account" in message.body
        assert s.scalar(sa.select(AuditLog.after).where(AuditLog.action == "payment.rejected"))["reason"] == \
            "No such transfer reached the account"
    bill = resident.get(f"/e/alpha/home/bills/{dec.id}").get_data(as_text=True)
    assert "Not confirmed: No such transfer reached the account" in bill
    assert _report(resident, dec.id).status_code == 303  # the reference counts again only once reported again


def test_a_resident_cannot_report_one_reference_twice(client, billed, app, login, dbs):
    resident = _resident(app, login)
    dec, nov = billed[("A1", 12)], billed[("A1", 11)]
    assert _report(resident, dec.id).status_code == 303
    before = _counts(dbs)
    twice = _report(resident, nov.id, {"reference": " trf-778812"})
    assert twice.status_code == 422
    assert "A payment with the reference TRF-778812 is already recorded or waiting" in twice.get_data(as_text=True)
    assert _counts(dbs) == before


BAD_REPORTS = [
    ({"reference": ""}, "Enter the reference of the transfer or the cheque number."),
    ({"reference": "r" * 61}, "Use at most 60 characters."),
    ({"paid_on": ""}, "Enter a date as YYYY-MM-DD."),
    ({"paid_on": "yesterday"}, "Enter a date as YYYY-MM-DD."),
    ({"paid_on": (today() + timedelta(days=3)).isoformat()}, "The day it was paid cannot be in the future."),
    ({"amount": "lots"}, "Enter an amount such as 1,500.00."),
    ({"amount": "0.00"}, "The amount must be more than zero."),
    ({"amount": "1e5"}, "Enter an amount such as 1,500.00."),
]


@pytest.mark.parametrize("change, message", BAD_REPORTS)
def test_bad_reports_are_refused_with_a_message_and_nothing_written(billed, app, login, dbs, change, message):
    resident = _resident(app, login)
    before = _counts(dbs)
    response = _report(resident, billed[("A1", 12)].id, change)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _counts(dbs) == before


def test_a_bad_proof_on_a_report_is_refused(billed, app, login, dbs):
    resident = _resident(app, login)
    before = _counts(dbs)
    response = _report(resident, billed[("A1", 12)].id, proof=(b"MZ\x90\x00 an exe", "slip.jpg"))
    assert response.status_code == 422 and "The proof must be a JPEG" in response.get_data(as_text=True)
    assert _counts(dbs) == before


def test_a_paid_bill_has_nothing_to_report(client, admin, billed, app, login, dbs):
    _post_payment(client, {"amount": "45,000", "invoice_ids": [str(billed[("A1", 11)].id)]})
    resident = _resident(app, login)
    before = _counts(dbs)
    response = _report(resident, billed[("A1", 11)].id, {"reference": "OTHER-1"})
    assert response.status_code == 303
    page = resident.get(response.headers["Location"]).get_data(as_text=True)
    assert "has nothing left to pay" in page and 'id="report-transfer"' not in page
    assert _counts(dbs) == before


def test_an_online_checkout_is_not_confirmed_by_hand(client, admin, billed, app, dbs):
    with app.app_context():
        checkout = Payment(estate_id=admin.alpha.estate.id, unit_id=admin.alpha.unit.id, amount_minor=4_500_000,
                           currency="NGN", method=PaymentMethod.FLUTTERWAVE, tx_ref="GH-ALPHA-abc")
        db.session.add(checkout)
        db.session.commit()
        checkout_id = checkout.id
    page = client.post(f"/e/alpha/admin/billing/payments/{checkout_id}/confirm", follow_redirects=True)
    assert "Only bank transfers, cash and cheques are confirmed here." in page.get_data(as_text=True)
    assert _payment(dbs, id=checkout_id).status == PaymentStatus.PENDING
    assert "Nothing to confirm." in client.get("/e/alpha/admin/billing/payments/to-confirm").get_data(as_text=True)


# --- Spanish ---------------------------------------------------------------------------------------


def test_a_spanish_resident_reports_and_hears_back_in_spanish(client, make, login, app, dbs):
    estate = make.estate("flores", name="Las Flores", currency="GTQ", country="GT", timezone="America/Guatemala",
                         default_language="es")
    unit = make.unit(estate, "Casa 7")
    vecino = make.user("vecino@flores.test", estate=estate, role=Role.RESIDENT, preferred_language="es")
    make.user("admin@flores.test", estate=estate, role=Role.ESTATE_ADMIN, preferred_language="es")
    make.resident(estate, unit, "Andrés Morales", user=vecino)
    set_billing(app, estate, prefix="LF")
    add_charge(app, estate, "Cuota de mantenimiento", 85_000)
    generate(app, estate, DECEMBER)
    invoice = invoices_of(app, estate)[0]
    resident = _resident(app, login, "vecino@flores.test")
    form = resident.get(f"/e/flores/home/bills/{invoice.id}/transfer").get_data(as_text=True)
    assert "Pagué por transferencia" in form and 'value="850.00"' in form
    bad = _report(resident, invoice.id, {"amount": "ochocientos"}, slug="flores", tz="America/Guatemala")
    assert bad.status_code == 422 and "Ingrese un monto como 1,500.00." in bad.get_data(as_text=True)
    assert _report(resident, invoice.id, {"amount": "Q850.00"}, slug="flores",
                   tz="America/Guatemala").status_code == 303
    bill = resident.get(f"/e/flores/home/bills/{invoice.id}").get_data(as_text=True)
    assert "Esperando que la administración la confirme." in bill
    listing = resident.get("/e/flores/home/bills/").get_data(as_text=True)
    assert f'id="awaiting-{invoice.id}"' in listing and "Transferencia reportada: esperando" in listing
    login("admin@flores.test")
    payment = _payment(dbs)
    refused = client.post(f"/e/flores/admin/billing/payments/{payment.id}/reject", data={"reason": ""})
    assert refused.status_code == 422 and "Indique por qué se rechaza" in refused.get_data(as_text=True)
    client.post(f"/e/flores/admin/billing/payments/{payment.id}/reject", data={"reason": "Monto distinto"})
    with dbs() as s:
        message = s.scalar(sa.select(OutboxMessage).where(OutboxMessage.reason == "payment_received"))
    assert message.language == "es" and "Su pago de Q850.00 (referencia TRF-778812) no fue confirmado" in message.body


# --- tenancy ------------------------------------------------------------------------------------------


def test_another_estates_payment_and_proof_are_404(client, estate_pair, billed, app, login, dbs):
    a = estate_pair.alpha
    resident = _resident(app, login)
    _report(resident, billed[("A1", 12)].id, proof=(image_bytes(), "slip.png"))
    payment = _payment(dbs)
    login("admin@beta.test")
    for path in (f"{payment.id}", f"{payment.id}/proof"):
        assert client.get(f"/e/beta/admin/billing/payments/{path}").status_code == 404
        assert client.get(f"/e/alpha/admin/billing/payments/{path}").status_code == 404
    for path in (f"{payment.id}/confirm", f"{payment.id}/reject"):
        assert client.post(f"/e/beta/admin/billing/payments/{path}", data={"reason": "x"}).status_code == 404
    assert "TRF-778812" not in client.get("/e/beta/admin/billing/payments/").get_data(as_text=True)
    assert "TRF-778812" not in client.get("/e/beta/admin/billing/payments/to-confirm").get_data(as_text=True)
    assert b"TRF-778812" not in client.get("/e/beta/admin/billing/payments/export.csv").data
    beta_resident = _resident(app, login, "resident@beta.test")
    assert beta_resident.get(f"/e/beta/home/payments/{payment.id}/proof").status_code == 404
    assert beta_resident.get(f"/e/beta/home/bills/{billed[('A1', 12)].id}/transfer").status_code == 404
    assert _payment(dbs).status == PaymentStatus.PENDING and a.estate.slug == "alpha"


def test_only_the_reporting_resident_opens_their_proof(client, estate_pair, billed, app, login, make, dbs):
    a = estate_pair.alpha
    housemate = make.user("housemate@alpha.test", estate=a.estate, role=Role.RESIDENT)
    make.resident(a.estate, a.unit, "Housemate", user=housemate)
    neighbour = make.user("neighbour@alpha.test", estate=a.estate, role=Role.RESIDENT)
    make.resident(a.estate, make.unit(a.estate, "C3"), "Neighbour", user=neighbour)
    _report(_resident(app, login), billed[("A1", 12)].id, proof=(image_bytes(), "slip.png"))
    payment = _payment(dbs)
    others = {email: _resident(app, login, email) for email in ("housemate@alpha.test", "neighbour@alpha.test")}
    for other in others.values():
        assert other.get(f"/e/alpha/home/payments/{payment.id}/proof").status_code == 404
    assert others["neighbour@alpha.test"].get(
        f"/e/alpha/home/bills/{billed[('A1', 12)].id}/transfer").status_code == 404
    housemate_bill = others["housemate@alpha.test"].get(
        f"/e/alpha/home/bills/{billed[('A1', 12)].id}").get_data(as_text=True)
    assert "TRF-778812" in housemate_bill and "Your proof" not in housemate_bill  # sees the report, not the file
    login("admin@alpha.test")
    assert client.get(f"/e/alpha/admin/billing/payments/{payment.id}/proof").status_code == 200


# --- the list, its totals, its CSV ---------------------------------------------------------------


def _add(app, estate, unit, amount: int, method=PaymentMethod.BANK_TRANSFER, status=PaymentStatus.SUCCESSFUL,
         day: date | None = None, reference: str = "", tz: str = "Africa/Lagos") -> int:
    with app.app_context():
        paid = datetime.combine(day or today(tz), datetime.min.time(), ZoneInfo(tz)) + timedelta(hours=10)
        payment = Payment(estate_id=estate.id, unit_id=unit.id, amount_minor=amount, currency=estate.currency,
                          method=method, status=status, tx_ref=f"T-{reference or amount}-{method}-{status}-{day}",
                          reference=reference, paid_at=paid)
        db.session.add(payment)
        db.session.commit()
        return payment.id


def _amounts(html: str) -> list[str]:
    import re

    return re.findall(r'class="nowrap payment-amount">([^<]+)<', html)


def test_filters_and_totals(client, admin, make, app):
    a = admin.alpha
    b2 = make.unit(a.estate, "B9", block="B")
    _add(app, a.estate, a.unit, 100_000, reference="R1", day=date(2026, 11, 3))
    _add(app, a.estate, a.unit, 200_000, PaymentMethod.CASH, day=date(2026, 11, 20))
    _add(app, a.estate, b2, 400_000, PaymentMethod.CHEQUE, reference="CHQ 7", day=date(2026, 11, 25))
    _add(app, a.estate, b2, 800_000, status=PaymentStatus.PENDING, reference="R4", day=date(2026, 11, 26))
    _add(app, a.estate, a.unit, 1_600_000, PaymentMethod.FLUTTERWAVE, status=PaymentStatus.FAILED, day=date(2026, 11, 27))
    html = client.get("/e/alpha/admin/billing/payments/").get_data(as_text=True)
    assert len(_amounts(html)) == 5 and 'id="total-count">5<' in html
    assert 'id="total-received">₦7,000.00<' in html and 'id="total-pending">₦8,000.00<' in html
    assert _amounts(html)[0] == "₦16,000.00"  # latest paid first
    cash = client.get("/e/alpha/admin/billing/payments/?method=CASH").get_data(as_text=True)
    assert _amounts(cash) == ["₦2,000.00"] and 'id="total-received">₦2,000.00<' in cash
    assert _amounts(client.get("/e/alpha/admin/billing/payments/?status=PENDING").get_data(as_text=True)) == \
        ["₦8,000.00"]
    assert len(_amounts(client.get("/e/alpha/admin/billing/payments/?block=B").get_data(as_text=True))) == 2
    assert len(_amounts(client.get("/e/alpha/admin/billing/payments/?unit=a1").get_data(as_text=True))) == 3
    ranged = client.get("/e/alpha/admin/billing/payments/?from=2026-11-20&to=2026-11-25").get_data(as_text=True)
    assert _amounts(ranged) == ["₦4,000.00", "₦2,000.00"]
    fragment = client.get("/e/alpha/admin/billing/payments/?method=CHEQUE",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and _amounts(fragment) == ["₦4,000.00"]
    bad = client.get("/e/alpha/admin/billing/payments/?from=someday&to=2026-13-01&method=GOLD")
    assert bad.status_code == 200 and "Enter a date as YYYY-MM-DD." in bad.get_data(as_text=True)
    assert "No payment matches these filters." in client.get(
        "/e/alpha/admin/billing/payments/?unit=nowhere").get_data(as_text=True)


def test_the_csv_export_holds_every_filtered_payment(client, admin, app, make):
    import csv

    a = admin.alpha
    for n in range(30):
        _add(app, a.estate, a.unit, 1_000 + n, reference=f"REF-{n:02d}", day=date(2026, 11, 1) + timedelta(days=n % 28))
    _add(app, a.estate, a.unit, 5_000_000, PaymentMethod.CASH, reference="=HYPERLINK(1)", day=date(2026, 11, 30))
    page = client.get("/e/alpha/admin/billing/payments/?method=BANK_TRANSFER").get_data(as_text=True)
    assert "Page 1 of 2" in page and 'href="/e/alpha/admin/billing/payments/export.csv?method=BANK_TRANSFER"' in page
    response = client.get("/e/alpha/admin/billing/payments/export.csv?method=BANK_TRANSFER")
    assert response.mimetype == "text/csv" and "attachment;" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Date paid", "Unit", "Block", "Method", "Status", "Reference", "Amount", "Currency",
                       "Invoices paid", "Recorded by", "Transaction reference"]
    assert len(rows) == 31 and {r[3] for r in rows[1:]} == {"Bank transfer"}  # all pages, the filter kept
    dates = [r[0] for r in rows[1:]]
    assert dates == sorted(dates, reverse=True)
    first = next(r for r in rows if r[5] == "REF-29")
    assert first[:9] == ["2026-11-02", "A1", "", "Bank transfer", "Successful", "REF-29", "10.29", "NGN", ""]
    everything = list(csv.reader(io.StringIO(client.get(
        "/e/alpha/admin/billing/payments/export.csv").get_data(as_text=True))))
    assert len(everything) == 32 and [everything[1][5], everything[1][6]] == ["'=HYPERLINK(1)", "50000.00"]


def test_the_csv_names_the_invoices_a_payment_paid(client, admin, billed):
    import csv

    _post_payment(client, {"amount": "90,000"})
    rows = list(csv.reader(io.StringIO(client.get("/e/alpha/admin/billing/payments/export.csv").get_data(
        as_text=True))))
    assert rows[1][8] == f"{billed[('A1', 11)].number} {billed[('A1', 12)].number}"
    assert rows[1][9] == admin.alpha.admin.full_name  # who recorded it
    assert rows[1][6] == "90000.00"


def test_the_list_is_paginated_in_constant_queries(client, admin, app, make, count_queries):
    a = admin.alpha
    _add(app, a.estate, a.unit, 1_000, reference="ONE")
    client.get("/e/alpha/admin/billing/payments/")
    with count_queries() as few:
        client.get("/e/alpha/admin/billing/payments/")
    for n in range(40):
        unit = make.unit(a.estate, f"Q{n}", block="Q")
        _add(app, a.estate, unit, 2_000 + n, reference=f"MANY-{n}")
    with count_queries() as many:
        html = client.get("/e/alpha/admin/billing/payments/").get_data(as_text=True)
    assert many.count == few.count
    assert len(_amounts(html)) == 25 and "Page 1 of 2" in html
    assert len(_amounts(client.get("/e/alpha/admin/billing/payments/?page=2").get_data(as_text=True))) == 16
    _add(app, a.estate, a.unit, 3_000, status=PaymentStatus.PENDING, reference="WAIT-0")
    with count_queries() as queue_few:
        client.get("/e/alpha/admin/billing/payments/to-confirm")
    for n in range(1, 30):
        _add(app, a.estate, make.unit(a.estate, f"W{n}"), 3_000 + n, status=PaymentStatus.PENDING,
              reference=f"WAIT-{n}")
    with count_queries() as queue_many:
        queue = client.get("/e/alpha/admin/billing/payments/to-confirm").get_data(as_text=True)
    assert "WAIT-24" in queue and "Page 1 of 2" in queue and queue_many.count == queue_few.count


def test_the_payments_tab_and_empty_state(client, admin):
    html = client.get("/e/alpha/admin/billing/payments/").get_data(as_text=True)
    assert 'id="tab-payments" aria-current="page"' in html and "No payments yet." in html
    assert 'id="to-confirm-notice"' not in html


# --- the proof checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("content, mime", [(image_bytes("PNG"), "image/png"), (image_bytes("JPEG"), "image/jpeg"),
                                           (image_bytes("WEBP"), "image/webp"), (PDF, "application/pdf")])
def test_proofs_are_judged_by_their_bytes(content, mime):
    assert manual.clean_proof(content)[1] == mime


@pytest.mark.parametrize("content", [b"", b"GIF89a", image_bytes("GIF"), image_bytes("BMP"), b"<svg></svg>",
                                     image_bytes("PNG")[:40]])
def test_other_files_are_not_proofs(content):
    with pytest.raises(InvalidValue):
        manual.clean_proof(content)


def test_references_are_kept_one_way():
    assert manual.clean_reference("  ft  2612\t0099 ") == "FT 2612 0099"
