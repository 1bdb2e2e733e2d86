"""The one family of domain errors. Services raise them; the web layer turns them into a
page, a fragment or a JSON envelope (portal/web/errors.py), so no service calls `abort`.

Each error has a stable `code` (the kiosk API's error code) and an HTTP status; `message`
is a translated (lazy) string for people.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule said no. `code` is stable (JSON), `message` is translated (lazy)."""

    code = "CONFLICT"
    http_status = 409

    def __init__(self, message=None, code: str | None = None, http_status: int | None = None):
        super().__init__(str(code or self.code))
        self.message = message if message is not None else self.default_message()
        if code:
            self.code = code
        if http_status:
            self.http_status = http_status

    def default_message(self):
        return _l("This action is not possible right now. Nothing was changed.")


class NotFound(DomainError):
    """No such record in this estate (or none the actor may know of): always a 404, never a
    403 that would confirm it exists elsewhere."""

    code = "NOT_FOUND"
    http_status = 404

    def default_message(self):
        return _l("There is nothing here. Check the address, or go back to your home page.")


class Forbidden(DomainError):
    """The actor is known but their role does not allow this."""

    code = "FORBIDDEN"
    http_status = 403

    def default_message(self):
        return _l("Your role does not give you access to this page.")


class InvalidValue(DomainError):
    """Bad input for one field: the view shows `message` next to `field`."""

    code = "VALIDATION_ERROR"
    http_status = 422

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field = field


class FieldErrors(DomainError):
    """Bad input for several fields: `errors` maps a field name to its message."""

    code = "VALIDATION_ERROR"
    http_status = 422

    def __init__(self, errors: dict, code: str = "VALIDATION_ERROR", http_status: int = 422):
        super().__init__(next(iter(errors.values())), code=code, http_status=http_status)
        self.errors = errors


class Conflict(DomainError):
    """The request is valid but the state of things says no (already done, taken, closed)."""

    code = "CONFLICT"
    http_status = 409
