"""Notifications on this device (web push), for the page script static/js/push.js:

- POST push/subscription         the browser's subscription (JSON: {"subscription":
  PushSubscription.toJSON()}), stored for the signed-in user;
- POST push/subscription/delete  this browser turned notifications off (JSON: {"endpoint"});
- GET  push/devices              the list of the user's devices (a fragment, refreshed after each);
- POST push/devices/<id>/remove  remove one device from the list (a form, confirmed).

The JSON answers are {"ok": true, "state": "on"|"off", "message"} or {"ok": false,
"message"} with 422 (bad input), 409 (another account's device) or 404 (not yours), the
message in the user's language. CSRF: the X-CSRFToken header (flask-wtf)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import push_subscriptions
from portal.errors import DomainError
from portal.integrations import push
from portal.models import utcnow
from portal.web.account import bp
from portal.web.tenancy import user_memberships
from portal.web.ui import render


def push_context() -> dict:
    """What the "Notifications on this device" control needs (one query; none when push is off)."""
    key = push.public_key()
    return {"push_key": key, "push_devices": push_subscriptions.devices(current_user) if key else []}


def _json_body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _refused(exc: DomainError):
    return jsonify(ok=False, code=exc.code, message=str(exc.message)), exc.http_status


def _estate_id() -> int | None:
    """The estate whose member turned the device on, when there is only one."""
    estates = {m.estate_id for m in user_memberships(current_user)}
    return estates.pop() if len(estates) == 1 else None


@bp.post("/push/subscription")
def push_subscribe():
    try:
        data = push_subscriptions.parse(_json_body().get("subscription"), request.user_agent.string)
        push_subscriptions.subscribe(current_user, _estate_id(), data, utcnow())
    except DomainError as exc:
        return _refused(exc)
    return jsonify(ok=True, state="on", endpoint=data.endpoint,
                   message=_("Notifications are on for this device."))


@bp.post("/push/subscription/delete")
def push_unsubscribe():
    try:
        push_subscriptions.unsubscribe(current_user, _json_body().get("endpoint"))
    except DomainError as exc:
        return _refused(exc)
    return jsonify(ok=True, state="off", message=_("Notifications are off for this device."))


@bp.get("/push/devices")
def push_devices():
    return render("account/_push_devices.html", push_devices=push_subscriptions.devices(current_user))


@bp.post("/push/devices/<int:subscription_id>/remove")
def push_device_remove(subscription_id: int):
    push_subscriptions.remove(current_user, subscription_id)
    flash(_("That device will no longer get notifications."), "success")
    return redirect(url_for("account.profile") + "#push")
