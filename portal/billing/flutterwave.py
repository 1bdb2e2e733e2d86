"""Flutterwave v3 Standard checkout: a small typed client over its HTTP API, and the
`PaymentGateway` built on it.

- Create a payment: `POST {base}/v3/payments` (tx_ref, amount, currency, redirect_url,
  customer{email, name, phonenumber}, customizations{title, description, logo}, meta)
  → `data.link`, Flutterwave's hosted page.
- Verify: `GET {base}/v3/transactions/{id}/verify`, or
  `GET {base}/v3/transactions/verify_by_reference?tx_ref=…` → `data{id, tx_ref, flw_ref,
  amount, currency, charged_amount, status, customer…}`.
- Webhook: Flutterwave POSTs `{"event": "charge.completed", "data": {…}}` with the secret
  hash set on its dashboard in the `verif-hash` header (compared in constant time).

Every call sends `Authorization: Bearer <secret key>`, has connect and read timeouts, and
turns every failure into a `GatewayError` (portal.billing.gateway). Amounts are decimal on
Flutterwave's side and integer minor units on ours; JSON numbers are read as Decimal.
Not the `rave-python` package: it speaks the v2 API, charges cards directly (card data
would pass through our servers) and reports to a third-party endpoint.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, NotRequired, TypedDict

import requests
from flask import current_app

from portal.billing.gateway import (
    CheckoutLink,
    CheckoutRequest,
    GatewayError,
    GatewayNotConfigured,
    GatewayUnavailable,
    PaymentStatus,
    TransactionNotFound,
    Verification,
    WebhookEvent,
    WebhookRejected,
    currency_exponent,
    to_decimal,
    to_minor,
)

log = logging.getLogger(__name__)

PRODUCTION_BASE_URL = "https://api.flutterwave.com"
WEBHOOK_HEADER = "verif-hash"
_TRANSACTION_ID = re.compile(r"[0-9]{1,20}")
_MAX_TX_REF = 100
STATUSES = {
    "successful": PaymentStatus.SUCCESSFUL,
    "failed": PaymentStatus.FAILED,
    "error": PaymentStatus.FAILED,
    "cancelled": PaymentStatus.CANCELLED,
    "pending": PaymentStatus.PENDING,
}


# --- Flutterwave's JSON, as types -------------------------------------------------------------


class PaymentCustomer(TypedDict):
    email: str
    name: NotRequired[str]
    phonenumber: NotRequired[str]


class PaymentCustomizations(TypedDict, total=False):
    title: str
    description: str
    logo: str


class PaymentPayload(TypedDict):
    """The body of POST /v3/payments. `amount` is a decimal string ("5000.00")."""

    tx_ref: str
    amount: str
    currency: str
    redirect_url: str
    customer: PaymentCustomer
    customizations: NotRequired[PaymentCustomizations]
    meta: NotRequired[dict[str, str]]


class TransactionCustomer(TypedDict, total=False):
    id: int
    name: str
    email: str
    phone_number: str


class Transaction(TypedDict):
    """`data` of the verify endpoints and of a `charge.completed` webhook (the fields we read;
    Flutterwave sends more: app_fee, processor_response, payment_type, card…)."""

    id: int
    tx_ref: str
    flw_ref: NotRequired[str]
    amount: Decimal | int | str
    currency: str
    charged_amount: NotRequired[Decimal | int | str]
    status: str
    customer: NotRequired[TransactionCustomer]
    created_at: NotRequired[str]


@dataclass(frozen=True)
class FlutterwaveConfig:
    base_url: str
    secret_key: str
    public_key: str = ""
    secret_hash: str = ""
    connect_timeout: int = 5  # seconds
    read_timeout: int = 20  # seconds

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> FlutterwaveConfig:
        return cls(
            base_url=str(config.get("FLUTTERWAVE_BASE_URL") or PRODUCTION_BASE_URL),
            secret_key=str(config.get("FLUTTERWAVE_SECRET_KEY") or ""),
            public_key=str(config.get("FLUTTERWAVE_PUBLIC_KEY") or ""),
            secret_hash=str(config.get("FLUTTERWAVE_SECRET_HASH") or ""),
            read_timeout=int(config.get("FLUTTERWAVE_TIMEOUT") or 20),
        )

    @property
    def api_root(self) -> str:
        """`{base}/v3`, whether the base was given with or without its `/v3`."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/v3") else f"{base}/v3"


def _loads(content: bytes) -> Any:
    """JSON with every number that has a fraction or exponent read as Decimal, never float."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number we accept")

    return json.loads(content, parse_float=Decimal, parse_constant=no_constants)


class FlutterwaveClient:
    """The HTTP calls, one method each; answers are Flutterwave's own `data` objects."""

    def __init__(self, config: FlutterwaveConfig):
        self.config = config

    def create_payment(self, payload: PaymentPayload) -> str:
        """The hosted payment page's URL (`data.link`)."""
        answer = self._call("POST", "/payments", json_body=payload)
        data = answer.get("data")
        link = data.get("link") if isinstance(data, dict) else None
        if not isinstance(link, str) or not link.startswith(("https://", "http://")):
            raise GatewayUnavailable("create payment: no link in the answer")
        return link

    def verify_transaction(self, transaction_id: str) -> Transaction:
        if not _TRANSACTION_ID.fullmatch(transaction_id or ""):
            raise TransactionNotFound(f"not a Flutterwave transaction id: {transaction_id!r}")
        return self._transaction(self._call("GET", f"/transactions/{transaction_id}/verify", verifying=True))

    def verify_by_reference(self, tx_ref: str) -> Transaction:
        if not tx_ref or len(tx_ref) > _MAX_TX_REF:
            raise TransactionNotFound(f"not a transaction reference: {tx_ref!r}")
        answer = self._call("GET", "/transactions/verify_by_reference", params={"tx_ref": tx_ref}, verifying=True)
        return self._transaction(answer)

    @staticmethod
    def _transaction(answer: dict) -> Transaction:
        data = answer.get("data")
        if not isinstance(data, dict) or not all(key in data for key in ("id", "tx_ref", "amount", "currency", "status")):
            raise GatewayUnavailable("verify: the answer holds no transaction")
        return data  # type: ignore[return-value]

    def _call(self, method: str, path: str, *, params: dict | None = None, json_body: Mapping | None = None,
              verifying: bool = False) -> dict:
        if not self.config.secret_key:
            raise GatewayNotConfigured("FLUTTERWAVE_SECRET_KEY is not set")
        url = f"{self.config.api_root}{path}"
        try:
            response = requests.request(
                method, url, params=params, json=json_body,
                headers={"Authorization": f"Bearer {self.config.secret_key}", "Accept": "application/json"},
                timeout=(self.config.connect_timeout, self.config.read_timeout),
                allow_redirects=False,
            )
        except requests.Timeout as error:
            raise GatewayUnavailable(f"{method} {path}: no answer in time") from error
        except requests.RequestException as error:
            raise GatewayUnavailable(f"{method} {path}: {type(error).__name__}") from error
        try:
            answer = _loads(response.content)
        except ValueError:
            answer = None
        message = str(answer.get("message", ""))[:300] if isinstance(answer, dict) else ""
        if response.status_code >= 500 or not isinstance(answer, dict):
            raise GatewayUnavailable(f"{method} {path}: HTTP {response.status_code} {message}".strip())
        if response.status_code in (401, 403):
            log.error("Flutterwave refused our secret key (%s %s): %s", method, path, message)
            raise GatewayError(f"{method} {path}: authorization refused: {message}")
        if response.status_code >= 400 or answer.get("status") != "success":
            if verifying:
                raise TransactionNotFound(f"{method} {path}: HTTP {response.status_code} {message}")
            raise GatewayError(f"{method} {path}: HTTP {response.status_code} {message}")
        return answer


class FlutterwaveGateway:
    """`PaymentGateway` for Flutterwave v3 Standard checkout."""

    name = "flutterwave"

    def __init__(self, config: FlutterwaveConfig):
        self.config = config
        self.client = FlutterwaveClient(config)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> FlutterwaveGateway:
        return cls(FlutterwaveConfig.from_mapping(current_app.config if config is None else config))

    def create_checkout(self, request: CheckoutRequest) -> CheckoutLink:
        payload = payment_payload(request)
        return CheckoutLink(url=self.client.create_payment(payload), tx_ref=request.tx_ref)

    def verify(self, *, transaction_id: str | None = None, tx_ref: str | None = None) -> Verification:
        if (transaction_id is None) == (tx_ref is None):
            raise TypeError("verify() takes transaction_id or tx_ref, one of them")
        if transaction_id is not None:
            transaction = self.client.verify_transaction(str(transaction_id))
        else:
            transaction = self.client.verify_by_reference(str(tx_ref))
        return verification(transaction)

    def check_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """The event, if `verif-hash` equals our secret hash (constant-time); else
        WebhookRejected (401). A body that is not a v3 event: WebhookRejected (400)."""
        expected = self.config.secret_hash
        given = header(headers, WEBHOOK_HEADER)
        if not expected:
            raise WebhookRejected("FLUTTERWAVE_SECRET_HASH is not set: every webhook is refused")
        if given is None:
            raise WebhookRejected("no verif-hash header")
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            raise WebhookRejected("wrong verif-hash")
        try:
            event = _loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise WebhookRejected("body is not JSON", http_status=400) from error
        data = event.get("data") if isinstance(event, dict) else None
        if not isinstance(data, dict) or not isinstance(event.get("event"), str) or "id" not in data:
            raise WebhookRejected("not a Flutterwave v3 event", http_status=400)
        return WebhookEvent(
            kind=event["event"],
            tx_ref=str(data.get("tx_ref") or ""),
            provider_transaction_id=str(data["id"]),
            reported_status=STATUSES.get(str(data.get("status", "")).lower(), PaymentStatus.PENDING),
            raw=event,
        )


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (werkzeug's Headers, or a plain dict)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, item in headers.items():
        if key.lower() == lowered:
            return item
    return None


def payment_payload(request: CheckoutRequest) -> PaymentPayload:
    customer: PaymentCustomer = {"email": request.customer.email}
    if request.customer.name:
        customer["name"] = request.customer.name
    if request.customer.phone:
        customer["phonenumber"] = request.customer.phone
    customizations: PaymentCustomizations = {"title": request.title}
    if request.description:
        customizations["description"] = request.description
    if request.logo_url:
        customizations["logo"] = request.logo_url
    payload: PaymentPayload = {
        "tx_ref": request.tx_ref,
        "amount": str(to_decimal(request.amount_minor, request.currency)),
        "currency": request.currency.upper(),
        "redirect_url": request.redirect_url,
        "customer": customer,
        "customizations": customizations,
    }
    if request.meta:
        payload["meta"] = {str(key): str(value) for key, value in request.meta.items()}
    return payload


def verification(transaction: Transaction) -> Verification:
    """Flutterwave's transaction as a `Verification`. The amount is `amount` (what the payer
    was charged for, fees aside), cut down to whole minor units if it ever has more places."""
    currency = str(transaction["currency"]).upper()
    try:
        exponent = currency_exponent(currency)
        amount = Decimal(str(transaction["amount"])).quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_DOWN)
        amount_minor = to_minor(amount, currency)
    except (ValueError, ArithmeticError) as error:
        raise GatewayUnavailable(f"verify: unreadable amount {transaction['amount']!r} {currency}") from error
    return Verification(
        status=STATUSES.get(str(transaction["status"]).lower(), PaymentStatus.PENDING),
        amount_minor=amount_minor,
        currency=currency,
        tx_ref=str(transaction["tx_ref"]),
        provider_transaction_id=str(transaction["id"]),
        raw=dict(transaction),
    )
