"""Invoice generation: which charges each unit gets, numbers, idempotence, a crash and its
resume, preview = generated, one-off charges, voiding, overdue marking, notices, payments."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from portal.billing import charges, generation, invoices, money, payments
from portal.billing.periods import bills_in, month
from portal.errors import Conflict, FieldErrors
from portal.extensions import db
from portal.models import (
    AuditLog,
    Charge,
    ChargeFrequency,
    ChargeScope,
    Estate,
    GenerationRun,
    GenerationStatus,
    Invoice,
    InvoiceCounter,
    InvoiceStatus,
    OutboxMessage,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    ResidentType,
    UnitCharge,
    UnitType,
    User,
)
from tests.billing_support import (
    DECEMBER,
    add_charge,
    add_unit_charge,
    generate,
    invoices_of,
    set_billing,
)


@pytest.fixture
def estate(make, app):
    estate = make.estate("alpha", name="Alpha Court")
    set_billing(app, estate, prefix="AL")
    return estate


def _units(make, estate, specs):
    """specs: (number, block, type) → {number: unit}."""
    return {number: make.unit(estate, number, block=block, unit_type=unit_type) for number, block, unit_type in specs}


# --- which charges apply ----------------------------------------------------------------------------


def test_each_unit_gets_the_charges_that_apply_to_it(app, make, estate):
    u = _units(make, estate, [("A1", "A", UnitType.APARTMENT), ("A2", "A", UnitType.HOUSE),
                              ("B1", "B", UnitType.APARTMENT), ("B2", "B", UnitType.TERRACE), ("C1", "", UnitType.SHOP)])
    add_charge(app, estate, "Service", 10_000)
    add_charge(app, estate, "Houses", 2_000, applies_to=ChargeScope.UNIT_TYPES, unit_types=["HOUSE", "TERRACE"])
    add_charge(app, estate, "Lift", 3_000, applies_to=ChargeScope.BLOCKS, blocks=["B"])
    add_charge(app, estate, "Listed", 4_000, applies_to=ChargeScope.UNITS, listed=[u["A1"], u["C1"]])
    add_charge(app, estate, "Gym", 5_000, mandatory=False, opted_in=[u["B1"]])
    add_charge(app, estate, "Pool", 6_000, mandatory=False, applies_to=ChargeScope.BLOCKS, blocks=["A"],
               opted_in=[u["B1"], u["A2"]])  # B1 opted in but is not in block A
    add_charge(app, estate, "Disabled", 7_000, active=False)
    add_charge(app, estate, "Ended", 8_000, ends_on=date(2026, 11, 30))
    add_charge(app, estate, "Future", 9_000, starts_on=date(2027, 1, 1))

    run = generate(app, estate)

    lines = {i.unit: sorted(d for d, _ in i.lines) for i in invoices_of(app, estate)}
    assert lines == {
        "A1": ["Listed", "Service"],
        "A2": ["Houses", "Pool", "Service"],
        "B1": ["Gym", "Lift", "Service"],
        "B2": ["Houses", "Lift", "Service"],
        "C1": ["Listed", "Service"],
    }
    assert run.status == GenerationStatus.DONE and run.invoices_created == 5
    assert run.total_minor == 10_000 * 5 + 2_000 * 2 + 3_000 * 2 + 4_000 * 2 + 5_000 + 6_000


def test_units_with_no_charge_and_archived_units_are_skipped(app, make, estate, dbs):
    make.unit(estate, "A1", block="A")
    make.unit(estate, "B1", block="B")
    make.unit(estate, "Z9", block="A", archived_at=datetime(2026, 1, 1, tzinfo=UTC))
    add_charge(app, estate, "Lift", 3_000, applies_to=ChargeScope.BLOCKS, blocks=["A"])
    run = generate(app, estate)
    assert [i.unit for i in invoices_of(app, estate)] == ["A1"]
    assert (run.total_units, run.done_units, run.invoices_created, run.no_charges) == (2, 2, 1, 1)


@pytest.mark.parametrize("frequency, starts, billed_months, covers", [
    (ChargeFrequency.MONTHLY, date(2026, 10, 15), [10, 11, 12, 13, 14], None),
    (ChargeFrequency.QUARTERLY, date(2026, 10, 1), [10, 13], (date(2026, 10, 1), date(2026, 12, 31))),
    (ChargeFrequency.ANNUAL, date(2026, 11, 20), [11], (date(2026, 11, 1), date(2027, 10, 31))),
    (ChargeFrequency.ONE_OFF, date(2026, 12, 24), [12], None),
])
def test_frequencies_bill_in_their_months(frequency, starts, billed_months, covers):
    charge = Charge(frequency=frequency, starts_on=starts, ends_on=None, active=True)
    periods = {m: month(2026 + (m - 1) // 12, (m - 1) % 12 + 1) for m in range(9, 15)}  # Sep 2026 … Feb 2027
    billed = [m for m, period in periods.items() if bills_in(charge, period)]
    assert billed == billed_months
    if covers and frequency != ChargeFrequency.MONTHLY:
        assert bills_in(charge, periods[billed_months[0]]) == covers


# --- numbers, idempotence, crash and resume --------------------------------------------------------


def _numbers(app, estate) -> list[str]:
    return [i.number for i in invoices_of(app, estate)]


def test_numbers_are_sequential_per_estate_and_year(app, make, estate):
    other = make.estate("beta")
    set_billing(app, other, prefix="BE")
    for n in range(3):
        make.unit(estate, f"A{n + 1}")
        make.unit(other, f"B{n + 1}")
    for e in (estate, other):
        add_charge(app, e, "Service", 10_000)
    generate(app, estate)
    generate(app, other)
    generate(app, estate, month(2027, 1))
    assert _numbers(app, estate) == ["AL-2026-000001", "AL-2026-000002", "AL-2026-000003",
                                     "AL-2027-000001", "AL-2027-000002", "AL-2027-000003"]
    assert _numbers(app, other) == ["BE-2026-000001", "BE-2026-000002", "BE-2026-000003"]


def test_generating_a_period_twice_creates_nothing_new(app, make, estate, dbs):
    for n in range(5):
        make.unit(estate, f"A{n + 1}")
    add_charge(app, estate, "Service", 10_000)
    first = generate(app, estate, batch_size=2)
    before = invoices_of(app, estate)
    second = generate(app, estate, batch_size=2)
    assert [(i.id, i.number) for i in invoices_of(app, estate)] == [(i.id, i.number) for i in before]
    assert (first.invoices_created, second.invoices_created, second.already_invoiced) == (5, 0, 5)
    with dbs() as s:
        assert s.scalar(sa.select(InvoiceCounter.last_number).where(InvoiceCounter.estate_id == estate.id)) == 5


def test_a_crash_after_some_batches_keeps_them_and_a_resume_finishes_without_duplicates(app, make, estate, dbs,
                                                                                      monkeypatch):
    for n in range(7):
        make.unit(estate, f"A{n + 1}")
    add_charge(app, estate, "Service", 10_000)
    real_write = generation._write_invoices
    calls = {"n": 0}

    def crash_on_third_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            real_write(*args, **kwargs)  # the batch's rows are written, then the worker dies mid-transaction
            raise RuntimeError("worker killed")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(generation, "_write_invoices", crash_on_third_batch)
    run = generate(app, estate, batch_size=2)
    assert run.status == GenerationStatus.FAILED and "worker killed" in run.error
    assert _numbers(app, estate) == [f"AL-2026-00000{n}" for n in range(1, 5)]  # batches 1 and 2, no gap
    assert (run.done_units, run.last_unit_id > 0) == (4, True)

    monkeypatch.setattr(generation, "_write_invoices", real_write)
    with app.app_context():
        resumed = generation.execute_run(run.id, batch_size=2)
        assert resumed.status == GenerationStatus.DONE and resumed.invoices_created == 7
    found = invoices_of(app, estate)
    assert sorted(i.unit for i in found) == [f"A{n}" for n in range(1, 8)]  # exactly one per unit
    assert [i.number for i in found] == [f"AL-2026-00000{n}" for n in range(1, 8)]


def test_a_crash_in_the_first_batch_leaves_no_invoice_and_no_used_number(app, make, estate, dbs, monkeypatch):
    for n in range(3):
        make.unit(estate, f"A{n + 1}")
    add_charge(app, estate, "Service", 10_000)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(generation, "_take_numbers", broken)
    run = generate(app, estate)
    assert run.status == GenerationStatus.FAILED and invoices_of(app, estate) == []
    with dbs() as s:
        assert (s.scalar(sa.select(InvoiceCounter.last_number)) or 0) == 0
    monkeypatch.undo()
    generate(app, estate)
    assert _numbers(app, estate) == ["AL-2026-000001", "AL-2026-000002", "AL-2026-000003"]


def test_the_unique_index_refuses_a_second_generated_invoice_for_a_unit_and_period(app, make, estate, dbs):
    make.unit(estate, "A1")
    add_charge(app, estate, "Service", 10_000)
    generate(app, estate)
    with dbs() as s:
        original = s.scalar(sa.select(Invoice))
        copy = Invoice(**{c.key: getattr(original, c.key) for c in sa.inspect(original).mapper.column_attrs
                          if c.key not in ("id", "number", "sequence")}, number="AL-2026-999999", sequence=999999)
        s.add(copy)
        with pytest.raises(sa.exc.IntegrityError):
            s.flush()
        s.rollback()


# --- money on the invoice ------------------------------------------------------------------------


def test_tax_is_rounded_half_up_per_invoice(app, make, estate):
    set_billing(app, estate, prefix="AL", tax_rate_bp=750)
    make.unit(estate, "A1")
    make.unit(estate, "A2")
    add_charge(app, estate, "Odd", 1_001, applies_to=ChargeScope.UNITS, listed=[])  # nobody
    add_charge(app, estate, "Service", 1_002)
    add_charge(app, estate, "Small", 6)  # 1008 in all: 7.5 % is 75.6 → 76
    generate(app, estate)
    invoice = invoices_of(app, estate)[0]
    assert (invoice.subtotal_minor, invoice.tax_rate_bp, invoice.tax_minor, invoice.total_minor) == (1_008, 750, 76,
                                                                                                     1_084)
    assert invoice.balance_minor == 1_084 and invoice.amount_paid_minor == 0


@pytest.mark.parametrize("subtotal, rate, tax", [
    (1_001, 750, 75),  # 75.075 → 75
    (1_002, 750, 75),  # 75.15 → 75
    (1_000, 750, 75),
    (10, 500, 1),  # 0.5 → 1 (half up)
    (9, 500, 0),  # 0.45 → 0
    (4_500_000, 750, 337_500),
    (0, 750, 0),
    (123_456_789, 0, 0),
    (1, 10_000, 1),
])
def test_tax_on(subtotal, rate, tax):
    assert money.tax_on(subtotal, rate) == tax


def test_the_preview_totals_equal_what_is_generated(app, make, estate):
    set_billing(app, estate, prefix="AL", tax_rate_bp=750)
    u = _units(make, estate, [(f"A{n}", "A", UnitType.HOUSE if n % 3 == 0 else UnitType.APARTMENT)
                              for n in range(1, 13)] + [("Q1", "Q", UnitType.SHOP)])
    add_charge(app, estate, "Service", 4_500_033, applies_to=ChargeScope.UNIT_TYPES, unit_types=["APARTMENT", "HOUSE"])
    add_charge(app, estate, "Security", 1_500_001)
    add_charge(app, estate, "Waste", 900_007, frequency=ChargeFrequency.QUARTERLY, starts_on=date(2026, 9, 1))
    add_charge(app, estate, "Gym", 1_000_000, mandatory=False, opted_in=[u["A2"], u["A5"]])
    add_unit_charge(app, estate, u["A3"], amount_minor=333_333)
    with app.app_context():
        preview = generation.preview(db.session.get(Estate, estate.id), DECEMBER)
        planned = {p.unit_number: p.total_minor for p in preview.invoices}
        services = {s.name: (s.units, s.amount_minor) for s in preview.services}
        totals = (preview.subtotal_minor, preview.tax_minor, preview.total_minor)
    run = generate(app, estate)
    found = invoices_of(app, estate)
    assert {i.unit: i.total_minor for i in found} == planned
    assert (sum(i.subtotal_minor for i in found), sum(i.tax_minor for i in found),
            sum(i.total_minor for i in found)) == totals == (totals[0], totals[1], run.total_minor)
    by_line: dict = {}
    for invoice in found:
        for description, amount in invoice.lines:
            key = description if description != "Broken window" else "One-off charges"
            units, total = by_line.get(key, (0, 0))
            by_line[key] = (units + 1, total + amount)
    assert by_line == services
    assert services["Waste"] == (13, 13 * 900_007) and services["Gym"] == (2, 2_000_000)


# --- one-off charges -------------------------------------------------------------------------------


def test_a_one_off_charge_goes_on_the_next_invoice_once(app, make, estate, dbs):
    unit = make.unit(estate, "A1")
    add_charge(app, estate, "Service", 10_000)
    item = add_unit_charge(app, estate, unit, charge_date=date(2026, 12, 20))
    later = add_unit_charge(app, estate, unit, description="Late fee", charge_date=date(2027, 1, 5))
    generate(app, estate)
    generate(app, estate, month(2027, 1))
    first, second = invoices_of(app, estate)
    assert first.lines == [("Service", 10_000), ("Broken window", 250_000)]
    assert second.lines == [("Service", 10_000), ("Late fee", 250_000)]
    with dbs() as s:
        assert s.get(UnitCharge, item).invoice_id == first.id and s.get(UnitCharge, later).invoice_id == second.id


def test_a_one_off_charge_invoiced_now_takes_the_next_number(app, make, estate, dbs):
    make.unit(estate, "A1")
    admin = make.user("admin@alpha.test")
    add_charge(app, estate, "Service", 10_000)
    generate(app, estate)
    with app.app_context():
        e, actor = db.session.get(Estate, estate.id), db.session.get(User, admin.id)
        item = charges.create_unit_charge(actor, e, charges.UnitChargeData("a1", "Gate remote", 1_500_000,
                                                                           date(2026, 12, 2), invoice_now=True))
        assert item.invoice_id is not None
    found = invoices_of(app, estate)
    assert [i.number for i in found][-1].endswith("-000002")
    assert found[-1].lines == [("Gate remote", 1_500_000)] and found[-1].kind == "ONE_OFF"


def test_one_off_charge_refusals(app, make, estate):
    make.unit(estate, "A1")
    admin = make.user("admin@alpha.test")
    with app.app_context():
        e, actor = db.session.get(Estate, estate.id), db.session.get(User, admin.id)
        with pytest.raises(FieldErrors) as refused:
            charges.create_unit_charge(actor, e, charges.UnitChargeData("Z9", " ", 0, None))
        assert set(refused.value.errors) == {"unit_number", "description", "amount", "charge_date"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UnitCharge)) == 0


# --- void --------------------------------------------------------------------------------------------


def test_void_keeps_the_number_and_the_month_can_be_billed_again(app, make, estate, dbs):
    unit = make.unit(estate, "A1")
    make.unit(estate, "A2")
    admin = make.user("admin@alpha.test")
    add_charge(app, estate, "Service", 10_000)
    item = add_unit_charge(app, estate, unit)
    generate(app, estate)
    first = invoices_of(app, estate)[0]
    with app.app_context():
        e, actor = db.session.get(Estate, estate.id), db.session.get(User, admin.id)
        with pytest.raises(FieldErrors):
            invoices.void_invoice(actor, e, first.id, "  ")
        invoices.void_invoice(actor, e, first.id, "Wrong amount")
        with pytest.raises(Conflict):
            invoices.void_invoice(actor, e, first.id, "again")
        assert db.session.get(UnitCharge, item).invoice_id is None  # back in the queue
    generate(app, estate)
    found = invoices_of(app, estate)
    assert [(i.number, i.unit, i.status) for i in found] == [
        ("AL-2026-000001", "A1", InvoiceStatus.VOID), ("AL-2026-000002", "A2", InvoiceStatus.ISSUED),
        ("AL-2026-000003", "A1", InvoiceStatus.ISSUED)]
    assert found[0].balance_minor == 0 and found[0].void_reason == "Wrong amount"
    assert found[2].lines == [("Service", 10_000), ("Broken window", 250_000)]
    with dbs() as s:
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "invoice.voided"))
        assert log.after["reason"] == "Wrong amount" and log.actor_user_id == admin.id


# --- payments ---------------------------------------------------------------------------------------


def _payment(app, estate, unit, amount: int, tx_ref: str) -> int:
    with app.app_context():
        payment = Payment(estate_id=estate.id, unit_id=unit.id, amount_minor=amount, currency=estate.currency,
                          method=PaymentMethod.BANK_TRANSFER, tx_ref=tx_ref)
        db.session.add(payment)
        db.session.commit()
        return payment.id


def test_a_payment_is_applied_oldest_first_and_only_once(app, make, estate, dbs):
    unit = make.unit(estate, "A1")
    add_charge(app, estate, "Service", 10_000)
    generate(app, estate, month(2026, 11))
    generate(app, estate)
    november, december = invoices_of(app, estate)
    payment = _payment(app, estate, unit, 15_000, "tx-1")
    with app.app_context():
        result = payments.apply_payment(payment)
        assert result.applied and result.allocations == [(november.id, 10_000), (december.id, 5_000)]
        again = payments.apply_payment(payment)
        assert not again.applied and again.allocations == []
    november, december = invoices_of(app, estate)
    assert (november.status, november.amount_paid_minor, november.balance_minor) == (InvoiceStatus.PAID, 10_000, 0)
    assert (december.status, december.amount_paid_minor, december.balance_minor) == (
        InvoiceStatus.PARTIALLY_PAID, 5_000, 5_000)
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(PaymentAllocation)) == 2
        assert s.get(Payment, payment).status == PaymentStatus.SUCCESSFUL and s.get(Payment, payment).paid_at
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.action == "payment.applied")) == 1


def test_a_payment_goes_to_the_chosen_invoice_first_and_keeps_what_is_left(app, make, estate):
    unit = make.unit(estate, "A1")
    add_charge(app, estate, "Service", 10_000)
    generate(app, estate, month(2026, 11))
    generate(app, estate)
    november, december = invoices_of(app, estate)
    payment = _payment(app, estate, unit, 25_000, "tx-2")
    with app.app_context():
        result = payments.apply_payment(payment, [december.id])
    assert result.allocations == [(december.id, 10_000), (november.id, 10_000)] and result.unallocated_minor == 5_000


def test_an_overdue_invoice_part_paid_stays_overdue(app, make, estate):
    unit = make.unit(estate, "A1")
    add_charge(app, estate, "Service", 10_000)
    generate(app, estate, month(2026, 11), due_date=date(2026, 11, 10))
    with app.app_context():
        invoices.mark_overdue(datetime(2026, 11, 20, tzinfo=UTC))
        payments.apply_payment(_payment(app, estate, unit, 4_000, "tx-3"))
    (invoice,) = invoices_of(app, estate)
    assert (invoice.status, invoice.balance_minor) == (InvoiceStatus.OVERDUE, 6_000)


# --- overdue ------------------------------------------------------------------------------------------


def test_overdue_marking_follows_the_estates_day(app, make, dbs):
    lagos = make.estate("lagos", timezone="Africa/Lagos")
    guate = make.estate("guate", timezone="America/Guatemala", currency="GTQ", country="GT")
    for e in (lagos, guate):
        make.unit(e, "U1")
        add_charge(app, e, "Service", 10_000)
        generate(app, e, due_date=date(2026, 12, 15))
    # 02:00 UTC on 16 Dec: the 16th in Lagos, still the 15th in Guatemala.
    with app.app_context():
        assert invoices.mark_overdue(datetime(2026, 12, 16, 2, 0, tzinfo=UTC)) == 1
        assert invoices.mark_overdue(datetime(2026, 12, 16, 2, 0, tzinfo=UTC)) == 0
    assert invoices_of(app, lagos)[0].status == InvoiceStatus.OVERDUE
    assert invoices_of(app, guate)[0].status == InvoiceStatus.ISSUED
    with app.app_context():
        assert invoices.mark_overdue(datetime(2026, 12, 16, 7, 0, tzinfo=UTC)) == 1
    with dbs() as s:
        logs = s.scalars(sa.select(AuditLog).where(AuditLog.action == "invoice.marked_overdue")).all()
        assert sorted(log.estate_id for log in logs) == sorted([lagos.id, guate.id])


def test_the_periodic_job_marks_overdue(app, make):
    from portal import jobs

    estate = make.estate("lagos")
    make.unit(estate, "U1")
    add_charge(app, estate, "Service", 10_000, starts_on=date(2020, 1, 1))
    generate(app, estate, month(2020, 1), due_date=date(2020, 1, 15))
    with app.app_context():
        jobs.get(app).mark_overdue.call_local()
    assert invoices_of(app, estate)[0].status == InvoiceStatus.OVERDUE


# --- notices -----------------------------------------------------------------------------------------


def test_invoice_notices_go_to_the_payer_in_their_language(app, make, estate, dbs):
    lf = make.estate("flores", currency="GTQ", country="GT", timezone="America/Guatemala", default_language="es")
    set_billing(app, lf, prefix="LF")
    casa = make.unit(lf, "Casa 7")
    owner = make.user("owner@flores.test", phone="+50255550301")
    tenant = make.user("tenant@flores.test", preferred_language="en")
    make.resident(lf, casa, "Owner", user=owner, resident_type=ResidentType.OWNER)
    make.resident(lf, casa, "Tenant", user=tenant, resident_type=ResidentType.TENANT)  # the tenant pays
    other = make.unit(lf, "Casa 8")
    make.resident(lf, other, "Dueña", user=make.user("duena@flores.test"), resident_type=ResidentType.OWNER)
    make.resident(lf, make.unit(lf, "Casa 9"), "Sin cuenta", resident_type=ResidentType.OWNER)
    add_charge(app, lf, "Cuota de mantenimiento", 85_000)
    generate(app, lf, due_date=date(2026, 12, 15))
    found = {i.unit: i for i in invoices_of(app, lf)}
    assert found["Casa 7"].billed_to_name == "Tenant" and found["Casa 9"].billed_to_name == "Sin cuenta"
    with dbs() as s:
        messages = {m.recipient: m for m in s.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.reason == "invoice_issued"))}
    assert set(messages) == {"tenant@flores.test", "duena@flores.test"}  # no SMS unless asked for
    english, spanish = messages["tenant@flores.test"], messages["duena@flores.test"]
    assert english.language == "en" and "Q850.00" in english.body and found["Casa 7"].number in english.subject
    assert spanish.language == "es" and spanish.subject.startswith("Factura") and "Q850.00" in spanish.body
    assert "15/12/2026" in spanish.body and "/e/flores/home/bills/" in spanish.body


# --- starting a run ----------------------------------------------------------------------------------


def test_starting_a_run_queues_it_and_a_second_press_while_it_moves_returns_it(app, make, estate, dbs,
                                                                           monkeypatch):
    make.unit(estate, "A1")
    admin = make.user("admin@alpha.test")
    add_charge(app, estate, "Service", 10_000)
    queued = []
    monkeypatch.setattr(generation, "_enqueue", queued.append)
    today = date.today()
    period = month(today.year, today.month)
    with app.app_context():
        e, actor = db.session.get(Estate, estate.id), db.session.get(User, admin.id)
        run = generation.start_generation(actor, e, period, None)
        again = generation.start_generation(actor, e, period, None)
        assert again.id == run.id and queued == [run.id] and run.status == GenerationStatus.QUEUED
        with pytest.raises(FieldErrors) as refused:
            generation.start_generation(actor, e, period, date(2000, 1, 1))
        assert "due_date" in refused.value.errors
        with pytest.raises(FieldErrors):
            generation.start_generation(actor, e, month(today.year + 1, today.month), None)
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(GenerationRun)) == 1
