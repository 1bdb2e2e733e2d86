"""flask-login wiring: the session id carries the user's session_version and the key
of the browser's UserSession ("<user id>:<version>:<key>"); the key is also kept in
session["sid"]. A revoked key, an older version or an inactive user signs the browser out.
Remember-me cookies carry the same id, so revoking a session ends its cookie too."""

from __future__ import annotations

from flask import Flask, current_app, g, redirect, request, session
from flask_babel import lazy_gettext as _l
from flask_login import (
    LoginManager,
    login_user,
    user_loaded_from_cookie,
)

from portal.accounts import sessions
from portal.accounts import signin as service
from portal.extensions import db, limiter
from portal.models import User
from portal.web.ui import home_url_for, is_safe_next


def current_session_key() -> str | None:
    parts = str(session.get("_user_id") or "").split(":", 2)
    if len(parts) == 3 and parts[2]:
        return parts[2]
    return session.get("sid")


def bind_session_key(user: User, key: str) -> None:
    """After login_user(): tie this browser's flask-login session (and remember-me
    cookie, written at the end of the request) to its UserSession."""
    session["sid"] = key
    session["_user_id"] = f"{user.get_id()}:{key}"


def load_user(session_id: str) -> User | None:
    parts = session_id.split(":", 2)
    try:
        user_id, version = int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        return None
    key = parts[2] if len(parts) == 3 and parts[2] else session.get("sid")
    user_session = None
    if key:
        found = sessions.find_session(user_id, key)  # one indexed query for user + session
        if found is None:
            return None
        user, user_session = found
    else:
        user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.is_active:
        return None
    if user_session is None:
        # A remember-me cookie or a session from before sessions were recorded:
        # record this browser now rather than sign it out.
        key = sessions.open_session(user, "cookie", request.user_agent.string, request.remote_addr)
        bind_session_key(user, key)
        g._session_key_created = True
    else:
        session["sid"] = key
        sessions.touch_session(user_session)
    return user


def _rewrite_remember_cookie(sender, user, **extra) -> None:
    # A keyless remember-me cookie got a fresh session: write the cookie again with its key.
    if g.pop("_session_key_created", False):
        session["_remember"] = "set"


def init_login(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    user_loaded_from_cookie.connect(_rewrite_remember_cookie, app)


def auth_limit():
    return limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"], methods=["POST"])


def _after_sign_in(user, remember: bool, method: str):
    key = sessions.open_session(user, method, request.user_agent.string, request.remote_addr)
    login_user(user, remember=remember)
    bind_session_key(user, key)
    service.record_sign_in(user, method)
    target = request.args.get("next")
    return redirect(target if is_safe_next(target) else home_url_for(user))
