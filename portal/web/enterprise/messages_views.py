"""The platform's delivery log: every estate's emails and SMS and the platform's own
(sign-in codes, password resets), filtered by estate; a message's detail; resending one
that failed (portal.integrations.delivery_log)."""

from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import users
from portal.errors import DomainError, NotFound
from portal.estates import platform as enterprise
from portal.integrations import delivery_log as service
from portal.web.enterprise import bp
from portal.web.inputs import page_arg
from portal.web.message_pages import filters_from_args
from portal.web.ui import render


def _timezone(estate_id: int | None) -> str:
    """The filtered estate's time zone, else the platform's."""
    if estate_id and estate_id != service.PLATFORM:
        try:
            return enterprise.get_estate(estate_id).timezone
        except NotFound:
            pass
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


@bp.get("/messages/")
def messages_list():
    filters, errors = filters_from_args(request.args, with_estate=True)
    timezone = _timezone(filters.estate_id)
    body = render(
        "admin/messages.html", block="message_table", filters=filters, errors=errors, area="enterprise",
        estates=users.estate_choices(), timezone=timezone,
        messages=service.list_messages(None, filters, ZoneInfo(timezone), page=page_arg()),
    )
    return body, 422 if errors else 200


@bp.get("/messages/<int:message_id>")
def message_detail(message_id: int):
    detail = service.get_message(None, message_id)
    timezone = detail.estate.timezone if detail.estate else current_app.config["BABEL_DEFAULT_TIMEZONE"]
    return render("admin/message_detail.html", detail=detail, area="enterprise", timezone=timezone)


@bp.post("/messages/<int:message_id>/resend")
def message_resend(message_id: int):
    try:
        service.resend(current_user, None, message_id)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The message is queued to be sent again."), "success")
    return redirect(url_for("enterprise.message_detail", message_id=message_id))
