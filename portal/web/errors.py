"""Error pages: translated, HTMX-aware, and JSON envelopes under /api/.

Services raise the domain errors of portal/errors.py and never call `abort`; one handler
here answers any DomainError a view lets through: under /api/ the JSON envelope (code,
message, the field(s) in `details`), to an HTMX request the message fragment, otherwise
the error page with the error's status and message. A NotFound renders exactly like a 404
of an unknown URL. Views that show a domain error next to a field catch it themselves."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.errors import DomainError
from portal.extensions import db
from portal.web.tenancy import EstateUnavailable
from portal.web.ui import render

ERRORS = {
    400: ("BAD_REQUEST", _l("Bad request"), _l("The request could not be understood. Please try again.")),
    401: ("AUTHENTICATION_REQUIRED", _l("Sign-in required"), _l("Please sign in to continue.")),
    403: ("FORBIDDEN", _l("Not allowed"), _l("Your role does not give you access to this page.")),
    404: ("NOT_FOUND", _l("Page not found"), _l("There is nothing here. Check the address, or go back to your home page.")),
    405: ("METHOD_NOT_ALLOWED", _l("Not allowed"), _l("This action is not available here.")),
    409: ("CONFLICT", _l("Not possible"), _l("This action is not possible right now. Nothing was changed.")),
    410: ("GONE", _l("No longer available"), _l("This link is no longer valid.")),
    413: ("PAYLOAD_TOO_LARGE", _l("Too large"), _l("What you sent is too large.")),
    422: ("VALIDATION_ERROR", _l("Check your input"), _l("Some of what you entered is not valid.")),
    429: ("RATE_LIMITED", _l("Too many attempts"), _l("You have tried too many times in a short while. Wait a minute, then try again.")),
    500: ("INTERNAL_ERROR", _l("Something went wrong"), _l("An unexpected error happened on our side. Nothing was changed. Please try again.")),
    503: ("UNAVAILABLE", _l("Unavailable"), _l("The service is unavailable right now. Please try again soon.")),
}
CSRF_MESSAGE = _l("This form has expired or is missing its security token. Reload the page and try again. Nothing was changed.")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message=None, title=None):
    code, default_title, default_message = ERRORS.get(status, ERRORS[500])
    title = title or default_title
    message = message or default_message
    if _wants_json():
        from portal.web.envelope import fail

        return fail(code, str(message), status)
    body = render("errors/error.html", block="error_message" if request.headers.get("HX-Request") else None,
                  status=status, title=title, message=message)
    headers = {}
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        # Show the error in the message area instead of swapping it into the target.
        headers = {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
    return body, status, headers


def domain_error_response(exc: DomainError):
    """The answer to a domain error no view caught: envelope, fragment or page."""
    if _wants_json():
        from portal.web.envelope import fail_with

        return fail_with(exc)
    return error_response(exc.http_status, exc.message)


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return domain_error_response(exc)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_response(400, CSRF_MESSAGE, _l("Security check failed"))

    @app.errorhandler(EstateUnavailable)
    def estate_unavailable(exc: EstateUnavailable):
        if _wants_json():
            return error_response(403)
        return render("errors/estate_unavailable.html", estate=exc.estate), 403

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code in (301, 302, 303, 307, 308) or exc.code is None:
            return exc
        return error_response(exc.code)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if app.testing and not app.config.get("SHOW_500_PAGE"):
            raise exc
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)
