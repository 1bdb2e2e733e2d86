"""Billing for estate admins: invoices (list, detail, void), the charge catalogue, one-off
charges, generation (preview, run, progress) and the billing settings."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.billing import charges, generation, invoices, money
from portal.billing import settings as billing_settings
from portal.billing.periods import containing, parse_month
from portal.errors import DomainError, FieldErrors, InvalidValue, NotFound
from portal.models import GenerationStatus
from portal.web.admin import bp
from portal.web.admin.billing_forms import (
    BillingSettingsForm,
    ChargeForm,
    GenerateForm,
    UnitChargeForm,
    VoidForm,
)
from portal.web.admin.dues_forms import dues_settings_form
from portal.web.i18n import formatting_locale
from portal.web.inputs import date_arg, page_arg
from portal.web.ui import render


def _field_errors(form, exc: DomainError, default: str) -> None:
    """A service refusal next to the fields it names (or next to `default`)."""
    errors = getattr(exc, "errors", None) or {getattr(exc, "field", default): exc.message}
    for name, message in errors.items():
        target = getattr(form, name, None) or getattr(form, default)
        target.errors = [*target.errors, message]


def _amount(form) -> int | None:
    """The form's amount in minor units, or None with the message next to the field."""
    try:
        return money.parse_amount(form.amount.data or "", g.estate.currency, formatting_locale())
    except InvalidValue as exc:
        form.amount.errors = [*form.amount.errors, exc.message]
        return None


# --- invoices -------------------------------------------------------------------------------------


@bp.get("/billing/")
def invoices_list():
    errors: dict = {}
    filters = invoices.check_filters(invoices.InvoiceFilters(
        period=request.args.get("period", ""), status=request.args.get("status", ""),
        block=request.args.get("block", ""), unit=request.args.get("unit", "")), errors)
    page, totals = invoices.list_invoices(g.estate, filters, page=page_arg())
    return render("admin/billing/invoices.html", block="invoice_table", invoices=page, totals=totals,
                  filters=filters, errors=errors, blocks=charges.estate_blocks(g.estate),
                  periods=invoices.periods(g.estate))


@bp.get("/billing/invoices/<int:invoice_id>")
def invoice_detail(invoice_id: int):
    invoice = invoices.get_invoice(g.estate, invoice_id)
    return render("admin/billing/invoice_detail.html", invoice=invoice, form=VoidForm(),
                  allocations=invoices.allocations(invoice))


@bp.post("/billing/invoices/<int:invoice_id>/void")
def invoice_void(invoice_id: int):
    invoice = invoices.get_invoice(g.estate, invoice_id)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            invoice = invoices.void_invoice(current_user, g.estate, invoice_id, form.reason.data or "")
        except FieldErrors as exc:
            _field_errors(form, exc, "reason")
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            flash(str(exc.message), "error")
            return redirect(url_for("admin.invoice_detail", invoice_id=invoice_id))
        else:
            flash(_("Invoice %(number)s is void. Its number stays used.", number=invoice.number), "success")
            return redirect(url_for("admin.invoice_detail", invoice_id=invoice_id))
    return render("admin/billing/invoice_detail.html", invoice=invoice, form=form,
                  allocations=invoices.allocations(invoice)), 422


# --- the charge catalogue -------------------------------------------------------------------------


@bp.get("/billing/charges/")
def charges_list():
    return render("admin/billing/charges.html", block="one_off_table", rows=charges.list_charges(g.estate),
                  pending=charges.pending_unit_charges(g.estate, page=page_arg()))


def _amount_example() -> str:
    return money.as_input(150_000, g.estate.currency, formatting_locale())


def _charge_form_page(form: ChargeForm, charge=None):
    return render("admin/billing/charge_form.html", form=form, charge=charge, amount_example=_amount_example()), \
        422 if form.errors else 200


@bp.route("/billing/charges/new", methods=["GET", "POST"])
def charge_new():
    form = ChargeForm()
    form.set_blocks(charges.estate_blocks(g.estate))
    if request.method == "GET":
        form.starts_on.data = containing(generation.estate_today(g.estate)).start
    if form.validate_on_submit():
        amount = _amount(form)
        if amount is not None:
            try:
                charge = charges.create_charge(current_user, g.estate, form.data_for_service(amount))
            except DomainError as exc:
                _field_errors(form, exc, "name")
            else:
                flash(_("%(name)s was added to the charges.", name=charge.name), "success")
                return redirect(url_for("admin.charges_list"))
    return _charge_form_page(form)


@bp.route("/billing/charges/<int:charge_id>/edit", methods=["GET", "POST"])
def charge_edit(charge_id: int):
    charge = charges.get_charge(g.estate, charge_id)
    form = ChargeForm(obj=charge if request.method == "GET" else None)
    form.set_blocks(charges.estate_blocks(g.estate))
    if request.method == "GET":
        listed, opted = charges.charge_unit_numbers(charge)
        form.amount.data = money.as_input(charge.amount_minor, charge.currency, formatting_locale())
        form.frequency.data, form.applies_to.data = charge.frequency.value, charge.applies_to.value
        form.mandatory.data = "1" if charge.mandatory else "0"
        form.unit_types.data, form.blocks.data = list(charge.unit_types or []), list(charge.blocks or [])
        form.unit_numbers.data, form.opt_in_numbers.data = ", ".join(listed), ", ".join(opted)
    if form.validate_on_submit():
        amount = _amount(form)
        if amount is not None:
            try:
                charge = charges.update_charge(current_user, g.estate, charge_id, form.data_for_service(amount))
            except NotFound:
                raise
            except DomainError as exc:
                _field_errors(form, exc, "name")
            else:
                flash(_("%(name)s was saved.", name=charge.name), "success")
                return redirect(url_for("admin.charges_list"))
    return _charge_form_page(form, charge)


@bp.post("/billing/charges/<int:charge_id>/disable")
def charge_disable(charge_id: int):
    charge = charges.set_active(current_user, g.estate, charge_id, False)
    flash(_("%(name)s is disabled: it will not be billed again.", name=charge.name), "success")
    return redirect(url_for("admin.charges_list"))


@bp.post("/billing/charges/<int:charge_id>/enable")
def charge_enable(charge_id: int):
    charge = charges.set_active(current_user, g.estate, charge_id, True)
    flash(_("%(name)s is enabled again.", name=charge.name), "success")
    return redirect(url_for("admin.charges_list"))


@bp.post("/billing/charges/<int:charge_id>/delete")
def charge_delete(charge_id: int):
    try:
        name = charges.delete_charge(current_user, g.estate, charge_id)
    except NotFound:
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("%(name)s was deleted.", name=name), "success")
    return redirect(url_for("admin.charges_list"))


# --- one-off charges ----------------------------------------------------------------------------


@bp.route("/billing/one-off/new", methods=["GET", "POST"])
def unit_charge_new():
    form = UnitChargeForm()
    if request.method == "GET":
        form.charge_date.data = generation.estate_today(g.estate)
        form.unit_number.data = request.args.get("unit", "")[:40]
    if form.validate_on_submit():
        amount = _amount(form)
        if amount is not None:
            try:
                item = charges.create_unit_charge(current_user, g.estate, form.data_for_service(amount))
            except DomainError as exc:
                _field_errors(form, exc, "description")
            else:
                if item.invoice_id:
                    flash(_("The charge was invoiced."), "success")
                    return redirect(url_for("admin.invoice_detail", invoice_id=item.invoice_id))
                flash(_("The charge will be on the unit's next invoice."), "success")
                return redirect(url_for("admin.charges_list"))
    return render("admin/billing/unit_charge_form.html", form=form, amount_example=_amount_example()), \
        422 if form.errors else 200


@bp.post("/billing/one-off/<int:unit_charge_id>/cancel")
def unit_charge_cancel(unit_charge_id: int):
    try:
        charges.cancel_unit_charge(current_user, g.estate, unit_charge_id)
    except NotFound:
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The one-off charge was cancelled."), "success")
    return redirect(url_for("admin.charges_list"))


# --- generation ---------------------------------------------------------------------------------


@bp.get("/billing/generate")
def generate():
    errors: dict = {}
    today = generation.estate_today(g.estate)
    raw_period = request.args.get("period", "")
    period = parse_month(raw_period) if raw_period else None
    due_date = date_arg(request.args, "due_date", errors)
    preview = None
    if raw_period:
        try:
            period = generation.check_period(g.estate, period, today)
        except FieldErrors as exc:
            errors.update(exc.errors)
        else:
            preview = generation.preview(g.estate, period, due_date)
            if preview.due_date < today:
                errors["due_date"] = _("The due date cannot be before today.")
    return render("admin/billing/generate.html", errors=errors, preview=preview,
                  period_value=period.key if period else (raw_period[:7] or containing(today).key),
                  due_value=due_date.isoformat() if due_date else "", runs=generation.recent_runs(g.estate),
                  form=GenerateForm()), 422 if errors else 200


@bp.post("/billing/generate")
def generate_start():
    form = GenerateForm()
    errors: dict = {}
    if form.validate_on_submit():
        try:
            run = generation.start_generation(current_user, g.estate, parse_month(form.period.data or ""),
                                              form.due_date.data)
        except FieldErrors as exc:
            errors.update(exc.errors)
        else:
            return redirect(url_for("admin.run_detail", run_id=run.id), 303)
    else:
        errors = {name: " ".join(map(str, messages)) for name, messages in form.errors.items()}
    return render("admin/billing/generate.html", errors=errors, preview=None,
                  period_value=(form.period.data or "")[:7], due_value=request.form.get("due_date", "")[:10],
                  runs=generation.recent_runs(g.estate), form=form), 422


@bp.get("/billing/runs/<int:run_id>")
def run_detail(run_id: int):
    run = generation.get_run(g.estate, run_id)
    polling = run.status in (GenerationStatus.QUEUED, GenerationStatus.RUNNING) and not generation.is_stale(run)
    return render("admin/billing/run.html", block="run_progress", run=run, polling=polling,
                  resumable=generation.can_resume(run))


@bp.post("/billing/runs/<int:run_id>/resume")
def run_resume(run_id: int):
    try:
        generation.resume_run(current_user, g.estate, run_id)
    except NotFound:
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    return redirect(url_for("admin.run_detail", run_id=run_id), 303)


# --- settings -------------------------------------------------------------------------------------


@bp.route("/billing/settings", methods=["GET", "POST"])
def billing_settings_edit():
    form = BillingSettingsForm()
    locale = formatting_locale()
    if request.method == "GET":
        current = billing_settings.get(g.estate)
        form.invoice_prefix.data = current.invoice_prefix
        form.tax_rate.data = billing_settings.percent_text(current.tax_rate_bp, locale)
        form.due_days.data = current.due_days
    elif form.validate_on_submit():
        try:
            rate = billing_settings.parse_percent(form.tax_rate.data or "", locale)
            billing_settings.update(current_user, g.estate, form.invoice_prefix.data or "", rate, form.due_days.data)
        except DomainError as exc:
            _field_errors(form, exc, "invoice_prefix")
        else:
            flash(_("The billing settings were saved."), "success")
            return redirect(url_for("admin.billing_settings_edit"))
    return render("admin/billing/settings.html", form=form, dues_form=dues_settings_form(g.estate)), \
        422 if form.errors else 200
