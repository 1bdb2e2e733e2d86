"""Billing documents and reports for estate admins: an invoice's PDF, a unit's statement of
account (page and PDF), the arrears list, the collection rate of a month, and the CSV
exports of the invoice list and the arrears."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from portal.billing import charges, invoices, reports, statements
from portal.billing.generation import estate_today
from portal.billing.money import to_decimal
from portal.billing.periods import containing, parse_month
from portal.errors import FieldErrors
from portal.labels import INVOICE_STATUS_LABELS
from portal.web.admin import bp
from portal.web.billing_pdfs import invoice_pdf_response, statement_pdf_response
from portal.web.csv_export import csv_response
from portal.web.inputs import page_arg
from portal.web.ui import render

# --- invoices ---------------------------------------------------------------------------------------


@bp.get("/billing/invoices/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int):
    return invoice_pdf_response(invoices.get_invoice(g.estate, invoice_id), g.estate)


def _invoice_filters() -> invoices.InvoiceFilters:
    return invoices.check_filters(invoices.InvoiceFilters(
        period=request.args.get("period", ""), status=request.args.get("status", ""),
        block=request.args.get("block", ""), unit=request.args.get("unit", "")), {})


@bp.get("/billing/invoices.csv")
def invoices_csv():
    """The invoice list as CSV: the list's filters, every page."""
    filters = _invoice_filters()
    header = [_("Invoice"), _("Unit"), _("Block"), _("Billed to"), _("Period start"), _("Period end"),
              _("Issued on"), _("Due on"), _("Status"), _("Currency"), _("Subtotal"), _("Tax"), _("Total"),
              _("Amount paid"), _("Balance")]
    statuses = {key: str(label) for key, label in INVOICE_STATUS_LABELS.items()}

    def rows():
        for inv in invoices.export_invoices(g.estate, filters):
            amounts = (inv.subtotal_minor, inv.tax_minor, inv.total_minor, inv.amount_paid_minor, inv.balance_minor)
            yield [inv.number, inv.unit.number, inv.unit.block, inv.billed_to_name, inv.period_start.isoformat(),
                   inv.period_end.isoformat(), inv.issue_date.isoformat(), inv.due_date.isoformat(),
                   statuses[inv.status.value], inv.currency, *(to_decimal(a, inv.currency) for a in amounts)]

    suffix = "-".join(v for v in (filters.period, filters.status.lower(), filters.block, filters.unit) if v)
    return csv_response(f"invoices-{g.estate.slug}{'-' + suffix if suffix else ''}.csv", header, rows())


# --- statements -------------------------------------------------------------------------------------


def statement_args(today) -> tuple[statements.DateRange, dict, dict]:
    """The range asked for (the default's on bad input), its errors, the form's values."""
    values = {"from": request.args.get("from", "")[:20], "to": request.args.get("to", "")[:20]}
    try:
        chosen = statements.parse_range(values["from"], values["to"], today)
    except FieldErrors as exc:
        return statements.default_range(today), dict(exc.errors), values
    return chosen, {}, {"from": chosen.start.isoformat(), "to": chosen.end.isoformat()}


@bp.get("/units/<int:unit_id>/statement")
def unit_statement(unit_id: int):
    unit = statements.unit_of(g.estate, unit_id)
    chosen, errors, values = statement_args(estate_today(g.estate))
    statement = statements.build_statement(g.estate, unit, chosen.start, chosen.end)
    return render("admin/billing/statement.html", unit=unit, statement=statement, errors=errors,
                  values=values), 422 if errors else 200


@bp.get("/units/<int:unit_id>/statement/pdf")
def unit_statement_pdf(unit_id: int):
    unit = statements.unit_of(g.estate, unit_id)
    chosen, errors, values = statement_args(estate_today(g.estate))
    if errors:
        statement = statements.build_statement(g.estate, unit, chosen.start, chosen.end)
        return render("admin/billing/statement.html", unit=unit, statement=statement, errors=errors,
                      values=values), 422
    return statement_pdf_response(statements.build_statement(g.estate, unit, chosen.start, chosen.end), g.estate)


# --- arrears ----------------------------------------------------------------------------------------


def _arrears_args() -> tuple[str, str]:
    return request.args.get("block", "").strip()[:40], reports.check_sort(request.args.get("sort", ""))


@bp.get("/billing/arrears/")
def arrears_list():
    block, sort = _arrears_args()
    today = estate_today(g.estate)
    page, totals = reports.arrears(g.estate, today, block_name=block, sort=sort, page=page_arg())
    query = {k: v for k, v in (("block", block), ("sort", sort)) if v and not (k == "sort" and v == "amount")}
    return render("admin/billing/arrears.html", block="arrears_table", rows=page, totals=totals, today=today,
                  blocks=charges.estate_blocks(g.estate), filters={"block": block, "sort": sort}, query=query)


@bp.get("/billing/arrears.csv")
def arrears_csv():
    block, sort = _arrears_args()
    today = estate_today(g.estate)
    currency = g.estate.currency
    header = [_("Unit"), _("Block"), _("Residents"), _("Invoices"), _("Oldest due date"), _("Days overdue"),
              _("0–30 days"), _("31–60 days"), _("61–90 days"), _("Over 90 days"), _("Total owed"), _("Currency")]

    def rows():
        for row in reports.all_arrears(g.estate, today, block_name=block, sort=sort):
            yield [row.number, row.block, "; ".join(row.names), row.invoices, row.oldest_due.isoformat(),
                   row.days_overdue, *(to_decimal(a, currency) for a in row.buckets),
                   to_decimal(row.owed_minor, currency), currency]

    return csv_response(f"arrears-{g.estate.slug}-{today.isoformat()}{'-' + block if block else ''}.csv",
                        header, rows())


# --- collection rate --------------------------------------------------------------------------------


@bp.get("/billing/reports/")
def collection_report():
    errors: dict = {}
    raw = request.args.get("period", "").strip()[:7]
    period = parse_month(raw) if raw else containing(estate_today(g.estate))
    if period is None:
        errors["period"] = _("Choose a month.")
        period = containing(estate_today(g.estate))
    return render("admin/billing/reports.html", report=reports.collection(g.estate, period), errors=errors,
                  period_value=raw if errors else period.key), 422 if errors else 200
