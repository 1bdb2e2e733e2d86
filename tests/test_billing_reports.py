"""Billing documents and reports: the invoice PDF (admin and resident, Spanish reader, void
marked), the statement of account (balances add up with part payments and a void invoice;
bad ranges; PDF), the arrears list (aging buckets, block filter, sorting, totals, pages, CSV),
the collection rate by block, the invoice list's CSV (filters, every page, formula guard);
another estate's rows are 404, and the pages run a constant number of queries."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.billing import reports, statements
from portal.billing.generation import estate_today
from portal.billing.payments import apply_payment
from portal.extensions import db
from portal.models import (
    Estate,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Unit,
)
from portal.web.csv_export import csv_rows, safe_cell
from tests.billing_support import set_billing

_seq = iter(range(1, 10_000))


def add_invoice(app, estate, unit, total: int, *, issued: date, due: date | None = None,
                status: InvoiceStatus = InvoiceStatus.ISSUED, period: date | None = None,
                description: str = "Service charge", tax: int = 0, prefix: str = "AL",
                kind: InvoiceKind = InvoiceKind.PERIODIC, **fields) -> int:
    """An invoice of `total` (subtotal + tax) for `unit`, with one line; its id. (One
    periodic invoice per unit and month: more in a month are one-off ones.)"""
    n = next(_seq)
    with app.app_context():
        invoice = Invoice(
            estate_id=estate.id, unit_id=unit.id, number=f"{prefix}-{issued.year}-{n:06d}", year=issued.year,
            sequence=n, kind=kind, period_start=period or issued.replace(day=1),
            period_end=(period or issued.replace(day=1)) + timedelta(days=27), issue_date=issued,
            due_date=due or issued + timedelta(days=14), subtotal_minor=total - tax, tax_minor=tax, total_minor=total,
            amount_paid_minor=0, balance_minor=0 if status == InvoiceStatus.VOID else total,
            currency=estate.currency, status=status, **fields)
        db.session.add(invoice)
        db.session.flush()
        db.session.add(InvoiceLine(invoice_id=invoice.id, estate_id=estate.id, description=description,
                                   unit_amount_minor=total - tax, amount_minor=total - tax))
        db.session.commit()
        return invoice.id


def pay(app, estate, unit, amount: int, paid_at: datetime, invoice_ids=(), reference: str = "") -> int:
    """A payment received at `paid_at`, applied through `apply_payment`; its id."""
    with app.app_context():
        payment = Payment(estate_id=estate.id, unit_id=unit.id, amount_minor=amount, currency=estate.currency,
                          method=PaymentMethod.BANK_TRANSFER, status=PaymentStatus.PENDING,
                          tx_ref=f"tx-{next(_seq)}", reference=reference, paid_at=paid_at)
        db.session.add(payment)
        db.session.commit()
        apply_payment(payment.id, list(invoice_ids))
        return payment.id


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def admin(client, estate_pair, login, app):
    set_billing(app, estate_pair.alpha.estate, prefix="AL")
    login("admin@alpha.test")
    return estate_pair


@pytest.fixture
def resident(client, estate_pair, login, app):
    login("resident@alpha.test")
    return estate_pair


# --- the invoice PDF -------------------------------------------------------------------------------


def test_the_admin_downloads_an_invoice_pdf_with_its_facts(client, admin, app):
    a = admin.alpha
    invoice_id = add_invoice(app, a.estate, a.unit, 5_375_000, tax=375_000, issued=date(2026, 5, 1),
                             due=date(2026, 5, 15), billed_to_name="Adaeze Okafor", tax_rate_bp=750)
    pay(app, a.estate, a.unit, 2_000_000, at(date(2026, 5, 3)))
    page = client.get(f"/e/alpha/admin/billing/invoices/{invoice_id}").get_data(as_text=True)
    assert f'href="/e/alpha/admin/billing/invoices/{invoice_id}/pdf"' in page
    response = client.get(f"/e/alpha/admin/billing/invoices/{invoice_id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert re.fullmatch(r'attachment; filename="AL-2026-\d{6}\.pdf"', response.headers["Content-Disposition"])
    text = pdf_text(response.data)
    for expected in ("Alpha Court", "1 Test Road", "Invoice", "Adaeze Okafor", "Unit A1", "May 2026",
                     "May 1, 2026", "May 15, 2026", "Service charge", "₦50,000.00", "Tax (7.5 %)", "₦3,750.00",
                     "₦53,750.00", "₦20,000.00", "₦33,750.00", "Partly paid"):
        assert expected in text, expected
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).number in text


def test_a_spanish_resident_downloads_their_bill_in_spanish(client, resident, app):
    a = resident.alpha
    invoice_id = add_invoice(app, a.estate, a.unit, 4_500_000, issued=date(2026, 5, 1), due=date(2026, 5, 15))
    client.post("/language", data={"lang": "es"})
    page = client.get(f"/e/alpha/home/bills/{invoice_id}").get_data(as_text=True)
    assert f'href="/e/alpha/home/bills/{invoice_id}/pdf"' in page and "Descargar PDF" in page
    text = pdf_text(client.get(f"/e/alpha/home/bills/{invoice_id}/pdf").data)
    for expected in ("Factura", "Fecha de emisión", "Fecha de vencimiento", "Facturado a", "Saldo pendiente",
                     "45.000,00", "mayo 2026", "Pendiente", "Estado", "Unidad A1"):
        assert expected in text, expected
    for english in ("Invoice", "Balance due", "Unpaid"):
        assert english not in text, english


def test_a_void_invoice_pdf_says_void_and_why(client, admin, app):
    a = admin.alpha
    invoice_id = add_invoice(app, a.estate, a.unit, 4_500_000, issued=date(2026, 5, 1), status=InvoiceStatus.VOID,
                             void_reason="Billed twice")
    text = pdf_text(client.get(f"/e/alpha/admin/billing/invoices/{invoice_id}/pdf").data)
    assert "VOID" in text and "This invoice is void: Billed twice" in text and "Void" in text


def test_invoice_pdfs_of_another_estate_or_unit_are_404(client, estate_pair, login, app, make):
    b = estate_pair.beta
    theirs = add_invoice(app, b.estate, b.unit, 100_000, issued=date(2026, 5, 1), prefix="BE")
    a = estate_pair.alpha
    neighbour = make.unit(a.estate, "A9")
    not_mine = add_invoice(app, a.estate, neighbour, 100_000, issued=date(2026, 5, 1))
    login("admin@alpha.test")
    assert client.get(f"/e/alpha/admin/billing/invoices/{theirs}/pdf").status_code == 404
    other = app.test_client()
    login("resident@alpha.test", as_client=other)
    assert other.get(f"/e/alpha/home/bills/{not_mine}/pdf").status_code == 404
    assert other.get(f"/e/alpha/home/bills/{theirs}/pdf").status_code == 404


# --- the statement of account ----------------------------------------------------------------------


def _statement_world(app, a):
    """Before the range: billed 100,000 (and a void 70,000), paid 30,000 → opening 70,000.
    In it: two invoices (50,000 and 40,000), a void one (999), part payments of 20,000 and
    45,000 → closing 70,000 + 90,000 − 65,000 = 95,000."""
    old = add_invoice(app, a.estate, a.unit, 10_000_000, issued=date(2026, 1, 1))
    add_invoice(app, a.estate, a.unit, 7_000_000, issued=date(2026, 1, 2), status=InvoiceStatus.VOID)
    pay(app, a.estate, a.unit, 3_000_000, at(date(2026, 2, 10)), [old])
    march = add_invoice(app, a.estate, a.unit, 5_000_000, issued=date(2026, 3, 1))
    add_invoice(app, a.estate, a.unit, 99_900, issued=date(2026, 3, 5), status=InvoiceStatus.VOID)
    pay(app, a.estate, a.unit, 2_000_000, at(date(2026, 3, 10)), [march], reference="TRF-001")
    add_invoice(app, a.estate, a.unit, 4_000_000, issued=date(2026, 4, 1))
    pay(app, a.estate, a.unit, 4_500_000, at(date(2026, 4, 20)), reference="TRF-002")
    add_invoice(app, a.estate, a.unit, 1_234_500, issued=date(2026, 6, 1))  # after the range


def test_the_statement_adds_up_with_part_payments_and_void_invoices(app, estate_pair):
    a = estate_pair.alpha
    _statement_world(app, a)
    with app.app_context():
        estate = db.session.get(Estate, a.estate.id)
        unit = db.session.get(Unit, a.unit.id)
        st = statements.build_statement(estate, unit, date(2026, 3, 1), date(2026, 5, 31))
    assert st.opening_minor == 7_000_000
    assert (st.invoiced_minor, st.paid_minor, st.closing_minor) == (9_000_000, 6_500_000, 9_500_000)
    assert st.opening_minor + st.invoiced_minor - st.paid_minor == st.closing_minor
    assert [(e.kind.value, e.charge_minor, e.credit_minor, e.balance_minor, e.void) for e in st.entries] == [
        ("INVOICE", 5_000_000, 0, 12_000_000, False),
        ("INVOICE", 0, 0, 12_000_000, True),
        ("PAYMENT", 0, 2_000_000, 10_000_000, False),
        ("INVOICE", 4_000_000, 0, 14_000_000, False),
        ("PAYMENT", 0, 4_500_000, 9_500_000, False),
    ]
    assert [e.day for e in st.entries] == [date(2026, 3, 1), date(2026, 3, 5), date(2026, 3, 10), date(2026, 4, 1),
                                           date(2026, 4, 20)]
    # What is owed now agrees with the invoices' balances (the statement's end is after everything in range).
    with app.app_context():
        owed = db.session.scalar(sa.select(sa.func.sum(Invoice.balance_minor)).where(
            Invoice.unit_id == a.unit.id, Invoice.issue_date <= date(2026, 5, 31)))
    assert owed == st.closing_minor


def test_a_payment_late_in_the_evening_counts_on_the_estate_s_day(app, make):
    estate = make.estate("late", timezone="America/Guatemala", currency="GTQ", country="GT")
    unit = make.unit(estate, "C1")
    add_invoice(app, estate, unit, 100_000, issued=date(2026, 3, 1))
    # 31 March 20:00 in Guatemala is 1 April 02:00 UTC: the payment belongs to March.
    pay(app, estate, unit, 100_000, datetime(2026, 4, 1, 2, tzinfo=UTC))
    with app.app_context():
        e, u = db.session.get(Estate, estate.id), db.session.get(Unit, unit.id)
        march = statements.build_statement(e, u, date(2026, 3, 1), date(2026, 3, 31))
        april = statements.build_statement(e, u, date(2026, 4, 1), date(2026, 4, 30))
    assert march.paid_minor == 100_000 and march.closing_minor == 0
    assert april.opening_minor == 0 and april.entries == []


def test_a_payment_for_two_units_counts_once_split_between_them(app, estate_pair, make):
    a = estate_pair.alpha
    other = make.unit(a.estate, "A2")
    mine = add_invoice(app, a.estate, a.unit, 300_000, issued=date(2026, 3, 1))
    theirs = add_invoice(app, a.estate, other, 200_000, issued=date(2026, 3, 1))
    pay(app, a.estate, a.unit, 600_000, at(date(2026, 3, 5)), [mine, theirs])  # 100,000 left over: A1's credit
    with app.app_context():
        estate = db.session.get(Estate, a.estate.id)
        first = statements.build_statement(estate, db.session.get(Unit, a.unit.id), date(2026, 3, 1),
                                           date(2026, 3, 31))
        second = statements.build_statement(estate, db.session.get(Unit, other.id), date(2026, 3, 1),
                                            date(2026, 3, 31))
    assert (first.paid_minor, first.closing_minor) == (400_000, -100_000)
    assert (second.paid_minor, second.closing_minor) == (200_000, 0)


@pytest.mark.parametrize(("start", "end", "field", "message"), [
    ("2026-05-01", "2026-04-01", "to", "The end date is before the start date."),
    ("1999-12-31", "2026-04-01", "from", "Choose a date from 2000-01-01 to"),
    ("2026-01-01", "9999-12-31", "to", "Choose a date from 2000-01-01 to"),
    ("2026-13-01", "", "from", "Enter a date as YYYY-MM-DD."),
    ("yesterday", "", "from", "Enter a date as YYYY-MM-DD."),
    ("2026-1-1", "", "from", "Enter a date as YYYY-MM-DD."),
    ("2000-01-01", "2026-01-01", "from", "Choose at most ten years."),
])
def test_bad_statement_ranges_are_refused_with_a_message(start, end, field, message):
    with pytest.raises(statements.FieldErrors) as refused:
        statements.parse_range(start, end, date(2026, 6, 15))
    assert str(refused.value.errors[field]).startswith(message)


def test_the_statement_ranges_default_to_the_last_twelve_months():
    chosen = statements.parse_range("", "", date(2026, 6, 15))
    assert (chosen.start, chosen.end) == (date(2025, 7, 1), date(2026, 6, 15))


def test_the_resident_reads_and_downloads_their_statement(client, resident, app):
    a = resident.alpha
    _statement_world(app, a)
    assert 'id="my-statement"' in client.get("/e/alpha/home/bills/").get_data(as_text=True)
    page = client.get("/e/alpha/home/statement/?from=2026-03-01&to=2026-05-31")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="statement-opening">₦70,000.00<' in html and 'id="statement-closing">₦95,000.00<' in html
    assert 'id="statement-invoiced">₦90,000.00<' in html and 'id="statement-paid">₦65,000.00<' in html
    assert "TRF-001" in html and "Bank transfer" in html and "void" in html
    pdf_url = f"/e/alpha/home/statement/{a.unit.id}/pdf?from=2026-03-01&amp;to=2026-05-31"
    assert pdf_url in html
    response = client.get(pdf_url.replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for expected in ("Statement of account", "Alpha Court", "A1", "Opening balance", "₦70,000.00", "₦95,000.00",
                     "Closing balance", "TRF-002", "Mar 1, 2026", "May 31, 2026"):
        assert expected in text, expected


def test_a_spanish_resident_s_statement_pdf_is_in_spanish(client, resident, app):
    _statement_world(app, resident.alpha)
    client.post("/language", data={"lang": "es"})
    text = pdf_text(client.get(f"/e/alpha/home/statement/{resident.alpha.unit.id}/pdf?from=2026-03-01&to=2026-05-31")
                    .data)
    for expected in ("Estado de cuenta", "Saldo inicial", "Saldo final", "Transferencia bancaria", "95.000,00"):
        assert expected in text, expected
    assert "Opening balance" not in text


def test_bad_ranges_on_the_statement_page_get_a_translated_message(client, resident):
    bad = client.get("/e/alpha/home/statement/?from=2026-05-01&to=2026-04-01")
    assert bad.status_code == 422 and "The end date is before the start date." in bad.get_data(as_text=True)
    assert client.get(f"/e/alpha/home/statement/{resident.alpha.unit.id}/pdf?from=nonsense").status_code == 422
    client.post("/language", data={"lang": "es"})
    spanish = client.get("/e/alpha/home/statement/?from=1800-01-01").get_data(as_text=True)
    assert "Elija una fecha" in spanish


def test_a_resident_sees_only_their_own_units_statements(client, resident, make, app):
    a, b = resident.alpha, resident.beta
    neighbour = make.unit(a.estate, "A7")
    assert client.get(f"/e/alpha/home/statement/{neighbour.id}").status_code == 404
    assert client.get(f"/e/alpha/home/statement/{neighbour.id}/pdf").status_code == 404
    assert client.get(f"/e/alpha/home/statement/{b.unit.id}").status_code == 404


def test_the_admin_opens_a_unit_s_statement_from_the_household_page(client, admin, app):
    a = admin.alpha
    _statement_world(app, a)
    household = client.get(f"/e/alpha/admin/units/{a.unit.id}/").get_data(as_text=True)
    assert f'href="/e/alpha/admin/units/{a.unit.id}/statement"' in household
    html = client.get(f"/e/alpha/admin/units/{a.unit.id}/statement?from=2026-03-01&to=2026-05-31").get_data(
        as_text=True)
    assert 'id="statement-closing">₦95,000.00<' in html
    assert client.get(f"/e/alpha/admin/units/{admin.beta.unit.id}/statement").status_code == 404
    assert client.get(f"/e/alpha/admin/units/{admin.beta.unit.id}/statement/pdf").status_code == 404
    assert client.get(f"/e/alpha/admin/units/{a.unit.id}/statement/pdf?from=2026-03-01&to=2026-05-31"
                      ).mimetype == "application/pdf"


def test_the_statement_page_runs_a_constant_number_of_queries(client, resident, app, count_queries):
    a = resident.alpha
    url = "/e/alpha/home/statement/?from=2026-01-01&to=2026-12-31"
    add_invoice(app, a.estate, a.unit, 100_000, issued=date(2026, 1, 1))
    client.get(url)
    with count_queries() as few:
        client.get(url)
    for month in range(2, 13):
        invoice_id = add_invoice(app, a.estate, a.unit, 100_000, issued=date(2026, month, 1))
        pay(app, a.estate, a.unit, 50_000, at(date(2026, month, 3)), [invoice_id])
    with count_queries() as many:
        html = client.get(url).get_data(as_text=True)
    assert many.count == few.count
    assert html.count('class="statement-payment') == 11


# --- arrears ---------------------------------------------------------------------------------------


def _arrears_world(app, make, a):
    """Today minus 10, 45, 75 and 120 days: one invoice in each bucket on A1, and B-block units."""
    with app.app_context():
        today = estate_today(db.session.get(Estate, a.estate.id))
    b1 = make.unit(a.estate, "B1", block="B")
    b2 = make.unit(a.estate, "B2", block="B")
    make.unit(a.estate, "B3", block="B")  # owes nothing
    for days, amount in ((10, 100_000), (45, 200_000), (75, 300_000), (120, 400_000)):
        add_invoice(app, a.estate, a.unit, amount, issued=today - timedelta(days=days + 14),
                    due=today - timedelta(days=days))
    part = add_invoice(app, a.estate, b1, 500_000, issued=today - timedelta(days=50), due=today - timedelta(days=35))
    pay(app, a.estate, b1, 100_000, at(today - timedelta(days=40)), [part])  # 400,000 left, 35 days late
    add_invoice(app, a.estate, b2, 2_000_000, issued=today - timedelta(days=20), due=today - timedelta(days=5))
    add_invoice(app, a.estate, b2, 900_000, issued=today, due=today + timedelta(days=14))  # not due yet
    add_invoice(app, a.estate, b2, 800_000, issued=today - timedelta(days=200), due=today - timedelta(days=190),
                status=InvoiceStatus.VOID)
    paid = add_invoice(app, a.estate, b2, 700_000, issued=today - timedelta(days=100), due=today - timedelta(days=90))
    pay(app, a.estate, b2, 700_000, at(today - timedelta(days=91)), [paid])
    return today, b1, b2


def test_arrears_are_bucketed_by_age_with_totals(app, estate_pair, make):
    a = estate_pair.alpha
    today, b1, b2 = _arrears_world(app, make, a)
    with app.app_context():
        estate = db.session.get(Estate, a.estate.id)
        page, totals = reports.arrears(estate, today)
        by_age, _ = reports.arrears(estate, today, sort="age")
        block_b, block_totals = reports.arrears(estate, today, block_name="B")
    rows = {row.number: row for row in page.items}
    assert [row.number for row in page.items] == ["B2", "A1", "B1"]  # by amount
    assert [row.number for row in by_age.items] == ["A1", "B1", "B2"]  # oldest first
    assert rows["A1"].buckets == (100_000, 200_000, 300_000, 400_000) and rows["A1"].owed_minor == 1_000_000
    assert (rows["A1"].oldest_due, rows["A1"].days_overdue, rows["A1"].invoices) == (today - timedelta(days=120), 120, 4)
    assert rows["B1"].buckets == (0, 400_000, 0, 0) and rows["B1"].days_overdue == 35
    assert rows["B2"].buckets == (2_000_000, 0, 0, 0) and rows["B2"].owed_minor == 2_000_000
    assert rows["A1"].names == ("Resident of alpha",)
    assert (totals.units, totals.owed_minor, totals.buckets) == (3, 3_400_000, (2_100_000, 600_000, 300_000, 400_000))
    assert [row.number for row in block_b.items] == ["B2", "B1"] and block_totals.owed_minor == 2_400_000


def test_the_arrears_page_filters_pages_and_exports(client, admin, make, app):
    a = admin.alpha
    today, *_ = _arrears_world(app, make, a)
    page = client.get("/e/alpha/admin/billing/arrears/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="tab-arrears" aria-current="page"' in html
    assert 'id="arrears-units">3<' in html and 'id="arrears-owed">₦34,000.00<' in html
    assert 'id="aging-1">₦21,000.00<' in html and 'id="aging-4">₦4,000.00<' in html
    assert re.findall(r'class="arrears-unit nowrap">Unit ([^<]+)<', html) == ["B2", "A1", "B1"]
    fragment = client.get("/e/alpha/admin/billing/arrears/?block=B&sort=age", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and re.findall(r'class="arrears-unit nowrap">Unit ([^<]+)<', text) == ["B1", "B2"]
    assert 'href="/e/alpha/admin/billing/arrears.csv?block=B&amp;sort=age"' in text  # the export follows the filters
    assert "/e/alpha/admin/billing/arrears.csv" in html
    rows = read_csv(client.get("/e/alpha/admin/billing/arrears.csv?sort=age"))
    assert rows[0][:6] == ["Unit", "Block", "Residents", "Invoices", "Oldest due date", "Days overdue"]
    assert [r[0] for r in rows[1:]] == ["A1", "B1", "B2"]
    assert rows[1][2:] == ["Resident of alpha", "4", (today - timedelta(days=120)).isoformat(), "120",
                           "1000.00", "2000.00", "3000.00", "4000.00", "10000.00", "NGN"]
    assert [r[0] for r in read_csv(client.get("/e/alpha/admin/billing/arrears.csv?block=B"))[1:]] == ["B2", "B1"]


def test_the_arrears_list_is_paginated_in_constant_queries(client, admin, make, app, count_queries):
    a = admin.alpha
    today = date.today()
    add_invoice(app, a.estate, a.unit, 100_000, issued=today - timedelta(days=60), due=today - timedelta(days=40))
    client.get("/e/alpha/admin/billing/arrears/")
    with count_queries() as few:
        client.get("/e/alpha/admin/billing/arrears/")
    for n in range(2, 32):
        unit = make.unit(a.estate, f"C{n}", block="C")
        make.resident(a.estate, unit, f"Owner {n}")
        add_invoice(app, a.estate, unit, 1_000 * n, issued=today - timedelta(days=60), due=today - timedelta(days=40))
    with count_queries() as many:
        html = client.get("/e/alpha/admin/billing/arrears/").get_data(as_text=True)
    assert many.count == few.count
    assert html.count('class="arrears-unit') == 25 and "Page 1 of 2" in html
    assert client.get("/e/alpha/admin/billing/arrears/?page=2").get_data(as_text=True).count('class="arrears-unit') == 6
    assert len(read_csv(client.get("/e/alpha/admin/billing/arrears.csv"))) == 32


def test_no_arrears_and_another_estate_s_debts_stay_out(client, admin, app):
    b = admin.beta
    add_invoice(app, b.estate, b.unit, 100_000, issued=date(2026, 1, 1), due=date(2026, 1, 15), prefix="BE")
    html = client.get("/e/alpha/admin/billing/arrears/").get_data(as_text=True)
    assert "No unit is in arrears." in html and 'id="arrears-units">0<' in html and "BE-" not in html
    assert len(read_csv(client.get("/e/alpha/admin/billing/arrears.csv"))) == 1


# --- collection rate -------------------------------------------------------------------------------


def test_the_collection_rate_of_a_month_by_block(client, admin, make, app):
    a = admin.alpha
    b1 = make.unit(a.estate, "B1", block="B")
    may = date(2026, 5, 1)
    first = add_invoice(app, a.estate, a.unit, 300_000, issued=may)  # no block: paid 100,000
    pay(app, a.estate, a.unit, 100_000, at(date(2026, 5, 5)), [first])
    second = add_invoice(app, a.estate, b1, 600_000, issued=may)  # block B: paid whole
    pay(app, a.estate, b1, 600_000, at(date(2026, 5, 6)), [second])
    add_invoice(app, a.estate, b1, 100_000, issued=may, kind=InvoiceKind.ONE_OFF)  # block B: unpaid
    add_invoice(app, a.estate, b1, 5_000_000, issued=may, status=InvoiceStatus.VOID)  # not counted
    add_invoice(app, a.estate, b1, 700_000, issued=date(2026, 6, 1))  # another month
    with app.app_context():
        report = reports.collection(db.session.get(Estate, a.estate.id), reports.Period(may, date(2026, 5, 31)))
    assert (report.total.invoiced_minor, report.total.collected_minor, report.total.rate_bp) == (1_000_000, 700_000,
                                                                                              7_000)
    assert [(line.block, line.invoices, line.invoiced_minor, line.collected_minor, line.rate_bp)
            for line in report.blocks] == [("", 1, 300_000, 100_000, 3_333), ("B", 2, 700_000, 600_000, 8_571)]
    html = client.get("/e/alpha/admin/billing/reports/?period=2026-05").get_data(as_text=True)
    assert 'id="tab-reports" aria-current="page"' in html
    assert 'id="collection-invoiced">₦10,000.00<' in html and 'id="collection-collected">₦7,000.00<' in html
    assert 'id="collection-rate">70 %<' in html and "85.71 %" in html and "33.33 %" in html
    assert '<progress value="8571" max="10000"' in html and "Block B" in html and "No block" in html
    empty = client.get("/e/alpha/admin/billing/reports/?period=2020-01").get_data(as_text=True)
    assert "No invoices for this month." in empty and 'id="collection-rate">—<' in empty
    bad = client.get("/e/alpha/admin/billing/reports/?period=2026-13")
    assert bad.status_code == 422 and "Choose a month." in bad.get_data(as_text=True)


# --- the invoice list's CSV ------------------------------------------------------------------------


def test_the_invoice_csv_follows_the_filters_over_every_page(client, admin, make, app):
    a = admin.alpha
    b1 = make.unit(a.estate, "B1", block="B")
    for n in range(30):
        add_invoice(app, a.estate, a.unit if n % 2 else b1, 100_000 + n, issued=date(2026, 5, 1),
                    kind=InvoiceKind.ONE_OFF,
                    billed_to_name="=HYPERLINK(\"http://evil\")" if n == 0 else "Ada")
    add_invoice(app, a.estate, a.unit, 5_000, issued=date(2026, 4, 1))
    page = client.get("/e/alpha/admin/billing/?period=2026-05&block=B").get_data(as_text=True)
    assert 'href="/e/alpha/admin/billing/invoices.csv?period=2026-05&amp;block=B"' in page
    response = client.get("/e/alpha/admin/billing/invoices.csv?period=2026-05")
    assert response.mimetype == "text/csv" and response.is_streamed
    assert 'filename="invoices-alpha-2026-05.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:4] == ["Invoice", "Unit", "Block", "Billed to"] and len(rows) == 31
    hostile = next(r for r in rows if r[1] == "B1" and r[3] != "Ada")
    assert hostile[3] == "'=HYPERLINK(\"http://evil\")"
    assert hostile[8:] == ["Unpaid", "NGN", "1000.00", "0.00", "1000.00", "0.00", "1000.00"]
    assert len(read_csv(client.get("/e/alpha/admin/billing/invoices.csv?period=2026-05&block=B"))) == 16
    assert len(read_csv(client.get("/e/alpha/admin/billing/invoices.csv"))) == 32


def test_the_invoice_csv_reads_in_constant_queries(client, admin, make, app, count_queries):
    a = admin.alpha
    add_invoice(app, a.estate, a.unit, 1_000, issued=date(2026, 5, 1))
    client.get("/e/alpha/admin/billing/invoices.csv").get_data()
    with count_queries() as few:
        client.get("/e/alpha/admin/billing/invoices.csv").get_data()
    for n in range(40):
        add_invoice(app, a.estate, make.unit(a.estate, f"D{n}"), 1_000, issued=date(2026, 5, 1))
    with count_queries() as many:
        rows = read_csv(client.get("/e/alpha/admin/billing/invoices.csv"))
    assert many.count == few.count and len(rows) == 42


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), ("+34 600", "'+34 600"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\r=1", "'\r=1"), ("Block A", "Block A"), ("", ""), (None, ""), (-5, -5), (12, 12),
])
def test_csv_cells_cannot_be_formulas(value, written):
    assert safe_cell(value) == written


def test_csv_streams_in_pieces():
    pieces = list(csv_rows(["a"], ([f"row {n}" * 20] for n in range(2_000))))
    assert len(pieces) > 5 and pieces[0].startswith("\ufeffa\r\n")


# --- Spanish ---------------------------------------------------------------------------------------


def test_the_report_pages_read_in_spanish(client, estate_pair, login, app, make):
    from tests.test_spanish_pages import _assert_spanish

    a = estate_pair.alpha
    _statement_world(app, a)
    today = date.today()
    add_invoice(app, a.estate, make.unit(a.estate, "B1", block="B"), 100_000, issued=today - timedelta(days=60),
                due=today - timedelta(days=45))
    client.post("/language", data={"lang": "es"})
    login("admin@alpha.test")
    for path in ("/e/alpha/admin/billing/arrears/", "/e/alpha/admin/billing/arrears/?sort=age&block=B",
                 "/e/alpha/admin/billing/reports/?period=2026-03", "/e/alpha/admin/billing/reports/?period=bad",
                 f"/e/alpha/admin/units/{a.unit.id}/statement?from=2026-01-01&to=2026-12-31",
                 f"/e/alpha/admin/units/{a.unit.id}/statement?from=2026-05-01&to=2026-01-01"):
        _assert_spanish(client.get(path))
    other = app.test_client()
    other.post("/language", data={"lang": "es"})
    login("resident@alpha.test", as_client=other)
    for path in ("/e/alpha/home/statement/?from=2026-01-01&to=2026-12-31", "/e/alpha/home/statement/?from=x"):
        _assert_spanish(other.get(path))
