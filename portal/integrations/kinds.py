"""The kinds of provider a channel can use, and the fields each kind's settings have (for
the settings pages, their checks, and what is secret).

`sms_kinds()` is the SMS half, read from the SMS clients' own registry
(portal.integrations.sms.sms_kinds: each kind's fields, labels, secrets, defaults), with
how each field is checked added here (`_SMS_FIELD_TYPES`). The pages, the checks
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


# How the SMS clients' fields (portal.integrations.sms.sms_kinds) are read and checked here.
_SMS_FIELD_TYPES = {
    "base_url": {"type": URL, "max_length": 500},
    "url": {"max_length": 500},  # may hold {to}, {text}, {sender}: not checked as a plain URL
    "method": {"type": CHOICE, "choices": ("POST", "GET", "PUT")},
    "headers": {"max_length": 4000},
    "body": {"type": LONG_TEXT, "max_length": 4000},
    "sender_id": {"max_length": 11},
    "from_number": {"type": PHONE, "max_length": 30},
    "account_sid": {"max_length": 34},
}


def _sms_spec(kind) -> KindSpec:
    fields = tuple(
        FieldSpec(f.name, f.label, secret=f.secret, required=f.required, default=f.default, help=f.help or None,
                  **_SMS_FIELD_TYPES.get(f.name, {}))
        for f in kind.fields)
    return KindSpec(kind.kind, IntegrationChannel.SMS, kind.label, fields)


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
    """The SMS kinds and their fields: the SMS clients' registry, read as FieldSpecs."""
    # Imported here: the SMS package imports settings, which imports this module.
    from portal.integrations.sms import sms_kinds as clients

    return {key: _sms_spec(kind) for key, kind in clients().items()}


def email_kinds() -> dict[str, KindSpec]:
    return {kind.key: kind for kind in _EMAIL}


def kinds_for(channel: IntegrationChannel | str) -> dict[str, KindSpec]:
    return sms_kinds() if IntegrationChannel(channel) == IntegrationChannel.SMS else email_kinds()


def get_kind(key: str | None) -> KindSpec | None:
    return {**sms_kinds(), **email_kinds()}.get((key or "").strip().lower())


def flag(value: str | None) -> bool:
    """A FLAG value (also what `SMS_PROVIDERS` JSON gives: "True", "1"…)."""
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}
