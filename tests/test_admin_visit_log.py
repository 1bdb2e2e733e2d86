"""The estate admin's visit log and gate events log: filters, CSV export, a visit's
detail with revoke, today's numbers, tenancy and constant query counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.gate import log
from portal.models import (
    AuditLog,
    Estate,
    GateEvent,
    GateEventType,
    GateMethod,
    PassType,
    Role,
    Visit,
    VisitStatus,
)

HEADERS = {"X-Gate-Device": "tablet-0123456789abcdef"}


@pytest.fixture
def admin(client, estate_pair, login):
    login("admin@alpha.test")
    return estate_pair


def _visit(make, people, unit=None, **kw):
    return make.visit(people.estate, unit or people.unit, people.resident, **kw)


def _event(dbs, people, visit, event_type=GateEventType.ENTRY, *, when=None, reason=None, gate="Main gate",
           guard=None, method=GateMethod.CODE):
    with dbs() as s:
        event = GateEvent(estate_id=people.estate.id, visit_id=visit.id if visit else None,
                          guard_user_id=(guard or people.guard).id, event_type=event_type, method=method,
                          reason=reason, gate=gate, occurred_at=when or datetime.now(UTC))
        s.add(event)
        s.commit()
        return event.id


def _rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _ids(html: str, prefix: str = "visit") -> set[int]:
    import re

    return {int(n) for n in re.findall(rf'<tr id="{prefix}-(\d+)"', html)}


# --- the visit log ---------------------------------------------------------------------------


def test_the_visit_log_filters_by_text_status_type_unit_host_and_dates(client, admin, make, dbs):
    alpha = admin.alpha
    other_unit = make.unit(alpha.estate, "B7")
    other_host = make.user("host2@alpha.test", estate=alpha.estate, role=Role.RESIDENT, full_name="Zainab Host")
    active = _visit(make, alpha, guests=[("Chinedu Okeke", "+2348091110001", "LAG123XY")], code="ACTIVE22")
    inside = _visit(make, alpha, guests=[("Inside Person", "+2348091110002", None)], entries_used=1,
                    people_inside=True)
    expired = _visit(make, alpha, guests=[("Old Friend", "+2348091110003", None)], starts=timedelta(days=-10),
                     ends=timedelta(days=-9))
    revoked = _visit(make, alpha, guests=[("Revoked Guest", "+2348091110004", None)], status=VisitStatus.REVOKED)
    cancelled = _visit(make, alpha, guests=[("Cancelled Guest", "+2348091110005", None)],
                       status=VisitStatus.CANCELLED)
    multi = make.visit(alpha.estate, other_unit, other_host, guests=[("Multi Guest", "+2348091110006", "ABC999")],
                       pass_type=PassType.MULTI_ENTRY, max_entries=3, starts=timedelta(days=2), ends=timedelta(days=3))

    def ids(query=""):
        response = client.get(f"/e/alpha/admin/visits/{query}")
        assert response.status_code == 200
        return _ids(response.get_data(as_text=True))

    everything = {active.id, inside.id, expired.id, revoked.id, cancelled.id, multi.id}
    assert ids() == everything
    assert ids("?q=chinedu") == {active.id}
    assert ids("?q=lag 123") == {active.id}  # plate, typed with a space
    assert ids("?q=0809 111 0006") == {multi.id}  # phone, typed locally
    assert ids("?q=active22") == {active.id}  # the visitor code
    assert ids("?status=ACTIVE") == {active.id, inside.id, multi.id}
    assert ids("?status=active") == {active.id, inside.id, multi.id}
    assert ids("?status=INSIDE") == {inside.id}
    assert ids("?status=EXPIRED") == {expired.id}
    assert ids("?status=REVOKED") == {revoked.id}
    assert ids("?status=CANCELLED") == {cancelled.id}
    assert ids("?type=MULTI_ENTRY") == {multi.id}
    assert ids(f"?unit={other_unit.id}") == {multi.id}
    assert ids("?host=zainab") == {multi.id}
    assert ids("?host=host2@alpha") == {multi.id}
    # Dates are days in the estate's time zone; a window that overlaps them is listed.
    today = datetime.now(UTC).astimezone(log.ZoneInfo("Africa/Lagos")).date()
    assert ids(f"?from={today + timedelta(days=2)}") == {multi.id}
    assert expired.id in ids(f"?from={today - timedelta(days=10)}&to={today - timedelta(days=9)}")
    assert ids(f"?from={today}&to={today}") == {active.id, inside.id, revoked.id, cancelled.id}
    assert ids("?status=ACTIVE&type=SINGLE_USE&q=inside") == {inside.id}
    # Unknown values are ignored rather than failing.
    assert ids("?status=NOPE&type=NOPE&unit=abc") == everything


def test_bad_dates_get_a_message_and_the_rest_of_the_filters_still_apply(client, admin, make):
    visit = _visit(make, admin.alpha)
    bad = client.get("/e/alpha/admin/visits/?from=yesterday")
    assert bad.status_code == 422 and "Enter a date as YYYY-MM-DD." in bad.get_data(as_text=True)
    assert visit.id in _ids(bad.get_data(as_text=True))
    reversed_ = client.get("/e/alpha/admin/visits/?from=2030-01-02&to=2030-01-01")
    assert reversed_.status_code == 422 and "The end date is before the start date." in reversed_.get_data(as_text=True)
    events = client.get("/e/alpha/admin/gate-events/?to=31/01/2030")
    assert events.status_code == 422 and "Enter a date as YYYY-MM-DD." in events.get_data(as_text=True)


def test_an_htmx_search_swaps_only_the_table(client, admin, make):
    _visit(make, admin.alpha, guests=[("Htmx Guest", "+2348091110001", None)])
    html = client.get("/e/alpha/admin/visits/?q=htmx", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Htmx Guest" in html and "1 visit" in html
    assert "<html" not in html and 'id="visit-table"' not in html and "Expected today" not in html
    full = client.get("/e/alpha/admin/visits/?q=htmx").get_data(as_text=True)
    assert 'id="visit-table"' in full and "Expected today" in full and 'id="nav-visit-log"' in full


def test_the_visit_log_is_paginated_and_runs_a_constant_number_of_queries(client, admin, make, count_queries, dbs):
    alpha = admin.alpha

    def add(n):
        for _ in range(n):
            v = _visit(make, alpha, guests=[("A", "+2348091110001", None), ("B", None, "P1")])
            _event(dbs, alpha, v)

    add(1)
    client.get("/e/alpha/admin/visits/")
    with count_queries() as few:
        client.get("/e/alpha/admin/visits/?status=ACTIVE&q=a")
    add(30)
    with count_queries() as many:
        html = client.get("/e/alpha/admin/visits/?status=ACTIVE&q=a").get_data(as_text=True)
    assert "31 visits" in html and "Page 1 of 2" in html
    assert many.count == few.count
    second = client.get("/e/alpha/admin/visits/?status=ACTIVE&q=a&page=2").get_data(as_text=True)
    assert len(_ids(second)) == 6 and "Page 2 of 2" in second


def test_the_csv_export_has_every_matching_row_with_local_times(client, admin, make, dbs, monkeypatch):
    alpha = admin.alpha
    with dbs() as s:
        s.get(Estate, alpha.estate.id).timezone = "America/Guatemala"  # UTC-6 all year
        s.commit()
    start = datetime(2030, 1, 15, 14, 0, tzinfo=UTC)
    wanted = _visit(make, alpha, guests=[("=cmd()", None, None), ("Exported Guest", "+2348091110001", "LAG123XY")],
                    valid_from=start, valid_until=start + timedelta(hours=5), purpose="Dinner", code="EXPORT22")
    _visit(make, alpha, guests=[("Other Guest", "+2348091110002", None)], status=VisitStatus.REVOKED)
    rows = _rows(client.get("/e/alpha/admin/visits/export.csv?status=ACTIVE"))
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == list(log.VISIT_CSV_COLUMNS)
    assert row["id"] == str(wanted.id) and row["code"] == "EXPORT22" and row["unit"] == "A1"
    assert row["valid_from"] == "2030-01-15T08:00-06:00" and row["valid_until"] == "2030-01-15T13:00-06:00"
    assert row["visitors"] == "'=cmd(); Exported Guest"  # a formula is not run by a spreadsheet
    assert row["phones"] == "'+2348091110001" and row["plates"] == "LAG123XY"
    assert row["status"] == "ACTIVE" and row["state"] == "NOT_YET" and row["purpose"] == "Dinner"
    assert row["host"].startswith("Ada Obi") and row["inside"] == "no" and row["max_entries"] == "1"

    # Every matching row, not just one page, across several export batches.
    monkeypatch.setattr(log, "EXPORT_BATCH", 7)
    for i in range(30):
        _visit(make, alpha, guests=[(f"Bulk {i}", None, None)])
    response = client.get("/e/alpha/admin/visits/export.csv?q=bulk")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="visits-alpha-')
    rows = _rows(response)
    assert sorted(r["visitors"] for r in rows) == sorted(f"Bulk {i}" for i in range(30))
    assert len({r["id"] for r in rows}) == 30
    assert len(_rows(client.get("/e/alpha/admin/visits/export.csv"))) == 32


# --- a visit's detail and revoke ---------------------------------------------------------------


def test_a_visit_detail_shows_visitors_window_entries_and_its_gate_events(client, admin, make, dbs):
    alpha = admin.alpha
    visit = _visit(make, alpha, guests=[("Detail Guest", "+2348091110001", "KJA555AA")], entries_used=1,
                   people_inside=True, code="DETAIL22")
    _event(dbs, alpha, visit, GateEventType.DENIED, reason="ALREADY_INSIDE", gate="Back gate",
           when=datetime.now(UTC) - timedelta(minutes=5))
    entry = _event(dbs, alpha, visit, GateEventType.ENTRY, when=datetime.now(UTC) - timedelta(minutes=30))
    html = client.get(f"/e/alpha/admin/visits/{visit.id}").get_data(as_text=True)
    for text in ("Detail Guest", "+2348091110001", "KJA555AA", "DETAIL22", "Entries used: 1 of 1", "Back gate",
                 "This visitor is already inside.", f'id="event-{entry}"', 'id="revoke-visit"',
                 "It will be refused at the next scan."):
        assert text in html, text


def test_an_admin_revokes_a_pass_and_the_next_scan_is_denied(client, admin, make, login, dbs):
    alpha = admin.alpha
    visit = _visit(make, alpha, code="REVOKE22")
    response = client.post(f"/e/alpha/admin/visits/{visit.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == f"/e/alpha/admin/visits/{visit.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pass REVOKE22 was revoked." in page and 'id="revoke-visit"' not in page
    with dbs() as s:
        after = s.get(Visit, visit.id)
        assert after.status == VisitStatus.REVOKED and after.revoked_by_id == alpha.admin.id
        audit = s.scalar(sa.select(AuditLog).where(AuditLog.action == "visit.revoked"))
        assert audit.target_id == visit.id
        assert audit.actor_user_id == alpha.admin.id
    again = client.post(f"/e/alpha/admin/visits/{visit.id}/revoke", follow_redirects=True)
    assert b"This pass is no longer active." in again.data

    guard = client.application.test_client()
    login("guard@alpha.test", as_client=guard)
    denied = guard.post("/e/alpha/gate/check", data={"code": "REVOKE22"}, headers=HEADERS)
    assert b"This pass was cancelled or revoked." in denied.data
    with dbs() as s:
        event = s.scalar(sa.select(GateEvent).where(GateEvent.visit_id == visit.id))
        assert (event.event_type, event.reason) == (GateEventType.DENIED, "PASS_REVOKED")
    assert "REVOKE22" in client.get("/e/alpha/admin/gate-events/?type=DENIED&reason=PASS_REVOKED").get_data(
        as_text=True)


def test_admins_see_every_active_pass_of_the_estate(client, admin, make, estate_pair):
    alpha = admin.alpha
    other_unit = make.unit(alpha.estate, "C3")
    visits = [_visit(make, alpha), make.visit(alpha.estate, other_unit, None, guests=[("By admin", None, None)])]
    html = client.get("/e/alpha/admin/visits/?status=ACTIVE").get_data(as_text=True)
    assert _ids(html) == {v.id for v in visits}


# --- tenancy and roles -------------------------------------------------------------------------


def test_another_estates_visits_and_events_never_appear_and_are_404(client, admin, make, dbs):
    alpha, beta = admin.alpha, admin.beta
    mine = _visit(make, alpha, guests=[("Alpha Guest", "+2348091110001", None)])
    theirs = _visit(make, beta, guests=[("Beta Guest", "+2348091110001", None)], code="BETACODE")
    _event(dbs, alpha, mine)
    beta_event = _event(dbs, beta, theirs, GateEventType.DENIED, reason="PASS_EXPIRED")
    for query in ("", "?q=beta", "?q=BETACODE", f"?unit={beta.unit.id}", "?status=ACTIVE"):
        html = client.get(f"/e/alpha/admin/visits/{query}").get_data(as_text=True)
        assert "Beta Guest" not in html and theirs.id not in _ids(html), query
    rows = _rows(client.get("/e/alpha/admin/visits/export.csv"))
    assert [r["visitors"] for r in rows] == ["Alpha Guest"]
    events = client.get(f"/e/alpha/admin/gate-events/?unit={beta.unit.id}").get_data(as_text=True)
    assert "0 events" in events
    all_events = client.get("/e/alpha/admin/gate-events/").get_data(as_text=True)
    assert "Beta Guest" not in all_events and beta_event not in _ids(all_events, "event")
    assert [r["visitors"] for r in _rows(client.get("/e/alpha/admin/gate-events/export.csv"))] == ["Alpha Guest"]
    assert client.get(f"/e/alpha/admin/visits/{theirs.id}").status_code == 404
    assert client.post(f"/e/alpha/admin/visits/{theirs.id}/revoke").status_code == 404
    assert client.get("/e/beta/admin/visits/").status_code == 404
    with dbs() as s:
        assert s.get(Visit, theirs.id).status == VisitStatus.ACTIVE


@pytest.mark.parametrize("who", ["guard@alpha.test", "resident@alpha.test"])
def test_only_admins_open_the_logs(client, estate_pair, make, login, who):
    visit = _visit(make, estate_pair.alpha)
    login(who)
    for url in ("/e/alpha/admin/visits/", "/e/alpha/admin/visits/export.csv", f"/e/alpha/admin/visits/{visit.id}",
                "/e/alpha/admin/gate-events/", "/e/alpha/admin/gate-events/export.csv"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/e/alpha/admin/visits/{visit.id}/revoke").status_code == 403


# --- the gate events log -----------------------------------------------------------------------


def test_the_gate_events_log_filters_and_exports(client, admin, make, dbs):
    alpha = admin.alpha
    with dbs() as s:
        s.get(Estate, alpha.estate.id).timezone = "America/Guatemala"
        s.commit()
    other_unit = make.unit(alpha.estate, "B7")
    other_guard = make.user("guard2@alpha.test", estate=alpha.estate, role=Role.GUARD, full_name="Second Guard")
    a = _visit(make, alpha, guests=[("Unit A Guest", None, None)])
    b = make.visit(alpha.estate, other_unit, None, guests=[("Unit B Guest", None, None)])
    when = datetime(2030, 3, 1, 3, 30, tzinfo=UTC)  # 2030-02-28 21:30 in Guatemala
    entry = _event(dbs, alpha, a, GateEventType.ENTRY, when=when)
    exit_ = _event(dbs, alpha, a, GateEventType.EXIT, when=when + timedelta(hours=3), method=GateMethod.QR)  # 00:30 local
    denied = _event(dbs, alpha, b, GateEventType.DENIED, reason="PASS_EXPIRED", gate="Back gate",
                    guard=other_guard, when=when + timedelta(days=2))

    def ids(query=""):
        response = client.get(f"/e/alpha/admin/gate-events/{query}")
        assert response.status_code == 200
        return _ids(response.get_data(as_text=True), "event")

    assert ids() == {entry, exit_, denied}
    assert ids("?type=DENIED") == {denied}
    assert ids("?type=entry") == {entry}
    assert ids("?reason=PASS_EXPIRED") == {denied}
    assert ids("?gate=Back gate") == {denied}
    assert ids(f"?guard={other_guard.id}") == {denied}
    assert ids("?method=QR") == {exit_}
    assert ids(f"?unit={other_unit.id}") == {denied}
    assert ids("?from=2030-02-28&to=2030-02-28") == {entry}  # local day, not the UTC one
    assert ids("?from=2030-03-01") == {exit_, denied}
    html = client.get("/e/alpha/admin/gate-events/").get_data(as_text=True)
    assert "Second Guard" in html and "This pass has expired." in html and "Unit B Guest" in html

    rows = _rows(client.get("/e/alpha/admin/gate-events/export.csv?type=ENTRY"))
    assert [r["id"] for r in rows] == [str(entry)]
    assert list(rows[0]) == list(log.EVENT_CSV_COLUMNS)
    assert rows[0]["occurred_at"] == "2030-02-28T21:30-06:00" and rows[0]["unit"] == "A1"
    assert rows[0]["visitors"] == "Unit A Guest" and rows[0]["gate"] == "Main gate"
    everything = _rows(client.get("/e/alpha/admin/gate-events/export.csv"))
    assert [r["id"] for r in everything] == [str(denied), str(exit_), str(entry)]  # latest first
    assert everything[0]["reason"] == "PASS_EXPIRED" and everything[0]["guard"] == "Second Guard"


def test_the_gate_events_log_runs_a_constant_number_of_queries(client, admin, make, count_queries, dbs):
    alpha = admin.alpha
    guards = [make.user(estate=alpha.estate, role=Role.GUARD) for _ in range(3)]

    def add(n):
        for i in range(n):
            v = _visit(make, alpha, guests=[("A", None, None), ("B", None, None)])
            _event(dbs, alpha, v, guard=guards[i % 3])
            _event(dbs, alpha, None, GateEventType.DENIED, reason="PASS_EXPIRED")

    add(1)
    client.get("/e/alpha/admin/gate-events/")
    with count_queries() as few:
        client.get("/e/alpha/admin/gate-events/")
    add(20)
    with count_queries() as many:
        html = client.get("/e/alpha/admin/gate-events/").get_data(as_text=True)
    assert "42 events" in html and "Page 1 of 2" in html
    assert many.count == few.count


# --- today's numbers ---------------------------------------------------------------------------


def test_todays_numbers_in_the_estates_time_zone_in_one_query(app, admin, make, dbs, count_queries, client):
    alpha = admin.alpha
    tz = log.ZoneInfo("Africa/Lagos")
    now = datetime.now(tz).replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)
    today = now.astimezone(tz).date()
    weekday = str(today.isoweekday())
    other_day = str(today.isoweekday() % 7 + 1)

    def at(**kw):
        return {"valid_from": now + kw.pop("starts"), "valid_until": now + kw.pop("ends"), **kw}

    _visit(make, alpha, **at(starts=timedelta(hours=-1), ends=timedelta(hours=2)))  # expected
    _visit(make, alpha, **at(starts=timedelta(hours=-40), ends=timedelta(hours=-11)))  # ended this morning: expected
    _visit(make, alpha, **at(starts=timedelta(hours=11, minutes=30), ends=timedelta(hours=20)))  # 23:30: expected
    _visit(make, alpha, **at(starts=timedelta(hours=13), ends=timedelta(hours=20)))  # tomorrow: not
    _visit(make, alpha, **at(starts=timedelta(hours=-30), ends=timedelta(hours=-13)))  # yesterday: not
    _visit(make, alpha, status=VisitStatus.REVOKED, **at(starts=timedelta(hours=-1), ends=timedelta(hours=2)))
    _visit(make, alpha, pass_type=PassType.RECURRING, weekdays=weekday,
           **at(starts=timedelta(days=-3), ends=timedelta(days=3)))  # expected
    _visit(make, alpha, pass_type=PassType.RECURRING, weekdays=other_day,
           **at(starts=timedelta(days=-3), ends=timedelta(days=3)))  # not today's weekday
    inside = _visit(make, alpha, entries_used=1, people_inside=True,
                    **at(starts=timedelta(days=-2), ends=timedelta(days=-1)))  # still inside, pass over
    _visit(make, admin.beta, **at(starts=timedelta(hours=-1), ends=timedelta(hours=2)))  # another estate
    _event(dbs, alpha, inside, when=now - timedelta(hours=2))
    _event(dbs, alpha, inside, when=now - timedelta(hours=13))  # yesterday (23:00)
    _event(dbs, alpha, None, GateEventType.DENIED, reason="PASS_EXPIRED", when=now)
    _event(dbs, alpha, None, GateEventType.DENIED, reason="PASS_EXPIRED", when=now + timedelta(hours=11))
    _event(dbs, alpha, None, GateEventType.EXIT, when=now)
    _event(dbs, admin.beta, None, GateEventType.DENIED, reason="PASS_EXPIRED", when=now)

    with app.app_context():
        estate = log.db.session.get(Estate, alpha.estate.id)
        with count_queries() as counter:
            numbers = log.today_numbers(estate, now)
    assert numbers == log.TodayNumbers(expected=4, inside=1, entered=1, denied=2)
    assert counter.count == 1

    dashboard = client.get("/e/alpha/admin/").get_data(as_text=True)
    assert 'id="stat-expected"' in dashboard and 'id="stat-denied"' in dashboard
    assert 'id="today-stats"' in client.get("/e/alpha/admin/visits/").get_data(as_text=True)
