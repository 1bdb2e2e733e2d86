"""SMS: one client per provider kind, and failover across an estate's providers.

The worker sends an outbox SMS through `FailoverSms` (portal.integrations.outbox
`provider_for("SMS")`): it asks the settings seam (portal.integrations.settings
`providers("SMS", estate_id)`) for the estate's providers in order, builds each one's
client from its kind and values, and tries them one after the other within one attempt.

Kinds (`sms_kinds()`, the registry that settings pages use to draw their forms):

| kind             | client                                   | API                                 |
| ---------------- | ---------------------------------------- | ----------------------------------- |
| `termii`         | termii.TermiiClient                      | Termii Messaging API (HTTP, JSON)   |
| `africastalking` | africastalking.AfricasTalkingClient      | Africa's Talking SMS (HTTP, form)   |
| `twilio`         | twilio_sdk.TwilioClient                  | Twilio's official Python SDK        |
| `http`           | generic_http.GenericHttpClient           | any gateway: URL, method, headers, body template |

A client is `Client(**values, timeout=…)` with `send(to, text) -> provider's message id`;
it raises portal.integrations.outbox.ProviderError, `permanent=True` when retrying
cannot help (a refused key, an invalid number: 4xx answers but 408/409/425/429), else
transient (5xx answers, timeouts, lost connections). Every request has short
connect/read timeouts (`SMS_TIMEOUT`, 10 s).

To add a kind: write its client in a module here (see termii.py), add an `SmsKind` to
`sms_kinds()` with its fields, and a fake of its API in tests/fakes/sms.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.integrations.settings import ProviderSettings
from portal.integrations.sms.africastalking import AfricasTalkingClient
from portal.integrations.sms.base import DEFAULT_TIMEOUT, ConfigurationError, SmsClient
from portal.integrations.sms.generic_http import GenericHttpClient
from portal.integrations.sms.termii import TermiiClient
from portal.integrations.sms.twilio_sdk import TwilioClient


@dataclass(frozen=True)
class SmsField:
    """One setting of a provider kind. `secret`: kept encrypted, never shown back in full
    (API keys, tokens, headers that carry credentials)."""

    name: str
    label: str  # translated (lazy)
    required: bool = False
    secret: bool = False
    default: str = ""
    help: str = ""  # translated (lazy), may be empty


@dataclass(frozen=True)
class SmsKind:
    kind: str  # the `kind` of ProviderSettings
    label: str  # the provider's name, as the provider writes it
    client: type
    fields: tuple[SmsField, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.secret)

    def build(self, values: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> SmsClient:
        """The client for these values (unknown keys are ignored; empty ones take the
        field's default). Missing required values raise ConfigurationError (permanent)."""
        missing = [name for name in self.required if not str(values.get(name) or "").strip()]
        if missing:
            raise ConfigurationError(f"missing {', '.join(missing)}")
        options = {f.name: str(values.get(f.name) or "").strip() or f.default for f in self.fields}
        return self.client(**options, timeout=timeout)


_URL_HELP = _l("Leave empty for the provider's own address.")


def sms_kinds() -> dict[str, SmsKind]:
    """Every SMS provider kind, by its `kind` id, in the order a settings page lists them:
    its client class and its fields (name, translated label, required, secret, default).
    The settings seam (portal.integrations.settings) stores `values` under these names."""
    kinds = (
        SmsKind("termii", "Termii", TermiiClient, (
            SmsField("api_key", _l("API key"), required=True, secret=True),
            SmsField("sender_id", _l("Sender ID"), required=True,
                     help=_l("An approved sender ID of 3 to 11 letters or digits.")),
            SmsField("channel", _l("Route"), default="generic",
                     help=_l("generic, or dnd to reach numbers on Do-Not-Disturb (recommended for sign-in codes "
                             "once Termii has enabled it on the account).")),
            SmsField("base_url", _l("API address"), default="https://api.ng.termii.com", help=_URL_HELP),
        )),
        SmsKind("africastalking", "Africa's Talking", AfricasTalkingClient, (
            SmsField("username", _l("Username"), required=True,
                     help=_l("The app's username; \"sandbox\" uses Africa's Talking's sandbox.")),
            SmsField("api_key", _l("API key"), required=True, secret=True),
            SmsField("sender_id", _l("Sender ID"), help=_l("A sender ID or short code; empty for the default.")),
            SmsField("base_url", _l("API address"), help=_URL_HELP),
        )),
        SmsKind("twilio", "Twilio", TwilioClient, (
            SmsField("account_sid", _l("Account SID"), required=True),
            SmsField("auth_token", _l("Auth token"), required=True, secret=True),
            SmsField("from_number", _l("Sender number"),
                     help=_l("A Twilio number in international format, or leave empty and set a messaging service.")),
            SmsField("messaging_service_sid", _l("Messaging service SID")),
            SmsField("base_url", _l("API address"), help=_URL_HELP),
        )),
        SmsKind("http", _l("Other gateway (HTTP)"), GenericHttpClient, (
            SmsField("url", _l("URL"), required=True,
                     help=_l("May contain {to}, {text} and {sender}.")),
            SmsField("method", _l("Method"), default="POST"),
            SmsField("headers", _l("Headers (JSON)"), secret=True,
                     help=_l("For example {\"Authorization\": \"Bearer …\"}.")),
            SmsField("body", _l("Body template"),
                     help=_l("For example {\"to\": \"{to}\", \"message\": \"{text}\"}.")),
            SmsField("sender_id", _l("Sender ID"), help=_l("Fills {sender}.")),
            SmsField("message_id_path", _l("Message ID in the answer"),
                     help=_l("Where the answer's JSON holds the message ID, for example data.id.")),
        )),
    )
    return {kind.kind: kind for kind in kinds}


def timeout() -> float:
    return float(current_app.config.get("SMS_TIMEOUT") or DEFAULT_TIMEOUT)


def client_for(setting: ProviderSettings) -> SmsClient:
    """The client of one configured provider (ConfigurationError for an unknown kind or
    missing values)."""
    kind = sms_kinds().get(setting.kind)
    if kind is None:
        raise ConfigurationError(f"unknown SMS provider kind {setting.kind!r} "
                                 f"(known: {', '.join(sms_kinds())})")
    return kind.build(setting.values, timeout())


from portal.integrations.sms.failover import FailoverSms  # noqa: E402  (it uses client_for)

__all__ = ["ConfigurationError", "FailoverSms", "SmsClient", "SmsField", "SmsKind", "client_for", "sms_kinds"]
