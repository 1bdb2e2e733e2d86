"""The signed-in user's own account: profile, notification preferences, sessions."""

from flask import Blueprint
from flask_login import current_user, login_required

from portal.web.tenancy import load_last_area

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def require_sign_in():
    # The profile and notifications keep the name, colour, menu and time zone of the
    # estate area the user came from.
    load_last_area(current_user)
    return None


import portal.web.account.notifications_views  # noqa: E402,F401 - the bell
import portal.web.account.push_views  # noqa: E402,F401 - notifications on this device
from portal.web.account import views  # noqa: E402,F401
