"""The gate: look a pass up, ADMIT or DENY for every reason, record entries and exits
race-safely, inside-now, estate-wide bans and revoking passes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from portal.gate import service
from portal.models import (
    AuditLog,
    Ban,
    BanScope,
    Estate,
    GateEvent,
    GateEventType,
    GateMethod,
    OutboxMessage,
    PassType,
    Role,
    User,
    Visit,
    VisitStatus,
)
from portal.visits.rules import Refusal

DEVICE = "tablet-0123456789abcdef"
HEADERS = {"X-Gate-Device": DEVICE}


@pytest.fixture
def gate(client, estate_pair, login):
    login("guard@alpha.test")
    return estate_pair


def _visit(make, people, **kw):
    return make.visit(people.estate, people.unit, people.resident, **kw)


def _check(client, code, slug="alpha", **headers):
    return client.post(f"/e/{slug}/gate/check", data={"code": code}, headers={**HEADERS, **headers})


def _events(dbs, **where) -> list[GateEvent]:
    with dbs() as s:
        stmt = sa.select(GateEvent).order_by(GateEvent.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(GateEvent, key) == value)
        return list(s.scalars(stmt))


def _get_visit(dbs, visit_id) -> Visit:
    with dbs() as s:
        visit = s.get(Visit, visit_id)
        s.expunge(visit)
        return visit


def test_a_valid_code_shows_admit_and_one_tap_records_the_entry(client, gate, make, dbs):
    visit = _visit(make, gate.alpha, guests=[("Chinedu Okeke", "+2348091110001", "LAG 123 XY")], code="DEMSNG22")
    page = _check(client, "dem-sng 22")  # case, spaces and dashes do not matter
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "ADMIT" in html and "Chinedu Okeke" in html
    assert "A1" in html and "LAG 123 XY" in html and "Record entry" in html
    assert _events(dbs) == []  # looking is not entering
    entry = client.post(f"/e/alpha/gate/visits/{visit.id}/entry", data={"method": "CODE"}, headers=HEADERS)
    assert "ENTRY RECORDED" in entry.get_data(as_text=True) and "Record exit" in entry.get_data(as_text=True)
    [event] = _events(dbs)
    with dbs() as s:
        guard_id = s.scalar(sa.select(User.id).where(User.email == "guard@alpha.test"))
        assert s.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == visit.id)) == "visit.entered"
    assert (event.event_type, event.method, event.guard_user_id, event.device_id, event.gate, event.reason) == (
        GateEventType.ENTRY, GateMethod.CODE, guard_id, DEVICE, "Main gate", None)
    after = _get_visit(dbs, visit.id)
    assert (after.entries_used, after.people_inside) == (1, True)


def test_the_answer_swaps_into_the_result_area_with_htmx(client, gate, make):
    _visit(make, gate.alpha, code="HTMXAAAA")
    fragment = _check(client, "htmxaaaa", **{"HX-Request": "true"})
    assert b"<html" not in fragment.data and b'id="result"' not in fragment.data and b"ADMIT" in fragment.data
    empty = _check(client, "  ", **{"HX-Request": "true"})
    assert empty.status_code == 422 and b"8-character code" in empty.data


@pytest.mark.parametrize("fields, refusal, message", [
    ({"starts": timedelta(hours=-5), "ends": timedelta(hours=-1)}, "PASS_EXPIRED", "This pass has expired."),
    ({"starts": timedelta(hours=1)}, "PASS_NOT_YET_VALID", "This pass is not valid yet."),
    ({"entries_used": 1}, "PASS_EXHAUSTED", "This pass has no entries left."),
    ({"status": VisitStatus.REVOKED}, "PASS_REVOKED", "This pass was cancelled or revoked."),
    ({"status": VisitStatus.CANCELLED}, "PASS_REVOKED", "This pass was cancelled or revoked."),
    ({"entries_used": 1, "people_inside": True}, "ALREADY_INSIDE", "This visitor is already inside."),
])
def test_each_refusal_denies_with_its_reason_and_is_recorded(client, gate, make, dbs, fields, refusal, message):
    visit = _visit(make, gate.alpha, code="DENYCODE", **fields)
    html = _check(client, "DENYCODE").get_data(as_text=True)
    assert "DENY" in html and message in html and "Record entry" not in html
    [event] = _events(dbs)
    assert (event.event_type, event.reason, event.method, event.visit_id, event.device_id) == (
        GateEventType.DENIED, refusal, GateMethod.CODE, visit.id, DEVICE)
    # Tapping entry anyway (a stale screen) is refused the same way.
    client.post(f"/e/alpha/gate/visits/{visit.id}/entry", headers=HEADERS)
    assert [e.reason for e in _events(dbs)] == [refusal, refusal]
    assert _get_visit(dbs, visit.id).entries_used == fields.get("entries_used", 0)


def test_a_banned_visitor_is_denied_with_the_reason_shown(client, gate, make, dbs):
    alpha = gate.alpha
    visit = _visit(make, alpha, guests=[("Friend", "+2348090000001", None), ("Trouble", "+2348099999999", None)],
                   code="BANNEDAA")
    with dbs() as s:
        s.add(Ban(estate_id=alpha.estate.id, phone="+2348099999999", scope=BanScope.ESTATE, severity="HIGH",
                  reason="Threatened a guard"))
        s.commit()
    html = _check(client, "BANNEDAA").get_data(as_text=True)
    assert "DENY" in html and "This visitor is banned from the estate." in html and "Threatened a guard" in html
    assert _events(dbs)[0].reason == "VISITOR_BANNED"
    assert _get_visit(dbs, visit.id).entries_used == 0


def test_only_active_bans_count_and_personal_bans_only_for_their_owner(app, gate, make, dbs):
    alpha = gate.alpha
    other = make.user("neighbour@alpha.test", estate=alpha.estate, role=Role.RESIDENT)
    now = datetime.now(UTC)
    visit = _visit(make, alpha, guests=[("X", "+2348090000009", None)])
    with dbs() as s:
        estate = s.get(Estate, alpha.estate.id)
        v = s.get(Visit, visit.id)
        s.add_all([
            Ban(estate_id=estate.id, phone="+2348090000009", scope=BanScope.ESTATE, reason="old",
                expires_at=now - timedelta(minutes=1)),
            Ban(estate_id=estate.id, phone="+2348090000009", scope=BanScope.ESTATE, reason="lifted",
                lifted_at=now - timedelta(minutes=1)),
            Ban(estate_id=estate.id, phone="+2348090000009", scope=BanScope.PERSONAL, owner_user_id=other.id),
            Ban(estate_id=gate.beta.estate.id, phone="+2348090000009",
                scope=BanScope.ESTATE, reason="other estate"),
        ])
        s.commit()
        assert service.check(estate, v, now).refusal is None
        s.add(Ban(estate_id=estate.id, phone="+2348090000009", scope=BanScope.PERSONAL,
                  owner_user_id=alpha.resident.id, reason="my ex"))
        s.commit()
        decision = service.check(estate, v, now)
        assert decision.refusal == Refusal.VISITOR_BANNED and decision.ban.reason == "my ex"


def test_a_qr_token_of_another_estate_is_wrong_estate_and_a_code_is_not_found(client, gate, make, dbs):
    beta_visit = make.visit(gate.beta.estate, gate.beta.unit, gate.beta.resident, code="BETACODE")
    with dbs() as s:
        alpha = s.get(Estate, gate.alpha.estate.id)
        assert service.find_pass(alpha, qr_token=beta_visit.qr_token).refusal == Refusal.WRONG_ESTATE
        assert service.find_pass(alpha, qr_token="no-such-token").refusal == Refusal.NOT_FOUND
        assert service.find_pass(alpha, code="BETACODE").refusal == Refusal.NOT_FOUND
    html = _check(client, "BETACODE").get_data(as_text=True)
    assert "No pass matches this code." in html and "Beta" not in html
    assert _events(dbs) == []  # nothing is written for an unknown code
    qr = client.post("/e/alpha/gate/check", data={"qr_token": beta_visit.qr_token}, headers=HEADERS)
    assert b"This pass is for another estate." in qr.data
    [event] = _events(dbs)
    assert (event.estate_id, event.visit_id, event.reason, event.method) == (
        gate.alpha.estate.id, None, "WRONG_ESTATE", GateMethod.QR)
    assert _get_visit(dbs, beta_visit.id).entries_used == 0


def test_exit_needs_an_open_entry(client, gate, make, dbs):
    visit = _visit(make, gate.alpha)
    refused = client.post(f"/e/alpha/gate/visits/{visit.id}/exit", headers=HEADERS)
    assert b"This visitor is not inside." in refused.data
    assert [(e.event_type, e.reason) for e in _events(dbs)] == [(GateEventType.DENIED, "NOT_INSIDE")]
    client.post(f"/e/alpha/gate/visits/{visit.id}/entry", headers=HEADERS)
    out = client.post(f"/e/alpha/gate/visits/{visit.id}/exit", headers=HEADERS)
    assert b"EXIT RECORDED" in out.data
    assert [e.event_type for e in _events(dbs)][1:] == [GateEventType.ENTRY, GateEventType.EXIT]
    assert _get_visit(dbs, visit.id).people_inside is False
    again = client.post(f"/e/alpha/gate/visits/{visit.id}/exit", headers=HEADERS)
    assert b"This visitor is not inside." in again.data
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "visit.exited")) == 1
    # A single-use pass that went in and out is used up.
    assert b"This pass has no entries left." in _check(client, _get_visit(dbs, visit.id).visitor_code).data


def test_a_multi_entry_pass_counts_its_entries(client, gate, make, dbs):
    visit = _visit(make, gate.alpha, pass_type=PassType.MULTI_ENTRY, max_entries=3)
    url = f"/e/alpha/gate/visits/{visit.id}"
    for n in range(1, 4):
        assert b"ENTRY RECORDED" in client.post(f"{url}/entry", headers=HEADERS).data
        assert _get_visit(dbs, visit.id).entries_used == n
        assert b"This visitor is already inside." in client.post(f"{url}/entry", headers=HEADERS).data
        assert b"EXIT RECORDED" in client.post(f"{url}/exit", headers=HEADERS).data
    assert b"This pass has no entries left." in client.post(f"{url}/entry", headers=HEADERS).data
    assert _get_visit(dbs, visit.id).entries_used == 3


def test_a_recurring_pass_is_judged_in_the_estates_timezone(app, gate, make, dbs):
    monday_noon = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 13:00 in Lagos, 06:00 in Guatemala
    guatemala = make.estate("guate", timezone="America/Guatemala", country="GT")
    g_unit = make.unit(guatemala, "G1")
    fields = dict(pass_type=PassType.RECURRING, weekdays="12345", daily_start=time(7), daily_end=time(18),
                  valid_from=monday_noon - timedelta(days=30), valid_until=monday_noon + timedelta(days=30))
    lagos_pass = make.visit(gate.alpha.estate, gate.alpha.unit, **fields)
    guate_pass = make.visit(guatemala, g_unit, **fields)
    guard = gate.alpha.guard
    with dbs() as s:
        lagos, guate = s.get(Estate, gate.alpha.estate.id), s.get(Estate, guatemala.id)
        ctx = service.GateContext(device_id=DEVICE)
        denied = service.admit(None, guate, s.get(Visit, guate_pass.id), ctx, monday_noon)
        assert denied.refusal == Refusal.PASS_NOT_YET_VALID
        user = s.get(User, guard.id)
        first = service.admit(user, lagos, s.get(Visit, lagos_pass.id), ctx, monday_noon)
        assert first.admitted and first.event.event_type == GateEventType.ENTRY
        assert service.let_out(user, lagos, s.get(Visit, lagos_pass.id), ctx, monday_noon + timedelta(hours=1)).admitted
        second = service.admit(user, lagos, s.get(Visit, lagos_pass.id), ctx, monday_noon + timedelta(hours=2))
        assert second.admitted and s.get(Visit, lagos_pass.id).entries_used == 2  # no limit
        s.get(Visit, lagos_pass.id).people_inside = False
        s.commit()
        evening = service.admit(user, lagos, s.get(Visit, lagos_pass.id), ctx, monday_noon + timedelta(hours=6))
        assert evening.refusal == Refusal.PASS_EXPIRED  # 19:00 in Lagos
        saturday = service.admit(user, lagos, s.get(Visit, lagos_pass.id), ctx, monday_noon + timedelta(days=5))
        assert saturday.refusal == Refusal.PASS_NOT_YET_VALID


def test_the_same_client_event_is_recorded_once(app, gate, make, dbs):
    visit = _visit(make, gate.alpha)
    with dbs() as s:
        estate = s.get(Estate, gate.alpha.estate.id)
        ctx = service.GateContext(device_id=DEVICE, method=GateMethod.OFFLINE, client_event_id="dev-1:42")
        first = service.admit(None, estate, s.get(Visit, visit.id), ctx, datetime.now(UTC))
        again = service.admit(None, estate, s.get(Visit, visit.id), ctx, datetime.now(UTC))
        assert first.admitted and again.duplicate and again.event.id == first.event.id
    assert len(_events(dbs)) == 1


def test_the_host_is_told_when_their_visitor_enters(client, gate, make, dbs):
    with dbs() as s:
        s.get(User, gate.alpha.resident.id).phone = "+2348030000111"
        s.commit()
    visit = _visit(make, gate.alpha, guests=[("Halima Sani", "+2348091110002", None)])
    client.post(f"/e/alpha/gate/visits/{visit.id}/entry", headers=HEADERS)
    with dbs() as s:
        sent = {(m.channel, m.recipient): m.body for m in s.scalars(sa.select(OutboxMessage))}
    assert set(sent) == {("EMAIL", "resident@alpha.test"), ("SMS", "+2348030000111")}
    assert "Halima Sani has arrived at Alpha Court (unit A1)" in sent[("SMS", "+2348030000111")]


def test_search_finds_todays_passes_by_name_phone_or_plate(client, gate, make, dbs):
    alpha = gate.alpha
    visit = _visit(make, alpha, guests=[("Femi Adeyemi", "+2348091110003", "KJA555AA")])
    _visit(make, alpha, guests=[("Femi Tomorrow", None, None)], starts=timedelta(days=2), ends=timedelta(days=3))
    make.visit(gate.beta.estate, gate.beta.unit, guests=[("Femi Beta", None, None)])
    for query in ("femi", "1110003", "kja 555"):
        html = client.get(f"/e/alpha/gate/find?find={query}", headers={"HX-Request": "true", **HEADERS}).get_data(as_text=True)
        assert "Femi Adeyemi" in html and "Femi Tomorrow" not in html and "Femi Beta" not in html, query
    picked = client.post("/e/alpha/gate/check", data={"visit_id": visit.id}, headers=HEADERS)
    assert b"ADMIT" in picked.data and b'name="method" value="SEARCH"' in picked.data
    client.post(f"/e/alpha/gate/visits/{visit.id}/entry", data={"method": "SEARCH"}, headers=HEADERS)
    assert _events(dbs)[0].method == GateMethod.SEARCH
    assert b"No pass for today matches" in client.get("/e/alpha/gate/find?find=nobody", headers=HEADERS).data


def test_inside_now_lists_who_is_in_with_time_host_and_unit(client, gate, make, dbs):
    visit = _visit(make, gate.alpha, guests=[("Inside Person", None, "ABC123")])
    _visit(make, gate.alpha, guests=[("Outside Person", None, None)])
    client.post(f"/e/alpha/gate/visits/{visit.id}/entry", headers=HEADERS)
    html = client.get("/e/alpha/gate/inside", headers=HEADERS).get_data(as_text=True)
    assert "Inside Person" in html and "Outside Person" not in html and "1 visit inside" in html
    assert 'hx-trigger="every 15s"' in html and "Resident of alpha" not in html
    row = re.search(rf'<tr id="inside-{visit.id}">.*?</tr>', html, re.S).group(0)
    assert "A1" in row and gate.alpha.resident.full_name in row and "ABC123" in row
    printable = client.get("/e/alpha/gate/inside?print=1", headers=HEADERS).get_data(as_text=True)
    assert "Evacuation roll: Alpha Court" in printable and "Inside Person" in printable
    fragment = client.get("/e/alpha/gate/inside", headers={"HX-Request": "true", **HEADERS})
    assert b"<html" not in fragment.data and b"Inside Person" in fragment.data
    out = client.post(f"/e/alpha/gate/visits/{visit.id}/exit", data={"back": "inside"}, headers=HEADERS)
    assert out.status_code == 302
    assert b"Nobody is inside on a visitor pass." in client.get("/e/alpha/gate/inside", headers=HEADERS).data


def test_inside_now_runs_a_constant_number_of_queries(client, gate, make, count_queries, dbs):
    def add_inside(n):
        for _ in range(n):
            v = _visit(make, gate.alpha, guests=[("A", None, None), ("B", None, "P1")], entries_used=1,
                       people_inside=True)
            with dbs() as s:
                s.add(GateEvent(estate_id=gate.alpha.estate.id, visit_id=v.id, event_type=GateEventType.ENTRY,
                                method=GateMethod.CODE, occurred_at=datetime.now(UTC)))
                s.commit()

    add_inside(1)
    client.get("/e/alpha/gate/inside", headers=HEADERS)
    with count_queries() as few:
        client.get("/e/alpha/gate/inside", headers=HEADERS)
    add_inside(30)
    with count_queries() as many:
        html = client.get("/e/alpha/gate/inside", headers=HEADERS).get_data(as_text=True)
    assert many.count == few.count and "31 visits inside" in html and "Page 1 of 2" in html


# --- bans ---------------------------------------------------------------------------------


def test_an_admin_bans_a_number_and_the_gate_refuses_it_until_lifted(client, estate_pair, make, login, dbs):
    alpha = estate_pair.alpha
    visit = _visit(make, alpha, guests=[("Ban Me", "+2348099999999", None)], code="BANMEAAA")
    login("admin@alpha.test")
    bad = client.post("/e/alpha/admin/bans/new", data={"phone": "not a phone", "severity": "HIGH", "reason": "x"})
    assert bad.status_code == 422 and b"Enter a phone number" in bad.data
    no_reason = client.post("/e/alpha/admin/bans/new", data={"phone": "08099999999", "severity": "HIGH"})
    assert no_reason.status_code == 422
    past = client.post("/e/alpha/admin/bans/new", data={"phone": "08099999999", "severity": "HIGH", "reason": "x",
                                                        "expires_on": "2020-01-01"})
    assert past.status_code == 422 and b"The expiry must be in the future." in past.data
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count(Ban.id))) == 0
    ok = client.post("/e/alpha/admin/bans/new", data={"phone": "0809 999 9999", "severity": "HIGH",
                                                      "reason": "Stole a bicycle"})
    assert ok.headers["Location"] == "/e/alpha/admin/bans/"
    html = client.get("/e/alpha/admin/bans/").get_data(as_text=True)
    assert "+2348099999999" in html and "Stole a bicycle" in html and "1 ban" in html
    with dbs() as s:
        ban = s.scalar(sa.select(Ban))
        assert (ban.scope, ban.severity, ban.estate_id) == (BanScope.ESTATE, "HIGH", alpha.estate.id)
        assert s.scalar(sa.select(AuditLog.action).where(AuditLog.target_type == "Ban")) == "ban.created"
    twice = client.post("/e/alpha/admin/bans/new", data={"phone": "+2348099999999", "severity": "LOW", "reason": "y"})
    assert twice.status_code == 422

    guard = make.user("g2@alpha.test", estate=alpha.estate, role=Role.GUARD)  # noqa: F841
    gate_client = client.application.test_client()
    login("g2@alpha.test", as_client=gate_client)
    denied = _check(gate_client, "BANMEAAA").get_data(as_text=True)
    assert "This visitor is banned from the estate." in denied and "Stole a bicycle" in denied

    client.post(f"/e/alpha/admin/bans/{ban.id}/lift")
    with dbs() as s:
        assert s.get(Ban, ban.id).lifted_at is not None
        assert s.scalar(sa.select(AuditLog.id).where(AuditLog.action == "ban.lifted")) is not None
    assert b"No estate-wide bans" in client.get("/e/alpha/admin/bans/").data
    assert b"Stole a bicycle" in client.get("/e/alpha/admin/bans/?state=LIFTED").data
    assert b"ADMIT" in _check(gate_client, "BANMEAAA").data
    assert _get_visit(dbs, visit.id).entries_used == 0


def test_a_guard_supervisor_manages_bans_and_revokes_passes_from_the_gate(client, estate_pair, make, login, dbs):
    alpha = estate_pair.alpha
    make.user("sup@alpha.test", estate=alpha.estate, role=Role.GUARD, supervisor=True)
    visit = _visit(make, alpha, code="REVOKEME")
    login("sup@alpha.test")
    assert client.get("/e/alpha/gate/bans/", headers=HEADERS).status_code == 200
    assert client.post("/e/alpha/gate/bans/new", data={"phone": "+2348011112222", "severity": "LOW",
                                                       "reason": "Rude"}, headers=HEADERS).status_code == 302
    passes = client.get("/e/alpha/gate/passes/?q=revokeme", headers=HEADERS).get_data(as_text=True)
    assert "REVOKEME" in passes and "1 active pass" in passes
    assert client.post(f"/e/alpha/gate/passes/{visit.id}/revoke", headers=HEADERS).status_code == 302
    after = _get_visit(dbs, visit.id)
    assert after.status == VisitStatus.REVOKED and after.revoked_at is not None
    with dbs() as s:
        sup_id = s.scalar(sa.select(User.id).where(User.email == "sup@alpha.test"))
        assert after.revoked_by_id == sup_id
        assert s.scalar(sa.select(AuditLog.action).where(AuditLog.action == "visit.revoked")) == "visit.revoked"
    assert b"This pass was cancelled or revoked." in _check(client, "REVOKEME").data
    assert b"No active passes right now." in client.get("/e/alpha/gate/passes/", headers=HEADERS).data


def test_admins_see_and_revoke_active_passes(client, estate_pair, make, login, dbs):
    alpha = estate_pair.alpha
    visit = _visit(make, alpha, guests=[("Listed Guest", None, None)])
    _visit(make, alpha, guests=[("Expired Guest", None, None)], starts=timedelta(hours=-5), ends=timedelta(hours=-1))
    login("admin@alpha.test")
    html = client.get("/e/alpha/admin/passes/").get_data(as_text=True)
    assert "Listed Guest" in html and "Expired Guest" not in html
    client.post(f"/e/alpha/admin/passes/{visit.id}/revoke")
    assert _get_visit(dbs, visit.id).status == VisitStatus.REVOKED
    again = client.post(f"/e/alpha/admin/passes/{visit.id}/revoke", follow_redirects=True)
    assert b"This pass is no longer active." in again.data


def test_the_pass_list_and_ban_list_run_a_constant_number_of_queries(client, estate_pair, make, login,
                                                                     count_queries, dbs):
    alpha = estate_pair.alpha
    login("admin@alpha.test")

    def add(n):
        for _ in range(n):
            _visit(make, alpha, guests=[("A", None, None), ("B", None, "X1")])
        with dbs() as s:
            s.add_all([Ban(estate_id=alpha.estate.id, phone=f"+23480{i:08d}", scope=BanScope.ESTATE,
                           created_by_id=alpha.admin.id, reason="r") for i in range(n)])
            s.commit()

    add(1)
    client.get("/e/alpha/admin/passes/")
    with count_queries() as few_passes:
        client.get("/e/alpha/admin/passes/")
    with count_queries() as few_bans:
        client.get("/e/alpha/admin/bans/")
    add(30)
    with count_queries() as many_passes:
        html = client.get("/e/alpha/admin/passes/").get_data(as_text=True)
    with count_queries() as many_bans:
        client.get("/e/alpha/admin/bans/")
    assert "31 active passes" in html
    assert (many_passes.count, many_bans.count) == (few_passes.count, few_bans.count)


# --- tenancy and roles ------------------------------------------------------------------------


def test_another_estates_ids_are_404_and_change_nothing(client, estate_pair, make, login, dbs):
    beta = estate_pair.beta
    make.user("sup@alpha.test", estate=estate_pair.alpha.estate, role=Role.GUARD, supervisor=True)
    visit = make.visit(beta.estate, beta.unit, beta.resident, entries_used=1, people_inside=True,
                       pass_type=PassType.MULTI_ENTRY, max_entries=3)
    with dbs() as s:
        ban = Ban(estate_id=beta.estate.id, phone="+2348090001111", scope=BanScope.ESTATE, reason="beta")
        s.add(ban)
        s.commit()
        ban_id = ban.id
    login("sup@alpha.test")
    for url in (f"/e/alpha/gate/visits/{visit.id}/entry", f"/e/alpha/gate/visits/{visit.id}/exit",
                f"/e/alpha/gate/passes/{visit.id}/revoke", f"/e/alpha/gate/bans/{ban_id}/lift"):
        assert client.post(url, headers=HEADERS).status_code == 404, url
    assert client.post("/e/alpha/gate/check", data={"visit_id": visit.id}, headers=HEADERS).status_code == 404
    admin = client.application.test_client()
    login("admin@alpha.test", as_client=admin)
    for url in (f"/e/alpha/admin/passes/{visit.id}/revoke", f"/e/alpha/admin/bans/{ban_id}/lift"):
        assert admin.post(url).status_code == 404, url
    after = _get_visit(dbs, visit.id)
    assert (after.status, after.entries_used, after.people_inside) == (VisitStatus.ACTIVE, 1, True)
    with dbs() as s:
        assert s.get(Ban, ban_id).lifted_at is None
        assert s.scalar(sa.select(sa.func.count(GateEvent.id))) == 0
        assert s.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.target_type.in_(["Visit", "Ban"]))) == 0


def test_residents_cannot_use_the_gate_and_plain_guards_cannot_manage(client, estate_pair, make, login, dbs):
    alpha = estate_pair.alpha
    visit = _visit(make, alpha)
    login("resident@alpha.test")
    assert client.get("/e/alpha/gate/").status_code == 403
    assert client.get("/e/alpha/gate/inside").status_code == 403
    assert client.post("/e/alpha/gate/check", data={"code": visit.visitor_code}).status_code == 403
    assert client.post(f"/e/alpha/gate/visits/{visit.id}/entry").status_code == 403
    assert client.get("/e/alpha/admin/bans/").status_code == 403
    client = client.application.test_client()
    login("guard@alpha.test", as_client=client)
    with dbs() as s:
        s.add(Ban(estate_id=alpha.estate.id, phone="+2348090002222", scope=BanScope.ESTATE, reason="r"))
        s.commit()
        ban_id = s.scalar(sa.select(Ban.id))
    for url in ("/e/alpha/gate/bans/", "/e/alpha/gate/bans/new", "/e/alpha/gate/passes/", "/e/alpha/admin/bans/",
                "/e/alpha/admin/passes/"):
        assert client.get(url, headers=HEADERS).status_code == 403, url
    assert client.post("/e/alpha/gate/bans/new", data={"phone": "+2348090003333", "severity": "LOW",
                                                       "reason": "r"}, headers=HEADERS).status_code == 403
    assert client.post(f"/e/alpha/gate/bans/{ban_id}/lift", headers=HEADERS).status_code == 403
    assert client.post(f"/e/alpha/gate/passes/{visit.id}/revoke", headers=HEADERS).status_code == 403
    home = client.get("/e/alpha/gate/", headers=HEADERS).get_data(as_text=True)
    assert "/gate/bans/" not in home and "/gate/inside" in home
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count(Ban.id))) == 1 and s.get(Ban, ban_id).lifted_at is None
        assert s.get(Visit, visit.id).status == VisitStatus.ACTIVE
