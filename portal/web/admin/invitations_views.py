"""Invitations: admins invite estate admins, guards and residents; resend or revoke them."""

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import DomainError, NotFound
from portal.onboarding import invitations, join
from portal.web.admin import bp
from portal.web.forms import InviteForm, apply_field_errors
from portal.web.inputs import page_arg
from portal.web.ui import render


@bp.route("/invitations/", methods=["GET", "POST"])
def invitations_list():
    powers = invitations.invite_powers(g.access)
    form = InviteForm()
    form.set_choices(powers, join.join_units(g.estate))
    status = 200
    if form.validate_on_submit():
        try:
            invitation = invitations.create_invitation(current_user, g.access, form.data_for_service())
        except DomainError as exc:
            apply_field_errors(form, exc)
            status = exc.http_status
        else:
            flash(_("The invitation was sent to %(contact)s.",
                    contact=invitation.contact), "success")
            return redirect(url_for("admin.invitations_list"))
    elif form.errors:
        status = 422
    filters = invitations.InvitationFilters(q=request.args.get("q", ""), status=request.args.get("status", ""))
    return render(
        "admin/invitations.html",
        block="invitation_table",
        form=form,
        invitations=invitations.list_invitations(g.estate, filters, page=page_arg()),
        filters=filters,
    ), status


@bp.post("/invitations/<int:invitation_id>/resend")
def invitation_resend(invitation_id: int):
    try:
        invitation = invitations.resend_invitation(current_user, g.estate, invitation_id)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("A new link was sent to %(contact)s. The previous link no longer works.",
                contact=invitation.contact), "success")
    return redirect(url_for("admin.invitations_list"))


@bp.post("/invitations/<int:invitation_id>/revoke")
def invitation_revoke(invitation_id: int):
    try:
        invitation = invitations.revoke_invitation(current_user, g.estate, invitation_id)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The invitation of %(name)s was revoked. Its link no longer works.",
                name=invitation.full_name), "success")
    return redirect(url_for("admin.invitations_list"))
