"""A resident reports "I paid by transfer" from a bill, and opens the proof they sent."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.billing import manual, money
from portal.errors import Conflict, FieldErrors, InvalidValue
from portal.web.i18n import formatting_locale
from portal.web.payment_pages import TransferReportForm, proof_response
from portal.web.resident import bp
from portal.web.ui import render


@bp.route("/bills/<int:invoice_id>/transfer", methods=["GET", "POST"])
def bill_transfer(invoice_id: int):
    try:
        invoice = manual.reportable_invoice(current_user, g.estate, invoice_id)
    except Conflict as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("resident.bill_detail", invoice_id=invoice_id), 303)
    locale = formatting_locale()
    form = TransferReportForm()
    if request.method == "GET":
        form.paid_on.data = manual.estate_today(g.estate)
        form.amount.data = money.as_input(invoice.balance_minor, invoice.currency, locale)
    elif form.validate_on_submit():
        try:
            amount = money.parse_amount(form.amount.data or "", invoice.currency, locale)
            manual.report_transfer(current_user, g.estate, invoice_id, form.data_for_service(amount))
        except InvalidValue as exc:
            form.amount.errors = [*form.amount.errors, exc.message]
        except FieldErrors as exc:
            for name, message in exc.errors.items():
                target = getattr(form, name)
                target.errors = [*target.errors, message]
        except Conflict as exc:
            flash(str(exc.message), "error")
            return redirect(url_for("resident.bill_detail", invoice_id=invoice_id), 303)
        else:
            flash(_("Thank you. The estate office will check your transfer and confirm it; you will get a message."),
                  "success")
            return redirect(url_for("resident.bill_detail", invoice_id=invoice_id), 303)
    return render("resident/transfer_form.html", form=form, invoice=invoice), 422 if form.errors else 200


@bp.get("/payments/<int:payment_id>/proof")
def payment_proof(payment_id: int):
    return proof_response(*manual.get_proof(g.estate, payment_id, payer=current_user), payment_id=payment_id)
