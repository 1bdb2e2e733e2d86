"""The estate's delivery log: every email and SMS of the estate, a message's detail, and
resending one that failed (portal.integrations.delivery_log)."""

from zoneinfo import ZoneInfo

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import DomainError, NotFound
from portal.integrations import delivery_log as service
from portal.web.admin import bp
from portal.web.inputs import page_arg
from portal.web.message_pages import filters_from_args
from portal.web.ui import render


@bp.get("/messages/")
def messages_list():
    filters, errors = filters_from_args(request.args)
    body = render(
        "admin/messages.html", block="message_table", filters=filters, errors=errors, area="admin",
        messages=service.list_messages(g.estate, filters, ZoneInfo(g.estate.timezone), page=page_arg()),
    )
    return body, 422 if errors else 200


@bp.get("/messages/<int:message_id>")
def message_detail(message_id: int):
    return render("admin/message_detail.html", detail=service.get_message(g.estate, message_id), area="admin")


@bp.post("/messages/<int:message_id>/resend")
def message_resend(message_id: int):
    try:
        service.resend(current_user, g.estate, message_id)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The message is queued to be sent again."), "success")
    return redirect(url_for("admin.message_detail", message_id=message_id))
