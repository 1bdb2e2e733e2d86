"""The kiosk API's JSON envelope, also used by the error handlers for any /api/ answer:
`{"success": true, "data": …}` or `{"success": false, "error": {"code", "message", "details"}}`."""

from __future__ import annotations

from flask import jsonify

from portal.errors import DomainError, FieldErrors, InvalidValue


def ok(data, status: int = 200):
    return jsonify(success=True, data=data), status


def fail(code: str, message: str, status: int, details=None):
    return jsonify(success=False, error={"code": code, "message": message, "details": details}), status


def error_details(exc: DomainError) -> dict | None:
    """The field(s) of a validation error, `{field: message}`; else the error's own details."""
    if isinstance(exc, FieldErrors):
        return {field: str(message) for field, message in exc.errors.items()}
    if isinstance(exc, InvalidValue):
        return {exc.field: str(exc.message)}
    return getattr(exc, "details", None)


def fail_with(exc: DomainError):
    """The envelope of a domain error; a 401 also names the bearer scheme."""
    response = fail(exc.code, str(exc.message), exc.http_status, error_details(exc))
    if exc.http_status == 401:
        response[0].headers["WWW-Authenticate"] = 'Bearer realm="gatehouse"'
    return response
