"""The signed-in user's notifications (the bell): newest first, open one (marks it
read and follows its link), mark all read. The header's unread count is fetched by
the bell itself after the page loads, so pages run no extra query for it."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import notifications
from portal.models import utcnow
from portal.web.account import bp
from portal.web.account.push_views import push_context
from portal.web.i18n import datetime_filter
from portal.web.inputs import page_arg
from portal.web.ui import is_safe_next, render


@bp.get("/notifications/count")
def notifications_count():
    """The bell's unread count (the header loads it after the page, then every minute)."""
    return render_template("account/_bell_count.html", unread=notifications.unread_count(current_user))


@bp.get("/notifications")
def notifications_list():
    page = page_arg()
    items = notifications.list_notifications(current_user, page=page)
    zones = notifications.estate_timezones(items.items)

    def when(notification) -> str:
        zone = zones.get(notification.estate_id)
        return datetime_filter(notification.created_at, "medium", tz=zone)

    return render("account/notifications.html", block="notification_list", items=items,
                  render_text=notifications.render_text, when=when, unread=notifications.unread_count(current_user),
                  **push_context())


def _target(notification) -> str:
    return notification.link if is_safe_next(notification.link) else url_for("account.notifications_list")


@bp.get("/notifications/<int:notification_id>/open")
def notification_follow(notification_id: int):
    """Go where it points, changing nothing (a GET writes nothing: the list's link posts
    through htmx; without JavaScript this is where the link leads)."""
    return redirect(_target(notifications.get_notification(current_user, notification_id)))


@bp.post("/notifications/<int:notification_id>/open")
def notification_open(notification_id: int):
    """Mark it read and go where it points (htmx: by HX-Redirect)."""
    target = _target(notifications.mark_read(current_user, notification_id, utcnow()))
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


@bp.post("/notifications/read-all")
def notifications_read_all():
    count = notifications.mark_all_read(current_user, utcnow())
    if count:
        flash(_("All notifications marked read."), "success")
    return redirect(url_for("account.notifications_list"))
