"""Twilio, through its official SDK (`twilio`): `Client(account_sid, auth_token)
.messages.create(to=…, body=…, from_=… or messaging_service_sid=…)`, which POSTs to
`https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json`; the message's `sid`
is the provider's id.

`base_url` (optional) sends the SDK's requests to another host (a relay, or a local
test server): the SDK builds its URLs for api.twilio.com (or a region/edge host), and
`RedirectingHttpClient` — the SDK's own requests-based HTTP client — swaps the scheme and
host of each one before sending. The SDK's errors carry the HTTP status, which says
whether a retry can help (4xx but 429: no).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from portal.integrations.outbox import ProviderError
from portal.integrations.sms import base


class RedirectingHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending every request to `base_url`'s scheme and host (its
    path, if any, goes before the API's path)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base = urlsplit(base_url.rstrip("/"))
        if not self.base.scheme or not self.base.netloc:
            raise base.ConfigurationError(f"base_url must be an absolute URL, not {base_url!r}")

    def request(self, method, url, *args, **kwargs):
        target = urlsplit(url)
        url = urlunsplit((self.base.scheme, self.base.netloc, self.base.path + target.path, target.query, ""))
        return super().request(method, url, *args, **kwargs)


class TwilioClient:
    def __init__(self, *, account_sid: str, auth_token: str, from_number: str = "",
                 messaging_service_sid: str = "", base_url: str = "", timeout: float = base.DEFAULT_TIMEOUT):
        if not from_number and not messaging_service_sid:
            raise base.ConfigurationError("set from_number or messaging_service_sid")
        self.from_number, self.messaging_service_sid = from_number, messaging_service_sid
        self.timeout = timeout
        options = {"timeout": float(timeout), "pool_connections": False}
        http_client = RedirectingHttpClient(base_url, **options) if base_url else TwilioHttpClient(**options)
        # The SDK still reads TWILIO_REGION / TWILIO_EDGE from the environment, if set.
        self.client = Client(account_sid, auth_token, http_client=http_client)

    def send(self, to: str, text: str) -> str:
        sender = {"from_": self.from_number} if self.from_number else {
            "messaging_service_sid": self.messaging_service_sid}
        try:
            message = self.client.messages.create(to=to, body=text, **sender)
        except requests.RequestException as exc:
            raise base.network_error(exc, self.timeout) from exc
        except TwilioException as exc:
            status = getattr(exc, "status", None)
            detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "") or ""
            code = getattr(exc, "code", None)
            text = f"HTTP {status}" + (f" (error {code})" if code else "") + (f": {base.short(detail)}" if detail else "")
            raise ProviderError(text if status else base.short(repr(exc)),
                                permanent=isinstance(status, int) and base.is_permanent_status(status)) from exc
        if not message.sid:
            raise ProviderError("answer without a message sid")
        return message.sid
