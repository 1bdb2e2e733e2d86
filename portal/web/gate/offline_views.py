"""The gate page when the network drops (session-authenticated, for the guard's tablet):

- GET  offline/bootstrap  what the page keeps for deciding offline (portal.gate.offline),
  the strings of its offline answers, and a fresh CSRF token for the next sync;
- POST offline/sync       the scans recorded offline, replayed with the guard as actor
  (JSON body, CSRF token in the X-CSRFToken header);
- GET  sw.js              the service worker that keeps the gate page and its assets in
  the browser's cache, so a reload without network still shows the page.

Device binding applies as to every gate request (portal/gate/device.py). The kiosk API
exposes the same service functions with bearer tokens at /api/v1/offline/*."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app, g, jsonify, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal.accounts import devices
from portal.errors import DomainError
from portal.gate import offline
from portal.gate.service import (
    CODE_CHARACTERS,
    CODE_CONFUSABLE,
    CODE_EMPTY,
    CODE_LENGTH_HINT,
    DEFAULT_GATE,
)
from portal.models import utcnow
from portal.visits.rules import REFUSAL_MESSAGES
from portal.web.gate import bp
from portal.web.gate.device_views import COOKIE, HEADER

# What the gate page needs to show itself without network (besides the page itself).
SHELL_ASSETS = (
    "vendor/pico-2.1.1/pico.min.css",
    "css/app.css",
    "vendor/htmx-2.0.11/htmx.min.js",
    "js/app.js",
    "js/gate-device.js",
    "js/gate-offline.js",
    "js/gate-scanner.js",
    "vendor/jsqr-1.4.0/jsQR.js",
)
SW_GENERATION = "1"  # bump to force every gate device to drop its cached copy
BAD_BODY = _l("Send a JSON object with a list of items.")
_asset_digest: dict[str, str] = {}


def code_hints() -> dict[str, str]:
    """The hints about a typed code's shape, with {code} and {count} for the page's script."""
    return {"empty": str(CODE_EMPTY), "characters": CODE_CHARACTERS % {"code": "{code}"},
            "length": (CODE_LENGTH_HINT % {"code": "{code}", "count": 99}).replace("99", "{count}"),
            "confusable": CODE_CONFUSABLE % {"code": "{code}"}}


@bp.context_processor
def offline_labels() -> dict:
    """The refusal reasons and the hints about a typed code's shape, for the offline
    verdicts the page decides itself."""
    return {"OFFLINE_REFUSALS": REFUSAL_MESSAGES, "code_hints": code_hints}


def _device_id() -> str | None:
    return devices.clean_device_id(request.headers.get(HEADER) or request.cookies.get(COOKIE))


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offline/bootstrap")
def offline_bootstrap():
    """The passes, bans, residents and inside-now this gate needs to decide offline, and
    the translated strings of the offline answers (gate/_offline_strings.html)."""
    data = offline.bootstrap(g.estate, utcnow(), _device_id())
    return _no_store(jsonify(data=data, csrf_token=generate_csrf(), gate=session.get("gate_name") or DEFAULT_GATE,
                             lang=str(get_locale()), strings=render_template("gate/_offline_strings.html")))


@bp.post("/offline/sync")
def offline_sync():
    """Replay the scans this device recorded offline; one answer per item."""
    body = request.get_json(silent=True)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return _no_store(jsonify(error={"code": offline.VALIDATION_ERROR, "message": str(BAD_BODY)})), 422
    try:
        results = offline.sync(current_user, g.estate, _device_id(), session.get("gate_name") or DEFAULT_GATE,
                               items, utcnow())
    except DomainError as exc:
        return _no_store(jsonify(error={"code": exc.code, "message": str(exc.message)})), exc.http_status
    return _no_store(jsonify(results=results))


def _assets() -> list[str]:
    folder = Path(current_app.static_folder or "")
    return [name for name in SHELL_ASSETS if (folder / name).is_file()]


def _assets_version() -> str:
    """A digest of the cached assets' contents, so the worker (and its cache name)
    changes whenever one of them does."""
    key = current_app.static_folder or ""
    if current_app.debug or key not in _asset_digest:
        digest = hashlib.sha256(SW_GENERATION.encode())
        for name in _assets():
            digest.update((Path(key) / name).read_bytes())
        _asset_digest[key] = digest.hexdigest()[:12]
    return _asset_digest[key]


@bp.get("/sw.js")
def offline_service_worker():
    """The gate page's service worker; its scope is this estate's gate pages."""
    body = render_template(
        "gate/sw.js",
        cache_name=f"gatehouse-gate-{g.estate.slug}-{_assets_version()}",
        cache_prefix=f"gatehouse-gate-{g.estate.slug}-",
        shell=url_for("gate.home"),
        assets=[url_for("static", filename=name) for name in _assets()],
    )
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response
