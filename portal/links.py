"""Links into the portal, for services that put one in a message or a notification.

Services never build portal URLs: the URL map belongs to the web layer. A service asks for
a named kind of link here — `links.visit_for_resident(estate, visit_id)` — and the web
layer registers how each kind is made (with `url_for`) when the app starts, in
portal/web/links.py. This is the only way services get links; none takes a link or a
link-making callable as an argument.

Two sorts of link:
- in-app links (`visit_for_resident`, `walk_in_for_resident`, `gate_home`, `member_for_admin`, `bills_for_resident`) are paths inside
  the portal ("/e/greenpark/home/visits/7"): a notification stores one, the bell opens it,
  and its email/SMS copy puts PUBLIC_BASE_URL in front (portal/notifications);
- links sent to people (`invitation`, `password_reset`, `sign_in`) are absolute URLs: on
  the request's host during a request, else on PUBLIC_BASE_URL (or SERVER_NAME).

Each app keeps its own registrations (`app.extensions["portal.links"]`); asking for a kind
nobody registered raises LookupError.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from portal.models import Estate

KINDS = ("visit_for_resident", "walk_in_for_resident", "gate_home", "member_for_admin", "bills_for_resident",
         "receipt_for_resident", "booking_for_resident", "payment_return", "invitation", "password_reset", "sign_in")
_KEY = "portal.links"


def register(app: Flask, **makers: Callable[..., str]) -> None:
    """Say how to make each kind of link (the web layer, at app start)."""
    unknown = set(makers) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown link kinds: {sorted(unknown)}")
    app.extensions.setdefault(_KEY, {}).update(makers)


def _make(kind: str, *args) -> str:
    maker = current_app.extensions.get(_KEY, {}).get(kind)
    if maker is None:
        raise LookupError(f"no link registered for {kind!r} (portal.web registers them at app start)")
    return maker(*args)


def visit_for_resident(estate: Estate, visit_id: int) -> str:
    """In-app: the host's page of one visit."""
    return _make("visit_for_resident", estate, visit_id)


def walk_in_for_resident(estate: Estate, walk_in_id: int) -> str:
    """In-app: a resident's page of one walk-in, to approve or decline it."""
    return _make("walk_in_for_resident", estate, walk_in_id)


def bills_for_resident(estate: Estate) -> str:
    """In-app: a resident's list of bills (invoice notices point there)."""
    return _make("bills_for_resident", estate)


def receipt_for_resident(estate: Estate, payment_id: int) -> str:
    """In-app: a resident's receipt of one payment (the "payment received" notice points there)."""
    return _make("receipt_for_resident", estate, payment_id)


def booking_for_resident(estate: Estate, booking_id: int) -> str:
    """In-app: a resident's page of one booking (the "booking decided" message points there)."""
    return _make("booking_for_resident", estate, booking_id)


def payment_return(estate: Estate, payment_id: int) -> str:
    """Absolute: where the payment provider sends the payer back after its hosted checkout."""
    return _make("payment_return", estate, payment_id)


def gate_home(estate: Estate) -> str:
    """In-app: the guard's gate page."""
    return _make("gate_home", estate)


def member_for_admin(estate: Estate, user_id: int) -> str:
    """In-app: the estate admin's page of one member (a guard's device, roles, account)."""
    return _make("member_for_admin", estate, user_id)


def invitation(token: str) -> str:
    """Absolute: where an invited person accepts their invitation."""
    return _make("invitation", token)


def password_reset(token: str) -> str:
    """Absolute: where a person chooses a new password."""
    return _make("password_reset", token)


def sign_in() -> str:
    """Absolute: the sign-in page (e.g. in the message that a join request was approved)."""
    return _make("sign_in")
