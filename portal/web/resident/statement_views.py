"""A resident's documents: an invoice's PDF, and the statement of account of the unit(s)
they live in (page and PDF)."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from portal.billing import invoices, statements
from portal.billing.generation import estate_today
from portal.errors import FieldErrors, NotFound
from portal.web.billing_pdfs import invoice_pdf_response, statement_pdf_response
from portal.web.resident import bp
from portal.web.ui import render


@bp.get("/bills/<int:invoice_id>/pdf")
def bill_pdf(invoice_id: int):
    return invoice_pdf_response(invoices.get_for_resident(current_user, g.estate, invoice_id), g.estate)


def _range(today) -> tuple[statements.DateRange, dict, dict]:
    values = {"from": request.args.get("from", "")[:20], "to": request.args.get("to", "")[:20]}
    try:
        chosen = statements.parse_range(values["from"], values["to"], today)
    except FieldErrors as exc:
        return statements.default_range(today), dict(exc.errors), values
    return chosen, {}, {"from": chosen.start.isoformat(), "to": chosen.end.isoformat()}


def _statement(unit_id: int | None):
    """The user's units, the one asked for (the first when none is), the statement, the
    range's errors and the form's values; 404 for a unit the user does not live in."""
    units = statements.resident_units(current_user, g.estate)
    if unit_id is None:
        unit = units[0] if units else None
    else:
        unit = next((u for u in units if u.id == unit_id), None)
        if unit is None:
            raise NotFound()
    chosen, errors, values = _range(estate_today(g.estate))
    statement = statements.build_statement(g.estate, unit, chosen.start, chosen.end) if unit else None
    return units, unit, statement, errors, values


def _page(unit_id: int | None):
    units, unit, statement, errors, values = _statement(unit_id)
    return render("resident/statement.html", units=units, unit=unit, statement=statement, errors=errors,
                  values=values), 422 if errors else 200


@bp.get("/statement/")
def statement():
    """The statement of the user's (first) unit."""
    return _page(None)


@bp.get("/statement/<int:unit_id>")
def statement_unit(unit_id: int):
    return _page(unit_id)


@bp.get("/statement/<int:unit_id>/pdf")
def statement_pdf(unit_id: int):
    units, unit, statement, errors, values = _statement(unit_id)
    if errors:
        return render("resident/statement.html", units=units, unit=unit, statement=statement, errors=errors,
                      values=values), 422
    return statement_pdf_response(statement, g.estate)
