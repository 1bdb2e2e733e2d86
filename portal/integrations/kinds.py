"""The kinds of provider a channel can use, and the fields each kind's settings have (for
the settings pages, their checks, and what is secret).

`sms_kinds()` is the SMS half. The SMS clients (portal/integrations/sms/, another branch)
bring their own registry of kinds and fields; once they are merged, `sms_kinds()` should
build its answer from theirs (one adapter here, mapping each of their fields to a
`FieldSpec`) and the table below goes. Nothing else reads `_SMS`: the pages, the checks
(portal.integrations.manage) and the masking of secrets ask `kinds_for`, `get_kind` and
`KindSpec.secret_fields` only.

A setting's values are strings (booleans "true"/"false", numbers in decimal), as in
`SMS_PROVIDERS`; a `FieldSpec` says how to read and check one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.models import IntegrationChannel

TEXT, URL, NUMBER, FLAG, CHOICE, LONG_TEXT, EMAIL_ADDRESS, PHONE = (
    "text", "url", "number", "flag", "choice", "long_text", "email", "phone")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: object  # a lazy translated string
    secret: bool = False  # encrypted like every value, and never shown back in full
    required: bool = False
    type: str = TEXT
    default: str = ""
    choices: tuple[str, ...] = ()
    help: object | None = None
    max_length: int = 255
    low: int = 0  # NUMBER bounds
    high: int = 0


@dataclass(frozen=True)
class KindSpec:
    key: str
    channel: IntegrationChannel
    label: object  # a brand name, or a lazy translated string
    fields: tuple[FieldSpec, ...]

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.secret)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


_SMS = (
    KindSpec("termii", IntegrationChannel.SMS, "Termii", (
        FieldSpec("api_key", _l("API key"), secret=True, required=True),
        FieldSpec("sender_id", _l("Sender ID"), required=True, max_length=11,
                  help=_l("3 to 11 letters or digits, approved by Termii.")),
        FieldSpec("base_url", _l("API address"), type=URL, default="https://api.ng.termii.com"),
    )),
    KindSpec("africastalking", IntegrationChannel.SMS, "Africa's Talking", (
        FieldSpec("username", _l("Username"), required=True, max_length=100,
                  help=_l("“sandbox” for Africa's Talking's sandbox.")),
        FieldSpec("api_key", _l("API key"), secret=True, required=True),
        FieldSpec("sender_id", _l("Sender ID (optional)"), max_length=11),
        FieldSpec("sandbox", _l("Use the sandbox"), type=FLAG),
    )),
    KindSpec("twilio", IntegrationChannel.SMS, "Twilio", (
        FieldSpec("account_sid", _l("Account SID"), required=True, max_length=34),
        FieldSpec("auth_token", _l("Auth token"), secret=True, required=True),
        FieldSpec("from_number", _l("From number"), type=PHONE, required=True, max_length=30,
                  help=_l("A Twilio phone number in international format, for example +15005550006.")),
    )),
    KindSpec("http", IntegrationChannel.SMS, _l("HTTP gateway"), (
        FieldSpec("url", _l("Address (URL)"), type=URL, required=True, max_length=500),
        FieldSpec("method", _l("Method"), type=CHOICE, choices=("POST", "GET"), default="POST"),
        FieldSpec("headers", _l("Headers (JSON object)"), secret=True, max_length=4000,
                  help=_l("For example {\"Authorization\": \"Bearer …\"}.")),
        FieldSpec("body_template", _l("Body template"), type=LONG_TEXT, max_length=4000,
                  help=_l("The request's body, with the HTTP provider's placeholders for the phone number "
                          "and the message; empty for none.")),
        FieldSpec("message_id_path", _l("Where the answer gives the message id"), max_length=200,
                  help=_l("A dotted path in the JSON answer, for example data.id.")),
    )),
)

_EMAIL = (
    KindSpec("smtp", IntegrationChannel.EMAIL, _l("SMTP server"), (
        FieldSpec("host", _l("Server"), required=True, max_length=255),
        FieldSpec("port", _l("Port"), type=NUMBER, default="587", low=1, high=65535, required=True,
                  help=_l("587 with STARTTLS, 465 with TLS from the start, 25 without.")),
        FieldSpec("username", _l("Username (optional)"), max_length=255),
        FieldSpec("password", _l("Password (optional)"), secret=True),
        FieldSpec("use_tls", _l("STARTTLS after connecting"), type=FLAG, default="true"),
        FieldSpec("use_ssl", _l("TLS from the start (SMTPS)"), type=FLAG),
        FieldSpec("from_address", _l("Sender"), type=EMAIL_ADDRESS, required=True, max_length=254,
                  help=_l("An address, or a name and an address: GreenPark <gate@greenpark.example>.")),
    )),
)


def sms_kinds() -> dict[str, KindSpec]:
    """The SMS kinds and their fields (to be built from portal.integrations.sms's registry
    once it is merged; see the module's docstring)."""
    return {kind.key: kind for kind in _SMS}


def email_kinds() -> dict[str, KindSpec]:
    return {kind.key: kind for kind in _EMAIL}


def kinds_for(channel: IntegrationChannel | str) -> dict[str, KindSpec]:
    return sms_kinds() if IntegrationChannel(channel) == IntegrationChannel.SMS else email_kinds()


def get_kind(key: str | None) -> KindSpec | None:
    return {**sms_kinds(), **email_kinds()}.get((key or "").strip().lower())


def flag(value: str | None) -> bool:
    """A FLAG value (also what `SMS_PROVIDERS` JSON gives: "True", "1"…)."""
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}
