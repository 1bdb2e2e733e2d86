"""The HTTP side: one package per area (a blueprint, its views and forms), and the pieces
every area shares (rendering, errors, tenancy, languages, sign-in wiring).

Areas never import each other; they call the domain packages of `portal/`.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.web import inputs

    inputs.init_app(app)  # the bounded `int` converter, before any rule is added
    _register_blueprints(app)
    inputs.init_checks(app)  # control characters, deep JSON: refused before any blueprint's hook

    from portal.web import errors, i18n, links, mail, outages, request_meta, security_headers, ui

    links.init_app(app)
    mail.init_app(app)  # how an outbox email looks
    request_meta.init_app(app)
    i18n.init_app(app)
    ui.init_app(app)
    errors.init_app(app)
    outages.init_app(app)  # database down: 503 without the database
    security_headers.init_app(app)  # CSP and friends on every response


def _register_blueprints(app: Flask) -> None:
    from portal.web.account import bp as account_bp
    from portal.web.admin import bp as admin_bp
    from portal.web.api import bp as api_bp
    from portal.web.auth import bp as auth_bp
    from portal.web.enterprise import bp as enterprise_bp
    from portal.web.gate import bp as gate_bp
    from portal.web.public import bp as public_bp
    from portal.web.public import join_bp as onboarding_bp
    from portal.web.public import pass_bp as passes_bp
    from portal.web.resident import bp as resident_bp
    from portal.web.webhooks import bp as webhooks_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)  # /account/: the signed-in user's own profile
    app.register_blueprint(enterprise_bp, url_prefix="/enterprise")
    app.register_blueprint(admin_bp, url_prefix="/e/<estate_slug>/admin")
    app.register_blueprint(gate_bp, url_prefix="/e/<estate_slug>/gate")
    app.register_blueprint(resident_bp, url_prefix="/e/<estate_slug>/home")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(onboarding_bp)  # public join page and invitation links
    app.register_blueprint(passes_bp)  # public visitor pass: /p/<qr_token>
    app.register_blueprint(webhooks_bp)  # payment providers' notifications: /webhooks/flutterwave
