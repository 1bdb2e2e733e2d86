"""Payments for estate admins: the list (filters, totals, CSV), recording a manual payment,
the "to confirm" queue of reported transfers, one payment (confirm, reject, its proof)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, flash, g, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.billing import charges, manual, money, payment_list
from portal.errors import DomainError, FieldErrors, InvalidValue, NotFound
from portal.web.admin import bp
from portal.web.i18n import formatting_locale
from portal.web.inputs import date_range, page_arg
from portal.web.payment_pages import (
    ManualPaymentForm,
    RejectPaymentForm,
    invoice_ids,
    proof_response,
)
from portal.web.ui import render


def _filters(errors: dict) -> payment_list.PaymentFilters:
    date_from, date_to = date_range(request.args, errors)
    args = request.args
    return payment_list.check_filters(date_from, date_to, args.get("method", ""), args.get("status", ""),
                                      args.get("unit", ""), args.get("block", ""))


@bp.get("/billing/payments/")
def payments_list():
    errors: dict = {}
    filters = _filters(errors)
    page, totals = payment_list.list_payments(g.estate, filters, page=page_arg())
    return render("admin/billing/payments.html", block="payment_table", payments=page, totals=totals,
                  filters=filters, errors=errors, blocks=charges.estate_blocks(g.estate),
                  waiting=payment_list.to_confirm_count(g.estate))


@bp.get("/billing/payments/export.csv")
def payments_export():
    filters = _filters({})
    filename = payment_list.export_filename(g.estate, datetime.now(ZoneInfo(g.estate.timezone)).date())
    return Response(stream_with_context(payment_list.export_csv(g.estate, filters)),
                    mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@bp.get("/billing/payments/to-confirm")
def payments_to_confirm():
    return render("admin/billing/payments_to_confirm.html", block="queue", queue=payment_list.to_confirm(
        g.estate, page=page_arg()))


# --- recording a payment ------------------------------------------------------------------------


def _new_payment_page(form: ManualPaymentForm, unit_text: str, posted: bool = False):
    """The form for the unit named by `unit_text` (its open invoices to tick), or the unit
    question alone while no unit is found."""
    unit = manual.find_unit(g.estate, unit_text)
    unit_error = None
    owed = []
    if unit is None and unit_text.strip():
        unit_error = _("No unit numbered %(numbers)s in this estate.", numbers=unit_text.strip()[:40])
    if unit is not None:
        owed = manual.open_invoices(g.estate, unit.id)
        form.unit_number.data = unit.number
        locale = formatting_locale()
        form.invoice_ids.choices = [SelectChoice(str(i.id), i.number) for i in owed]
        if request.method == "GET" and not form.amount.data and owed:
            form.amount.data = money.as_input(sum(i.balance_minor for i in owed), g.estate.currency, locale)
    if form.unit_number.errors and unit_error is None:
        unit_error = " ".join(map(str, form.unit_number.errors))
    return render("admin/billing/payment_form.html", form=form, unit=unit, unit_text=unit_text[:40], owed=owed,
                  unit_error=unit_error, amount_example=money.as_input(150_000, g.estate.currency,
                                                                       formatting_locale())), \
        422 if posted or unit_error else 200


@bp.get("/billing/payments/new")
def payment_new():
    form = ManualPaymentForm(formdata=None)
    form.paid_on.data = manual.estate_today(g.estate)
    invoice = request.args.get("invoice", "")
    form.invoice_ids.data = [invoice] if invoice.isdigit() else []
    return _new_payment_page(form, request.args.get("unit", ""))


@bp.post("/billing/payments/new")
def payment_create():
    form = ManualPaymentForm()
    unit_text = form.unit_number.data or ""
    if form.validate_on_submit():
        ids = invoice_ids(form.invoice_ids.data)
        amount = None
        try:
            amount = money.parse_amount(form.amount.data or "", g.estate.currency, formatting_locale())
        except InvalidValue as exc:
            form.amount.errors = [*form.amount.errors, exc.message]
        if ids is None:
            form.invoice_ids.errors = [_("Tick only invoices of this unit that are still owed.")]
        elif amount is not None:
            try:
                payment, result = manual.record_payment(current_user, g.estate, form.data_for_service(amount, ids))
            except FieldErrors as exc:
                for name, message in exc.errors.items():
                    target = getattr(form, name)
                    target.errors = [*target.errors, message]
            else:
                _flash_applied(payment.amount_minor, result)
                return redirect(url_for("admin.payment_detail", payment_id=payment.id), 303)
    return _new_payment_page(form, unit_text, posted=True)


def _flash_applied(amount_minor: int, result) -> None:
    locale = formatting_locale()
    amount = money.format_money(amount_minor, g.estate.currency, locale)
    flash(ngettext("%(amount)s was applied to %(num)d invoice.", "%(amount)s was applied to %(num)d invoices.",
                   len(result.allocations), amount=amount), "success")
    if result.unallocated_minor:
        flash(_("%(amount)s more than the unit owed is kept as its credit.",
                amount=money.format_money(result.unallocated_minor, g.estate.currency, locale)), "success")


# --- one payment ----------------------------------------------------------------------------------


def _detail_page(payment_id: int, form: RejectPaymentForm | None = None, status: int = 200):
    detail = payment_list.payment_detail(g.estate, payment_id)
    return render("admin/billing/payment_detail.html", detail=detail, payment=detail.payment,
                  form=form or RejectPaymentForm(formdata=None), manual_methods=manual.MANUAL_METHODS,
                  paid_on=manual.paid_on(detail.payment, g.estate)), status


@bp.get("/billing/payments/<int:payment_id>")
def payment_detail(payment_id: int):
    return _detail_page(payment_id)


def _back(payment_id: int):
    if request.form.get("back") == "queue":
        return redirect(url_for("admin.payments_to_confirm"), 303)
    return redirect(url_for("admin.payment_detail", payment_id=payment_id), 303)


@bp.post("/billing/payments/<int:payment_id>/confirm")
def payment_confirm(payment_id: int):
    payment = manual.get_manual_payment(g.estate, payment_id)
    try:
        result = manual.confirm_payment(current_user, g.estate, payment_id)
    except NotFound:
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        _flash_applied(payment.amount_minor, result)
    return _back(payment_id)


@bp.post("/billing/payments/<int:payment_id>/reject")
def payment_reject(payment_id: int):
    manual.get_manual_payment(g.estate, payment_id)
    form = RejectPaymentForm()
    if form.validate_on_submit():
        try:
            manual.reject_payment(current_user, g.estate, payment_id, form.reason.data or "")
        except FieldErrors as exc:
            form.reason.errors = [*form.reason.errors, *exc.errors.values()]
        except NotFound:
            raise
        except DomainError as exc:
            flash(str(exc.message), "error")
            return _back(payment_id)
        else:
            flash(_("The payment was rejected. The resident is told why."), "success")
            return _back(payment_id)
    return _detail_page(payment_id, form, 422)


@bp.get("/billing/payments/<int:payment_id>/proof")
def payment_proof(payment_id: int):
    return proof_response(*manual.get_proof(g.estate, payment_id), payment_id=payment_id)

