"""Public pages, no sign-in needed: join an estate, and accept an invitation."""

from flask import abort, flash, g, redirect, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.errors import DomainError
from portal.onboarding import invitations
from portal.onboarding import join as joining
from portal.web.forms import apply_field_errors
from portal.web.login import _after_sign_in as sign_in  # the one way to sign a user in
from portal.web.login import auth_limit
from portal.web.public import join_bp as bp
from portal.web.public.forms import (
    CurrentPasswordForm,
    JoinCodeForm,
    JoinForm,
    NewPasswordForm,
)
from portal.web.ui import render


@bp.route("/e/<slug>/join", methods=["GET", "POST"])
@auth_limit()
def join(slug: str):
    g.estate = estate = joining.open_estate(slug)
    form = JoinForm()
    form.set_units(joining.join_units(estate))
    status = 200
    if form.validate_on_submit():
        try:
            joining.request_to_join(estate, form.data_for_service(str(get_locale())))
        except DomainError as exc:
            apply_field_errors(form, exc)
            status = exc.http_status
        else:
            return redirect(url_for("onboarding.join_sent", slug=estate.slug))
    elif form.errors:
        status = 422
    return render("public/join.html", form=form, estate=estate), status


@bp.get("/e/<slug>/join/sent")
def join_sent(slug: str):
    g.estate = estate = joining.open_estate(slug)
    return render("public/join_sent.html", estate=estate)


@bp.route("/join", methods=["GET", "POST"])
@auth_limit()
def join_code():
    form = JoinCodeForm()
    if form.validate_on_submit():
        estate = joining.estate_by_join_code(form.code.data)
        if estate is not None:
            return redirect(url_for("onboarding.join", slug=estate.slug))
        form.code.errors.append(_("No estate has this code. Check it with your estate's admin."))
    return render("public/join_code.html", form=form), 422 if form.errors else 200


@bp.get("/join/<code>")
def join_by_code(code: str):
    estate = joining.estate_by_join_code(code)
    if estate is None:
        abort(404)
    return redirect(url_for("onboarding.join", slug=estate.slug))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@auth_limit()
def invitation_accept(token: str):
    try:
        invitation = invitations.check_invitation(token)
    except DomainError as exc:
        return render("public/invitation.html", invitation=None, form=None, error=exc.message), exc.http_status
    g.estate = invitation.estate
    existing = invitations.invited_has_password(invitation)
    form = CurrentPasswordForm() if existing else NewPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = invitations.accept_invitation(token, form.password.data)
        except DomainError as exc:
            if getattr(exc, "errors", None):
                form.password.errors.append(exc.message)
                status = exc.http_status
            else:
                return render("public/invitation.html", invitation=None, form=None,
                              error=exc.message), exc.http_status
        else:
            flash(_("Welcome to %(estate)s. Your account is ready.", estate=invitation.estate.name), "success")
            return sign_in(user, remember=False, method="invitation")
    elif form.errors:
        status = 422
    return render("public/invitation.html", invitation=invitation, form=form, existing=existing,
                  error=None), status
