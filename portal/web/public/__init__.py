"""Public pages, no estate membership needed: the home chooser (`public`), joining an estate
and accepting an invitation (`onboarding`), and the visitor's pass (`passes`, /p/<qr_token>)."""

from flask import Blueprint

bp = Blueprint("public", __name__)
join_bp = Blueprint("onboarding", __name__)
pass_bp = Blueprint("passes", __name__)

from portal.web.public import join_views, pass_views, views  # noqa: E402,F401
