"""Guard device binding on the gate pages: every gate request of a guard passes its
device id (header X-Gate-Device from htmx, else cookie gate_device set by
static/js/gate-device.js) to the accounts service, which binds, accepts or refuses it.
Admins and enterprise admins looking at the gate are not bound."""

from flask import g, request
from flask_babel import lazy_gettext as _l

from portal.accounts import devices
from portal.errors import DomainError
from portal.models import Role
from portal.web.errors import error_response
from portal.web.gate import bp

HEADER = "X-Gate-Device"
COOKIE = "gate_device"
TITLES = {403: _l("Another device"), 409: _l("Device in use")}


@bp.before_request
def check_gate_device():
    access = g.access
    if access.as_enterprise_admin or Role.ESTATE_ADMIN in access.roles or g.membership is None:
        return None
    device_id = request.headers.get(HEADER) or request.cookies.get(COOKIE)
    try:
        devices.check_device(g.membership, device_id)
    except DomainError as exc:
        return error_response(exc.http_status, exc.message, TITLES.get(exc.http_status))
    return None
