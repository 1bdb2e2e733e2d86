import json
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.accounts import members, users
from portal.audit import browse as audit_log
from portal.errors import DomainError, FieldErrors, InvalidValue, NotFound
from portal.estates import platform as enterprise
from portal.estates import service
from portal.models import Estate, EstateStatus
from portal.web.audit_pages import export_response, filters_from_args
from portal.web.audit_sentences import action_choices
from portal.web.enterprise import bp
from portal.web.enterprise.forms import EstateForm, InviteAdminForm
from portal.web.i18n import select_timezone
from portal.web.inputs import db_int, page_arg
from portal.web.ui import is_safe_next, render


@bp.get("/")
def home():
    filters = enterprise.EstateFilters(q=request.args.get("q", ""), status=request.args.get("status", ""))
    page = page_arg()
    return render(
        "enterprise/home.html", block="estate_table", counts=service.platform_counts(), filters=filters,
        estates=enterprise.list_estates(filters, page=page),
    )


# --- estates ---------------------------------------------------------------------


@bp.route("/estates/new", methods=["GET", "POST"])
def estate_new():
    form = EstateForm()
    form.country.choices = [SelectChoice(code, name) for code, name in enterprise.country_choices(str(get_locale()))]
    if request.method == "GET":
        form.country.data = "NG"
    if form.validate_on_submit():
        try:
            created = enterprise.create_estate(current_user, form.data_for_service())
        except InvalidValue as exc:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        else:
            flash(_("%(estate)s was created. We sent %(name)s an invitation to become its admin.",
                    estate=created.estate.name, name=created.invitation.full_name), "success")
            return redirect(url_for("enterprise.estate_detail", estate_id=created.estate.id))
    defaults = json.dumps(enterprise.country_defaults_table(), separators=(",", ":"))
    return render("enterprise/estate_form.html", form=form, country_defaults=defaults), 422 if form.errors else 200


@bp.get("/estates/<int:estate_id>/")
def estate_detail(estate_id: int):
    return _detail_page(estate_id, InviteAdminForm())


def _detail_page(estate_id: int, form: InviteAdminForm, status: int = 200):
    detail = enterprise.estate_detail(estate_id)
    country = dict(enterprise.country_choices(str(get_locale()))).get(detail.row.estate.country,
                                                                      detail.row.estate.country)
    return render("enterprise/estate_detail.html", detail=detail, form=form, country_name=country), status


@bp.post("/estates/<int:estate_id>/admins/invite")
def estate_admin_invite(estate_id: int):
    form = InviteAdminForm()
    if form.validate_on_submit():
        try:
            invitation = enterprise.invite_admin(current_user, estate_id, form.full_name.data or "",
                                                 form.email.data or "", form.phone.data or "")
        except FieldErrors as exc:
            for field, message in exc.errors.items():
                target = form._fields.get(field, form.email)
                target.errors = [*target.errors, message]
        else:
            flash(_("We sent %(name)s an invitation to become an admin of this estate.", name=invitation.full_name),
                  "success")
            return redirect(url_for("enterprise.estate_detail", estate_id=estate_id))
    return _detail_page(estate_id, form, 422)


def _invitation_action(action, estate_id: int, invitation_id: int, message: str):
    try:
        invitation = action(current_user, estate_id, invitation_id)
    except NotFound:
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(message % {"name": invitation.full_name}, "success")
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("enterprise.estate_detail", estate_id=estate_id))


@bp.post("/estates/<int:estate_id>/invitations/<int:invitation_id>/resend")
def estate_invitation_resend(estate_id: int, invitation_id: int):
    return _invitation_action(enterprise.resend_admin_invitation, estate_id, invitation_id,
                              _("We sent %(name)s a new invitation link, valid for 7 days."))


@bp.post("/estates/<int:estate_id>/invitations/<int:invitation_id>/revoke")
def estate_invitation_revoke(estate_id: int, invitation_id: int):
    return _invitation_action(enterprise.revoke_admin_invitation, estate_id, invitation_id,
                              _("The invitation of %(name)s was withdrawn; its link no longer works."))


def _estate_status(estate_id: int, status: EstateStatus, message: str):
    try:
        estate = enterprise.set_estate_status(current_user, estate_id, status)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(message % {"estate": estate.name}, "success")
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("enterprise.home"))


@bp.post("/estates/<int:estate_id>/suspend")
def estate_suspend(estate_id: int):
    return _estate_status(estate_id, EstateStatus.SUSPENDED,
                          _("%(estate)s is suspended. Its members now see that it is not available."))


@bp.post("/estates/<int:estate_id>/reactivate")
def estate_reactivate(estate_id: int):
    return _estate_status(estate_id, EstateStatus.ACTIVE, _("%(estate)s is active again."))


# --- users -----------------------------------------------------------------------


@bp.get("/users/")
def users_list():
    filters = users.UserFilters(
        q=request.args.get("q", ""), status=request.args.get("status", ""),
        estate_id=request.args.get("estate", type=db_int), role=request.args.get("role", ""),
    )
    page = page_arg()
    return render(
        "enterprise/users.html", block="user_table", filters=filters, estates=users.estate_choices(),
        users=users.list_users(filters, page=page),
    )


def _user_action(action, user_id: int, message: str):
    try:
        user = action(current_user, user_id)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(message % {"name": user.display_name}, "success")
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("enterprise.users_list"))


@bp.post("/users/<int:user_id>/suspend")
def user_suspend(user_id: int):
    return _user_action(members.suspend_user, user_id,
                        _("%(name)s is suspended and has been signed out everywhere."))


@bp.post("/users/<int:user_id>/reactivate")
def user_reactivate(user_id: int):
    return _user_action(members.reactivate_user, user_id, _("%(name)s is active again and can sign in."))


@bp.post("/users/<int:user_id>/delete")
def user_delete(user_id: int):
    return _user_action(members.delete_user, user_id,
                        _("The account of %(name)s was deleted. Its history is kept."))


# --- audit -----------------------------------------------------------------------


def _audit_scope():
    filters, errors = filters_from_args(request.args, with_estate=True)
    estate = None
    if filters.estate_id and filters.estate_id != audit_log.PLATFORM:
        estate = enterprise.get_estate(filters.estate_id)
    tz = ZoneInfo(estate.timezone if estate else select_timezone())  # else the user's own zone
    return filters, errors, estate, tz


@bp.get("/audit/")
def audit_list():
    filters, errors, _estate, tz = _audit_scope()
    page = page_arg()
    actions, target_types = audit_log.choices(None)
    body = render(
        "admin/audit.html", block="audit_table", filters=filters, errors=errors, actions=action_choices(actions),
        target_types=target_types, estates=users.estate_choices(), list_endpoint="enterprise.audit_list",
        timezone=str(tz), entries=audit_log.list_entries(None, filters, tz, page=page),
    )
    return body, 422 if errors else 200


def _export(fmt: str):
    filters, _errors, estate, tz = _audit_scope()
    name = estate.slug if isinstance(estate, Estate) else ("platform" if filters.estate_id else "all-estates")
    return export_response(None, filters, tz, fmt, name)


@bp.get("/audit/export.csv")
def audit_export_csv():
    return _export("csv")


@bp.get("/audit/export.json")
def audit_export_json():
    return _export("json")
