"""Termii (Nigeria): its Messaging API, `POST {base}/api/sms/send` with a JSON body
(`to` in international format without "+", `from` the sender id, `sms`, `type` "plain",
`channel` "generic" or "dnd", `api_key`); a 200 answer carries `message_id`."""

from __future__ import annotations

from portal.integrations.outbox import ProviderError
from portal.integrations.sms import base

DEFAULT_BASE_URL = "https://api.ng.termii.com"
CHANNELS = ("generic", "dnd")


class TermiiClient:
    def __init__(self, *, api_key: str, sender_id: str, channel: str = "generic",
                 base_url: str = "", timeout: float = base.DEFAULT_TIMEOUT):
        if channel not in CHANNELS:
            raise base.ConfigurationError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
        self.api_key, self.sender_id, self.channel = api_key, sender_id, channel
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout

    def send(self, to: str, text: str) -> str:
        payload = {"to": base.e164_digits(to), "from": self.sender_id, "sms": text, "type": "plain",
                   "channel": self.channel, "api_key": self.api_key}
        response = base.request("POST", f"{self.base_url}/api/sms/send", self.timeout, json=payload,
                                headers={"Accept": "application/json"})
        body = base.json_body(response)
        if not response.ok:
            raise base.http_error(response, base.message_of(body))
        message_id = body.get("message_id") if isinstance(body, dict) else None
        if not message_id:
            raise ProviderError(f"answer without a message_id: {base.short(response.text)}")
        return str(message_id)
