"""A bad day: the database or Redis is down.

- The database cannot be reached (refused connections, a dropped connection, a full pool,
  a locked SQLite file): every page answers 503 with a translated page that needs no
  database (errors/unavailable.html: no user, no estate, no menu), every /api/ answer
  is a 503 `SERVICE_UNAVAILABLE` envelope, and the gate's page tells the guard to go on
  offline. Nothing was written: the request's transaction is rolled back.
- Redis (rate limits) down: Flask-Limiter counts in this process's memory and logs a
  warning (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED in portal/config.py); nothing fails.
- `health()` checks both for GET /health: the database with a write on SQLite (a locked
  or read-only file still reads), Redis with a ping when REDIS_URL is set.
"""

from __future__ import annotations

import contextlib

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from sqlalchemy import exc as sa_exc

from portal.extensions import db
from portal.web.ui import render

# What a database outage looks like to SQLAlchemy (DataError, IntegrityError… are not outages).
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)
RETRY_AFTER_SECONDS = 30

TITLE = _l("Service unavailable")
MESSAGE = _l("The service cannot reach its database right now. Nothing was changed. Please try again in a minute.")
GATE_MESSAGE = _l(
    "The server cannot reach its database right now. Switch to offline mode: go back to the gate page "
    "(it opens without the network on this tablet), check passes there, and the scans are sent when the "
    "server is back."
)


def database_unavailable(exc: Exception):
    """503 for a database outage; renders without touching the database."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone too; the request is over anyway
        current_app.logger.warning("rollback failed after a database error", exc_info=True)
    current_app.logger.error("database unavailable on %s %s: %s", request.method, request.path,
                             str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    # The page needs no rows: an anonymous user (the shell asks for no memberships or counts)
    # and no estate (rolled back, its attributes would be loaded again).
    g._login_user = AnonymousUserMixin()
    g.pop("estate", None)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        from portal.web.envelope import fail

        response = fail("SERVICE_UNAVAILABLE", str(MESSAGE), 503)[0]
        response.headers.update(headers)
        return response, 503
    message = GATE_MESSAGE if request.blueprint == "gate" else MESSAGE
    htmx = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    if htmx:
        headers.update({"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"})
    try:
        body = render("errors/unavailable.html", block="error_message", title=TITLE, message=message,
                      retry_url=request.full_path if request.method == "GET" else None)
    except Exception:  # noqa: BLE001 - never a bare 500 on a bad day
        current_app.logger.exception("the unavailable page failed to render")
        body = f"{TITLE}\n\n{message}\n"
        headers["Content-Type"] = "text/plain; charset=utf-8"
    return body, 503, headers


def database_status() -> str:
    """"ok" or "unreachable". On SQLite a write (rolled back): a locked or read-only
    database file still answers reads."""
    try:
        if db.engine.dialect.name == "sqlite":
            db.session.execute(sa.text("UPDATE alembic_version SET version_num = version_num"))
        else:
            db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except Exception:  # noqa: BLE001 - any failure means the database is not usable
        with contextlib.suppress(Exception):  # already reported below
            db.session.rollback()
        current_app.logger.exception("health check: database unreachable")
        return "unreachable"
    return "ok"


def redis_status() -> str | None:
    """None without REDIS_URL; else "ok" or "unavailable" (the rate limits' storage)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except Exception:  # noqa: BLE001 - any failure means Redis is not usable
        current_app.logger.warning("health check: Redis unavailable at %s", url.rsplit("@", 1)[-1])
        return "unavailable"
    finally:
        client.close()
    return "ok"


def health() -> tuple[dict, int]:
    report = {"status": "ok", "database": database_status()}
    redis_state = redis_status()
    if redis_state is not None:
        report["redis"] = redis_state
    if report["database"] != "ok" or redis_state not in (None, "ok"):
        report["status"] = "error"
    return report, 200 if report["status"] == "ok" else 503


def init_app(app: Flask) -> None:
    for exc_class in DATABASE_DOWN:
        app.register_error_handler(exc_class, database_unavailable)
