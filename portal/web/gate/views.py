"""The guard's gate page: type a visitor code or search today's passes, see ADMIT or
DENY filling the screen, record the entry and later the exit; inside-now (the
evacuation roll). HTMX swaps the answer into #result; without JS every form posts and
gets the whole page back."""

from __future__ import annotations

import re

from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import devices
from portal.amenities import bookings as amenity_bookings
from portal.estates import service as estates
from portal.estates import settings as gate_settings
from portal.gate import service
from portal.models import GateMethod, utcnow
from portal.onboarding.invitations import invite_powers
from portal.visits.rules import Refusal
from portal.web.gate import bp
from portal.web.gate.device_views import COOKIE, HEADER
from portal.web.inputs import db_int, page_arg
from portal.web.supervision import may_manage_gate
from portal.web.ui import fragment_request, render

METHODS = {"CODE": GateMethod.CODE, "SEARCH": GateMethod.SEARCH, "QR": GateMethod.QR}


CLIENT_EVENT_ID = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


def _context(method: str = "CODE") -> service.GateContext:
    """Where and how: the guard's gate, device and method, and the event id the page gave
    an entry or exit (static/js/gate-offline.js), so that the same scan queued offline
    after a lost answer is recognised as a duplicate."""
    gate = gate_settings.current_gate(g.estate, request.form.get("gate") or session.get("gate_name"))
    session["gate_name"] = gate
    event_id = request.form.get("client_event_id", "").strip()
    return service.GateContext(
        gate=gate, device_id=devices.clean_device_id(request.headers.get(HEADER) or request.cookies.get(COOKIE)),
        method=METHODS.get(method, GateMethod.CODE),
        client_event_id=event_id if CLIENT_EVENT_ID.match(event_id) else None,
    )


def _page(block: str | None = None, status: int = 200, **extra):
    fragment = fragment_request()
    context = dict(
        decision=None,
        code="",
        typed_code="",
        not_found_hint=None,
        code_hint=None,
        hint_oob=fragment,  # the hint under the code field travels out of band
        # Called by the full page only (a scan's fragment does not pay for it).
        todays_bookings=lambda: amenity_bookings.today_at_gate(g.estate, utcnow()),
    )
    if not (fragment and block == "result"):  # the answer alone shows none of the rest
        query = request.args.get("q", "")
        find = request.args.get("find", "")
        context.update(
            counts=estates.estate_counts(g.estate),
            query=query,
            results=estates.search_residents(g.estate, query, page=page_arg()),
            find=find,
            passes=service.search_passes(g.estate, find, utcnow()) if find.strip() else None,
            can_invite=bool(invite_powers(g.access)),
            can_manage=may_manage_gate(),
            gate_name=gate_settings.current_gate(g.estate, session.get("gate_name")),
            gate_names=gate_settings.gate_names(g.estate),
        )
    context.update(extra)
    return render("gate/home.html", block=block, **context), status


@bp.get("/")
def home():
    return _page(block="results")


@bp.get("/find")
def passes_search():
    """Today's passes by visitor name, phone or plate (or the unit number)."""
    return _page(block="pass_results")


@bp.post("/check")
def check():
    """Look a pass up by its typed code (or a search result's id): ADMIT or DENY."""
    code = request.form.get("code", "")
    qr_token = request.form.get("qr_token", "").strip() or None  # from a camera scanner
    visit_id = request.form.get("visit_id", type=db_int)
    method = "SEARCH" if visit_id else "QR" if qr_token else "CODE"
    if method == "CODE":
        hint = service.code_format_hint(code)  # no lookup for a code of the wrong shape
        if hint:
            return _page(block="result", status=422, code=code, code_hint=hint)
    with service.answer_from_memory():
        decision = service.scan(current_user, g.estate, _context(method), utcnow(), visit_id=visit_id,
                                qr_token=None if visit_id else qr_token,
                                code=None if visit_id or qr_token else code)
        typed = service.normalise_code(code) if method == "CODE" else ""
        misread = service.code_not_found_hint(code) if typed and decision.refusal == Refusal.NOT_FOUND else None
        return _page(block="result", decision=decision, method=method, code=code, typed_code=typed,
                     not_found_hint=misread)


@bp.post("/visits/<int:visit_id>/entry")
def visit_entry(visit_id: int):
    now = utcnow()
    with service.answer_from_memory():
        found = service.find_for_entry(g.estate, visit_id, now)  # the pass and its bans, one statement
        method = request.form.get("method", "CODE")
        decision = service.admit(current_user, g.estate, found.visit, _context(method), now, found)
        return _page(block="result", decision=decision, method=method)


@bp.post("/visits/<int:visit_id>/exit")
def visit_exit(visit_id: int):
    with service.answer_from_memory():
        return _exit(visit_id)


def _exit(visit_id: int):
    visit = service.get_visit(g.estate, visit_id)
    method = request.form.get("method", "SEARCH")
    decision = service.let_out(current_user, g.estate, visit, _context(method), utcnow())
    if request.form.get("back") == "inside":
        if decision.refusal:
            flash(str(decision.message), "error")
        else:
            flash(_("Exit recorded for unit %(unit)s.", unit=visit.unit.number), "success")
        if request.headers.get("HX-Request"):
            return inside()
        return redirect(url_for("gate.inside"))
    return _page(block="result", decision=decision, method=method)


@bp.get("/inside")
def inside():
    """Everyone inside now: the evacuation roll (printable with ?print=1)."""
    printable = request.args.get("print") == "1"
    page = page_arg()
    rows = service.inside_now(g.estate, page=page, per_page=500 if printable else 25)
    template = "gate/inside_print.html" if printable else "gate/inside.html"
    return render(template, block=None if printable else "inside_table", rows=rows, now=utcnow(),
                  can_manage=may_manage_gate())
