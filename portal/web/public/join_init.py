"""Public onboarding pages: the estate join page (and its short code), and invitation links."""

from flask import Blueprint

bp = Blueprint("onboarding", __name__)

from portal.web.public import join_views  # noqa: E402,F401
