"""Guard device binding on the gate pages: every gate request of a guard passes its
device id (header X-Gate-Device from htmx, else cookie gate_device set by
static/js/gate-device.js) to the accounts service, which binds, accepts or refuses it.
Admins and enterprise admins looking at the gate are not bound.

A refused guard gets a way out instead of a dead end (gate/device_refused.html): ask the
admins to move the binding to this device (POST device/change, the one gate request a
guard on another device may make), whom to call, and sign out."""

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts import devices
from portal.errors import DomainError
from portal.models import Role, utcnow
from portal.web.errors import error_response
from portal.web.gate import bp
from portal.web.ui import fragment_request, render

HEADER = "X-Gate-Device"
COOKIE = "gate_device"
TITLES = {403: _l("Another device"), 409: _l("Device in use")}


def _device_id() -> str | None:
    return request.headers.get(HEADER) or request.cookies.get(COOKIE)


@bp.before_request
def check_gate_device():
    access = g.access
    if access.as_enterprise_admin or Role.ESTATE_ADMIN in access.roles or g.membership is None:
        return None
    try:
        devices.check_device(g.membership, _device_id())
    except devices.DeviceMismatch as exc:
        if request.endpoint == "gate.device_change_request":
            return None  # the way out: ask for this device
        return _refused(exc)
    except DomainError as exc:
        return _refused(exc)
    return None


def _refused(exc: DomainError):
    if fragment_request():
        return error_response(exc.http_status, exc.message, TITLES.get(exc.http_status))
    membership = g.membership
    return render("gate/device_refused.html", status=exc.http_status, title=TITLES.get(exc.http_status),
                  message=exc.message, mismatch=isinstance(exc, devices.DeviceMismatch),
                  requested_at=membership.device_change_requested_at,
                  contacts=devices.admin_contacts(g.estate)), exc.http_status


@bp.post("/device/change")
def device_change_request():
    """A guard refused on this device asks the estate's admins to move the binding here."""
    membership = g.membership
    if membership is None or membership.role != Role.GUARD \
            or devices.clean_device_id(_device_id()) == membership.bound_device_id:
        return redirect(url_for("gate.home"))  # nothing to ask: this device is fine
    try:
        asked = devices.request_device_change(membership, utcnow())
    except DomainError as exc:
        flash(str(exc.message), "warning")
    else:
        if asked:
            flash(_("Your request was sent to the estate's admins. When one approves it, this device opens the "
                    "gate page."), "success")
        else:
            flash(_("Your request is already waiting for an admin."), "info")
    return redirect(url_for("gate.home"))
