"""What every SMS client shares: the interface, short timeouts, and how an HTTP answer
or a network failure becomes a ProviderError (permanent or worth retrying)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import requests

from portal.integrations.outbox import ProviderError

DEFAULT_TIMEOUT = 10.0  # seconds to connect, and again to read the answer (SMS_TIMEOUT)

# 4xx answers that retrying may cure: a timeout on the provider's side, a conflict, "too early",
# too many requests. Every other 4xx (bad key, unknown sender id, invalid number, no credit…)
# is the provider refusing this message: retrying cannot help.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


class SmsClient(Protocol):
    """One SMS provider account. `send` returns the provider's id for the message, or raises
    ProviderError (`permanent=True` when retrying cannot help)."""

    def send(self, to: str, text: str) -> str: ...


class ConfigurationError(ProviderError):
    """The provider's settings are incomplete or wrong: retrying cannot help."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


def is_permanent_status(status: int) -> bool:
    return 400 <= status < 500 and status not in RETRYABLE_4XX


def short(text: str, limit: int = 300) -> str:
    """A provider's answer, on one line and cut short, for `last_error`."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def http_error(response: requests.Response, detail: str = "") -> ProviderError:
    """A non-2xx answer: permanent for a refusal (4xx but 408/409/425/429), else transient."""
    detail = detail or short(response.text) or response.reason or ""
    return ProviderError(f"HTTP {response.status_code}: {detail}".rstrip(": "),
                         permanent=is_permanent_status(response.status_code))


def network_error(exc: requests.RequestException, timeout: float) -> ProviderError:
    """No usable answer (timeout, refused connection, broken TLS…): worth retrying."""
    if isinstance(exc, requests.Timeout):
        return ProviderError(f"no answer within {timeout:g} s")
    if isinstance(exc, requests.ConnectionError):
        return ProviderError(f"could not connect ({short(exc, 200)})")
    return ProviderError(f"request failed ({short(exc, 200)})")


def request(method: str, url: str, timeout: float, **kwargs: Any) -> requests.Response:
    """One HTTP request with (connect, read) timeouts; network failures as ProviderError."""
    try:
        return requests.request(method, url, timeout=(timeout, timeout), allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise network_error(exc, timeout) from exc


def json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def message_of(body: Any) -> str:
    """The human part of a provider's JSON error, when it has one."""
    if isinstance(body, Mapping):
        for key in ("message", "error", "detail", "errorMessage"):
            if body.get(key):
                return short(body[key])
    return ""


def e164_digits(phone: str) -> str:
    """+2348031234567 → 2348031234567 (the international format some APIs want)."""
    return phone.lstrip("+")
