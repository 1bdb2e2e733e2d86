"""Estate admins manage the estate's members: list, roles, suspend, reactivate,
soft-delete, remove from the estate, reset a guard's gate device and approve the device
change a guard asked for."""

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import devices, members
from portal.errors import DomainError, NotFound
from portal.web.admin import bp
from portal.web.admin.members_forms import RolesForm
from portal.web.inputs import page_arg
from portal.web.ui import is_safe_next, render


def _back(user_id: int):
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("admin.members_detail", user_id=user_id))


def _roles_form(member: members.MemberRow) -> RolesForm:
    return RolesForm(data={"roles": [r.value for r in member.roles], "supervisor": member.is_supervisor})


@bp.get("/members/")
def members_list():
    filters = members.MemberFilters(
        q=request.args.get("q", ""), role=request.args.get("role", ""), status=request.args.get("status", ""),
    )
    page = page_arg()
    return render(
        "admin/members.html", block="member_table", filters=filters,
        members=members.list_members(g.estate, filters, page=page),
    )


@bp.get("/members/<int:user_id>/")
def members_detail(user_id: int):
    member = members.get_member(g.estate, user_id)
    return render("admin/member.html", member=member, form=_roles_form(member))


@bp.post("/members/<int:user_id>/roles")
def members_roles(user_id: int):
    member = members.get_member(g.estate, user_id)
    form = RolesForm()
    if form.validate_on_submit():
        try:
            member = members.set_roles(current_user, g.estate, user_id, form.chosen_roles(), form.supervisor.data)
        except NotFound:  # not a message to show: the 404 page
            raise
        except DomainError as exc:
            form.roles.errors = [*form.roles.errors, exc.message]
        else:
            flash(_("The roles of %(name)s were saved.", name=member.user.display_name), "success")
            return redirect(url_for("admin.members_detail", user_id=user_id))
    return render("admin/member.html", member=member, form=form), 422


@bp.post("/members/<int:user_id>/suspend")
def members_suspend(user_id: int):
    try:
        user = members.suspend_user(current_user, user_id, g.estate)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("%(name)s is suspended and has been signed out everywhere.", name=user.display_name), "success")
    return _back(user_id)


@bp.post("/members/<int:user_id>/reactivate")
def members_reactivate(user_id: int):
    try:
        user = members.reactivate_user(current_user, user_id, g.estate)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("%(name)s is active again and can sign in.", name=user.display_name), "success")
    return _back(user_id)


@bp.post("/members/<int:user_id>/delete")
def members_delete(user_id: int):
    try:
        user = members.delete_user(current_user, user_id, g.estate)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
        return _back(user_id)
    flash(_("The account of %(name)s was deleted. Its history is kept.", name=user.display_name), "success")
    return redirect(url_for("admin.members_list"))


@bp.post("/members/<int:user_id>/remove")
def members_remove(user_id: int):
    try:
        user = members.remove_from_estate(current_user, g.estate, user_id)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
        return _back(user_id)
    flash(_("%(name)s was removed from this estate.", name=user.display_name), "success")
    return redirect(url_for("admin.members_list"))


@bp.post("/members/<int:user_id>/device/reset")
def members_device_reset(user_id: int):
    membership = devices.reset_device(current_user, g.estate, user_id)
    flash(_("The gate device of %(name)s was reset. The next device they use will be assigned to them.",
            name=membership.user.display_name), "success")
    return _back(user_id)


@bp.post("/members/<int:user_id>/device/approve")
def members_device_approve(user_id: int):
    """One tap: the guard's pending device change is approved (the binding is freed as by
    a reset; the device they asked from is bound at their next gate request)."""
    try:
        membership = devices.approve_device_change(current_user, g.estate, user_id)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "warning")
    else:
        flash(_("Device change approved: the next device %(name)s uses at the gate will be assigned to them.",
                name=membership.user.display_name), "success")
    return _back(user_id)
