"""Never a 500 on odd input (issue 9, items 7–11): control characters at the edge,
numbers and dates out of range, deep or broken JSON, a `next` with CR/LF, and the
notifications page's HTMX fragment. Every route at once: tests/test_every_route.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditLog, Ban, Incident, Notification, User, VisitGuest
from portal.text import strip_bidi_controls
from portal.web.ui import is_safe_next
from tests.test_api_kiosk import _error, kiosk_for
from tests.test_visits import _form as _visit_form

REFUSED = "Remove the control characters"


def _refused(response):
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert REFUSED in response.get_data(as_text=True)


# --- 7. control characters ------------------------------------------------------------------


def test_a_nul_in_a_form_field_is_the_validation_answer(client, estate_pair):
    _refused(client.post("/login", data={"login": "resident@alpha.test\x00", "password": "x"}))


@pytest.mark.parametrize("url", ["/p/abc%00def", "/join/AB%00C", "/e/alpha%01/admin/", "/login?next=/%00"])
def test_a_control_character_in_a_path_or_query_is_the_validation_answer(client, estate_pair, url):
    _refused(client.get(url))


def test_a_nul_in_a_query_of_a_signed_in_page(client, estate_pair, login):
    login("admin@alpha.test")
    _refused(client.get("/e/alpha/admin/visits/?q=a%00b"))


def test_the_answer_is_spanish_for_a_spanish_reader(client, estate_pair):
    response = client.get("/p/abc%00def", headers={"Accept-Language": "es"})
    assert response.status_code == 422 and "Quite los caracteres de control" in response.get_data(as_text=True)


def test_a_text_area_keeps_its_tabs_and_newlines(client, estate_pair, login, dbs):
    login("admin@alpha.test")
    response = client.post("/e/alpha/admin/bans/new", data={
        "phone": "08099999999", "severity": "HIGH", "reason": "Threatened\tthe guard\r\ntwice"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with dbs() as s:
        assert s.scalar(sa.select(Ban.reason)) == "Threatened\tthe guard\r\ntwice"


@pytest.mark.parametrize("body", [
    {"estate": "alpha\u0000", "login": "guard@alpha.test", "password": "x", "device_id": "kiosk-device-0001"},
    {"estate": "alpha", "login": "guard@alpha.test", "password": "x\x1b", "device_id": "kiosk-device-0001"},
    {"estate": "alpha", "login": "guard@alpha.test", "password": "x", "device_id": "kiosk-device-0001",
     "extra\x00": 1},
])
def test_a_control_character_in_json_is_a_validation_envelope(client, estate_pair, body):
    _error(client.post("/api/v1/kiosk/token", json=body), 422, "VALIDATION_ERROR")


def test_bidi_controls_are_stripped_from_names_and_plates(client, estate_pair, login, dbs):
    assert strip_bidi_controls("\u202eABC\u2066D\u2069\u202a") == "ABCD"
    login("resident@alpha.test")
    response = client.post("/e/alpha/home/visits/new", data=_visit_form(
        estate_pair.alpha.unit.id, **{"guests-0-full_name": "\u202eNgozi Eze", "guests-0-plate": "LAG\u202e 123"}))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    client.post("/account/", data={"full_name": "Ada\u2067 Obi", "email": "resident@alpha.test",
                                   "preferred_language": "en"})
    with dbs() as s:
        guest = s.scalars(sa.select(VisitGuest)).one()
        assert (guest.full_name, guest.plate) == ("Ngozi Eze", "LAG123")
        assert s.scalar(sa.select(User.full_name).where(User.email == "resident@alpha.test")) == "Ada Obi"


# --- 8. numbers and dates out of range ----------------------------------------------------------


@pytest.mark.parametrize("number", [2**31, 3_000_000_000, 2**63, 10**30])
def test_ids_beyond_a_database_integer_are_a_plain_404(client, estate_pair, login, number):
    login("admin@alpha.test")
    assert client.get(f"/e/alpha/admin/units/{number}/").status_code == 404
    assert client.get(f"/e/alpha/admin/visits/{number}").status_code == 404


def test_an_api_id_beyond_a_database_integer_is_a_not_found_envelope(client, estate_pair):
    kiosk = kiosk_for(client, estate_pair.alpha.estate, estate_pair.alpha.guard)
    _error(kiosk.get("/visits/3000000000/status"), 404, "NOT_FOUND")


@pytest.mark.parametrize("page", ["99999999999999999999", "-5", "0", "abc"])
@pytest.mark.parametrize("path", ["/e/alpha/admin/visits/", "/e/alpha/admin/units/", "/e/alpha/admin/audit/",
                                  "/e/alpha/admin/incidents", "/account/notifications"])
def test_any_page_number_is_a_page(client, estate_pair, login, page, path):
    login("admin@alpha.test")
    assert client.get(f"{path}?page={page}").status_code == 200


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=0001-01-01&to=9999-12-31",
                                   "unit=99999999999&guard=3000000000"])
@pytest.mark.parametrize("path", ["/e/alpha/admin/visits/", "/e/alpha/admin/visits/export.csv",
                                  "/e/alpha/admin/gate-events/", "/e/alpha/admin/gate-events/export.csv",
                                  "/e/alpha/admin/audit/", "/e/alpha/admin/audit/export.csv",
                                  "/e/alpha/admin/incidents"])
def test_far_dates_in_filters_are_refused_with_a_message(client, estate_pair, login, make, path, query):
    make.visit(estate_pair.alpha.estate, estate_pair.alpha.unit)
    login("admin@alpha.test")
    response = client.get(f"{path}?{query}")
    if "export" in path:
        assert response.status_code == 200
        response.get_data()  # the streamed body
    elif "unit=" in query:
        assert response.status_code == 200
    else:  # the incidents page ignores a bad date with its message, as it always has (200)
        assert response.status_code == (200 if "incidents" in path else 422)
        assert "Enter a date between 1900 and 2999." in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "estate=99999999999"])
def test_far_dates_on_the_enterprise_audit(client, make, login, query):
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    response = client.get(f"/enterprise/audit/?{query}")
    assert response.status_code == (200 if "estate" in query else 422)
    export = client.get(f"/enterprise/audit/export.csv?{query}")
    assert export.status_code == 200 and export.get_data()


def test_a_ban_until_9999_is_refused(client, estate_pair, login, dbs):
    login("admin@alpha.test")
    response = client.post("/e/alpha/admin/bans/new", data={
        "phone": "08099999999", "severity": "HIGH", "reason": "Threats", "expires_on": "9999-12-31"})
    assert response.status_code == 422 and "Enter a date between 1900 and 2999." in response.get_data(as_text=True)
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count(Ban.id))) == 0


def test_an_incident_in_year_one_is_refused(client, estate_pair, login, dbs):
    login("guard@alpha.test")
    response = client.post("/e/alpha/gate/incidents", data={
        "incident_type": "SUSPICIOUS_PERSON", "description": "Someone at the fence", "occurred_at": "0001-01-01T00:05"})
    assert response.status_code == 422 and "Enter a date between 1900 and 2999." in response.get_data(as_text=True)
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count(Incident.id))) == 0


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00-12:00",
                                  "1999-12-31T23:59:59Z"])
def test_one_absurd_offline_item_is_rejected_alone(client, estate_pair, make, when):
    a = estate_pair.alpha
    visit = make.visit(a.estate, a.unit, a.resident)
    kiosk = kiosk_for(client, a.estate, a.guard)
    now = datetime.now(UTC)
    items = [{"client_event_id": "bad-item-0001", "event_type": "ENTRY", "occurred_at": when,
              "visitor_code": visit.visitor_code},
             {"client_event_id": "good-item-001", "event_type": "ENTRY", "occurred_at": now.isoformat(),
              "visitor_code": visit.visitor_code}]
    response = kiosk.post("/offline/sync", {"items": items})
    assert response.status_code == 200, response.get_json()
    bad, good = response.get_json()["data"]["results"]
    assert (bad["status"], bad["code"]) == ("REJECTED", "VALIDATION_ERROR")
    assert good["status"] == "APPLIED"


# --- 9. deep or broken JSON ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/kiosk/token", "/api/v1/checkin/scan", "/api/v1/offline/sync"])
@pytest.mark.parametrize("body", ["[" * 5000, "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000])
def test_deeply_nested_json_is_an_error_envelope(client, estate_pair, path, body):
    kiosk = kiosk_for(client, estate_pair.alpha.estate, estate_pair.alpha.guard)
    response = client.post(path, data=body, content_type="application/json", headers=kiosk.headers())
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:300]
    assert response.get_json()["success"] is False


def test_a_lone_surrogate_in_a_qr_token_is_a_validation_envelope(client, estate_pair):
    kiosk = kiosk_for(client, estate_pair.alpha.estate, estate_pair.alpha.guard)
    body = '{"qr_token": "abc\\udfff", "device_id": "' + kiosk.device_id + '"}'
    response = client.post("/api/v1/checkin/scan", data=body, content_type="application/json",
                           headers=kiosk.headers())
    _error(response, 422, "VALIDATION_ERROR")


def test_deep_json_on_the_gate_pages_own_sync(client, estate_pair, login):
    login("guard@alpha.test")
    response = client.post("/e/alpha/gate/offline/sync", data="[" * 5000, content_type="application/json")
    assert response.status_code == 422


# --- 10. a next with CR/LF ------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: x=1", "/%0D%0A//evil.example", "/\n//evil.example",
                                    "/\\evil.example", "/ok\x00"])
def test_a_next_with_control_characters_or_a_backslash_is_not_safe(target):
    assert not is_safe_next(target.replace("%0D%0A", "\r\n"))


def test_the_language_switch_ignores_a_next_with_crlf(client):
    response = client.post("/language", data={"lang": "es", "next": "/\r\nSet-Cookie: x=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_sign_in_with_a_crlf_next_is_never_a_500(client, estate_pair):
    assert client.get("/login?next=/%0D%0A//evil.example").status_code == 422
    response = client.post("/login?next=/%0D%0A//evil.example",
                           data={"login": "resident@alpha.test", "password": "secret-pass-1"})
    assert response.status_code == 422


# --- 11. the notifications fragment -------------------------------------------------------------


def test_the_notifications_fragment_has_its_pager(client, estate_pair, login, app):
    login("resident@alpha.test")
    now = datetime.now(UTC)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "resident@alpha.test"))
        db.session.add_all(Notification(user_id=user.id, kind="other", params={}, link="/",
                                        created_at=now - timedelta(minutes=i)) for i in range(45))
        db.session.commit()
    response = client.get("/account/notifications?page=2", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Page 2 of 3" in html and "<html" not in html


def test_nothing_is_half_written_by_a_refused_request(client, estate_pair, login, dbs):
    login("admin@alpha.test")
    with dbs() as s:
        before = s.scalar(sa.select(sa.func.count(AuditLog.id)))
    _refused(client.post("/e/alpha/admin/bans/new", data={"phone": "0809\x009999999", "severity": "HIGH",
                                                         "reason": "x"}))
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count(AuditLog.id))) == before
