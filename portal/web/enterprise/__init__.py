from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("enterprise", __name__)


@bp.before_request
@login_required
def require_enterprise_admin():
    if not current_user.is_enterprise_admin:
        abort(403)


from portal.web.enterprise import integrations_views, messages_views, views  # noqa: E402,F401
