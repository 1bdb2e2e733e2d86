"""The admin's billing pages: the charge catalogue, one-off charges, generation (preview,
run, progress), the invoice list with its filters and totals, an invoice, voiding, the
billing settings; bad input in every form; another estate's rows are 404."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.billing import generation
from portal.billing.periods import containing, month
from portal.extensions import db
from portal.models import (
    AuditLog,
    BillingSettings,
    Charge,
    ChargeScope,
    GenerationRun,
    GenerationStatus,
    Invoice,
    InvoiceStatus,
    Role,
    UnitCharge,
    UnitType,
)
from tests.billing_support import add_charge, add_unit_charge, generate, invoices_of, set_billing

THIS_MONTH = containing(date.today())


@pytest.fixture
def admin(client, estate_pair, login, app):
    set_billing(app, estate_pair.alpha.estate, prefix="AL")
    login("admin@alpha.test")
    return estate_pair


def _rows(html: str) -> list[str]:
    return re.findall(r'class="invoice-number[^"]*">([^<]+)<', html)


def _count(dbs, model, **where) -> int:
    with dbs() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


# --- the charge catalogue -------------------------------------------------------------------------


CHARGE = {"name": "Service charge", "amount": "45,000.00", "frequency": "MONTHLY", "mandatory": "1",
          "applies_to": "ALL", "starts_on": "2026-01-01", "ends_on": "", "description": "Common areas"}


def test_add_edit_disable_enable_and_delete_a_charge(client, admin, dbs):
    response = client.post("/e/alpha/admin/billing/charges/new", data=CHARGE)
    assert response.status_code == 302 and response.headers["Location"] == "/e/alpha/admin/billing/charges/"
    page = client.get("/e/alpha/admin/billing/charges/").get_data(as_text=True)
    assert "Service charge was added to the charges." in page and "₦45,000.00" in page and "Monthly" in page
    with dbs() as s:
        charge = s.scalar(sa.select(Charge))
        assert (charge.amount_minor, charge.currency, charge.estate_id) == (4_500_000, "NGN", admin.alpha.estate.id)
        charge_id = charge.id
    edit = client.get(f"/e/alpha/admin/billing/charges/{charge_id}/edit").get_data(as_text=True)
    assert 'value="45,000.00"' in edit
    client.post(f"/e/alpha/admin/billing/charges/{charge_id}/edit",
                data={**CHARGE, "amount": "50000", "applies_to": "UNIT_TYPES", "unit_types": ["HOUSE", "DUPLEX"]})
    with dbs() as s:
        charge = s.get(Charge, charge_id)
        assert (charge.amount_minor, charge.applies_to, charge.unit_types) == (5_000_000, ChargeScope.UNIT_TYPES,
                                                                               ["DUPLEX", "HOUSE"])
    page = client.get("/e/alpha/admin/billing/charges/").get_data(as_text=True)
    assert 'hx-confirm="Disable Service charge?' in page and 'hx-confirm="Delete Service charge?' in page
    client.post(f"/e/alpha/admin/billing/charges/{charge_id}/disable")
    assert "is disabled" in client.get("/e/alpha/admin/billing/charges/").get_data(as_text=True)
    client.post(f"/e/alpha/admin/billing/charges/{charge_id}/enable")
    client.post(f"/e/alpha/admin/billing/charges/{charge_id}/delete")
    assert _count(dbs, Charge) == 0
    with dbs() as s:
        actions = s.scalars(sa.select(AuditLog.action).where(AuditLog.action.like("charge.%"))
                            .order_by(AuditLog.id)).all()
    assert actions == ["charge.created", "charge.updated", "charge.disabled", "charge.enabled", "charge.deleted"]


def test_a_billed_charge_cannot_be_deleted_only_disabled(client, admin, app, dbs):
    charge_id = add_charge(app, admin.alpha.estate, "Service", 10_000)
    generate(app, admin.alpha.estate)
    response = client.post(f"/e/alpha/admin/billing/charges/{charge_id}/delete", follow_redirects=True)
    assert b"is on invoices already, so it cannot be deleted" in response.data
    assert _count(dbs, Charge) == 1


def test_a_charge_for_a_list_of_units_and_its_opt_ins(client, admin, make, app, dbs):
    make.unit(admin.alpha.estate, "B7", block="B")
    client.post("/e/alpha/admin/billing/charges/new", data={
        **CHARGE, "name": "Gym", "amount": "10,000", "mandatory": "0", "applies_to": "UNITS",
        "unit_numbers": "a1, B7", "opt_in_numbers": "B7"})
    generate(app, admin.alpha.estate)
    assert [(i.unit, i.lines) for i in invoices_of(app, admin.alpha.estate)] == [("B7", [("Gym", 1_000_000)])]
    page = client.get("/e/alpha/admin/billing/charges/").get_data(as_text=True)
    assert "Opt-in: 1 unit" in page and "A list of units (2)" in page


BAD_CHARGES = [
    ({"name": ""}, "This field is required."),
    ({"amount": "abc"}, "Enter an amount such as 1,500.00."),
    ({"amount": "0"}, "The amount must be more than zero."),
    ({"amount": "-10"}, "Enter an amount such as 1,500.00."),
    ({"amount": "10.005"}, "NGN has at most 2 decimal places."),
    ({"amount": "1.500,00"}, "Enter an amount such as 1,500.00."),
    ({"starts_on": "31/01/2026"}, "Enter a date as YYYY-MM-DD."),
    ({"ends_on": "31/12/2026"}, "Not a valid date value."),
    ({"starts_on": ""}, "Enter a date as YYYY-MM-DD."),
    ({"ends_on": "2025-12-31"}, "The end date is before the start date."),
    ({"applies_to": "UNIT_TYPES"}, "Choose at least one type of unit."),
    ({"applies_to": "UNIT_TYPES", "unit_types": "CASTLE"}, "Choose at least one type of unit."),
    ({"applies_to": "BLOCKS", "blocks": "Q"}, "Choose blocks of this estate."),
    ({"applies_to": "UNITS"}, "List at least one unit number."),
    ({"applies_to": "UNITS", "unit_numbers": "A1, Z99"}, "No unit numbered Z99 in this estate."),
    ({"mandatory": "0", "opt_in_numbers": "nowhere"}, "No unit numbered nowhere in this estate."),
    ({"frequency": "DAILY"}, "Not a valid choice."),
    ({"name": "x" * 121}, "Use at most 120 characters."),
]


@pytest.mark.parametrize("change, message", BAD_CHARGES)
def test_bad_charges_are_refused_with_a_message_and_nothing_saved(client, admin, dbs, change, message):
    response = client.post("/e/alpha/admin/billing/charges/new", data={**CHARGE, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(dbs, Charge) == 0 and _count(dbs, AuditLog, action="charge.created") == 0


def test_a_bad_edit_changes_nothing(client, admin, app, dbs):
    charge_id = add_charge(app, admin.alpha.estate, "Service", 10_000)
    response = client.post(f"/e/alpha/admin/billing/charges/{charge_id}/edit", data={**CHARGE, "amount": "0.001"})
    assert response.status_code == 422
    with dbs() as s:
        assert (s.get(Charge, charge_id).amount_minor, s.get(Charge, charge_id).name) == (10_000, "Service")


# --- Spanish -------------------------------------------------------------------------------------


@pytest.fixture
def flores(client, make, login, app):
    estate = make.estate("flores", name="Las Flores", currency="GTQ", country="GT", timezone="America/Guatemala",
                         default_language="es")
    make.user("admin@flores.test", estate=estate, role=Role.ESTATE_ADMIN, preferred_language="es")
    unit = make.unit(estate, "Casa 7")
    resident = make.user("vecino@flores.test", estate=estate, role=Role.RESIDENT, preferred_language="es")
    make.resident(estate, unit, "Andrés Morales", user=resident)
    set_billing(app, estate, prefix="LF")
    login("admin@flores.test")
    return estate


@pytest.mark.parametrize("path, data, message", [
    ("/e/flores/admin/billing/charges/new", {**CHARGE, "amount": "diez"}, "Ingrese un monto como 1,500.00."),
    ("/e/flores/admin/billing/charges/new", {**CHARGE, "amount": "0"}, "El monto debe ser mayor que cero."),
    ("/e/flores/admin/billing/charges/new", {**CHARGE, "ends_on": "2025-01-01"},
     "La fecha final es anterior a la fecha inicial."),
    ("/e/flores/admin/billing/charges/new", {**CHARGE, "starts_on": "mañana"},
     "Ingrese la fecha con el formato AAAA-MM-DD."),
    ("/e/flores/admin/billing/one-off/new", {"unit_number": "Casa 99", "description": "Multa", "amount": "50",
                                             "charge_date": "2026-12-01"}, "No hay ninguna unidad con el número"),
    ("/e/flores/admin/billing/one-off/new", {"unit_number": "Casa 7", "description": "Multa", "amount": "5.555",
                                             "charge_date": "2026-12-01"}, "GTQ tiene como máximo 2 decimales."),
    ("/e/flores/admin/billing/settings", {"invoice_prefix": "L F", "tax_rate": "12", "due_days": "10"},
     "Use de 1 a 12 letras o dígitos"),
    ("/e/flores/admin/billing/settings", {"invoice_prefix": "LF", "tax_rate": "120", "due_days": "10"},
     "Ingrese un porcentaje de 0 a 100"),
    ("/e/flores/admin/billing/settings", {"invoice_prefix": "LF", "tax_rate": "12", "due_days": "400"},
     "Ingrese un número de días de 0 a 365."),
    ("/e/flores/admin/billing/generate", {"period": "2026-13", "due_date": ""}, "Elija un mes."),
])
def test_bad_input_is_refused_in_spanish_and_changes_nothing(client, flores, dbs, path, data, message):
    with dbs() as s:
        before = [s.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Charge, UnitCharge, GenerationRun)]
        settings = s.get(BillingSettings, flores.id)
        settings = (settings.invoice_prefix, settings.tax_rate_bp, settings.due_days)
    response = client.post(path, data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with dbs() as s:
        assert [s.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Charge, UnitCharge, GenerationRun)] \
            == before
        row = s.get(BillingSettings, flores.id)
        assert (row.invoice_prefix, row.tax_rate_bp, row.due_days) == settings


def test_a_spanish_admin_types_amounts_the_guatemalan_way(client, flores, dbs):
    client.post("/e/flores/admin/billing/charges/new", data={**CHARGE, "name": "Cuota", "amount": "Q1,250.50"})
    with dbs() as s:
        assert s.scalar(sa.select(Charge.amount_minor)) == 125_050
    page = client.get("/e/flores/admin/billing/charges/").get_data(as_text=True)
    assert "Q1,250.50" in page and "Mensual" in page


# --- settings ----------------------------------------------------------------------------------------


def test_billing_settings_are_saved_and_audited(client, admin, dbs):
    page = client.get("/e/alpha/admin/billing/settings").get_data(as_text=True)
    assert 'value="AL"' in page and 'value="14"' in page
    response = client.post("/e/alpha/admin/billing/settings", data={"invoice_prefix": "alp", "tax_rate": "7.5",
                                                                    "due_days": "10"})
    assert response.status_code == 302
    with dbs() as s:
        row = s.get(BillingSettings, admin.alpha.estate.id)
        assert (row.invoice_prefix, row.tax_rate_bp, row.due_days) == ("ALP", 750, 10)
        assert s.scalar(sa.select(AuditLog.after).where(AuditLog.action == "billing.settings_updated"))["tax_rate_bp"] \
            == 750
    assert 'value="7.5"' in client.get("/e/alpha/admin/billing/settings").get_data(as_text=True)


# --- one-off charges ---------------------------------------------------------------------------------


def test_a_one_off_charge_waits_for_the_next_invoice_and_can_be_cancelled(client, admin, dbs):
    response = client.post("/e/alpha/admin/billing/one-off/new", data={
        "unit_number": "a1", "description": "Broken gate", "amount": "12,000", "charge_date": "2026-12-02"})
    assert response.status_code == 302
    page = client.get("/e/alpha/admin/billing/charges/").get_data(as_text=True)
    assert "Broken gate" in page and "₦12,000.00" in page and "Cancel this charge to unit A1?" in page
    with dbs() as s:
        item_id = s.scalar(sa.select(UnitCharge.id))
    client.post(f"/e/alpha/admin/billing/one-off/{item_id}/cancel")
    assert "Broken gate" not in client.get("/e/alpha/admin/billing/charges/").get_data(as_text=True)
    assert _count(dbs, AuditLog, action="unit_charge.cancelled") == 1


def test_a_one_off_charge_invoiced_now_opens_its_invoice(client, admin, dbs):
    response = client.post("/e/alpha/admin/billing/one-off/new", data={
        "unit_number": "A1", "description": "Gate remote", "amount": "15000", "charge_date": "2026-12-02",
        "invoice_now": "y"})
    with dbs() as s:
        invoice = s.scalar(sa.select(Invoice))
    assert response.headers["Location"] == f"/e/alpha/admin/billing/invoices/{invoice.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert invoice.number in page and "Gate remote" in page and "₦15,000.00" in page


# --- generation ---------------------------------------------------------------------------------------


def _world(app, make, estate, units: int = 3):
    for n in range(2, units + 1):
        make.unit(estate, f"A{n}", block="A" if n % 2 else "B", unit_type=UnitType.HOUSE if n == 3 else
                  UnitType.APARTMENT)
    add_charge(app, estate, "Service charge", 4_500_000)
    add_charge(app, estate, "Security levy", 1_500_000)
    add_charge(app, estate, "Houses", 100_000, applies_to=ChargeScope.UNIT_TYPES, unit_types=["HOUSE"])


def test_preview_then_generate_then_see_the_summary(client, admin, make, app, dbs):
    _world(app, make, admin.alpha.estate)
    make.unit(admin.alpha.estate, "Z1", block="Z")
    add_charge(app, admin.alpha.estate, "Block A only", 5_000, applies_to=ChargeScope.BLOCKS, blocks=["A"])
    with app.app_context():
        db.session.execute(sa.update(Charge).where(Charge.name.in_(["Service charge", "Security levy"])).values(
            applies_to=ChargeScope.BLOCKS, blocks=["A", "B", ""]))
        db.session.commit()
    page = client.get(f"/e/alpha/admin/billing/generate?period={THIS_MONTH.key}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="preview-count">3<' in html
    assert "₦60,000.00" in html  # service + security on A1, A2, A3…
    assert "1 unit has no charge that applies" in html and "Z1" in html
    assert "Generate 3 invoices" in html and "hx-confirm=" in html
    assert _count(dbs, Invoice) == 0  # the preview writes nothing
    preview_total = re.search(r'id="preview-total">([^<]+)<', html).group(1)

    response = client.post("/e/alpha/admin/billing/generate", data={"period": THIS_MONTH.key, "due_date": ""})
    assert response.status_code == 303
    run_page = client.get(response.headers["Location"]).get_data(as_text=True)  # the job ran at once (tests)
    assert 'data-status="DONE"' in run_page and 'value="100"' in run_page and "every 1s" not in run_page
    assert re.search(r'id="summary-created">3<', run_page) and f'id="summary-total" class="nowrap">{preview_total}<' in run_page
    assert "4 of 4 units done" in run_page
    listing = client.get(f"/e/alpha/admin/billing/?period={THIS_MONTH.key}").get_data(as_text=True)
    assert sorted(_rows(listing)) == [f"AL-{THIS_MONTH.start.year}-00000{n}" for n in (1, 2, 3)]
    assert f'id="total-invoiced">{preview_total}<' in listing

    again = client.post("/e/alpha/admin/billing/generate", data={"period": THIS_MONTH.key, "due_date": ""})
    second = client.get(again.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="summary-created">0<', second) and re.search(r'id="summary-existing">3<', second)
    assert _count(dbs, Invoice) == 3
    assert "3 units already have their invoice for this month" in client.get(
        f"/e/alpha/admin/billing/generate?period={THIS_MONTH.key}").get_data(as_text=True)


def test_the_progress_polls_until_the_run_is_done(client, admin, make, app, monkeypatch):
    _world(app, make, admin.alpha.estate)
    monkeypatch.setattr(generation, "_enqueue", lambda run_id: None)  # the worker has not picked it up yet
    response = client.post("/e/alpha/admin/billing/generate", data={"period": THIS_MONTH.key, "due_date": ""})
    url = response.headers["Location"]
    queued = client.get(url).get_data(as_text=True)
    assert 'data-status="QUEUED"' in queued and 'hx-trigger="every 1s"' in queued and "Waiting to start" in queued
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="run-progress"') and "<html" not in fragment
    run_id = int(url.rsplit("/", 1)[1])
    with app.app_context():
        generation.execute_run(run_id)
    done = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="DONE"' in done and "hx-trigger" not in done and 'id="run-summary"' in done


def test_a_failed_run_offers_resume_and_finishes(client, admin, make, app, monkeypatch, dbs):
    _world(app, make, admin.alpha.estate, units=5)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(generation, "_take_numbers", broken)
    response = client.post("/e/alpha/admin/billing/generate", data={"period": THIS_MONTH.key, "due_date": ""})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-status="FAILED"' in page and "disk full" in page and 'id="run-resume"' in page
    monkeypatch.undo()
    resumed = client.post(response.headers["Location"] + "/resume")
    assert resumed.status_code == 303
    assert 'data-status="DONE"' in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(dbs, Invoice) == 5 and _count(dbs, AuditLog, action="billing.generation_resumed") == 1


@pytest.mark.parametrize("query, message", [
    ("period=2026-13", "Choose a month."),
    ("period=junk", "Choose a month."),
    (f"period={month(date.today().year + 2, 1).key}", "not further ahead"),
    (f"period={THIS_MONTH.key}&due_date=2001-01-01", "The due date cannot be before today."),
    (f"period={THIS_MONTH.key}&due_date=soon", "Enter a date as YYYY-MM-DD."),
])
def test_bad_periods_and_due_dates_are_refused(client, admin, query, message, dbs):
    response = client.get(f"/e/alpha/admin/billing/generate?{query}")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    posted = dict(pair.split("=") for pair in query.split("&"))
    assert client.post("/e/alpha/admin/billing/generate", data={"due_date": "", **posted}).status_code == 422
    assert _count(dbs, GenerationRun) == 0


# --- the invoice list -----------------------------------------------------------------------------------


def test_invoice_filters_and_totals(client, admin, make, app):
    _world(app, make, admin.alpha.estate, units=4)
    generate(app, admin.alpha.estate, month(2026, 11))
    generate(app, admin.alpha.estate, month(2026, 12))
    (first, *_rest) = invoices_of(app, admin.alpha.estate)
    with app.app_context():
        db.session.execute(sa.update(Invoice).where(Invoice.id == first.id).values(
            status=InvoiceStatus.PAID, amount_paid_minor=Invoice.total_minor, balance_minor=0))
        db.session.commit()
    html = client.get("/e/alpha/admin/billing/").get_data(as_text=True)
    assert len(_rows(html)) == 8 and 'id="total-count">8<' in html
    assert 'id="total-invoiced">₦482,000.00<' in html and 'id="total-paid">₦60,000.00<' in html
    assert 'id="total-balance">₦422,000.00<' in html
    assert len(_rows(client.get("/e/alpha/admin/billing/?period=2026-11").get_data(as_text=True))) == 4
    paid = client.get("/e/alpha/admin/billing/?status=PAID").get_data(as_text=True)
    assert _rows(paid) == [first.number] and 'id="total-balance">₦0.00<' in paid
    assert len(_rows(client.get("/e/alpha/admin/billing/?block=B").get_data(as_text=True))) == 4
    assert len(_rows(client.get("/e/alpha/admin/billing/?unit=a3").get_data(as_text=True))) == 2
    fragment = client.get("/e/alpha/admin/billing/?unit=a3", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="invoice-table"' not in fragment and len(_rows(fragment)) == 2
    none = client.get("/e/alpha/admin/billing/?unit=nowhere").get_data(as_text=True)
    assert "No invoice matches these filters." in none
    bad = client.get("/e/alpha/admin/billing/?period=13-2026&status=WHATEVER")
    assert bad.status_code == 200 and "Choose a month." in bad.get_data(as_text=True)


def test_the_invoice_list_is_paginated_in_constant_queries(client, admin, make, app, count_queries):
    add_charge(app, admin.alpha.estate, "Service charge", 4_500_000)
    generate(app, admin.alpha.estate)
    client.get("/e/alpha/admin/billing/")
    with count_queries() as few:
        client.get("/e/alpha/admin/billing/")
    for n in range(2, 40):
        make.unit(admin.alpha.estate, f"A{n}", block="B")
    generate(app, admin.alpha.estate, month(2027, 1))
    with count_queries() as many:
        html = client.get("/e/alpha/admin/billing/").get_data(as_text=True)
    assert many.count == few.count
    assert len(_rows(html)) == 25 and "Page 1 of 2" in html
    assert len(_rows(client.get("/e/alpha/admin/billing/?page=2").get_data(as_text=True))) == 15


def test_empty_states(client, admin):
    assert "No invoices yet." in client.get("/e/alpha/admin/billing/").get_data(as_text=True)
    charges_page = client.get("/e/alpha/admin/billing/charges/").get_data(as_text=True)
    assert "No charges yet." in charges_page and "None. A one-off charge" in charges_page
    assert "No invoices have been generated yet." in client.get("/e/alpha/admin/billing/generate").get_data(
        as_text=True)


# --- one invoice and voiding ------------------------------------------------------------------------------


def test_an_invoice_shows_its_lines_and_can_be_voided_with_a_reason(client, admin, make, app, dbs):
    set_billing(app, admin.alpha.estate, prefix="AL", tax_rate_bp=750)
    _world(app, make, admin.alpha.estate, units=1)
    add_unit_charge(app, admin.alpha.estate, admin.alpha.unit, amount_minor=1_234_567)
    generate(app, admin.alpha.estate)
    invoice = invoices_of(app, admin.alpha.estate)[0]
    url = f"/e/alpha/admin/billing/invoices/{invoice.id}"
    page = client.get(url).get_data(as_text=True)
    assert invoice.number in page and "Service charge" in page and "₦12,345.67" in page
    assert "Tax (7.5 %)" in page and re.search(r'id="invoice-total"><strong>₦\d', page)
    assert 'hx-confirm="Void invoice' in page
    refused = client.post(url + "/void", data={"reason": ""})
    assert refused.status_code == 422 and "Say why the invoice is void" in refused.get_data(as_text=True)
    assert invoices_of(app, admin.alpha.estate)[0].status == InvoiceStatus.ISSUED
    done = client.post(url + "/void", data={"reason": "Billed twice"}, follow_redirects=True)
    assert b"is void. Its number stays used." in done.data and b"Billed twice" in done.data
    assert invoices_of(app, admin.alpha.estate)[0].status == InvoiceStatus.VOID
    assert _count(dbs, AuditLog, action="invoice.voided") == 1
    again = client.post(url + "/void", data={"reason": "again"}, follow_redirects=True)
    assert b"is void already" in again.data


# --- tenancy ---------------------------------------------------------------------------------------------


def test_an_admin_of_another_estate_gets_404_for_this_estates_billing(client, estate_pair, make, app, login, dbs):
    a = estate_pair.alpha
    charge_id = add_charge(app, a.estate, "Service", 10_000)
    item_id = add_unit_charge(app, a.estate, a.unit, charge_date=date.today() + timedelta(days=40))
    run = generate(app, a.estate)
    invoice = invoices_of(app, a.estate)[0]
    login("admin@beta.test")
    for path in (f"invoices/{invoice.id}", f"charges/{charge_id}/edit", f"runs/{run.id}"):
        assert client.get(f"/e/beta/admin/billing/{path}").status_code == 404
        assert client.get(f"/e/alpha/admin/billing/{path}").status_code == 404
    for path in (f"invoices/{invoice.id}/void", f"charges/{charge_id}/disable", f"charges/{charge_id}/delete",
                 f"one-off/{item_id}/cancel", f"runs/{run.id}/resume"):
        assert client.post(f"/e/beta/admin/billing/{path}", data={"reason": "x"}).status_code == 404
    assert invoice.number not in client.get("/e/beta/admin/billing/").get_data(as_text=True)
    assert invoices_of(app, a.estate)[0].status == InvoiceStatus.ISSUED and _count(dbs, Charge) == 1
    assert _count(dbs, UnitCharge, cancelled_at=None) == 1


def test_the_billing_menu_entry(client, admin):
    html = client.get("/e/alpha/admin/billing/charges/").get_data(as_text=True)
    assert re.search(r'id="nav-billing" aria-current="page"', html)
    assert 'id="tab-charges" aria-current="page"' in html


def test_done_runs_are_listed_with_their_status(client, admin, make, app):
    _world(app, make, admin.alpha.estate)
    generate(app, admin.alpha.estate)
    with app.app_context():
        assert db.session.scalar(sa.select(GenerationRun.status)) == GenerationStatus.DONE
    html = client.get("/e/alpha/admin/billing/generate").get_data(as_text=True)
    assert "December 2026" in html and "Finished" in html
