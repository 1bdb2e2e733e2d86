"""The kiosk JSON API: tokens, check-in and check-out, pass status, errors and the spec."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.extensions import db, limiter
from portal.models import (
    AuditLog,
    Ban,
    BanScope,
    Estate,
    EstateStatus,
    GateEvent,
    KioskToken,
    Membership,
    PassType,
    Role,
    User,
    UserStatus,
    Visit,
    VisitStatus,
)
from tests.conftest import PASSWORD

DEVICE = "kiosk-device-0001"


def get_token(client, estate: str, login: str, device_id: str = DEVICE, password: str = PASSWORD, **headers):
    return client.post("/api/v1/kiosk/token", json={"estate": estate, "login": login, "password": password,
                                                     "device_id": device_id}, headers=headers)


class Kiosk:
    """A test client with a bearer token for one guard and device."""

    def __init__(self, client, token: str, device_id: str):
        self.client, self.token, self.device_id = client, token, device_id

    def headers(self, **extra):
        return {"Authorization": f"Bearer {self.token}", **extra}

    def post(self, path: str, body: dict | None = None, *, device: bool = True, **headers):
        body = dict(body or {})
        if device:
            body.setdefault("device_id", self.device_id)
        return self.client.post(f"/api/v1{path}", json=body, headers=self.headers(**headers))

    def get(self, path: str, **headers):
        return self.client.get(f"/api/v1{path}", headers=self.headers(**headers))


def kiosk_for(client, estate, guard, device_id: str = DEVICE) -> Kiosk:
    response = get_token(client, estate.slug, guard.email, device_id)
    assert response.status_code == 200, response.get_json()
    return Kiosk(client, response.get_json()["data"]["access_token"], device_id)


@pytest.fixture
def world(estate_pair, make, client):
    a = estate_pair.alpha
    kiosk = kiosk_for(client, a.estate, a.guard)
    return SimpleNamespace(pair=estate_pair, a=a, b=estate_pair.beta, kiosk=kiosk, make=make)


def _error(response, status: int, code: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert body["success"] is False and body["error"]["code"] == code, body
    return body["error"]


# --- tokens -----------------------------------------------------------------------------


def test_token_is_a_signed_jwt_with_the_contract_claims(app, world, dbs):
    from portal.accounts.kiosk_tokens import _key, jwt

    kiosk = world.kiosk
    response = get_token(kiosk.client, "alpha", world.a.guard.email, DEVICE)
    data = response.get_json()["data"]
    assert data["token_type"] == "Bearer" and data["expires_in"] == 3600
    with app.app_context():
        claims = jwt.decode(data["access_token"], _key())
        assert {"iss", "sub", "estate", "device_id", "jti", "iat", "exp"} <= set(claims)
        assert claims["estate"] == "alpha" and claims["device_id"] == DEVICE
        assert claims["exp"] - claims["iat"] == 3600
    with dbs() as s:
        row = s.scalar(sa.select(KioskToken).where(KioskToken.jti == claims["jti"]))
        membership = s.get(Membership, row.membership_id)
        assert (membership.user_id, membership.bound_device_id) == (world.a.guard.id, DEVICE)
        assert str(membership.id) == claims["sub"]
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                        .where(AuditLog.action == "kiosk.token_issued")) == 2


def test_token_ttl_comes_from_config(app, world):
    app.config["KIOSK_TOKEN_TTL"] = 120
    data = get_token(world.kiosk.client, "alpha", world.a.guard.email).get_json()["data"]
    assert data["expires_in"] == 120


def test_token_accepts_a_phone_login(world, make, client):
    guard = make.user(False, phone="+2348000000777", estate=world.a.estate, role=Role.GUARD)
    assert get_token(client, "alpha", "0800 000 0777", "phone-device-0001").status_code == 200
    assert guard.phone == "+2348000000777"


@pytest.mark.parametrize("estate,login,password", [
    ("alpha", "guard@alpha.test", "wrong-password"),
    ("alpha", "nobody@alpha.test", PASSWORD),
    ("nowhere", "guard@alpha.test", PASSWORD),
])
def test_wrong_credentials_are_401(world, client, estate, login, password):
    error = _error(get_token(client, estate, login, "other-device-01", password), 401, "AUTHENTICATION_REQUIRED")
    assert "not correct" in error["message"]


def test_only_guards_of_that_estate_get_tokens(world, client):
    _error(get_token(client, "alpha", "resident@alpha.test", "res-device-001"), 403, "FORBIDDEN")
    _error(get_token(client, "alpha", "admin@alpha.test", "adm-device-001"), 403, "FORBIDDEN")
    _error(get_token(client, "beta", "guard@alpha.test", "beta-device-01"), 403, "FORBIDDEN")


def test_inactive_user_or_estate_gets_no_token(world, client, dbs):
    with dbs() as s:
        s.get(User, world.b.guard.id).status = UserStatus.SUSPENDED
        s.commit()
    _error(get_token(client, "beta", "guard@beta.test", "beta-device-01"), 401, "AUTHENTICATION_REQUIRED")
    with dbs() as s:
        s.get(User, world.b.guard.id).status = UserStatus.ACTIVE
        s.get(Estate, world.b.estate.id).status = EstateStatus.SUSPENDED
        s.commit()
    _error(get_token(client, "beta", "guard@beta.test", "beta-device-01"), 403, "FORBIDDEN")


def test_token_body_is_validated(world, client):
    error = _error(client.post("/api/v1/kiosk/token", json={"estate": "alpha"}), 422, "VALIDATION_ERROR")
    assert set(error["details"]) == {"login", "password", "device_id"}
    error = _error(get_token(client, "alpha", "guard@alpha.test", "bad id!"), 422, "VALIDATION_ERROR")
    assert "device_id" in error["details"]


def test_device_binding_applies_to_tokens(world, client, make):
    # The guard is bound to DEVICE (first use): another device is refused.
    _error(get_token(client, "alpha", "guard@alpha.test", "another-device-9"), 403, "DEVICE_MISMATCH")
    # DEVICE is taken: another guard cannot use it.
    make.user("guard2@alpha.test", estate=world.a.estate, role=Role.GUARD)
    _error(get_token(client, "alpha", "guard2@alpha.test", DEVICE), 409, "DEVICE_IN_USE")


def test_token_endpoint_is_rate_limited(app, world, client):
    app.config["RATELIMIT_ENABLED"] = True
    limiter.reset()
    statuses = [get_token(client, "alpha", "guard@alpha.test", DEVICE, "wrong-pass").status_code
                for _ in range(5)]
    assert statuses == [401] * 5
    error = _error(get_token(client, "alpha", "guard@alpha.test"), 429, "RATE_LIMITED")
    assert error["message"]


def test_missing_and_bad_tokens(world, client):
    error = _error(client.get("/api/v1/offline/bootstrap"), 401, "AUTHENTICATION_REQUIRED")
    assert error["message"]
    response = client.get("/api/v1/offline/bootstrap", headers={"Authorization": "Bearer nonsense"})
    _error(response, 401, "INVALID_TOKEN")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    forged = world.kiosk.token[:-4] + ("AAAA" if not world.kiosk.token.endswith("AAAA") else "BBBB")
    _error(client.get("/api/v1/offline/bootstrap", headers={"Authorization": f"Bearer {forged}"}),
           401, "INVALID_TOKEN")


def test_expired_token_is_invalid(world, dbs):
    kiosk = world.kiosk
    assert kiosk.get("/offline/bootstrap").status_code == 200
    with dbs() as s:
        s.execute(sa.update(KioskToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        s.commit()
    _error(kiosk.get("/offline/bootstrap"), 401, "INVALID_TOKEN")


def test_expired_jwt_is_invalid_even_if_the_row_is_not(app, world):
    app.config["KIOSK_TOKEN_TTL"] = -5
    kiosk = kiosk_for(world.kiosk.client, world.a.estate, world.a.guard)
    _error(kiosk.get("/offline/bootstrap"), 401, "INVALID_TOKEN")


def test_revoke_ends_the_token(world, dbs):
    kiosk = world.kiosk
    other = kiosk_for(kiosk.client, world.a.estate, world.a.guard)
    response = kiosk.post("/kiosk/revoke", device=False)
    assert response.status_code == 200 and response.get_json()["data"] == {"revoked": True}
    _error(kiosk.get("/offline/bootstrap"), 401, "INVALID_TOKEN")
    _error(kiosk.post("/kiosk/revoke", device=False), 401, "INVALID_TOKEN")
    assert other.get("/offline/bootstrap").status_code == 200  # only the presented token
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                        .where(AuditLog.action == "kiosk.token_revoked")) == 1


@pytest.mark.parametrize("change", ["device_reset", "not_guard", "user_suspended", "estate_suspended"])
def test_token_stops_working_when_access_ends(world, dbs, change):
    kiosk = world.kiosk
    assert kiosk.get("/offline/bootstrap").status_code == 200
    with dbs() as s:
        membership = s.scalar(sa.select(Membership).where(Membership.user_id == world.a.guard.id))
        if change == "device_reset":
            membership.bound_device_id = None
        elif change == "not_guard":
            membership.role = Role.RESIDENT
        elif change == "user_suspended":
            s.get(User, world.a.guard.id).status = UserStatus.SUSPENDED
        else:
            s.get(Estate, world.a.estate.id).status = EstateStatus.SUSPENDED
        s.commit()
    _error(kiosk.get("/offline/bootstrap"), 401, "INVALID_TOKEN")


def test_device_reset_then_new_device_gets_a_new_token(world, dbs, client):
    with dbs() as s:
        s.scalar(sa.select(Membership).where(Membership.user_id == world.a.guard.id)).bound_device_id = None
        s.commit()
    new = kiosk_for(client, world.a.estate, world.a.guard, "new-device-0002")
    assert new.get("/offline/bootstrap").status_code == 200
    _error(world.kiosk.get("/offline/bootstrap"), 401, "INVALID_TOKEN")


def test_authenticating_a_request_costs_one_query(app, world, count_queries):
    from portal.accounts.kiosk_tokens import authenticate

    with app.app_context(), count_queries() as counter:
        authenticate(world.kiosk.token)
    assert counter.count == 1


def test_api_uses_no_session_cookie(world):
    response = world.kiosk.get("/offline/bootstrap")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


# --- check-in ---------------------------------------------------------------------------


def test_scan_records_the_entry(world, dbs):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident, guests=(("Ngozi Eze", "+2348090000011", "LAG123"),))
    response = world.kiosk.post("/checkin/scan", {"qr_token": visit.qr_token, "gate": "North gate"})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["visit"]["id"] == visit.id and data["visit"]["status"] == "ACTIVE"
    assert data["visit"]["unit"] == "A1" and data["visit"]["host"]["id"] == a.resident.id
    assert data["visit"]["visitors"] == [{"name": "Ngozi Eze", "phone": "+2348090000011", "plate": "LAG123"}]
    assert (data["visit"]["entries_used"], data["visit"]["max_entries"]) == (1, 1)
    event = data["event"]
    assert (event["type"], event["gate"], event["method"]) == ("ENTRY", "North gate", "QR")
    assert event["occurred_at"].endswith("Z")
    with dbs() as s:
        row = s.get(GateEvent, event["id"])
        assert (row.guard_user_id, row.device_id, row.visit_id) == (a.guard.id, DEVICE, visit.id)


def test_manual_records_the_entry_with_a_typed_code_and_default_gate(world):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident, code="ABCD2345")
    response = world.kiosk.post("/checkin/manual", {"visitor_code": "abcd-2345"})
    assert response.status_code == 200, response.get_json()
    event = response.get_json()["data"]["event"]
    assert (event["method"], event["gate"]) == ("CODE", "Main gate")
    assert response.get_json()["data"]["visit"]["id"] == visit.id


@pytest.mark.parametrize("kw,code", [
    (dict(starts=timedelta(hours=-5), ends=timedelta(hours=-1)), "PASS_EXPIRED"),
    (dict(starts=timedelta(hours=2), ends=timedelta(hours=5)), "PASS_NOT_YET_VALID"),
    (dict(entries_used=1), "PASS_EXHAUSTED"),
    (dict(status=VisitStatus.REVOKED), "PASS_REVOKED"),
    (dict(people_inside=True, max_entries=3, pass_type=PassType.MULTI_ENTRY), "ALREADY_INSIDE"),
])
def test_refusals_are_409_with_their_code(world, dbs, kw, code):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident, **kw)
    error = _error(world.kiosk.post("/checkin/scan", {"qr_token": visit.qr_token}), 409, code)
    assert error["message"] and error["details"]["visit"]["id"] == visit.id
    assert error["details"]["event"]["type"] == "DENIED"
    with dbs() as s:
        assert s.get(Visit, visit.id).entries_used == kw.get("entries_used", 0)


def test_banned_visitor_is_409_with_the_ban_reason(world, dbs):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident, guests=(("Bad Guy", "+2348090000099", None),))
    with dbs() as s:
        s.add(Ban(estate_id=a.estate.id, phone="+2348090000099", scope=BanScope.ESTATE, severity="HIGH",
                  reason="Stole a bicycle"))
        s.commit()
    error = _error(world.kiosk.post("/checkin/manual", {"visitor_code": visit.visitor_code}), 409, "VISITOR_BANNED")
    assert error["details"]["reason"] == "Stole a bicycle"
    assert error["details"]["ban"]["severity"] == "HIGH"


def test_unknown_pass_is_404_and_other_estates_qr_is_wrong_estate(world):
    _error(world.kiosk.post("/checkin/scan", {"qr_token": "no-such-token"}), 404, "NOT_FOUND")
    _error(world.kiosk.post("/checkin/manual", {"visitor_code": "ZZZZZZZZ"}), 404, "NOT_FOUND")
    b = world.b
    theirs = world.make.visit(b.estate, b.unit, b.resident, code="BETA2345")
    _error(world.kiosk.post("/checkin/scan", {"qr_token": theirs.qr_token}), 409, "WRONG_ESTATE")
    _error(world.kiosk.post("/checkin/manual", {"visitor_code": "BETA2345"}), 404, "NOT_FOUND")


def test_body_device_must_be_the_tokens(world):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    response = world.kiosk.post("/checkin/scan", {"qr_token": visit.qr_token, "device_id": "some-other-device"})
    _error(response, 403, "DEVICE_MISMATCH")


@pytest.mark.parametrize("body,fields", [
    ({}, {"qr_token", "device_id"}),
    ({"qr_token": 5, "device_id": DEVICE}, {"qr_token"}),
    ({"qr_token": "x", "device_id": DEVICE, "gate": "G" * 61}, {"gate"}),
    ({"qr_token": "x", "device_id": DEVICE, "offline_event_id": "short"}, {"offline_event_id"}),
    ({"qr_token": "x", "device_id": "no"}, {"device_id"}),
])
def test_bad_scan_body_is_422_with_field_details(world, body, fields):
    error = _error(world.kiosk.post("/checkin/scan", body, device=False), 422, "VALIDATION_ERROR")
    assert set(error["details"]) == fields


def test_malformed_json_is_422(world):
    response = world.kiosk.client.post("/api/v1/checkin/scan", data="{not json",
                                       headers=world.kiosk.headers(**{"Content-Type": "application/json"}))
    _error(response, 422, "VALIDATION_ERROR")
    response = world.kiosk.client.post("/api/v1/checkin/scan", json=[1, 2],
                                       headers=world.kiosk.headers())
    _error(response, 422, "VALIDATION_ERROR")


def test_same_offline_event_id_gives_the_first_answer_again(world, dbs):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    body = {"qr_token": visit.qr_token, "offline_event_id": "evt-0000000001"}
    first = world.kiosk.post("/checkin/scan", body)
    again = world.kiosk.post("/checkin/scan", body)
    assert first.status_code == again.status_code == 200
    assert first.get_json()["data"]["event"] == again.get_json()["data"]["event"]
    assert again.headers["Idempotent-Replayed"] == "true"
    # A refused one is refused again with the same code, and written once.
    body = {"qr_token": visit.qr_token, "offline_event_id": "evt-0000000002"}
    first = _error(world.kiosk.post("/checkin/scan", body), 409, "ALREADY_INSIDE")
    again = _error(world.kiosk.post("/checkin/scan", body), 409, "ALREADY_INSIDE")
    assert first["details"]["event"]["id"] == again["details"]["event"]["id"]
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(GateEvent).where(GateEvent.visit_id == visit.id)) == 2
        assert s.get(Visit, visit.id).entries_used == 1


def test_scan_query_count_is_small(world, count_queries):
    a = world.a
    visits = [world.make.visit(a.estate, a.unit, a.resident, guests=[(f"G{i}", None, None) for i in range(n)])
              for n in (1, 5)]
    counts = []
    for visit in visits:
        with count_queries() as counter:
            assert world.kiosk.post("/checkin/scan", {"qr_token": visit.qr_token}).status_code == 200
        counts.append(counter.count)
    print("scan queries", counts)
    assert counts[0] == counts[1] and counts[0] <= 16, counts


# --- check-out and status ------------------------------------------------------------------


def test_checkout_by_visit_id_qr_or_code(world):
    a = world.a
    kiosk = world.kiosk
    for key in ("visit_id", "qr_token", "visitor_code"):
        visit = world.make.visit(a.estate, a.unit, a.resident)
        _error(kiosk.post("/checkin/checkout", {key: getattr(visit, "id" if key == "visit_id" else key)}),
               409, "NOT_INSIDE")
        assert kiosk.post("/checkin/scan", {"qr_token": visit.qr_token}).status_code == 200
        response = kiosk.post("/checkin/checkout", {key: getattr(visit, "id" if key == "visit_id" else key),
                                                    "gate": "Back gate"})
        assert response.status_code == 200, response.get_json()
        data = response.get_json()["data"]
        assert data["event"]["type"] == "EXIT" and data["event"]["gate"] == "Back gate"
        assert data["visit"]["people_inside"] is False
        _error(kiosk.post("/checkin/checkout", {"visit_id": visit.id}), 409, "NOT_INSIDE")


def test_checkout_needs_exactly_one_key_and_hides_other_estates(world):
    error = _error(world.kiosk.post("/checkin/checkout", {}), 422, "VALIDATION_ERROR")
    assert "visit_id" in error["details"]
    _error(world.kiosk.post("/checkin/checkout", {"visit_id": 1, "visitor_code": "ABCDEFGH"}), 422,
           "VALIDATION_ERROR")
    b = world.b
    theirs = world.make.visit(b.estate, b.unit, b.resident, people_inside=True)
    _error(world.kiosk.post("/checkin/checkout", {"visit_id": theirs.id}), 404, "NOT_FOUND")
    _error(world.kiosk.post("/checkin/checkout", {"visit_id": 999999}), 404, "NOT_FOUND")


def test_visit_status(world):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    data = world.kiosk.get(f"/visits/{visit.id}/status").get_json()["data"]
    assert (data["entry"], data["exit"], data["can_enter"], data["can_exit"]) == (None, None, True, False)
    assert data["valid_from"].endswith("Z") and data["valid_until"].endswith("Z")
    assert (data["entries_used"], data["max_entries"], data["status"]) == (0, 1, "ACTIVE")
    world.kiosk.post("/checkin/scan", {"qr_token": visit.qr_token})
    data = world.kiosk.get(f"/visits/{visit.id}/status").get_json()["data"]
    assert data["entry"] is not None and data["exit"] is None
    assert (data["can_enter"], data["can_exit"], data["refusal"]) == (False, True, "ALREADY_INSIDE")
    world.kiosk.post("/checkin/checkout", {"visit_id": visit.id})
    data = world.kiosk.get(f"/visits/{visit.id}/status").get_json()["data"]
    assert data["exit"] is not None and data["exit"] >= data["entry"]
    assert (data["can_enter"], data["can_exit"], data["refusal"]) == (False, False, "PASS_EXHAUSTED")


def test_visit_status_of_another_estate_is_404(world):
    b = world.b
    theirs = world.make.visit(b.estate, b.unit, b.resident)
    _error(world.kiosk.get(f"/visits/{theirs.id}/status"), 404, "NOT_FOUND")


def test_another_estates_token_cannot_see_this_estate(world, client):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    beta = kiosk_for(client, world.b.estate, world.b.guard, "beta-device-0001")
    _error(beta.get(f"/visits/{visit.id}/status"), 404, "NOT_FOUND")
    _error(beta.post("/checkin/scan", {"qr_token": visit.qr_token}), 409, "WRONG_ESTATE")
    _error(beta.post("/checkin/manual", {"visitor_code": visit.visitor_code}), 404, "NOT_FOUND")
    _error(beta.post("/checkin/checkout", {"visit_id": visit.id}), 404, "NOT_FOUND")
    assert all(p["id"] != visit.id for p in beta.get("/offline/bootstrap").get_json()["data"]["passes"])


# --- errors, language and the spec ----------------------------------------------------------------


def test_api_errors_are_envelopes_never_html(world, client):
    _error(client.get("/api/v1/no-such-thing"), 404, "NOT_FOUND")
    _error(client.get("/api/v1/checkin/scan"), 405, "METHOD_NOT_ALLOWED")
    _error(client.post("/api/v1/ping"), 405, "METHOD_NOT_ALLOWED")


def test_api_500_is_an_envelope(app, world, monkeypatch):
    import portal.web.api.views as views

    app.config["SHOW_500_PAGE"] = True
    monkeypatch.setattr(views.offline, "bootstrap", lambda *a: 1 / 0)
    _error(world.kiosk.get("/offline/bootstrap"), 500, "INTERNAL_ERROR")


def test_messages_follow_accept_language(world):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident, status=VisitStatus.REVOKED)
    english = _error(world.kiosk.post("/checkin/scan", {"qr_token": visit.qr_token}), 409, "PASS_REVOKED")
    spanish = _error(world.kiosk.post("/checkin/scan", {"qr_token": visit.qr_token}, **{"Accept-Language": "es"}),
                     409, "PASS_REVOKED")
    assert english["message"] == "This pass was cancelled or revoked."
    assert spanish["message"]  # translated once the translator has run; never empty
    _error(world.kiosk.client.get("/api/v1/nothing", headers={"Accept-Language": "es"}), 404, "NOT_FOUND")


def test_openapi_describes_every_route(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["kioskToken"]["scheme"] == "bearer"
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        assert path in spec["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = spec["paths"][path][method.lower()]
            assert "200" in operation["responses"], (path, method)
    codes = str(spec)
    for code in ("PASS_EXPIRED", "PASS_NOT_YET_VALID", "PASS_EXHAUSTED", "PASS_REVOKED", "VISITOR_BANNED",
                 "ALREADY_INSIDE", "NOT_INSIDE", "NOT_FOUND", "DEVICE_MISMATCH", "INVALID_TOKEN",
                 "AUTHENTICATION_REQUIRED", "VALIDATION_ERROR", "RATE_LIMITED", "DUPLICATE", "REJECTED", "APPLIED"):
        assert code in codes, code


def test_api_needs_no_csrf(app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    assert world.kiosk.post("/checkin/scan", {"qr_token": visit.qr_token}).status_code == 200


def test_scan_writes_an_audit_record(world, dbs):
    a = world.a
    visit = world.make.visit(a.estate, a.unit, a.resident)
    world.kiosk.post("/checkin/scan", {"qr_token": visit.qr_token})
    with dbs() as s:
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "visit.entered"))
        assert (log.actor_user_id, log.target_id, log.estate_id) == (a.guard.id, visit.id, a.estate.id)
        assert db is not None


@pytest.mark.parametrize("how", ["remove_from_estate", "roles_changed"])
def test_removing_a_guard_with_tokens_works_and_ends_the_tokens(app, world, how):
    from portal.accounts import members

    with app.test_request_context():
        admin = db.session.get(User, world.a.admin.id)
        estate = db.session.get(Estate, world.a.estate.id)
        if how == "remove_from_estate":
            members.remove_from_estate(admin, estate, world.a.guard.id)
        else:
            members.set_roles(admin, estate, world.a.guard.id, {Role.RESIDENT}, False)
    _error(world.kiosk.get("/offline/bootstrap"), 401, "INVALID_TOKEN")
