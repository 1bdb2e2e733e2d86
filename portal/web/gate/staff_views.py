"""Gate staff: a guard supervisor (or an admin on gate duty) invites guards and residents."""

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import DomainError, Forbidden, NotFound
from portal.onboarding import invitations, join
from portal.web.forms import InviteForm, apply_field_errors
from portal.web.gate import bp
from portal.web.ui import render


@bp.route("/staff/invite", methods=["GET", "POST"])
def staff_invite():
    powers = invitations.invite_powers(g.access)
    if not powers:
        abort(403)
    form = InviteForm()
    form.set_choices(powers, join.join_units(g.estate))
    status = 200
    if form.validate_on_submit():
        try:
            invitation = invitations.create_invitation(current_user, g.access, form.data_for_service())
        except (Forbidden, NotFound):  # the one handler's error page
            raise
        except DomainError as exc:
            apply_field_errors(form, exc)
            status = exc.http_status
        else:
            flash(_("The invitation was sent to %(contact)s.",
                    contact=invitation.contact), "success")
            return redirect(url_for("gate.staff_invite"))
    elif form.errors:
        status = 422
    return render("gate/staff_invite.html", form=form), status
