import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user, login_required

from portal.accounts import signin as auth_service
from portal.errors import NotFound
from portal.estates import settings
from portal.extensions import db, limiter
from portal.models import OutboxMessage
from portal.web import outages
from portal.web.inputs import page_arg
from portal.web.public import bp
from portal.web.tenancy import resolve_estate, user_memberships
from portal.web.ui import area_url, home_url_for, is_safe_next, render


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    return redirect(url_for("auth.login"))


@bp.get("/favicon.ico")
@limiter.exempt
def favicon():
    """Browsers ask for /favicon.ico on every site (and on pages without the <link>)."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)


@bp.get("/health")
@limiter.exempt
def health():
    """The database (a write on SQLite) and, when configured, Redis: 200 or 503."""
    report, status = outages.health()
    return jsonify(report), status


@bp.get("/e/<estate_slug>/logo.png")
def estate_logo(estate_slug: str):
    """An estate's logo (public: the join page shows it too). Its URL names the version
    (?v=N), so browsers may keep it for a year."""
    try:
        png = settings.estate_logo(estate_slug, request.args.get("v", type=int) or 0)
    except NotFound:
        abort(404)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "public, max-age=31536000, immutable"})


@bp.get("/choose")
@login_required
def choose():
    """Chooser for users with several memberships (and the estate switcher's page)."""
    memberships = user_memberships(current_user)
    return render("public/choose.html", memberships=memberships)


@bp.get("/e/<estate_slug>/")
@login_required
def estate_entry(estate_slug: str):
    access = resolve_estate(estate_slug)
    if access.as_enterprise_admin and not access.memberships:
        return redirect(url_for("admin.home", estate_slug=estate_slug))
    return redirect(area_url(access.memberships[0].role, estate_slug))


@bp.post("/language")
def set_language():
    language = request.form.get("lang", "")
    if language in current_app.config["LANGUAGES"]:
        session["lang"] = language
        if current_user.is_authenticated:
            auth_service.set_language(current_user, language)
        else:  # chosen on the way in: it holds for the session that follows (portal.web.i18n)
            session["lang_chosen"] = True
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("public.index"))


LOCAL_ADDRESSES = {"127.0.0.1", "::1"}


@bp.get("/dev/outbox")
def dev_outbox():
    """DEV mode only, and only to the machine itself (the client address as ProxyFix
    gives it): every email and SMS the portal has sent, newest first."""
    if not current_app.config["DEV_MODE"] or request.remote_addr not in LOCAL_ADDRESSES:
        abort(404)
    page = page_arg()
    messages = db.paginate(
        sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()), page=page, per_page=20, error_out=False
    )
    return render("dev/outbox.html", messages=messages)


@bp.get("/sw.js")
@limiter.exempt
def service_worker():
    """The portal's service worker (static/sw.js) at the root, so its scope covers every
    page: it shows web push notifications and opens their links. (The gate keeps its own
    worker for offline use, scoped to the gate's pages.)"""
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response
