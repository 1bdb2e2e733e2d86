"""Notifications from payment providers: `POST /webhooks/flutterwave` (no sign-in, no CSRF
token: the provider's secret hash in `verif-hash` is checked instead, in constant time).

A wrong or missing hash gets 401 and changes nothing; an unreadable body 400. Otherwise the
transaction is verified with Flutterwave and applied once (portal.billing.checkout), and the
answer is 200 — also for a payment we do not know, so the provider stops retrying. A provider
we cannot reach to verify gets 503: Flutterwave retries later.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from portal.billing import checkout
from portal.billing.gateway import GatewayError, PaymentNotConfirmed, WebhookRejected
from portal.extensions import csrf

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)

MAX_BODY = 64 * 1024


@bp.post("/webhooks/flutterwave")
def flutterwave_webhook():
    body = request.get_data(cache=False)[:MAX_BODY + 1]
    if len(body) > MAX_BODY:
        return jsonify(received=False), 413
    try:
        outcome = checkout.handle_webhook(request.headers, body)
    except WebhookRejected as exc:
        log.warning("Flutterwave webhook refused: %s", exc.detail)
        return jsonify(received=False), exc.http_status
    except PaymentNotConfirmed as exc:
        log.warning("Flutterwave webhook names another payment's transaction: %s", exc.detail)
        return jsonify(received=True, applied=False)
    except GatewayError as exc:
        log.warning("Flutterwave webhook could not be verified now: %s", exc)
        return jsonify(received=False), 503
    return jsonify(received=True, status=outcome.value if outcome else "UNKNOWN")
