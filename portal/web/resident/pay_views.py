"""A resident pays bills online and keeps the receipts: the pay form (one bill, part of it,
or several chosen on the list), the return from the hosted checkout, the receipts list,
one receipt and its PDF."""

from __future__ import annotations

from flask import flash, g, make_response, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from portal.billing import checkout, invoices, manual, money, receipts
from portal.billing.gateway import GatewayError, PaymentNotConfirmed
from portal.errors import Conflict, FieldErrors, InvalidValue
from portal.web.forms import TOO_LONG
from portal.web.i18n import formatting_locale
from portal.web.inputs import MAX_ID, page_arg
from portal.web.receipts import receipt_pdf
from portal.web.resident import bp
from portal.web.ui import render


class PayForm(FlaskForm):
    amount = StringField(_l("Amount to pay"), validators=[Optional(), Length(max=30, message=TOO_LONG)])


def _chosen_ids() -> list[int]:
    return [int(value) for value in request.form.getlist("invoice")[:checkout.MAX_INVOICES]
            if value.isdigit() and len(value) < 12 and int(value) <= MAX_ID]


def _format(amount_minor: int) -> str:
    return money.format_money(amount_minor, g.estate.currency, formatting_locale())


def bill_page(invoice_id: int, form: PayForm, block: str | None = None) -> str:
    """One bill of the user's, with its pay form and the payments on it."""
    invoice = invoices.get_for_resident(current_user, g.estate, invoice_id)
    return render("resident/bill_detail.html", block=block, invoice=invoice, form=form,
                  payments=invoices.allocations(invoice),
                  reports=manual.reports_for_invoice(current_user, g.estate, invoice),
                  balance_input=money.as_input(invoice.balance_minor, invoice.currency, formatting_locale()))


def _pay_page(form: PayForm, invoice_ids: list[int], status: int = 422):
    """The form again, with its messages: the bill's page (one bill) or the bills list."""
    if len(invoice_ids) == 1:
        return bill_page(invoice_ids[0], form, block="pay_form"), status
    return bills_block(form, page=1), status


def bills_block(form: PayForm, page: int) -> str:
    """The bills list (its list block for HTMX): owed first, a reported transfer's wait said
    on its bill's card."""
    count, balance = invoices.owed_by_resident(current_user, g.estate)
    bills = invoices.list_for_resident(current_user, g.estate, page=page)
    awaiting = manual.awaiting_confirmation(g.estate, [invoice.id for invoice in bills.items])
    return render("resident/bills.html", block="bill_list", bills=bills, awaiting=awaiting, owed_count=count,
                  owed_minor=balance, form=form)


@bp.post("/bills/pay")
def bills_pay():
    """Start paying the chosen bills: a pending payment and the provider's hosted page,
    where the browser goes next (HX-Redirect: the CSP's form-action would stop a form's
    redirect to another site; without JavaScript, a page with the link)."""
    form = PayForm()
    invoice_ids = _chosen_ids()
    if not form.validate_on_submit():
        return _pay_page(form, invoice_ids)
    try:
        amount = None
        if (form.amount.data or "").strip():
            amount = money.parse_amount(form.amount.data, g.estate.currency, formatting_locale())
        link = checkout.start_checkout(current_user, g.estate, invoice_ids, amount, format_amount=_format)
    except InvalidValue as exc:
        form.amount.errors = [*form.amount.errors, exc.message]
        return _pay_page(form, invoice_ids)
    except FieldErrors as exc:
        for name, message in exc.errors.items():
            if name == "amount":
                form.amount.errors = [*form.amount.errors, message]
            else:
                form.form_errors.append(message)
        return _pay_page(form, invoice_ids)
    except Conflict as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("resident.bills_list"), 303)
    except GatewayError as exc:
        form.form_errors.append(exc.message)
        return _pay_page(form, invoice_ids, 503)
    if request.headers.get("HX-Request"):
        response = make_response("", 200)
        response.headers["HX-Redirect"] = link.url
        return response
    return render("resident/pay_continue.html", url=link.url)


@bp.get("/payments/<int:payment_id>/return")
def pay_return(payment_id: int):
    """Back from the hosted checkout: the provider is asked what happened (the query only
    says where to look) and the payment applied or marked failed."""
    payment = checkout.payment_for_payer(current_user, g.estate, payment_id)
    transaction_id = request.args.get("transaction_id", "")
    if request.args.get("tx_ref") != payment.tx_ref or not transaction_id.isdigit():
        transaction_id = ""  # not this payment's return: look it up by our own reference
    problem = None
    try:
        outcome = checkout.settle(payment, transaction_id=transaction_id or None,
                                  cancelled=request.args.get("status") == "cancelled")
    except PaymentNotConfirmed as exc:
        outcome, problem = checkout.Outcome.PENDING, exc.message
    except GatewayError as exc:
        outcome, problem = checkout.Outcome.PENDING, exc.message
    return render("resident/pay_return.html", payment=payment, outcome=outcome.value, problem=problem,
                  bills=checkout.invoices_of(payment))


@bp.get("/receipts/")
def receipts_list():
    return render("resident/receipts.html", block="receipt_list",
                  receipts=receipts.list_for_resident(current_user, g.estate, page=page_arg()),
                  prefix=receipts.prefix(g.estate))


@bp.get("/receipts/<int:payment_id>")
def receipt_detail(payment_id: int):
    return render("resident/receipt.html", receipt=receipts.get_for_resident(current_user, g.estate, payment_id))


@bp.get("/receipts/<int:payment_id>/pdf")
def receipt_download(payment_id: int):
    return receipt_pdf(receipts.get_for_resident(current_user, g.estate, payment_id), g.estate)

