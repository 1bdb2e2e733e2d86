"""The platform's message providers (SMS gateways, SMTP servers) and the integration status
of every stored provider (portal/web/integration_pages.py does the work)."""

from flask_login import current_user

from portal.integrations import manage
from portal.web import integration_pages as pages
from portal.web.enterprise import bp


def _scope() -> manage.Scope:
    return manage.platform_scope(current_user._get_current_object())


@bp.get("/integrations/")
def integrations_list():
    return pages.settings_page(_scope(), "enterprise")


@bp.route("/integrations/new", methods=["GET", "POST"])
def integrations_new():
    return pages.setting_new(_scope(), "enterprise")


@bp.route("/integrations/<int:setting_id>/edit", methods=["GET", "POST"])
def integrations_edit(setting_id: int):
    return pages.setting_edit(_scope(), "enterprise", setting_id)


@bp.post("/integrations/<int:setting_id>/enabled")
def integrations_enabled(setting_id: int):
    return pages.setting_enabled(_scope(), "enterprise", setting_id)


@bp.post("/integrations/<int:setting_id>/move")
def integrations_move(setting_id: int):
    return pages.setting_move(_scope(), "enterprise", setting_id)


@bp.post("/integrations/<int:setting_id>/delete")
def integrations_delete(setting_id: int):
    return pages.setting_delete(_scope(), "enterprise", setting_id)


@bp.get("/integrations/status")
def integrations_status():
    return pages.status_page(_scope(), "enterprise")


@bp.route("/integrations/<int:setting_id>/test", methods=["GET", "POST"])
def integrations_test(setting_id: int):
    return pages.test_new(_scope(), "enterprise", setting_id)


@bp.get("/integrations/messages/<int:message_id>")
def integrations_test_message(message_id: int):
    return pages.test_message(_scope(), "enterprise", message_id)
