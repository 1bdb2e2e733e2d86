"""A resident's bills: only their unit's invoices, owed ones first, amounts in the estate's
currency in the reader's language, one invoice's lines; no payment is faked."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.billing.periods import month
from portal.extensions import db
from portal.models import Invoice, InvoiceStatus, Role
from tests.billing_support import add_charge, add_unit_charge, generate, invoices_of, set_billing


def _bills(html: str) -> list[str]:
    return re.findall(r'<li id="bill-(\d+)">', html)


@pytest.fixture
def billed(app, estate_pair, make):
    """Alpha's A1 (the resident's) and A2 billed for November and December; A1's November paid."""
    a = estate_pair.alpha
    set_billing(app, a.estate, prefix="AL")
    make.unit(a.estate, "A2")
    add_charge(app, a.estate, "Service charge", 4_500_000)
    add_unit_charge(app, a.estate, a.unit, "Broken window", 1_234_500, charge_date=date(2026, 12, 2))
    generate(app, a.estate, month(2026, 11))
    generate(app, a.estate, month(2026, 12))
    found = invoices_of(app, a.estate)
    november = next(i for i in found if i.unit == "A1" and i.period_start.month == 11)
    with app.app_context():
        db.session.execute(sa.update(Invoice).where(Invoice.id == november.id).values(
            status=InvoiceStatus.PAID, amount_paid_minor=Invoice.total_minor, balance_minor=0))
        db.session.commit()
    return {(i.unit, i.period_start.month): i for i in invoices_of(app, a.estate)}


def test_a_resident_sees_their_units_bills_owed_first(client, estate_pair, billed, login):
    login("resident@alpha.test")
    html = client.get("/e/alpha/home/bills/").get_data(as_text=True)
    assert _bills(html) == [str(billed[("A1", 12)].id), str(billed[("A1", 11)].id)]
    assert str(billed[("A2", 12)].id) not in _bills(html)
    assert "1 bill to pay, ₦57,345.00 in all." in html
    assert "December 2026" in html and "Unpaid" in html and "Paid" in html and "₦57,345.00" in html
    home = client.get("/e/alpha/home/").get_data(as_text=True)
    assert 'id="home-bills"' in home and 'id="nav-bills"' in home


def test_an_invoice_shows_its_lines_and_a_pay_button_for_its_balance(client, estate_pair, billed, login):
    login("resident@alpha.test")
    invoice = billed[("A1", 12)]
    html = client.get(f"/e/alpha/home/bills/{invoice.id}").get_data(as_text=True)
    assert invoice.number in html and "Service charge" in html and "Broken window" in html
    assert "₦12,345.00" in html and 'id="invoice-balance"><strong>₦57,345.00' in html
    assert re.search(r'<button type="submit" id="pay-online">Pay ₦57,345.00</button>', html)
    assert f'<input type="hidden" name="invoice" value="{invoice.id}">' in html
    paid = client.get(f"/e/alpha/home/bills/{billed[('A1', 11)].id}").get_data(as_text=True)
    assert 'id="pay-online"' not in paid


def test_a_resident_gets_404_for_another_units_or_estates_invoice(client, estate_pair, billed, login, app, make):
    b = estate_pair.beta
    add_charge(app, b.estate, "Beta charge", 10_000)
    generate(app, b.estate)
    beta_invoice = invoices_of(app, b.estate)[0]
    login("resident@alpha.test")
    assert client.get(f"/e/alpha/home/bills/{billed[('A2', 12)].id}").status_code == 404
    assert client.get(f"/e/alpha/home/bills/{beta_invoice.id}").status_code == 404
    assert client.get(f"/e/beta/home/bills/{beta_invoice.id}").status_code == 404
    assert client.get("/e/beta/home/bills/").status_code == 404


def test_a_moved_out_resident_no_longer_sees_the_units_bills(client, estate_pair, billed, login, app):
    from portal.models import Resident

    with app.app_context():
        db.session.execute(sa.update(Resident).where(Resident.user_id == estate_pair.alpha.resident.id)
                           .values(move_out_date=date(2026, 12, 20)))
        db.session.commit()
    login("resident@alpha.test")
    html = client.get("/e/alpha/home/bills/").get_data(as_text=True)
    assert _bills(html) == [] and "No bills yet." in html
    assert client.get(f"/e/alpha/home/bills/{billed[('A1', 12)].id}").status_code == 404


def test_bills_in_spanish_with_quetzales(client, make, login, app):
    estate = make.estate("flores", name="Las Flores", currency="GTQ", country="GT", timezone="America/Guatemala",
                         default_language="es")
    set_billing(app, estate, prefix="LF")
    casa = make.unit(estate, "Casa 7")
    user = make.user("vecino@flores.test", estate=estate, role=Role.RESIDENT, preferred_language="es")
    make.resident(estate, casa, "Andrés Morales", user=user)
    add_charge(app, estate, "Cuota de mantenimiento", 85_000)
    generate(app, estate, due_date=date(2026, 12, 15))
    login("vecino@flores.test")
    html = client.get("/e/flores/home/bills/").get_data(as_text=True)
    assert "Mis facturas" in html and "Q850.00" in html and "Pendiente" in html and "diciembre 2026" in html
    invoice = invoices_of(app, estate)[0]
    detail = client.get(f"/e/flores/home/bills/{invoice.id}").get_data(as_text=True)
    assert "Cuota de mantenimiento" in detail and "Vence el" in detail and "15/12/2026" in detail
    assert "Pagar Q850.00" in detail and "Pagar una parte" in detail


def test_the_bills_list_is_paginated(client, estate_pair, login, app):
    a = estate_pair.alpha
    add_charge(app, a.estate, "Service charge", 10_000, starts_on=date(2024, 1, 1))
    for n in range(27):
        generate(app, a.estate, month(2024 + n // 12, n % 12 + 1))
    login("resident@alpha.test")
    first = client.get("/e/alpha/home/bills/").get_data(as_text=True)
    assert len(_bills(first)) == 25 and "Page 1 of 2" in first
    fragment = client.get("/e/alpha/home/bills/?page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert len(_bills(fragment)) == 2 and "<html" not in fragment
