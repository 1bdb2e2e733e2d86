"""One set of domain errors: services raise NotFound/Forbidden/…, and one handler answers
the translated error page, the HTMX fragment or the kiosk API's envelope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal import audit
from portal.errors import Conflict, FieldErrors, Forbidden, InvalidValue, NotFound
from portal.estates.access import EstateAccess
from portal.extensions import db
from portal.gate import service as gate
from portal.models import AuditLog, Ban, BanScope, Estate, Membership, Role, User
from portal.onboarding import approvals
from portal.visits import bans
from portal.web.errors import domain_error_response

MISSING = 999999
NOT_FOUND_ES = "Aquí no hay nada. Revise la dirección o regrese a su página de inicio."
DEVICE = "tablet-errors-0123456789"


@pytest.fixture
def sur(make):
    """A Spanish estate with an admin, a guard supervisor and a resident."""
    estate = make.estate("sur", name="Residencial Sur", country="GT", timezone="America/Guatemala",
                         currency="GTQ", default_language="es")
    unit = make.unit(estate, "B2")
    resident = make.user("vecina@sur.test", estate=estate, role=Role.RESIDENT)
    make.resident(estate, unit, "Vecina", user=resident)
    make.user("admin@sur.test", estate=estate, role=Role.ESTATE_ADMIN)
    make.user("jefe@sur.test", estate=estate, role=Role.GUARD, supervisor=True)
    return estate


def _assert_spanish_404(response, fragment: bool = False):
    body = response.get_data(as_text=True)
    assert response.status_code == 404, body[:300]
    assert NOT_FOUND_ES in body
    if not fragment:
        assert '<html lang="es">' in body


# (who signs in, method, path)
ESTATE_ROUTES = [
    ("admin@sur.test", "get", f"/e/sur/admin/units/{MISSING}/edit"),
    ("admin@sur.test", "get", f"/e/sur/admin/approvals/{MISSING}"),
    ("admin@sur.test", "post", f"/e/sur/admin/members/{MISSING}/suspend"),
    ("admin@sur.test", "post", f"/e/sur/admin/invitations/{MISSING}/revoke"),
    ("jefe@sur.test", "get", f"/e/sur/gate/walk-ins/{MISSING}"),
    ("jefe@sur.test", "post", f"/e/sur/gate/passes/{MISSING}/revoke"),
    ("jefe@sur.test", "post", f"/e/sur/gate/bans/{MISSING}/lift"),
    ("vecina@sur.test", "get", f"/e/sur/home/visits/{MISSING}"),
    ("vecina@sur.test", "post", f"/e/sur/home/walk-ins/{MISSING}/approve"),
    ("vecina@sur.test", "post", f"/e/sur/home/visits/{MISSING}/extend"),
]


@pytest.mark.parametrize("who,method,path", ESTATE_ROUTES)
def test_an_unknown_id_in_a_spanish_estate_is_the_translated_404(client, login, sur, who, method, path):
    login(who)
    headers = {"X-Gate-Device": DEVICE}
    _assert_spanish_404(getattr(client, method)(path, headers=headers))
    # To an HTMX request: the message fragment, aimed at the messages area.
    fragment = getattr(client, method)(path, headers={**headers, "HX-Request": "true"})
    _assert_spanish_404(fragment, fragment=True)
    assert fragment.headers["HX-Retarget"] == "#messages"


def test_an_unknown_estate_or_address_is_the_same_translated_404(client, login, sur):
    login("vecina@sur.test")
    spanish = {"Accept-Language": "es"}
    unknown_estate = client.get("/e/nowhere/home/", headers=spanish)  # the tenancy helper's NotFound
    unknown_address = client.get("/no/such/page", headers=spanish)  # werkzeug's 404
    _assert_spanish_404(unknown_estate)
    assert _main(unknown_estate) == _main(unknown_address)


def _main(response) -> str:
    body = response.get_data(as_text=True)
    return body[body.index("<main"):body.index("</main>")]


@pytest.mark.parametrize("path", [f"/enterprise/estates/{MISSING}/suspend", f"/enterprise/users/{MISSING}/delete"])
def test_an_unknown_id_on_enterprise_pages_is_the_translated_404(client, login, make, path):
    make.enterprise_admin()
    login("boss@example.test")
    _assert_spanish_404(client.post(path, headers={"Accept-Language": "es"}))


def test_an_unknown_id_on_the_api_is_the_translated_envelope(client, sur):
    token = client.post("/api/v1/kiosk/token", json={"estate": "sur", "login": "jefe@sur.test",
                                                     "password": "secret-pass-1", "device_id": DEVICE})
    assert token.status_code == 200, token.get_json()
    bearer = {"Authorization": f"Bearer {token.get_json()['data']['access_token']}"}
    for path in (f"/api/v1/visits/{MISSING}/status", "/api/v1/no/such/endpoint"):
        messages = {}
        for language in ("en", "es"):
            response = client.get(path, headers={**bearer, "Accept-Language": language})
            assert response.status_code == 404
            body = response.get_json()
            assert body["success"] is False and body["error"]["code"] == "NOT_FOUND"
            messages[language] = body["error"]["message"]
        assert messages["es"] != messages["en"]


def test_a_service_refusal_reaches_the_api_client_as_the_envelope(client, sur):
    # kiosk_tokens.issue raises portal.errors.Forbidden for a resident: no view catches it.
    messages = {}
    for language in ("en", "es"):
        response = client.post("/api/v1/kiosk/token", json={"estate": "sur", "login": "vecina@sur.test",
                                                            "password": "secret-pass-1", "device_id": DEVICE},
                               headers={"Accept-Language": language})
        assert response.status_code == 403
        body = response.get_json()
        assert body["success"] is False and body["error"]["code"] == "FORBIDDEN"
        messages[language] = body["error"]["message"]
    assert messages["en"] == "Only the estate's guards can sign in on a gate device."
    assert messages["es"] != messages["en"]


def test_the_envelope_carries_the_fields_of_validation_errors(app):
    with app.test_request_context("/api/v1/anything"):
        response, status = domain_error_response(InvalidValue("plate", "Bad plate"))
        assert status == 422
        assert response.get_json()["error"] == {"code": "VALIDATION_ERROR", "message": "Bad plate",
                                                "details": {"plate": "Bad plate"}}
        response, status = domain_error_response(FieldErrors({"email": "Taken", "phone": "Bad"}))
        assert status == 422 and response.get_json()["error"]["details"] == {"email": "Taken", "phone": "Bad"}
        response, status = domain_error_response(Conflict("Already done"))
        assert status == 409 and response.get_json()["error"]["code"] == "CONFLICT"


def test_a_domain_error_outside_the_api_is_the_error_page(app):
    with app.test_request_context("/e/x/admin/", headers={"Accept-Language": "es"}):
        body, status, _headers = domain_error_response(NotFound())
        assert status == 404 and NOT_FOUND_ES in body
        body, status, _headers = domain_error_response(Conflict("Ya está hecho."))
        assert status == 409 and "Ya está hecho." in body


# --- authorisation lives in the services ---------------------------------------------------


def _access(slug: str, email: str) -> EstateAccess:
    estate = db.session.scalar(sa.select(Estate).where(Estate.slug == slug))
    user = db.session.scalar(sa.select(User).where(User.email == email))
    memberships = tuple(db.session.scalars(sa.select(Membership).where(Membership.estate_id == estate.id,
                                                                       Membership.user_id == user.id)))
    return EstateAccess(estate, memberships, as_enterprise_admin=False, user=user)


def test_who_may_revoke_a_pass_lift_a_ban_or_decide_a_request_is_the_services_rule(app, make, sur):
    unit = make.unit(sur, "C3")
    host = make.user("anfitrion@sur.test", estate=sur, role=Role.RESIDENT)
    make.user("guardia@sur.test", estate=sur, role=Role.GUARD)
    theirs, mine, other = (make.visit(sur, unit, host) for _ in range(3))
    with app.test_request_context():
        ban = Ban(estate_id=sur.id, phone="+50255550000", scope=BanScope.ESTATE, severity="MEDIUM", reason="x",
                  created_by_id=host.id)
        db.session.add(ban)
        db.session.commit()
        neighbour, guard = _access("sur", "vecina@sur.test"), _access("sur", "guardia@sur.test")
        for refused in (lambda: gate.revoke_visit(neighbour, theirs.id), lambda: gate.revoke_visit(guard, theirs.id),
                        lambda: bans.lift_ban(guard, ban.id), lambda: bans.lift_ban(neighbour, ban.id),
                        lambda: approvals.decide_one(guard, MISSING, True, "")):
            with pytest.raises(Forbidden):
                refused()
        assert gate.revoke_visit(_access("sur", "anfitrion@sur.test"), mine.id)[1]  # the resident host
        assert gate.revoke_visit(_access("sur", "jefe@sur.test"), other.id)[1]  # a guard supervisor
        assert bans.lift_ban(_access("sur", "admin@sur.test"), ban.id).lifted_at is not None
        with pytest.raises(NotFound):  # an admin may decide; this request does not exist
            approvals.decide_one(_access("sur", "admin@sur.test"), MISSING, True, "")


def test_the_audit_trail_notes_the_client_address_the_web_layer_hands_over(client, login, sur, dbs):
    login("admin@sur.test")
    response = client.post("/e/sur/admin/units/new", data={"number": "Z9", "unit_type": "APARTMENT"},
                           environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with dbs() as s:
        row = s.scalar(sa.select(AuditLog).where(AuditLog.action == "unit.created"))
        assert row.ip_address == "198.51.100.9"
    assert audit.client_address.get() is None  # cleared after the request
