"""Races of manual payments on PostgreSQL, each side in its own thread and connection: two
admins confirming one reported transfer at once apply it once; a confirmation and a
rejection at once end in one of the two; two reports of one reference at once keep one.

Needs PostgreSQL: run with TEST_DATABASE_URL set (`make test-pg`)."""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from portal.billing import manual
from portal.errors import Conflict, FieldErrors
from portal.extensions import db
from portal.models import (
    Estate,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    Role,
    User,
)
from tests.billing_support import DECEMBER, add_charge, generate, invoices_of, set_billing

pytestmark = [
    pytest.mark.real_commits,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                       reason="needs PostgreSQL (TEST_DATABASE_URL): real concurrent transactions"),
]


def _at_once(app, *calls) -> list:
    """Run each call(estate, user) in its own thread and app context, all released together;
    each result is what it returned or the DomainError it raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def work(n: int, call) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[n] = call()
            except (Conflict, FieldErrors) as exc:
                db.session.rollback()
                results[n] = exc

    threads = [threading.Thread(target=work, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def world(app, make):
    estate = make.estate("alpha")
    unit = make.unit(estate, "A1")
    admins = [make.user(f"admin{n}@alpha.test", estate=estate, role=Role.ESTATE_ADMIN) for n in (1, 2)]
    resident = make.user("resident@alpha.test", estate=estate, role=Role.RESIDENT)
    make.resident(estate, unit, "Resident", user=resident)
    set_billing(app, estate, prefix="AL")
    add_charge(app, estate, "Service charge", 4_500_000)
    generate(app, estate, DECEMBER)
    invoice = invoices_of(app, estate)[0]
    return estate, admins, resident, invoice


def _report(app, estate, resident, invoice, reference: str = "TRF-1") -> int:
    with app.app_context():
        payment = manual.report_transfer(db.session.get(User, resident.id), db.session.get(Estate, estate.id),
                                         invoice.id, manual.TransferReport(reference, date.today(), 4_500_000))
        return payment.id


def _as(user_id: int, estate_id: int, fn, *args):
    return lambda: fn(db.session.get(User, user_id), db.session.get(Estate, estate_id), *args)


def test_two_confirmations_at_once_apply_the_payment_once(app, world):
    estate, admins, resident, invoice = world
    payment_id = _report(app, estate, resident, invoice)
    results = _at_once(app, *(_as(a.id, estate.id, manual.confirm_payment, payment_id) for a in admins))
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentAllocation)) == 1
        row = db.session.get(Invoice, invoice.id)
        assert (row.status, row.amount_paid_minor, row.balance_minor) == (InvoiceStatus.PAID, 4_500_000, 0)


def test_a_confirmation_and_a_rejection_at_once_end_in_one(app, world):
    estate, admins, resident, invoice = world
    payment_id = _report(app, estate, resident, invoice)
    results = _at_once(app, _as(admins[0].id, estate.id, manual.confirm_payment, payment_id),
                       _as(admins[1].id, estate.id, manual.reject_payment, payment_id, "Not in the account"))
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    with app.app_context():
        status = db.session.get(Payment, payment_id).status
        row = db.session.get(Invoice, invoice.id)
        allocations = db.session.scalar(sa.select(sa.func.count()).select_from(PaymentAllocation))
    if status == PaymentStatus.SUCCESSFUL:
        assert (row.status, allocations) == (InvoiceStatus.PAID, 1)
    else:
        assert status == PaymentStatus.REJECTED and (row.status, allocations) == (InvoiceStatus.ISSUED, 0)


def test_one_reference_reported_twice_at_once_is_kept_once(app, world):
    estate, _admins, resident, invoice = world

    def report():
        return manual.report_transfer(db.session.get(User, resident.id), db.session.get(Estate, estate.id),
                                      invoice.id, manual.TransferReport("TRF-SAME", date.today(), 100_000)).id

    results = _at_once(app, report, report)
    assert sum(isinstance(r, FieldErrors) for r in results) == 1, results
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
