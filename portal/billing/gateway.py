"""The payment-gateway seam: what billing asks of a hosted-checkout provider (Flutterwave
today; Paystack or Stripe later), in integer minor units.

Billing calls three things, through `gateway_for(estate)`:

- `create_checkout(CheckoutRequest)` → `CheckoutLink(url, tx_ref)`: send the payer to `url`.
- `verify(transaction_id=… | tx_ref=…)` → `Verification`: what the provider itself says
  about a transaction. The redirect back and the webhook only *tell* us to look; a payment
  is applied only after `confirm_payment(verification, tx_ref=…, currency=…, amount_minor=…)`
  agrees (status successful, same tx_ref, same currency, amount ≥ the amount asked).
- `check_webhook(headers, body)` → `WebhookEvent`, or `WebhookRejected` (wrong or missing
  secret: 401, nothing changed) — the event's contents are not trusted either: verify.

Money crosses this seam as integers of the currency's minor unit (kobo, centavos); a
provider that speaks decimal amounts converts with `to_decimal` / `to_minor` (Decimal and
the currency's exponent, never float).
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from babel.numbers import UnknownCurrencyError, get_currency_precision, is_currency
from flask_babel import lazy_gettext as _l

from portal.errors import DomainError

if TYPE_CHECKING:
    from portal.models import Estate


# --- Money: minor units <-> the provider's decimal amounts --------------------------------


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point in `currency` (NGN 2, GTQ 2, UGX 0, KWD 3), from CLDR
    through Babel. An unknown code is a ValueError."""
    code = (currency or "").upper()
    if not is_currency(code):
        raise ValueError(f"unknown currency {currency!r}")
    try:
        return get_currency_precision(code)
    except UnknownCurrencyError as error:  # pragma: no cover - is_currency said yes
        raise ValueError(f"unknown currency {currency!r}") from error


def to_decimal(amount_minor: int, currency: str) -> Decimal:
    """500000 kobo → Decimal('5000.00') (as many places as the currency has)."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"amounts in minor units are int, not {type(amount_minor).__name__}")
    exponent = currency_exponent(currency)
    return Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """Decimal('5000.5') NGN → 500050. A provider's amount as Decimal, int or numeric string;
    a float is refused (TypeError), and so is an amount finer than the currency's minor unit
    or not a finite number (ValueError)."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str):
        raise TypeError(f"amounts are Decimal, int or str, not {type(amount).__name__}")
    try:
        value = Decimal(amount.strip() if isinstance(amount, str) else amount)
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {amount!r}") from error
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    scaled = value.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount!r} is finer than the minor unit of {currency}")
    return int(scaled)


# --- What billing gives and gets -----------------------------------------------------------


class PaymentStatus(enum.StrEnum):
    SUCCESSFUL = "SUCCESSFUL"
    PENDING = "PENDING"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Customer:
    email: str
    name: str = ""
    phone: str = ""  # E.164


@dataclass(frozen=True)
class CheckoutRequest:
    """One hosted checkout: `tx_ref` is ours, unique for every attempt (see `new_tx_ref`)."""

    tx_ref: str
    amount_minor: int
    currency: str
    redirect_url: str  # where the provider sends the payer back (absolute URL)
    customer: Customer
    title: str  # shown on the provider's page: the estate's name
    description: str = ""  # e.g. "Invoice GP-2026-000123"
    logo_url: str | None = None  # absolute https URL, or None
    meta: Mapping[str, str] = field(default_factory=dict)  # echoed back by the provider

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise TypeError("amount_minor must be an int")
        if self.amount_minor <= 0:
            raise ValueError("amount_minor must be positive")
        if not self.tx_ref:
            raise ValueError("tx_ref is required")


@dataclass(frozen=True)
class CheckoutLink:
    """Where to send the payer. Not as the answer to a form POST: the portal's CSP says
    `form-action 'self'`, and browsers block a form submission redirected to another origin.
    Answer the POST with `HX-Redirect`, or redirect to a portal page that links to `url`."""

    url: str
    tx_ref: str


@dataclass(frozen=True)
class Verification:
    """A transaction as the provider reports it when asked (never as the payer's browser or a
    webhook says). `raw` is the provider's own record, for the payment's audit trail."""

    status: PaymentStatus
    amount_minor: int
    currency: str
    tx_ref: str
    provider_transaction_id: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class WebhookEvent:
    """A notification whose secret was right. Its contents are only a hint: verify
    `provider_transaction_id` (or `tx_ref`) before applying anything."""

    kind: str  # the provider's event name, e.g. "charge.completed"
    tx_ref: str
    provider_transaction_id: str
    reported_status: PaymentStatus
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


# --- Errors ---------------------------------------------------------------------------------


class GatewayError(DomainError):
    """The payment provider could not do what was asked. `detail` is the provider's own words
    (for logs and the audit trail, not for people)."""

    code = "PAYMENT_GATEWAY_ERROR"
    http_status = 502

    def __init__(self, detail: str = "", message=None):
        super().__init__(message)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code

    def default_message(self):
        return _l("The payment service refused the request. Nothing was charged; please try again later.")


class GatewayUnavailable(GatewayError):
    """No usable answer (connection refused, timeout, 5xx, not JSON): try again later."""

    code = "PAYMENT_GATEWAY_UNAVAILABLE"
    http_status = 503

    def default_message(self):
        return _l("The payment service cannot be reached right now. Please try again in a few minutes.")


class GatewayNotConfigured(GatewayError):
    code = "PAYMENT_GATEWAY_NOT_CONFIGURED"
    http_status = 503

    def default_message(self):
        return _l("Online payment is not set up for this estate yet. Please pay the estate office another way.")


class TransactionNotFound(GatewayError):
    code = "PAYMENT_NOT_FOUND"
    http_status = 404

    def default_message(self):
        return _l("The payment service has no record of this payment.")


class WebhookRejected(GatewayError):
    """A webhook we will not act on: wrong or missing secret (401), or an unreadable body (400)."""

    code = "WEBHOOK_REJECTED"
    http_status = 401

    def __init__(self, detail: str = "", http_status: int = 401):
        super().__init__(detail)
        self.http_status = http_status

    def default_message(self):
        return _l("This notification was refused.")


class PaymentNotConfirmed(GatewayError):
    """The provider's record does not show the payment we asked for. `reason` is one of
    "status", "tx_ref", "currency", "amount"."""

    code = "PAYMENT_NOT_CONFIRMED"
    http_status = 409

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason

    def default_message(self):
        return _l("The payment service did not confirm this payment, so nothing was marked as paid.")


# --- The interface ----------------------------------------------------------------------------


@runtime_checkable
class PaymentGateway(Protocol):
    name: str  # "flutterwave"

    def create_checkout(self, request: CheckoutRequest) -> CheckoutLink: ...

    def verify(self, *, transaction_id: str | None = None, tx_ref: str | None = None) -> Verification: ...

    def check_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent: ...


def confirm_payment(verification: Verification, *, tx_ref: str, currency: str, amount_minor: int) -> int:
    """The amount (minor units) to apply, once the provider's record shows a successful payment
    for `tx_ref` in `currency` of at least `amount_minor` (the amount the checkout asked for; a
    larger payment is accepted whole). Otherwise PaymentNotConfirmed with the reason."""
    if verification.status != PaymentStatus.SUCCESSFUL:
        raise PaymentNotConfirmed("status", f"status {verification.status}")
    if verification.tx_ref != tx_ref:
        raise PaymentNotConfirmed("tx_ref", f"tx_ref {verification.tx_ref!r} is not {tx_ref!r}")
    if verification.currency.upper() != currency.upper():
        raise PaymentNotConfirmed("currency", f"currency {verification.currency} is not {currency}")
    if verification.amount_minor < amount_minor:
        raise PaymentNotConfirmed("amount", f"amount {verification.amount_minor} < {amount_minor}")
    return verification.amount_minor


_SLUG_CHARS = re.compile(r"[^A-Za-z0-9]+")


def new_tx_ref(prefix: str = "GH") -> str:
    """A fresh transaction reference, unique for every checkout attempt: `GH-GREENPARK-<20 hex>`
    (letters, digits and dashes only; up to ~50 characters)."""
    clean = _SLUG_CHARS.sub("-", prefix).strip("-").upper()[:24] or "GH"
    return f"{clean}-{secrets.token_hex(10)}"


def gateway_for(estate: Estate | None) -> PaymentGateway:
    """The gateway that takes payments for `estate` (None: platform-wide, e.g. a webhook before
    its payment is found). Today Flutterwave, with the keys from configuration: the estate's
    own (FLUTTERWAVE_ESTATES[slug]: secret_key, secret_hash, public_key, base_url) where it
    has them, else the platform's (FLUTTERWAVE_*)."""
    from flask import current_app

    from portal.billing.flutterwave import FlutterwaveGateway

    config = current_app.config
    own = (config.get("FLUTTERWAVE_ESTATES") or {}).get(estate.slug) if estate is not None else None
    if not own:
        return FlutterwaveGateway.from_config(config)
    return FlutterwaveGateway.from_config({**config, **{f"FLUTTERWAVE_{key.upper()}": value
                                                        for key, value in own.items() if value}})
