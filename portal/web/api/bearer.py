"""Bearer auth for the kiosk API and reading of JSON bodies."""

from __future__ import annotations

import functools

from flask import g, request
from flask_babel import lazy_gettext as _l

from portal.accounts import kiosk_tokens as tokens
from portal.accounts.devices import DeviceMismatch, clean_device_id
from portal.errors import DomainError
from portal.gate.service import DEFAULT_GATE


class ValidationFailed(DomainError):
    """Bad input: `details` maps each field to its message."""

    code = "VALIDATION_ERROR"
    http_status = 422

    def __init__(self, details: dict, message=None):
        super().__init__(message or _l("Some of what you sent is not valid."))
        self.details = {field: str(text) for field, text in details.items()}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def kiosk_required(view):
    """The view needs a valid kiosk token: sets g.kiosk (KioskAuth) and g.estate.
    Missing → 401 AUTHENTICATION_REQUIRED; bad, expired or revoked → 401 INVALID_TOKEN."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        raw = bearer_token()
        if raw is None:
            raise tokens.AuthenticationRequired(_l("Send an access token: Authorization: Bearer <token>."))
        g.kiosk = tokens.authenticate(raw)
        g.estate = g.kiosk.estate
        return view(*args, **kwargs)

    return wrapper


class Body:
    """The request's JSON object, read field by field; `done()` raises ValidationFailed
    with every bad field at once."""

    def __init__(self):
        data = g.get("json_body")  # parsed by the request check (portal/web/inputs.py)
        if data is None:
            data = request.get_json(silent=True, force=True) if request.data else {}
        if not isinstance(data, dict):
            raise ValidationFailed({"body": _l("Send a JSON object.")}, _l("The request body is not a JSON object."))
        self.data = data
        self.errors: dict = {}

    def text(self, name: str, *, required: bool = False, min_len: int = 1, max_len: int = 200,
             default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.errors[name] = _l("This field is required.")
            return default
        if not isinstance(value, str):
            self.errors[name] = _l("Must be text.")
            return default
        value = value.strip()
        if not min_len <= len(value) <= max_len:
            self.errors[name] = _l("Use %(min)d to %(max)d characters.", min=min_len, max=max_len)
            return default
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = _l("This field is required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
            self.errors[name] = _l("Must be a positive whole number.")
            return None
        return value

    def gate(self) -> str:
        return self.text("gate", max_len=60, default=DEFAULT_GATE) or DEFAULT_GATE

    def offline_event_id(self) -> str | None:
        return self.text("offline_event_id", min_len=8, max_len=100)

    def device_id(self) -> str | None:
        """The caller's device id: required, well formed, and the token's device (403)."""
        raw = self.text("device_id", required=True, max_len=100)
        if raw is None:
            return None
        if clean_device_id(raw) is None:
            self.errors["device_id"] = _l("Send a device id of 8 to 100 letters, digits, dots, dashes or colons.")
            return None
        kiosk = g.get("kiosk")
        if kiosk is not None and raw != kiosk.device_id:
            raise DeviceMismatch()
        return raw

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
