from flask import flash, redirect, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from portal.accounts import profile as profiles
from portal.accounts import sessions
from portal.errors import InvalidValue
from portal.web.account import bp
from portal.web.account.forms import NotificationsForm, ProfileForm
from portal.web.account.push_views import push_context
from portal.web.login import current_session_key
from portal.web.ui import render


def _page(profile_form: ProfileForm | None = None, notifications_form: NotificationsForm | None = None):
    user = current_user
    if profile_form is None:
        profile_form = ProfileForm(obj=user)
        profile_form.preferred_language.data = user.preferred_language or str(get_locale())
    return render(
        "account/profile.html",
        form=profile_form,
        notifications=notifications_form or NotificationsForm.for_prefs(profiles.notification_prefs(user)),
        events={event: profiles.NOTIFICATION_EVENTS[event] for event in profiles.offered_events(user)},
        channels=profiles.NOTIFICATION_CHANNELS,
        methods=sessions.SIGN_IN_METHODS,
        sessions=sessions.active_sessions(user, current_session_key()),
        sign_ins=sessions.recent_sign_ins(user),
        **push_context(),
    )


@bp.get("/")
def profile():
    return _page()


@bp.post("/")
def profile_save():
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            profiles.update_profile(current_user, form.data_for_service())
        except InvalidValue as exc:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        else:
            session["lang"] = current_user.preferred_language
            flash(_("Your profile was saved."), "success")
            return redirect(url_for("account.profile"))
    return _page(profile_form=form), 422


@bp.post("/notifications")
def notifications():
    form = NotificationsForm()
    if form.validate_on_submit():
        profiles.update_notification_prefs(current_user, form.chosen(), profiles.offered_events(current_user))
        flash(_("Your notification choices were saved."), "success")
        return redirect(url_for("account.profile") + "#notifications")
    return _page(notifications_form=form), 422


@bp.post("/sessions/<int:session_id>/revoke")
def session_revoke(session_id: int):
    was_current = sessions.revoke_session(current_user, session_id, current_session_key())
    if was_current:
        language = session.get("lang")
        logout_user()
        session.clear()
        if language:
            session["lang"] = language
        flash(_("You have signed out of this device."), "success")
        return redirect(url_for("auth.login"))
    flash(_("That session was signed out."), "success")
    return redirect(url_for("account.profile") + "#sessions")
