"""An estate admin reads any successful payment's receipt of the estate, and its PDF."""

from __future__ import annotations

from flask import g

from portal.billing import receipts
from portal.web.admin import bp
from portal.web.receipts import receipt_pdf
from portal.web.ui import render


@bp.get("/billing/payments/<int:payment_id>/receipt")
def payment_receipt(payment_id: int):
    return render("admin/billing/receipt.html", receipt=receipts.get_for_admin(g.estate, payment_id))


@bp.get("/billing/payments/<int:payment_id>/receipt.pdf")
def payment_receipt_pdf(payment_id: int):
    return receipt_pdf(receipts.get_for_admin(g.estate, payment_id), g.estate)
