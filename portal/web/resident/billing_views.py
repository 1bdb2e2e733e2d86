"""A resident's bills: the invoices of their unit(s), owed first, and one invoice's lines
with its pay form (paying: portal/web/resident/pay_views.py)."""

from __future__ import annotations

from flask import g
from flask_login import current_user

from portal.billing import invoices
from portal.web.inputs import page_arg
from portal.web.resident import bp
from portal.web.resident.pay_views import PayForm, bill_page
from portal.web.ui import render


@bp.get("/bills/")
def bills_list():
    count, balance = invoices.owed_by_resident(current_user, g.estate)
    return render("resident/bills.html", block="bill_list", bills=invoices.list_for_resident(
        current_user, g.estate, page=page_arg()), owed_count=count, owed_minor=balance, form=PayForm())


@bp.get("/bills/<int:invoice_id>")
def bill_detail(invoice_id: int):
    return bill_page(invoice_id, PayForm())
