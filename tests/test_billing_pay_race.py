"""The return and five webhook deliveries of one payment at the same moment, on PostgreSQL,
each in its own thread and connection: the payment is applied once (one allocation, one
"payment.applied" audit row, one receipt message), decided by the database.

Needs PostgreSQL: run with TEST_DATABASE_URL set (`make test-pg`)."""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from portal.billing import checkout
from portal.billing.periods import month
from portal.extensions import db
from portal.models import (
    AuditLog,
    Estate,
    Invoice,
    OutboxMessage,
    Payment,
    PaymentAllocation,
    Role,
    User,
)
from tests.billing_support import add_charge, generate, invoices_of, set_billing
from tests.fakes.flutterwave import running_fake

pytestmark = [
    pytest.mark.real_commits,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                       reason="needs PostgreSQL (TEST_DATABASE_URL): real concurrent transactions"),
]


def test_the_return_and_five_webhooks_at_once_apply_one_payment(app, make):
    estate = make.estate("alpha")
    unit = make.unit(estate, "A1")
    user = make.user("resident@alpha.test", estate=estate, role=Role.RESIDENT)
    make.resident(estate, unit, "Ada", user=user)
    set_billing(app, estate, prefix="AL")
    add_charge(app, estate, "Service charge", 4_500_000)
    generate(app, estate, month(2026, 12))
    bill = invoices_of(app, estate)[0]
    with running_fake(app, webhook_timing="off") as fake, app.test_request_context(base_url="http://portal.test"):
        link = checkout.start_checkout(db.session.get(User, user.id), db.session.get(Estate, estate.id),
                                       [bill.id])
        payment_id = db.session.scalar(sa.select(Payment.id).where(Payment.tx_ref == link.tx_ref))
        transaction_id = str(fake.complete(link.tx_ref).id)
        db.session.remove()

        barrier = threading.Barrier(6)
        outcomes, errors = [], []

        def report(source: str) -> None:
            try:
                with app.app_context():
                    payment = db.session.get(Payment, payment_id)
                    barrier.wait(timeout=10)
                    outcomes.append(checkout.settle(payment, transaction_id=transaction_id, source=source))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(repr(exc))

        threads = [threading.Thread(target=report, args=(s,)) for s in ["return"] + ["webhook"] * 5]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    assert outcomes == [checkout.Outcome.PAID] * 6
    with app.app_context():
        assert db.session.execute(sa.select(PaymentAllocation.invoice_id, PaymentAllocation.amount_minor)).all() \
            == [(bill.id, 4_500_000)]
        invoice = db.session.get(Invoice, bill.id)
        assert (invoice.status.value, invoice.balance_minor) == ("PAID", 0)
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "payment.applied")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.reason == "payment_received")) == 1

