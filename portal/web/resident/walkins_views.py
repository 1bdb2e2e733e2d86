"""Walk-ins, resident side: a card on the home page (polled every few seconds) with
each visitor waiting at the gate for the resident's unit, and a page per walk-in (the
notification's link). Approve makes a single-use pass; decline takes a reason."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import DomainError, NotFound
from portal.gate import walkins
from portal.models import WalkInStatus, utcnow
from portal.web.resident import bp
from portal.web.ui import render


def _card(status: int = 200):
    now = utcnow()
    return render("resident/_walkin_requests.html", requests=walkins.for_resident(current_user, g.estate, now),
                  now=now, effective_status=walkins.effective_status, WalkInStatus=WalkInStatus), status


def _htmx_card() -> bool:
    return request.headers.get("HX-Target") == "walkin-requests"


@bp.get("/walk-ins/card")
def walkins_card():
    """The home page's walk-in card: what it polls."""
    return _card()


@bp.get("/walk-ins/<int:walk_in_id>")
def walkin_detail(walk_in_id: int):
    now = utcnow()
    walk_in = walkins.get_for_resident(current_user, g.estate, walk_in_id, now)
    answer = request.args.get("answer")  # a push notification's Approve / Decline button opened the page
    return render("resident/walkin_detail.html", w=walk_in, now=now, effective_status=walkins.effective_status,
                  WalkInStatus=WalkInStatus, answer=answer if answer in ("approve", "decline") else None)


def _decide(walk_in_id: int, approve: bool):
    try:
        walk_in = walkins.decide(current_user, g.estate, walk_in_id, approve, request.form.get("reason", ""),
                                 utcnow())
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        if approve:
            flash(_("You let %(name)s in. The guard can now record the entry.", name=walk_in.visitor_name), "success")
        else:
            flash(_("You declined %(name)s. The guard has been told.", name=walk_in.visitor_name), "success")
    if _htmx_card():
        return _card()
    return redirect(url_for("resident.walkin_detail", walk_in_id=walk_in_id))


@bp.post("/walk-ins/<int:walk_in_id>/approve")
def walkin_approve(walk_in_id: int):
    return _decide(walk_in_id, True)


@bp.post("/walk-ins/<int:walk_in_id>/decline")
def walkin_decline(walk_in_id: int):
    return _decide(walk_in_id, False)
