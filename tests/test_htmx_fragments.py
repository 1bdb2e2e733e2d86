"""Every HTMX fragment of every page, asked for as HTMX asks (`HX-Request: true`): a 200
and a non-empty fragment (not the whole page), on lists with more than one page.
The fragments are the views that call `render(..., block=...)`; a new one must be added
to FRAGMENTS (test_every_fragment_is_listed)."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.models import AuditLog, Estate, Notification, OutboxMessage, Role, User, WalkIn

HX = {"HX-Request": "true"}

# endpoint: (who signs in, method, url with {visit} / {walk_in}, form data)
FRAGMENTS = {
    "account.notifications_list": ("resident", "GET", "/account/notifications?page=2", None),
    "admin.arrears_list": ("admin", "GET", "/e/alpha/admin/billing/arrears/?sort=age", None),
    "admin.audit_list": ("admin", "GET", "/e/alpha/admin/audit/?page=2", None),
    "admin.charges_list": ("admin", "GET", "/e/alpha/admin/billing/charges/", None),
    "admin.invoices_list": ("admin", "GET", "/e/alpha/admin/billing/?unit=a1", None),
    "admin.payments_list": ("admin", "GET", "/e/alpha/admin/billing/payments/?method=CASH", None),
    "admin.payments_to_confirm": ("admin", "GET", "/e/alpha/admin/billing/payments/to-confirm", None),
    "admin.run_detail": ("admin", "GET", "/e/alpha/admin/billing/runs/{run}", None),
    "admin.bans_list": ("admin", "GET", "/e/alpha/admin/bans/", None),
    "admin.gate_events_list": ("admin", "GET", "/e/alpha/admin/gate-events/", None),
    "admin.incidents_list": ("admin", "GET", "/e/alpha/admin/incidents", None),
    "admin.invitations_list": ("admin", "GET", "/e/alpha/admin/invitations/", None),
    "admin.members_list": ("admin", "GET", "/e/alpha/admin/members/", None),
    "admin.messages_list": ("admin", "GET", "/e/alpha/admin/messages/?page=2", None),
    "admin.passes_list": ("admin", "GET", "/e/alpha/admin/passes/", None),
    "admin.offline_refused_list": ("admin", "GET", "/e/alpha/admin/offline-refused/", None),
    "admin.residents_list": ("admin", "GET", "/e/alpha/admin/residents/", None),
    "admin.units_list": ("admin", "GET", "/e/alpha/admin/units/?page=2", None),
    "admin.visits_list": ("admin", "GET", "/e/alpha/admin/visits/?page=2", None),
    "enterprise.audit_list": ("boss", "GET", "/enterprise/audit/?page=2", None),
    "enterprise.home": ("boss", "GET", "/enterprise/", None),
    "enterprise.messages_list": ("boss", "GET", "/enterprise/messages/?page=2", None),
    "enterprise.users_list": ("boss", "GET", "/enterprise/users/", None),
    "gate.bans_list": ("supervisor", "GET", "/e/alpha/gate/bans/", None),
    "gate.check": ("supervisor", "POST", "/e/alpha/gate/check", {"code": "{code}"}),
    "gate.home": ("supervisor", "GET", "/e/alpha/gate/?q=Resident", None),
    "gate.inside": ("supervisor", "GET", "/e/alpha/gate/inside", None),
    "gate.passes_list": ("supervisor", "GET", "/e/alpha/gate/passes/", None),
    "gate.offline_refused_list": ("supervisor", "GET", "/e/alpha/gate/offline-refused/", None),
    "gate.passes_search": ("supervisor", "GET", "/e/alpha/gate/find?find=Visitor", None),
    "gate.visit_entry": ("supervisor", "POST", "/e/alpha/gate/visits/{visit}/entry", {"method": "CODE"}),
    "gate.visit_exit": ("supervisor", "POST", "/e/alpha/gate/visits/{visit}/exit", {"method": "SEARCH"}),
    "gate.walkin_cancel": ("supervisor", "POST", "/e/alpha/gate/walk-ins/{walk_in}/cancel", {}),
    "gate.walkins_list": ("supervisor", "GET", "/e/alpha/gate/walk-ins/", None),
    "gate.incidents_new": ("supervisor", "GET", "/e/alpha/gate/incidents?page=1", None),
    "resident.bills_list": ("resident", "GET", "/e/alpha/home/bills/", None),
    "resident.receipts_list": ("resident", "GET", "/e/alpha/home/receipts/", None),
    "resident.amenity_detail": ("resident", "GET", "/e/alpha/home/amenities/{amenity}/?date=2026-12-24", None),
    "resident.amenity_week": ("resident", "GET", "/e/alpha/home/amenities/{amenity}/week?start=2026-12-21", None),
    "resident.bookings_list": ("resident", "GET", "/e/alpha/home/bookings/?when=past", None),
    "admin.bookings_list": ("admin", "GET", "/e/alpha/admin/bookings/?status=PENDING", None),
    "resident.visits_list": ("resident", "GET", "/e/alpha/home/visits/?page=2", None),
}


def _fragment_endpoints() -> set[str]:
    app = create_app({"TESTING": True})
    found = set()
    for endpoint, view in app.view_functions.items():
        try:
            source = inspect.getsource(view)
        except (OSError, TypeError):
            continue
        if "block=" in source:
            found.add(endpoint)
    return found


def test_every_fragment_is_listed():
    assert _fragment_endpoints() - set(FRAGMENTS) == set()


@pytest.fixture
def world(app, estate_pair, make, client):
    a = estate_pair.alpha
    make.user("supervisor@alpha.test", estate=a.estate, role=Role.GUARD, supervisor=True)
    make.enterprise_admin("boss@example.test")
    for i in range(30):
        make.unit(a.estate, f"B{i:02d}")
    visits = [make.visit(a.estate, a.unit, a.resident, guests=((f"Visitor {i}", f"+23480900001{i:02d}", None),))
              for i in range(30)]
    now = datetime.now(UTC)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "resident@alpha.test"))
        db.session.add_all(Notification(user_id=user.id, kind="other", params={}, link="/",
                                        created_at=now - timedelta(minutes=i)) for i in range(45))
        db.session.add_all(AuditLog(estate_id=a.estate.id, action="test.row", target_type="test", target_id=i,
                                    created_at=now - timedelta(minutes=i)) for i in range(120))
        db.session.add_all(OutboxMessage(channel="SMS", recipient=f"+2348030000{i:03d}", body="Hi", estate_id=a.estate.id,
                                         reason="visitor_arrived", created_at=now - timedelta(minutes=i))
                           for i in range(30))
        db.session.commit()
    return visits


def _run(app) -> int:
    """A generation run of alpha's (its page polls its progress block)."""
    from tests.billing_support import add_charge, generate

    with app.app_context():
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
    add_charge(app, estate, "Service charge", 4_500_000)
    return generate(app, estate).id


def _amenity(app) -> int:
    from tests.amenity_support import add_amenity

    with app.app_context():
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
    return add_amenity(app, estate)


def _walk_in(app, client) -> int:
    response = client.post("/e/alpha/gate/walk-ins/", data={"visitor_name": "Musa Bello", "unit_number": "A1",
                                                           "people_count": "1"})
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:300]
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(WalkIn.id)))


@pytest.mark.parametrize("endpoint", sorted(FRAGMENTS))
def test_every_fragment_answers_with_a_fragment(app, client, world, login, endpoint):
    who, method, url, data = FRAGMENTS[endpoint]
    login({"boss": "boss@example.test", "supervisor": "supervisor@alpha.test"}.get(who, f"{who}@alpha.test"))
    visit = world[0]
    url = url.format(visit=visit.id, walk_in=_walk_in(app, client) if "{walk_in}" in url else "",
                     run=_run(app) if "{run}" in url else "", amenity=_amenity(app) if "{amenity}" in url else "")
    if data:
        data = {k: v.format(code=visit.visitor_code) for k, v in data.items()}
    response = client.open(url, method=method, data=data, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert html.strip() and "<html" not in html and "<body" not in html, html[:300]
