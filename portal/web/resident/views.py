from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import DomainError, NotFound
from portal.estates import service
from portal.households import service as households
from portal.models import utcnow
from portal.visits import service as visits
from portal.web.resident import bp
from portal.web.ui import render

UPCOMING = 5  # today's and the next passes on the home page


@bp.get("/")
def home():
    return render(
        "resident/home.html",
        units=service.household_of(current_user, g.estate),
        upcoming=visits.upcoming_visits(current_user, g.estate, UPCOMING),
        now=utcnow(), pass_state=visits.pass_state,
    )


@bp.post("/units/<int:unit_id>/cards/request")
def card_request(unit_id: int):
    """A resident asks for an access card for themselves; the admin issues it."""
    unit = next((u for u in service.household_of(current_user, g.estate) if u.id == unit_id), None)
    if unit is None:
        raise NotFound()
    try:
        households.request_card(current_user, g.estate, unit.id, unit.my_resident_id)
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Your request for an access card was sent to the estate's admin, who will issue it."), "success")
    return redirect(url_for("resident.home") + "#household")
