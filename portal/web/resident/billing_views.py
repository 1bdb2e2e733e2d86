"""A resident's bills: the invoices of their unit(s), owed first, and one invoice's lines
with its pay form (paying: portal/web/resident/pay_views.py)."""

from __future__ import annotations

from portal.web.inputs import page_arg
from portal.web.resident import bp
from portal.web.resident.pay_views import PayForm, bill_page, bills_block


@bp.get("/bills/")
def bills_list():
    return bills_block(PayForm(), page=page_arg())


@bp.get("/bills/<int:invoice_id>")
def bill_detail(invoice_id: int):
    return bill_page(invoice_id, PayForm())
