"""Estate-wide bans, the active passes with revoke and the refused offline scans, for estate
admins (/admin/bans/, /admin/passes/, /admin/offline-refused/) and guard supervisors (/gate/…). The same views are
registered on both blueprints; `area` names the blueprint for links."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from portal.errors import InvalidValue
from portal.gate import offline, service
from portal.models import utcnow
from portal.visits import bans
from portal.web.forms import BanForm
from portal.web.inputs import page_arg
from portal.web.ui import render


def may_manage_gate() -> bool:
    """Guard supervisors, estate admins and enterprise admins (the services check it too)."""
    return g.access.manages_gate


def register(bp: Blueprint, area: str) -> None:
    def guard_check():
        if not may_manage_gate():
            abort(403)

    @bp.get("/bans/")
    def bans_list():
        guard_check()
        filters = bans.BanFilters(q=request.args.get("q", ""), state=request.args.get("state", "ACTIVE"))
        page = page_arg()
        return render("gate/bans.html", block="ban_table", area=area, filters=filters,
                      bans=bans.list_bans(g.estate, filters, page=page))

    @bp.route("/bans/new", methods=["GET", "POST"])
    def ban_new():
        guard_check()
        form = BanForm()
        if form.validate_on_submit():
            try:
                ban = bans.add_estate_ban(g.access, form.data_for_service(g.estate.timezone))
            except InvalidValue as exc:
                getattr(form, exc.field if exc.field != "expires_at" else "expires_on").errors.append(exc.message)
            else:
                flash(_("%(phone)s is now banned from the estate.", phone=ban.phone), "success")
                return redirect(url_for(f"{area}.bans_list"))
        return render("gate/ban_form.html", form=form, area=area), 422 if form.errors else 200

    @bp.post("/bans/<int:ban_id>/lift")
    def ban_lift(ban_id: int):
        guard_check()
        ban = bans.lift_ban(g.access, ban_id)
        flash(_("The ban on %(phone)s was lifted.", phone=ban.phone), "success")
        return redirect(url_for(f"{area}.bans_list"))

    @bp.get("/passes/")
    def passes_list():
        guard_check()
        filters = service.PassFilters(q=request.args.get("q", ""))
        page = page_arg()
        return render("gate/passes.html", block="pass_table", area=area, filters=filters,
                      passes=service.list_active_passes(g.estate, filters, utcnow(), page=page))

    @bp.post("/passes/<int:visit_id>/revoke")
    def pass_revoke(visit_id: int):
        guard_check()
        visit, done = service.revoke_visit(g.access, visit_id)
        if done:
            flash(_("Pass %(code)s was revoked. It will be refused at the next scan.", code=visit.visitor_code),
                  "success")
        else:
            flash(str(service.ALREADY_ENDED), "warning")
        return redirect(url_for(f"{area}.passes_list"))

    @bp.get("/offline-refused/")
    def offline_refused_list():
        guard_check()
        pagination, rows = offline.refused_scans(g.estate, page=page_arg())
        return render("gate/offline_refused.html", block="refused_table", area=area, pagination=pagination,
                      rows=rows)
