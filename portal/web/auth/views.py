from datetime import UTC, datetime, timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import sessions
from portal.accounts import signin as service
from portal.errors import DomainError
from portal.web.auth import bp
from portal.web.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    ForgotPasswordForm,
    LoginForm,
    PhoneForm,
    ResetPasswordForm,
)
from portal.web.login import _after_sign_in, auth_limit, bind_session_key, current_session_key
from portal.web.ui import home_url_for, render


@bp.route("/login", methods=["GET", "POST"])
@auth_limit()
def login():
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.login.data, form.password.data)
        except DomainError as exc:
            error = exc.message
        else:
            return _after_sign_in(user, form.remember.data, "password")
    status = 401 if error else 200
    return render("auth/login.html", form=form, error=error), status


@bp.route("/login/code", methods=["GET", "POST"])
@auth_limit()
def login_code():
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            result = service.request_code(form.phone.data)
        except DomainError as exc:
            form.phone.errors.append(exc.message)
        else:
            session["otp_phone"] = result.phone
            session["otp_requested_at"] = result.requested_at.timestamp()
            session.pop("otp_dev_code", None)
            if current_app.config["DEV_MODE"] and result.code:
                session["otp_dev_code"] = result.code
            flash(_("If this number belongs to an account, we have sent it a 6-digit code."), "info")
            return redirect(url_for("auth.login_code_verify", next=request.args.get("next")))
    return render("auth/code_request.html", form=form), 422 if form.errors else 200


@bp.route("/login/code/verify", methods=["GET", "POST"])
@auth_limit()
def login_code_verify():
    phone = session.get("otp_phone")
    if not phone:
        return redirect(url_for("auth.login_code"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            user = service.verify_code(phone, form.code.data)
        except DomainError as exc:
            error = exc.message
        else:
            for key in ("otp_phone", "otp_dev_code", "otp_requested_at"):
                session.pop(key, None)
            return _after_sign_in(user, form.remember.data, "code")
    status = 401 if error else (422 if form.errors else 200)
    return render(
        "auth/code_verify.html", form=form, error=error, phone=phone, dev_code=session.get("otp_dev_code"),
        **_code_delivery(phone),
    ), status


def _code_delivery(phone: str) -> dict:
    """The delivery of the code's text message, and whether the page asks again (until
    it is final, at most as long as the code works)."""
    stamp = session.get("otp_requested_at")
    if not isinstance(stamp, int | float):
        return {"delivery": None, "polling": False}
    requested_at = datetime.fromtimestamp(stamp, UTC)
    delivery = service.code_delivery(phone, requested_at)
    ttl = timedelta(seconds=current_app.config["OTP_TTL_SECONDS"])
    return {"delivery": delivery, "polling": not delivery.final and datetime.now(UTC) < requested_at + ttl}


@bp.get("/login/code/status")
def login_code_status():
    """The code page's delivery box (polled by HTMX)."""
    phone = session.get("otp_phone")
    if not phone:
        return "", 204
    response = current_app.make_response(
        render_template("auth/_code_delivery.html", phone=phone, **_code_delivery(phone)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _language_in_use() -> str:
    """The language of the pages the user was reading (their own preference included),
    kept in the session so that the signed-out pages speak it too."""
    return str(get_locale())


@bp.get("/logout")
def logout_confirm():
    """Signing out is a POST (a link or an image elsewhere cannot sign anyone out): an
    old link to /logout shows the button that does it."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render("auth/logout.html")


@bp.post("/logout")
def logout():
    language = _language_in_use()
    sessions.close_session(current_session_key())
    logout_user()
    session.clear()
    if language:
        session["lang"] = language
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    language = _language_in_use()
    service.sign_out_everywhere(current_user)
    logout_user()
    session.pop("sid", None)
    session["lang"] = language  # the signed-out pages keep the language the user was reading
    flash(_("You have been signed out on every device."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@auth_limit()
def password_forgot():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        flash(_("If this email belongs to an account, we have sent it a link to choose a new password. The link works once, for one hour."), "info")
        return redirect(url_for("auth.login"))
    return render("auth/password_forgot.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@auth_limit()
def password_reset(token: str):
    try:
        service.check_reset_token(token)
    except DomainError as exc:
        return render("auth/password_reset.html", form=None, error=exc.message), exc.http_status
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            service.reset_password(token, form.password.data)
        except DomainError as exc:
            return render("auth/password_reset.html", form=None, error=exc.message), exc.http_status
        logout_user()
        flash(_("Your password has been changed. Sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render("auth/password_reset.html", form=form, error=None), 422 if form.errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password_change():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            key = current_session_key()
            service.change_password(current_user, form.current_password.data, form.password.data, keep_session_key=key)
        except DomainError as exc:
            form.current_password.errors.append(exc.message)
        else:
            # The session version changed: sign this device in again with the new one.
            login_user(current_user._get_current_object())
            if key:
                bind_session_key(current_user, key)
            flash(_("Your password has been changed. Other devices have been signed out."), "success")
            return redirect(home_url_for(current_user))
    return render("auth/password_change.html", form=form), 422 if form.errors else 200
