"""A local stand-in for Flutterwave v3 Standard checkout, speaking its HTTP: for the tests
(a real server on a free port, in a thread) and for `make run` (a process of its own, so a
demo resident pays end to end with no internet). DEV mode only: `flask fake-flutterwave`
refuses to start otherwise, and production refuses a non-https FLUTTERWAVE_BASE_URL.

- `POST /v3/payments` (Bearer secret key): stores the payment, answers
  `{"status": "success", "message": "Hosted Link", "data": {"link": …}}`, a link to
- `GET /v3/hosted/pay/<token>`: the hosted page, "Pay ₦…", "Decline" (a failed payment)
  and "Cancel"; its POST redirects to `redirect_url?status=successful|failed&tx_ref=…&transaction_id=…`
  (cancelled: `status=cancelled&tx_ref=…`, no transaction) as Flutterwave does, and sends
  the `charge.completed` webhook (with `verif-hash`) to `webhook_url`, `webhook_times` times;
- `GET /v3/transactions/<id>/verify` and `GET /v3/transactions/verify_by_reference?tx_ref=`.

Tests steer it directly: `complete(tx_ref, status=, amount=, currency=)` (e.g. a payment of
the wrong amount), `send_webhook(tx_ref, times=5)`, `outage` (answer 500) and `delay_ms`.
Amounts are Decimal throughout and written as JSON numbers, as Flutterwave writes them.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from babel.numbers import is_currency
from flask import Flask, Response, abort, redirect, render_template_string, request
from werkzeug.serving import make_server

from portal.billing.documents import format_money
from portal.billing.gateway import to_minor
from portal.config import FAKE_FLUTTERWAVE_SECRET_HASH, FAKE_FLUTTERWAVE_SECRET_KEY

log = logging.getLogger(__name__)


@dataclass
class FakePayment:
    tx_ref: str
    amount: Decimal
    currency: str
    redirect_url: str
    customer: dict
    customizations: dict
    meta: dict
    token: str
    status: str = "pending"  # pending → successful | failed | cancelled
    id: int | None = None  # the transaction, once the payer tried to pay
    flw_ref: str = ""
    charged_amount: Decimal | None = None
    charged_currency: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"))

    def transaction(self) -> dict:
        """The transaction as the verify endpoints and the webhook carry it."""
        amount = self.charged_amount if self.charged_amount is not None else self.amount
        return {
            "id": self.id,
            "tx_ref": self.tx_ref,
            "flw_ref": self.flw_ref,
            "device_fingerprint": "N/A",
            "amount": amount,
            "currency": self.charged_currency or self.currency,
            "charged_amount": amount,
            "app_fee": (amount * Decimal("0.014")).quantize(Decimal("0.01")),
            "merchant_fee": 0,
            "processor_response": "Approved by Financial Institution" if self.status == "successful" else "Declined",
            "auth_model": "PIN",
            "ip": "127.0.0.1",
            "narration": "CARD Transaction ",
            "status": self.status,
            "payment_type": "card",
            "created_at": self.created_at,
            "account_id": 1,
            "meta": self.meta or None,
            "customer": {
                "id": 1000 + (self.id or 0),
                "name": self.customer.get("name", ""),
                "phone_number": self.customer.get("phonenumber", ""),
                "email": self.customer.get("email", ""),
                "created_at": self.created_at,
            },
        }


@dataclass
class WebhookDelivery:
    tx_ref: str
    status_code: int | None  # None: no answer
    error: str = ""


def dumps(value: Any) -> str:
    """JSON with Decimals written as numbers (5000, 5000.5), as Flutterwave sends amounts."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def _json(body: dict, status: int = 200) -> Response:
    return Response(dumps(body), status=status, mimetype="application/json")


def _error(message: str, status: int = 400) -> Response:
    return _json({"status": "error", "message": message, "data": None}, status)


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


class FakeFlutterwave:
    def __init__(
        self,
        *,
        secret_key: str = FAKE_FLUTTERWAVE_SECRET_KEY,
        secret_hash: str = FAKE_FLUTTERWAVE_SECRET_HASH,
        webhook_url: str | None = None,
        webhook_times: int = 1,
        webhook_timing: str = "after_redirect",  # "before_redirect" | "after_redirect" | "off"
        webhook_delay_ms: int = 300,
    ):
        self.secret_key = secret_key
        self.secret_hash = secret_hash
        self.webhook_url = webhook_url
        self.webhook_times = webhook_times
        self.webhook_timing = webhook_timing
        self.webhook_delay_ms = webhook_delay_ms
        self.payments: dict[str, FakePayment] = {}
        self.requests: list[tuple[str, str, dict | None]] = []  # (method, path, JSON body)
        self.webhooks: list[WebhookDelivery] = []
        self.outage = False  # answer every API call with a 500
        self.delay_ms = 0  # wait this long before answering an API call
        self._ids = itertools.count(7_000_001)
        self._lock = threading.RLock()
        self._threads: list[threading.Thread] = []
        self.base_url: str | None = None  # while `serve()` runs
        self.app = self._make_app()

    # --- steering (tests) -------------------------------------------------------------------

    def payment(self, tx_ref: str) -> FakePayment:
        with self._lock:
            return self.payments[tx_ref]

    def complete(self, tx_ref: str, status: str = "successful", *, amount: Decimal | None = None,
                 currency: str | None = None) -> FakePayment:
        """The payer's attempt, as if made on the hosted page, possibly of another amount or
        currency than the payment asked for."""
        with self._lock:
            payment = self.payments[tx_ref]
            if payment.id is None:
                payment.id = next(self._ids)
                payment.flw_ref = f"FLW-MOCK-{secrets.token_hex(8)}"
            payment.status = status
            payment.charged_amount = amount
            payment.charged_currency = currency or ""
            return payment

    def send_webhook(self, tx_ref: str, times: int = 1, *, verif_hash: str | None = None) -> list[WebhookDelivery]:
        """POST the charge.completed event to `webhook_url`, `times` times, now."""
        payment = self.payment(tx_ref)
        body = dumps({"event": "charge.completed", "data": payment.transaction(), "event.type": "CARD_TRANSACTION"})
        headers = {"Content-Type": "application/json", "verif-hash": self.secret_hash if verif_hash is None else verif_hash}
        deliveries = []
        for _ in range(times):
            try:
                answer = requests.post(str(self.webhook_url), data=body.encode(), headers=headers, timeout=(2, 10))
                delivery = WebhookDelivery(tx_ref, answer.status_code)
            except requests.RequestException as error:
                delivery = WebhookDelivery(tx_ref, None, type(error).__name__)
            log.info("Fake Flutterwave webhook for %s → %s", tx_ref, delivery.status_code or delivery.error)
            deliveries.append(delivery)
        with self._lock:
            self.webhooks.extend(deliveries)
        return deliveries

    def wait_for_webhooks(self, count: int, timeout_ms: int = 10_000) -> list[WebhookDelivery]:
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.webhooks) >= count:
                    break
            time.sleep(0.05)
        with self._lock:
            return list(self.webhooks)

    # --- serving ------------------------------------------------------------------------------

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve on a real port (0: a free one) in a thread; yields the base URL."""
        server = make_server(host, port, self.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-flutterwave", daemon=True)
        thread.start()
        self.base_url = f"http://{host}:{server.server_port}"
        try:
            yield self.base_url
        finally:
            self.base_url = None
            server.shutdown()
            thread.join(timeout=5)
            for webhook_thread in self._threads:
                webhook_thread.join(timeout=5)

    def serve_forever(self, host: str, port: int) -> None:
        make_server(host, port, self.app, threaded=True).serve_forever()

    # --- the HTTP side ------------------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask("fake_flutterwave")
        fake = self

        @app.before_request
        def api_gate():
            if not request.path.startswith("/v3/") or request.path.startswith("/v3/hosted/"):
                return None
            try:
                body = json.loads(request.get_data() or b"null", parse_float=Decimal)
            except ValueError:
                body = None
            with fake._lock:
                fake.requests.append((request.method, request.full_path.rstrip("?"), body))
            if fake.delay_ms:
                time.sleep(fake.delay_ms / 1000)
            if fake.outage:
                return Response("<html><body>502 Bad Gateway</body></html>", status=500, mimetype="text/html")
            if request.headers.get("Authorization") != f"Bearer {fake.secret_key}":
                return _error("Invalid authorization key", 401)
            return None

        @app.post("/v3/payments")
        def create_payment():
            try:
                body = json.loads(request.get_data() or b"null", parse_float=Decimal)
            except ValueError:
                return _error("Invalid request body")
            if not isinstance(body, dict):
                return _error("Invalid request body")
            for name in ("tx_ref", "amount", "redirect_url"):
                if not body.get(name):
                    return _error(f"{name} is required")
            customer = body.get("customer") if isinstance(body.get("customer"), dict) else {}
            if not customer.get("email"):
                return _error("customer.email is required")
            currency = str(body.get("currency") or "NGN").upper()
            if not is_currency(currency):
                return _error("Invalid currency")
            try:
                amount = Decimal(str(body["amount"]))
            except InvalidOperation:
                return _error("amount must be a number")
            if not amount.is_finite() or amount <= 0:
                return _error("amount must be greater than 0")
            tx_ref = str(body["tx_ref"])
            with fake._lock:
                existing = fake.payments.get(tx_ref)
                if existing is not None and existing.status != "pending":
                    return _error("Duplicate transaction reference: this tx_ref has been used")
                payment = FakePayment(
                    tx_ref=tx_ref, amount=amount, currency=currency, redirect_url=str(body["redirect_url"]),
                    customer=customer,
                    customizations=body.get("customizations") if isinstance(body.get("customizations"), dict) else {},
                    meta=body.get("meta") if isinstance(body.get("meta"), dict) else {},
                    token=existing.token if existing else secrets.token_urlsafe(12),
                )
                fake.payments[tx_ref] = payment
            link = f"{request.host_url.rstrip('/')}/v3/hosted/pay/{payment.token}"
            return _json({"status": "success", "message": "Hosted Link", "data": {"link": link}})

        @app.get("/v3/transactions/<transaction_id>/verify")
        def verify(transaction_id: str):
            with fake._lock:
                found = [p for p in fake.payments.values() if p.id is not None and str(p.id) == transaction_id]
                if not found:
                    return _error("No transaction was found for this id")
                return _json({"status": "success", "message": "Transaction fetched successfully",
                              "data": found[0].transaction()})

        @app.get("/v3/transactions/verify_by_reference")
        def verify_by_reference():
            with fake._lock:
                payment = fake.payments.get(request.args.get("tx_ref", ""))
                if payment is None or payment.id is None:
                    return _error("No transaction was found for this id")
                return _json({"status": "success", "message": "Transaction fetched successfully",
                              "data": payment.transaction()})

        def by_token(token: str) -> FakePayment:
            with fake._lock:
                for payment in fake.payments.values():
                    if secrets.compare_digest(payment.token, token):
                        return payment
            abort(404)

        @app.get("/v3/hosted/pay/<token>")
        def hosted_page(token: str):
            payment = by_token(token)
            return render_template_string(HOSTED_PAGE, payment=payment, amount=fake._amount_text(payment),
                                          webhook_url=fake.webhook_url)

        @app.post("/v3/hosted/pay/<token>")
        def hosted_page_submit(token: str):
            payment = by_token(token)
            action = request.form.get("action", "")
            if action == "resend-webhook" and payment.id is not None and fake.webhook_url:
                fake.send_webhook(payment.tx_ref)
                return redirect(f"/v3/hosted/pay/{token}", code=303)
            if payment.status != "pending":
                return redirect(f"/v3/hosted/pay/{token}", code=303)
            if action == "cancel":
                with fake._lock:
                    payment.status = "cancelled"
                return redirect(with_query(payment.redirect_url, {"status": "cancelled", "tx_ref": payment.tx_ref}))
            if action not in ("pay", "decline"):
                abort(400)
            fake.complete(payment.tx_ref, "successful" if action == "pay" else "failed")
            fake._webhooks_after_payment(payment.tx_ref)
            return redirect(with_query(payment.redirect_url, {
                "status": payment.status, "tx_ref": payment.tx_ref, "transaction_id": str(payment.id),
            }))

        return app

    def _amount_text(self, payment: FakePayment) -> str:
        try:
            return format_money(to_minor(payment.amount, payment.currency), payment.currency, "en")
        except ValueError:
            return f"{payment.currency} {payment.amount}"

    def _webhooks_after_payment(self, tx_ref: str) -> None:
        if not self.webhook_url or self.webhook_timing == "off":
            return
        if self.webhook_timing == "before_redirect":
            self.send_webhook(tx_ref, self.webhook_times)
            return

        def later():
            time.sleep(self.webhook_delay_ms / 1000)
            self.send_webhook(tx_ref, self.webhook_times)

        thread = threading.Thread(target=later, name="fake-flutterwave-webhook", daemon=True)
        self._threads.append(thread)
        thread.start()


HOSTED_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flutterwave checkout (fake)</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f5f5f5; margin: 0; color: #12122c; }
  .banner { background: #fff4d6; color: #6b4e00; padding: .5rem 1rem; font-size: .85rem; text-align: center; }
  main { max-width: 26rem; margin: 1.5rem auto; background: #fff; border-radius: 12px; padding: 1.5rem;
         box-shadow: 0 2px 12px rgba(0,0,0,.08); }
  h1 { font-size: 1.1rem; margin: 0 0 .25rem; }
  .amount { font-size: 2rem; font-weight: 700; margin: 1rem 0 .25rem; }
  .muted { color: #5f6b7a; font-size: .9rem; margin: .25rem 0; }
  form { margin: 0; }
  button { display: block; width: 100%; font-size: 1rem; padding: .85rem; margin-top: .75rem; border-radius: 8px;
           border: 1px solid #d0d5dd; background: #fff; cursor: pointer; }
  button.pay { background: #f5a623; border-color: #f5a623; color: #12122c; font-weight: 700; }
  .status { font-size: 1.1rem; font-weight: 700; margin-top: 1rem; }
  img { max-height: 48px; }
  @media (max-width: 28rem) { main { margin: 1rem .75rem; } }
</style>
</head>
<body>
<div class="banner">Fake Flutterwave for development: no money moves.</div>
<main>
  {% if payment.customizations.logo %}<img src="{{ payment.customizations.logo }}" alt="">{% endif %}
  <h1>{{ payment.customizations.title or "Payment" }}</h1>
  {% if payment.customizations.description %}<p class="muted">{{ payment.customizations.description }}</p>{% endif %}
  <p class="amount">{{ amount }}</p>
  <p class="muted">{{ payment.customer.email }}</p>
  <p class="muted">Ref: {{ payment.tx_ref }}</p>
  {% if payment.status == "pending" %}
  <form method="post">
    <button class="pay" name="action" value="pay">Pay {{ amount }}</button>
    <button name="action" value="decline">Decline (a failed payment)</button>
    <button name="action" value="cancel">Cancel</button>
  </form>
  {% else %}
  <p class="status">This payment is {{ payment.status }}.</p>
  {% if payment.id and webhook_url %}
  <form method="post"><button name="action" value="resend-webhook">Send the webhook again</button></form>
  {% endif %}
  {% endif %}
</main>
</body>
</html>
"""
