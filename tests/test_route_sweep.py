"""Tenancy and roles, swept over the URL map: a new route is covered without anyone
adding it here (or the sweep fails and names it).

- Tenancy: every `/e/<estate_slug>/…` route, with every method it allows, asked by a
  member of estate A (of the role of the route's area) for estate B, for an unknown
  estate, or for estate A with B's ids (all of them, then one at a time), is a 404 and
  writes nothing. With A's own ids it opens (so B's ids were refused for being B's, not
  for being wrong), and A's pages show none of B's rows.
- Roles: every route of an area, asked with A's own valid ids by a member of A of
  another role, is a 403 that writes nothing; anonymous is sent to sign in; the
  enterprise console refuses estate members.
- The kiosk API: a guard token of A with B's visit ids, codes and QR tokens is a 404
  envelope, and B's rows do not change.
- The meta-test: every estate route of the URL map is swept or listed as public.

The refusals share one set of rows per module (read-only: a write fails the test);
the requests that do change rows (A's own ids, non-GET) get fresh rows each.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db, limiter
from portal.models import GateEvent, Visit
from tests.conftest import PASSWORD
from tests.route_world import WriteRecorder, build_world, empty_tables, marker
from tests.test_api_kiosk import Kiosk, _error, get_token

MAP_APP = create_app({"TESTING": True})  # only for its URL map
METHODS_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _rules(prefix: str) -> list:
    return sorted((r for r in MAP_APP.url_map.iter_rules() if r.rule.startswith(prefix)),
                  key=lambda r: (r.rule, r.endpoint))


ESTATE_RULES = _rules("/e/<")
ENTERPRISE_RULES = _rules("/enterprise/")
# Estate URLs that are public on purpose (anyone may ask to join; nothing of the estate's is shown).
PUBLIC_ESTATE_ENDPOINTS = {
    "onboarding.join": "the public join form",
    "onboarding.join_sent": "the join form's thank-you page",
    "public.estate_logo": "the estate's logo (the join page shows it; nothing else of the estate)",
}
SWEPT = [r for r in ESTATE_RULES if r.endpoint not in PUBLIC_ESTATE_ENDPOINTS]
AREAS = ("admin", "gate", "home")
ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _area(rule) -> str:
    """admin, gate, home; "" for the estate's entry URL /e/<estate_slug>/."""
    return rule.rule.split("/")[3]


def _id_args(rule) -> list[str]:
    return [arg for arg in ARGUMENT.findall(rule.rule) if arg != "estate_slug"]


def _methods(rule) -> list[str]:
    """GET first: another method with A's own ids may change what the GET reads."""
    return [m for m in METHODS_ORDER if m in rule.methods]


AREA_RULES = [r for r in SWEPT if _area(r) in AREAS]
CHANGING = [r for r in SWEPT if _id_args(r) and set(_methods(r)) - {"GET"}]

# Who of estate A asks for an area's routes in the tenancy sweep (for the gate, a
# supervisor, who may open every gate route).
AREA_USER = {"admin": "admin", "gate": "supervisor", "home": "resident", "": "admin"}
# Members of the estate whose role does not open the area.
WRONG_ROLES = {"admin": ("guard", "supervisor", "resident"), "gate": ("admin", "resident"),
               "home": ("admin", "guard", "supervisor")}
# Gate routes for supervisors only: a plain guard gets 403 there, and only there.
SUPERVISOR_ONLY = {"gate.bans_list", "gate.ban_new", "gate.ban_lift", "gate.passes_list", "gate.pass_revoke",
                   "gate.offline_refused_list",
                   "gate.staff_invite"}

# URL argument -> the kind of row it names (an attribute of a world estate); (endpoint,
# argument), then (area, argument) first where a route or an area reads an argument its own way. A name missing here
# fails the sweep and names the route, so a new route cannot slip past it.
ARG_KINDS = {
    "amenity_id": "amenity",
    "booking_id": "booking",
    "closure_id": "closure",
    "photo_id": "amenity_photo",
    "approval_id": "approval",
    "ban_id": "estate_ban",
    ("home", "ban_id"): "personal_ban",
    "card_id": "card",
    "charge_id": "charge",
    "invoice_id": "invoice",
    "payment_id": "payment",  # a transfer a resident reported, waiting for an admin
    # Receipts (and the way back from the checkout) are of a payment already applied.
    ("admin.payment_receipt", "payment_id"): "receipt_payment",
    ("admin.payment_receipt_pdf", "payment_id"): "receipt_payment",
    ("resident.receipt_detail", "payment_id"): "receipt_payment",
    ("resident.receipt_download", "payment_id"): "receipt_payment",
    ("resident.pay_return", "payment_id"): "receipt_payment",
    "run_id": "run",
    "unit_charge_id": "unit_charge",
    "frequent_id": "frequent",
    "guest_id": "guest",
    "incident_id": "incident",
    "invitation_id": "invitation",
    "message_id": "test_message",
    "resident_id": "resident",
    "setting_id": "integration",
    "unit_id": "unit",
    "user_id": "guard",
    "vehicle_id": "vehicle",
    "visit_id": "visit",
    "walk_in_id": "walk_in",
}
ENTERPRISE_ARG_KINDS = {"estate_id": "estate", "user_id": "resident_user", "setting_id": "integration",
                        "message_id": "test_message", "invitation_id": "invitation"}
# Converters the sweep can fill (an id is an int; a new kind of argument needs a look).
KNOWN_CONVERTERS = {"estate_slug": "UnicodeConverter", "*": "BoundedIntConverter"}  # the app's int: 0…2³¹−1


def _kind(rule, arg: str, table: dict) -> str:
    kind = table.get((rule.endpoint, arg)) or table.get((_area(rule), arg)) or table.get(arg)
    if kind is None:
        pytest.fail(f"{rule.rule} ({rule.endpoint}) takes <{arg}>, which the sweep does not know: "
                    f"add it to ARG_KINDS with the kind of row it names")
    return kind


def _url(rule, owner, slug: str = "", table: dict = ARG_KINDS, **others) -> str:
    """The rule's URL for `slug` with the ids of `owner`'s rows (`others`: argument -> another owner)."""

    def value(match):
        arg = match.group(1)
        return slug if arg == "estate_slug" else str(getattr(others.get(arg, owner), _kind(rule, arg, table)))

    return ARGUMENT.sub(value, rule.rule)


def _open(client, method: str, url: str):
    return client.open(url, method=method, data=None if method == "GET" else {})


def _sign_in(app, email: str | None):
    """A test client signed in as `email` (anonymous for None)."""
    c = app.test_client()
    if email is not None:
        response = c.post("/login", data={"login": email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        limiter.reset()  # sign-ins are limited per address; the sweep signs in a handful of people
    return c


def _refusals(sweep, client, asks, expected) -> list[str]:
    """Asks every (label, method, url); lists those not answered as `expected(response)`
    says, or that wrote anything."""
    wrong = []
    for label, method, url in asks:
        response = _open(client, method, url)
        written = sweep.writes.take()
        if not expected(response) or written:
            wrong.append(f"{label}: {method} {url} -> {response.status_code}; writes: {written or 'none'}")
    return wrong


def _is_404(response) -> bool:
    return response.status_code == 404


def _is_403(response) -> bool:
    return response.status_code == 403


def _to_sign_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- tests with rows of their own -----------------------------------------------------------------
# Defined first: they use conftest's per-test `app`, which empties every table after each
# test; the module's shared rows (`sweep`, below) are built after them and kept to the end.


@pytest.mark.parametrize("rule", CHANGING, ids=lambda r: r.endpoint)
def test_own_ids_reach_their_rows(app, client, login, rule):
    """The ids the sweep substitutes name real rows of A: the right role gets past the
    lookup (no 403/404/5xx), so B's ids are refused below for being B's."""
    a = build_world(app).alpha
    login(a.emails[AREA_USER[_area(rule)]])
    url = _url(rule, a, a.slug)
    for method in _methods(rule):
        response = _open(client, method, url)
        assert response.status_code not in (403, 404) and response.status_code < 500, (method, url, response.status)


# --- the kiosk API --------------------------------------------------------------------------------


def _estate_rows(app, estate_id: int) -> dict:
    """Estate B's visits and gate events, to see that nothing of B's changed."""
    with app.app_context():
        return {model.__tablename__: db.session.execute(
            sa.select(*model.__table__.columns).where(model.estate_id == estate_id).order_by(model.id)).all()
            for model in (Visit, GateEvent)}


def test_kiosk_token_of_one_estate_finds_nothing_of_another(app, client):
    world = build_world(app)
    a, b = world.alpha, world.beta
    device = "kiosk-sweep-0001"
    response = get_token(client, a.slug, a.emails["guard"], device)
    assert response.status_code == 200, response.get_json()
    kiosk = Kiosk(client, response.get_json()["data"]["access_token"], device)
    before = _estate_rows(app, b.estate)

    assert kiosk.get(f"/visits/{a.visit}/status").status_code == 200  # A's own visit id is found
    _error(kiosk.get(f"/visits/{b.visit}/status"), 404, "NOT_FOUND")
    _error(kiosk.post("/checkin/manual", {"visitor_code": b.visit_code}), 404, "NOT_FOUND")
    _error(kiosk.post("/checkin/checkout", {"visit_id": b.visit}), 404, "NOT_FOUND")
    _error(kiosk.post("/checkin/checkout", {"visitor_code": b.visit_code}), 404, "NOT_FOUND")
    # A QR token is a secret its holder already has: another estate's is named as such, with nothing of it.
    for path in ("/checkin/scan", "/checkin/checkout"):
        error = _error(kiosk.post(path, {"qr_token": b.qr_token}), 409, "WRONG_ESTATE")
        assert error["details"] is None
    results = kiosk.post("/offline/sync", {"items": [
        {"client_event_id": "sweep-0001", "event_type": "ENTRY", "occurred_at": datetime.now(UTC).isoformat(),
         "visitor_code": b.visit_code}]}).get_json()["data"]["results"]
    assert [r["status"] for r in results] == ["REJECTED"] and results[0]["visit_id"] is None
    bootstrap = kiosk.get("/offline/bootstrap")
    assert bootstrap.status_code == 200 and marker(b.slug).encode() not in bootstrap.data
    assert marker(a.slug).encode() in bootstrap.data
    assert _estate_rows(app, b.estate) == before


# --- the shared rows: read-only sweeps ------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep(_app):
    """Two estates of rows, signed-in clients and a write recorder, for the whole module."""
    empty_tables(_app)  # conftest's `app` empties after each test; be sure of a clean start
    world = build_world(_app)
    writes = WriteRecorder(_app)
    clients: dict = {}

    def client(who: str | None, estate=world.alpha):
        key = (estate.slug, who)
        if key not in clients:
            clients[key] = _sign_in(_app, estate.emails[who] if who else None)
            writes.take()  # signing in writes its session and audit rows
        return clients[key]

    yield SimpleNamespace(app=_app, a=world.alpha, b=world.beta, client=client, writes=writes)
    writes.close()
    limiter.reset()
    empty_tables(_app)


@pytest.mark.parametrize("rule", SWEPT, ids=lambda r: r.endpoint)
def test_other_estates_rows_are_404(sweep, rule):
    a, b = sweep.a, sweep.b
    client = sweep.client(AREA_USER[_area(rule)])
    targets = [("estate B", _url(rule, b, b.slug)), ("an unknown estate", _url(rule, b, "no-such-estate"))]
    id_args = _id_args(rule)
    if id_args:
        targets.append(("estate A with B's ids", _url(rule, b, a.slug)))
    if len(id_args) > 1:  # A's unit with B's card, A's visit with B's guest…
        targets += [(f"estate A with B's {arg}", _url(rule, a, a.slug, **{arg: b})) for arg in id_args]
    asks = [(label, method, url) for label, url in targets for method in _methods(rule)]
    wrong = _refusals(sweep, client, asks, _is_404)
    # An enterprise admin may enter any estate, but not reach B's rows through A's URLs.
    asks = [(f"enterprise admin, {label}", method, url) for label, method, url in asks if "estate A" in label]
    wrong += _refusals(sweep, sweep.client("boss"), asks, _is_404)
    assert not wrong, "another estate's rows reached:\n" + "\n".join(wrong)

    if "GET" in rule.methods:  # A's own page opens and shows nothing of B's
        url = _url(rule, a, a.slug)
        response = client.get(url)
        assert response.status_code == (302 if rule.endpoint == "public.estate_entry" else 200), (url, response.status)
        assert marker(b.slug).encode() not in response.data, f"{url} shows estate B's rows"
        assert not sweep.writes.take(), f"GET {url} wrote"


@pytest.mark.parametrize("rule", AREA_RULES, ids=lambda r: r.endpoint)
def test_other_roles_are_403_and_anonymous_signs_in(sweep, rule):
    a, area = sweep.a, _area(rule)
    url = _url(rule, a, a.slug)  # A's own, valid ids: the 403 is about the role
    wrong_roles = [*WRONG_ROLES[area], *(["guard"] if rule.endpoint in SUPERVISOR_ONLY else [])]
    wrong = []
    for who in wrong_roles:
        wrong += _refusals(sweep, sweep.client(who), [(who, m, url) for m in _methods(rule)], _is_403)
    wrong += _refusals(sweep, sweep.client(None), [("anonymous", m, url) for m in _methods(rule)], _to_sign_in)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("rule", [r for r in AREA_RULES if _area(r) == "gate" and "GET" in r.methods],
                         ids=lambda r: r.endpoint)
def test_plain_guards_are_refused_only_the_supervisor_pages(sweep, rule):
    response = sweep.client("guard").get(_url(rule, sweep.a, sweep.a.slug))
    if rule.endpoint in SUPERVISOR_ONLY:
        assert response.status_code == 403
    else:
        assert response.status_code == 200, (f"{rule.endpoint} refused a plain guard ({response.status}); "
                                             f"if it is for supervisors only, add it to SUPERVISOR_ONLY")


@pytest.mark.parametrize("rule", ENTERPRISE_RULES, ids=lambda r: r.endpoint)
def test_enterprise_console_refuses_estate_members_and_anonymous(sweep, rule):
    url = _url(rule, sweep.a, table=ENTERPRISE_ARG_KINDS)
    wrong = []
    for who in ("admin", "supervisor", "resident"):
        wrong += _refusals(sweep, sweep.client(who), [(who, m, url) for m in _methods(rule)], _is_403)
    wrong += _refusals(sweep, sweep.client(None), [("anonymous", m, url) for m in _methods(rule)], _to_sign_in)
    assert not wrong, "\n".join(wrong)


# --- the sweep covers the map ---------------------------------------------------------------------


def test_every_estate_route_is_swept():
    """A route under /e/ is swept unless listed as public; each of its arguments has a kind."""
    estate_routes = {(r.rule, r.endpoint) for r in ESTATE_RULES}
    swept = {(r.rule, r.endpoint) for r in SWEPT}
    public = {(r.rule, r.endpoint) for r in ESTATE_RULES if r.endpoint in PUBLIC_ESTATE_ENDPOINTS}
    assert len(swept) == len(estate_routes) - len(public), sorted(estate_routes - swept - public)
    assert {endpoint for _, endpoint in public} == set(PUBLIC_ESTATE_ENDPOINTS), "a public estate route is gone"
    assert len({r.endpoint for r in SWEPT}) == len(SWEPT), "two swept rules share an endpoint (and a test id)"
    assert all(r.rule.startswith("/e/<estate_slug>/") for r in SWEPT)
    assert {_area(r) for r in SWEPT} <= set(AREA_USER), "a new area under /e/<estate_slug>/: give it a user"
    unknown = [f"{r.endpoint} <{arg}>" for r in SWEPT for arg in _id_args(r)
               if (_area(r), arg) not in ARG_KINDS and arg not in ARG_KINDS]
    assert not unknown, f"arguments without a kind in ARG_KINDS: {unknown}"
    converters = {(r.endpoint, arg): type(conv).__name__ for r in SWEPT for arg, conv in r._converters.items()}
    odd = {key: name for key, name in converters.items()
           if name != KNOWN_CONVERTERS.get(key[1], KNOWN_CONVERTERS["*"])}
    assert not odd, f"arguments the sweep fills with an id but that are not ints: {odd}"
    assert {r.endpoint for r in AREA_RULES} >= SUPERVISOR_ONLY, "SUPERVISOR_ONLY names a route that is gone"
    methods = {m for r in SWEPT for m in r.methods} - {"HEAD", "OPTIONS"}
    assert methods <= set(METHODS_ORDER), methods
