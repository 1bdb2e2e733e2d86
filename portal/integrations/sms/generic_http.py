"""Any other SMS gateway with an HTTP API: a URL, a method, headers and a body template.

The placeholders `{to}` (E.164, with "+"), `{text}` and `{sender}` are filled in the URL
(URL-encoded) and in the body, escaped for the body's content type: inside a JSON string
for `application/json` (the default when there is a body), URL-encoded for
`application/x-www-form-urlencoded`, as they are otherwise. Any 2xx answer is a success;
`message_id_path` (dotted, list items by number: `data.messages.0.id`) takes the
provider's id from a JSON answer. 4xx answers (but 408/409/425/429) are refusals no retry
cures; 5xx answers, timeouts and lost connections are retried.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, quote_plus

from portal.integrations.sms import base

METHODS = ("POST", "GET", "PUT")
FORM = "application/x-www-form-urlencoded"


def _fill(template: str, values: dict[str, str], escape) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", escape(value))
    return template


def _json_string(value: str) -> str:
    return json.dumps(value)[1:-1]


def extract(body: Any, path: str) -> Any:
    """The value at a dotted path of decoded JSON (`a.b.0.c`), or None."""
    for part in path.split("."):
        if isinstance(body, dict):
            body = body.get(part)
        elif isinstance(body, list) and part.isdigit() and int(part) < len(body):
            body = body[int(part)]
        else:
            return None
    return body


class GenericHttpClient:
    def __init__(self, *, url: str, method: str = "POST", headers: str = "", body: str = "",
                 sender_id: str = "", message_id_path: str = "", timeout: float = base.DEFAULT_TIMEOUT):
        self.method = (method or "POST").upper()
        if self.method not in METHODS:
            raise base.ConfigurationError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        if not url.startswith(("http://", "https://")):
            raise base.ConfigurationError(f"url must start with http:// or https://, not {url!r}")
        try:
            parsed = json.loads(headers) if headers and headers.strip() else {}
        except ValueError as exc:
            raise base.ConfigurationError("headers must be a JSON object") from exc
        if not isinstance(parsed, dict):
            raise base.ConfigurationError("headers must be a JSON object")
        self.headers = {str(k): str(v) for k, v in parsed.items()}
        self.url, self.body, self.sender_id = url, body, sender_id
        self.message_id_path, self.timeout = message_id_path, timeout

    def _content_type(self) -> str:
        for name, value in self.headers.items():
            if name.lower() == "content-type":
                return value.split(";")[0].strip().lower()
        return "application/json"

    def send(self, to: str, text: str) -> str:
        values = {"to": to, "text": text, "sender": self.sender_id}
        url = _fill(self.url, values, lambda v: quote(v, safe=""))
        headers = dict(self.headers)
        data = None
        if self.body:
            content_type = self._content_type()
            escape = _json_string if content_type.endswith("json") else quote_plus if content_type == FORM else str
            data = _fill(self.body, values, escape).encode()
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = content_type
        response = base.request(self.method, url, self.timeout, data=data, headers=headers)
        if not response.ok:
            body = base.json_body(response)
            raise base.http_error(response, base.message_of(body))
        if not self.message_id_path:
            return ""
        found = extract(base.json_body(response), self.message_id_path)
        return "" if found is None else str(found)
