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
    _register_blueprints(app)

    from portal import errors, i18n, ui

    i18n.init_app(app)
    ui.init_app(app)
    errors.init_app(app)

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

    from portal.auth.session import init_login

    init_login(app, login_manager)


def _register_blueprints(app: Flask) -> None:
    from portal.account import bp as account_bp
    from portal.admin import bp as admin_bp
    from portal.api import bp as api_bp
    from portal.auth import bp as auth_bp
    from portal.enterprise import bp as enterprise_bp
    from portal.gate import bp as gate_bp
    from portal.public import bp as public_bp
    from portal.resident import bp as resident_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)  # /account/: the signed-in user's own profile
    app.register_blueprint(enterprise_bp, url_prefix="/enterprise")
    app.register_blueprint(admin_bp, url_prefix="/e/<estate_slug>/admin")
    app.register_blueprint(gate_bp, url_prefix="/e/<estate_slug>/gate")
    app.register_blueprint(resident_bp, url_prefix="/e/<estate_slug>/home")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    from portal.onboarding import bp as onboarding_bp  # public join page and invitation links

    app.register_blueprint(onboarding_bp)
    from portal.passes import bp as passes_bp  # public visitor pass: /p/<qr_token>

    app.register_blueprint(passes_bp)
