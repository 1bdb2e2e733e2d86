"""Gatehouse: a portal for gated estates. `create_app()` builds the Flask app."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config as config_module
from portal.config import INSTANCE_PATH, PROJECT_ROOT


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_PATH),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)
    config_module.apply_engine_options(app.config)  # pool options for the final database URL
    config_module.check(app.config)
    INSTANCE_PATH.mkdir(exist_ok=True)

    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _init_extensions(app)

    from portal import web

    web.init_app(app)

    from portal.cli import register_cli

    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401 - register the tables on the metadata
    from portal.extensions import csrf, db, htmx, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)

    from portal.integrations import delivery, email

    delivery.init_app(app)
    email.init_app(app)

    from portal import jobs

    jobs.init_app(app)

    from portal.web.login import init_login

    init_login(app, login_manager)
