from flask import g
from flask_login import current_user

from portal.billing import restrictions
from portal.models import Role
from portal.web.tenancy import estate_blueprint

bp = estate_blueprint("resident", __name__, Role.RESIDENT)


@bp.context_processor
def dues_banner() -> dict:
    """`dues_notices()` for the banner of base.html: the user's units restricted or warned
    for unpaid dues (one query, the first time a page asks; never for an HTMX fragment that
    does not render the page)."""
    def dues_notices():
        if "dues_notices" not in g:
            g.dues_notices = restrictions.for_resident(current_user, g.estate) if g.get("estate") else []
        return g.dues_notices

    return {"dues_notices": dues_notices}

import portal.web.resident.walkins_views  # noqa: E402,F401 - walk-ins waiting at the gate
from portal.web.resident import (  # noqa: E402,F401
    amenities_views,
    billing_views,
    pay_views,
    payments_views,
    statement_views,
    views,
    visits_views,
)
