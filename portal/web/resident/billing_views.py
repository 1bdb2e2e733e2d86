"""A resident's bills: the invoices of their unit(s), owed first, and one invoice's lines."""

from __future__ import annotations

from flask import g
from flask_login import current_user

from portal.billing import invoices, manual
from portal.web.inputs import page_arg
from portal.web.resident import bp
from portal.web.ui import render


@bp.get("/bills/")
def bills_list():
    count, balance = invoices.owed_by_resident(current_user, g.estate)
    return render("resident/bills.html", block="bill_list", bills=invoices.list_for_resident(
        current_user, g.estate, page=page_arg()), owed_count=count, owed_minor=balance)


@bp.get("/bills/<int:invoice_id>")
def bill_detail(invoice_id: int):
    invoice = invoices.get_for_resident(current_user, g.estate, invoice_id)
    return render("resident/bill_detail.html", invoice=invoice,
                  reports=manual.reports_for_invoice(current_user, g.estate, invoice))
