"""How each kind of link of portal/links.py is made: `url_for` on the web layer's
endpoints. In-app links are paths; links sent to people are absolute, on the request's
host, or outside a request on PUBLIC_BASE_URL (else SERVER_NAME, else localhost)."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, url_for

from portal import links


def _url(endpoint: str, external: bool = False, **values) -> str:
    if has_request_context():
        return url_for(endpoint, _external=external, **values)
    config = current_app.config
    base = urlsplit(config.get("PUBLIC_BASE_URL")
                    or f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config.get('SERVER_NAME') or 'localhost'}")
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=external)


@functools.lru_cache(maxsize=1024)
def _visit_path(script_root: str, estate_slug: str) -> tuple[str, str]:
    """A resident's visit page as the text around its id (every gate entry makes one)."""
    marker = "987654321"
    head, _, tail = url_for("resident.visit_detail", estate_slug=estate_slug, visit_id=int(marker)).rpartition(marker)
    return head, tail


def visit_for_resident(estate, visit_id: int) -> str:
    if not has_request_context():
        return _url("resident.visit_detail", estate_slug=estate.slug, visit_id=visit_id)
    head, tail = _visit_path(request.script_root, estate.slug)
    return f"{head}{visit_id}{tail}"


def absolute(endpoint: str, **values) -> str:
    """An absolute URL of the portal, in a request or outside one (an email's footer)."""
    return _url(endpoint, external=True, **values)


def init_app(app: Flask) -> None:
    links.register(
        app,
        visit_for_resident=visit_for_resident,
        walk_in_for_resident=lambda estate, walk_in_id: _url("resident.walkin_detail", estate_slug=estate.slug,
                                                             walk_in_id=walk_in_id),
        gate_home=lambda estate: _url("gate.home", estate_slug=estate.slug),
        member_for_admin=lambda estate, user_id: _url("admin.members_detail", estate_slug=estate.slug,
                                                      user_id=user_id),
        bills_for_resident=lambda estate: _url("resident.bills_list", estate_slug=estate.slug),
        receipt_for_resident=lambda estate, payment_id: _url("resident.receipt_detail", estate_slug=estate.slug,
                                                             payment_id=payment_id),
        booking_for_resident=lambda estate, booking_id: _url("resident.booking_detail", estate_slug=estate.slug,
                                                             booking_id=booking_id),
        payment_return=lambda estate, payment_id: _url("resident.pay_return", external=True, estate_slug=estate.slug,
                                                       payment_id=payment_id),
        invitation=lambda token: _url("onboarding.invitation_accept", external=True, token=token),
        password_reset=lambda token: _url("auth.password_reset", external=True, token=token),
        sign_in=lambda: _url("auth.login", external=True),
    )
