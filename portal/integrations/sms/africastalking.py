"""Africa's Talking: its HTTP API, `POST {base}/version1/messaging`, form-encoded
`username`, `to`, `message` and optionally `from` (a sender id or short code), with the
`apiKey` header and `Accept: application/json`. The answer lists each recipient with a
`statusCode` (100 processed, 101 sent, 102 queued; other codes are refusals) and a
`messageId`. The base is the live API, or the sandbox's when the username is "sandbox".

Why the HTTP API and not the official SDK (`africastalking`): the SDK keeps its account
in module-level state (`africastalking.initialize`), so two estates with two accounts
cannot send side by side; its base URL is fixed (no way to point it at a proxy or at a
test server short of rewriting a private attribute); and it turns every non-2xx answer
into one exception holding only the body text, so a refused key (401) cannot be told
from an outage (5xx). The HTTP API is one form POST.
"""

from __future__ import annotations

from portal.integrations.outbox import ProviderError
from portal.integrations.sms import base

LIVE_BASE_URL = "https://api.africastalking.com"
SANDBOX_BASE_URL = "https://api.sandbox.africastalking.com"
SENT_CODES = frozenset({100, 101, 102})  # Processed, Sent, Queued
# Refusals of this number or sender that no retry cures: InvalidSenderId, InvalidPhoneNumber,
# UnsupportedNumberType, UserInBlacklist, DoNotDisturbRejection. The others (RiskHold,
# InsufficientBalance, CouldNotRoute, InternalServerError, GatewayError, RejectedByGateway)
# may pass later.
PERMANENT_CODES = frozenset({402, 403, 404, 406, 409})


class AfricasTalkingClient:
    def __init__(self, *, username: str, api_key: str, sender_id: str = "", base_url: str = "",
                 timeout: float = base.DEFAULT_TIMEOUT):
        self.username, self.api_key, self.sender_id = username, api_key, sender_id
        default = SANDBOX_BASE_URL if username == "sandbox" else LIVE_BASE_URL
        self.base_url = (base_url or default).rstrip("/")
        self.timeout = timeout

    def send(self, to: str, text: str) -> str:
        form = {"username": self.username, "to": to, "message": text}
        if self.sender_id:
            form["from"] = self.sender_id
        response = base.request("POST", f"{self.base_url}/version1/messaging", self.timeout, data=form,
                                headers={"apiKey": self.api_key, "Accept": "application/json"})
        body = base.json_body(response)
        if not response.ok:
            raise base.http_error(response, base.message_of(body))
        data = body.get("SMSMessageData") if isinstance(body, dict) else None
        recipients = (data or {}).get("Recipients") or []
        if not recipients:  # e.g. {"SMSMessageData": {"Message": "InvalidPhoneNumber", "Recipients": []}}
            message = (data or {}).get("Message") or base.short(response.text)
            raise ProviderError(f"no recipient accepted: {message}",
                                permanent="invalid" in str(message).lower())
        recipient = recipients[0]
        code = int(recipient.get("statusCode") or 0)
        if code not in SENT_CODES:
            raise ProviderError(f"status {code} {recipient.get('status') or ''}".strip(),
                                permanent=code in PERMANENT_CODES)
        return str(recipient.get("messageId") or "")
