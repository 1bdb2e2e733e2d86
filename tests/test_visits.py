"""Residents invite visitors (four pass types), list, edit, extend and cancel visits,
keep frequent visitors and personal bans; admins invite for any unit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.models import (
    AuditLog,
    Ban,
    BanScope,
    FrequentVisitor,
    GateEvent,
    GateEventType,
    GateMethod,
    PassType,
    Role,
    Visit,
    VisitGuest,
    VisitStatus,
)
from portal.visits import service

LAGOS = ZoneInfo("Africa/Lagos")


@pytest.fixture
def resident(client, estate_pair, login):
    login("resident@alpha.test")
    return estate_pair


def _local(days: int = 1, tz=LAGOS):
    return (datetime.now(tz) + timedelta(days=days)).date().isoformat()


def _form(unit: int, **overrides) -> dict:
    data = {
        "unit_id": unit, "pass_type": "SINGLE_USE", "purpose": "Lunch",
        "guests-0-full_name": "Tunde Bakare", "guests-0-phone": "0803 123 4567", "guests-0-plate": "lnd 123 ab",
        "start_date": _local(1), "start_time": "10:00", "end_date": _local(1), "end_time": "14:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _visits(dbs) -> list[Visit]:
    with dbs() as s:
        visits = list(s.scalars(sa.select(Visit).order_by(Visit.id)))
        for v in visits:
            _ = v.visitors
        s.expunge_all()
        return visits


def _audit(dbs, action: str) -> list[AuditLog]:
    with dbs() as s:
        return list(s.scalars(sa.select(AuditLog).where(AuditLog.action == action)))


# --- create ---------------------------------------------------------------------------


def test_single_use_pass_with_two_visitors(client, resident, dbs):
    response = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, **{"guests-1-full_name": "Ngozi Bakare", "guests-1-phone": "+234 809 000 0002"}))
    assert response.status_code == 302
    [visit] = _visits(dbs)
    assert response.headers["Location"] == f"/e/alpha/home/visits/{visit.id}"
    assert (visit.pass_type, visit.max_entries, visit.entries_used, visit.status) == \
        (PassType.SINGLE_USE, 1, 0, VisitStatus.ACTIVE)
    assert visit.host_user_id == resident.alpha.resident.id and visit.unit_id == resident.alpha.unit.id
    assert [(g.full_name, g.phone, g.plate) for g in visit.visitors] == [
        ("Tunde Bakare", "+2348031234567", "LND123AB"), ("Ngozi Bakare", "+2348090000002", None)]
    assert len(visit.qr_token) >= 32  # 24 random bytes = 192 bits
    assert re.fullmatch(f"[{service.CODE_ALPHABET}]{{8}}", visit.visitor_code)
    [log] = _audit(dbs, "visit.created")
    assert log.estate_id == resident.alpha.estate.id and log.after["visitor_code"] == visit.visitor_code
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert visit.visitor_code in page and "Not valid yet" in page and "<svg" in page


def test_multi_entry_pass_has_n_entries(client, resident, dbs):
    client.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id, pass_type="MULTI_ENTRY",
                                                        max_entries="5"))
    [visit] = _visits(dbs)
    assert (visit.pass_type, visit.max_entries) == (PassType.MULTI_ENTRY, 5)


def test_recurring_pass_has_weekdays_daily_window_and_no_entry_limit(client, resident, dbs):
    response = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, pass_type="RECURRING", start_date=_local(0), end_date=_local(30),
        weekdays=["1", "3", "5"], daily_start="07:30", daily_end="17:00", start_time=None, end_time=None))
    assert response.status_code == 302, response.get_data(as_text=True)
    [visit] = _visits(dbs)
    assert (visit.weekdays, visit.daily_start.isoformat(), visit.daily_end.isoformat(), visit.max_entries) == \
        ("135", "07:30:00", "17:00:00", None)
    # From midnight of the first day to midnight after the last day, Lagos time.
    assert visit.valid_from.astimezone(LAGOS).time().isoformat() == "00:00:00"
    assert visit.valid_until.astimezone(LAGOS).date().isoformat() == _local(31)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Monday, Wednesday, Friday" in page


def test_delivery_pass_needs_no_name_and_lasts_at_most_four_hours(client, resident, dbs):
    response = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, pass_type="DELIVERY", purpose="Groceries", **{
            "guests-0-full_name": "", "guests-0-phone": "", "guests-0-plate": ""}))
    assert response.status_code == 302
    [visit] = _visits(dbs)
    assert visit.pass_type == PassType.DELIVERY and visit.max_entries == 1
    assert [(g.full_name, g.phone) for g in visit.visitors] == [("", None)]
    too_long = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, pass_type="DELIVERY", end_time="15:00"))
    assert too_long.status_code == 422 and b"A delivery pass lasts at most 4 hours." in too_long.data


@pytest.mark.parametrize("overrides, message", [
    ({"end_time": "09:00"}, "The end must be after the start."),
    ({"start_date": _local(-2), "end_date": _local(-2)}, "The start cannot be in the past."),
    ({"guests-0-full_name": ""}, "Enter the visitor's name."),
    ({"guests-0-phone": ""}, "Enter the visitor's phone number."),
    ({"guests-0-phone": "12"}, "Enter a phone number, e.g. +234 803 000 0000."),
    ({"guests-0-full_name": "", "guests-0-phone": "", "guests-0-plate": ""}, "Add at least one visitor."),
    ({"pass_type": "MULTI_ENTRY", "max_entries": "51"}, "Enter a number from 2 to 50."),
    ({"pass_type": "RECURRING", "daily_start": "09:00", "daily_end": "17:00"}, "Choose at least one day of the week."),
    ({"pass_type": "RECURRING", "weekdays": ["1"], "daily_start": "17:00", "daily_end": "09:00"},
     "The daily end must be after the daily start."),
    ({"start_date": None}, "This field is required."),
    ({"unit_id": "999999"}, "Not a valid choice"),
])
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_written(client, resident, dbs, overrides, message):
    response = client.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id, **overrides))
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert message in html and 'class="field-error"' in html
    assert _visits(dbs) == [] and _audit(dbs, "visit.created") == []


def test_add_another_visitor_row_without_javascript(client, resident, dbs):
    response = client.post("/e/alpha/home/visits/new", data={**_form(resident.alpha.unit.id), "add_guest": "1"})
    assert response.status_code == 200 and b'name="guests-1-full_name"' in response.data
    assert _visits(dbs) == []


def test_a_resident_with_two_units_picks_one_and_never_anothers(client, resident, make, dbs):
    second = make.unit(resident.alpha.estate, "B7")
    make.resident(resident.alpha.estate, second, "Second home", user=resident.alpha.resident)
    neighbour = make.unit(resident.alpha.estate, "C9")
    page = client.get("/e/alpha/home/visits/new").get_data(as_text=True)
    assert 'name="unit_id"' in page and ">B7<" in page and ">C9<" not in page
    client.post("/e/alpha/home/visits/new", data=_form(second.id))
    assert _visits(dbs)[0].unit_id == second.id
    refused = client.post("/e/alpha/home/visits/new", data=_form(neighbour.id))
    assert refused.status_code == 422 and len(_visits(dbs)) == 1


# --- bans ------------------------------------------------------------------------------


def test_a_personal_ban_refuses_the_residents_own_invitation(client, resident, dbs):
    response = client.post("/e/alpha/home/bans/", data={"phone": "0803 123 4567", "reason": "Rude"})
    assert response.status_code == 302
    with dbs() as s:
        ban = s.scalar(sa.select(Ban))
        assert (ban.scope, ban.phone, ban.owner_user_id) == \
            (BanScope.PERSONAL, "+2348031234567", resident.alpha.resident.id)
    assert b"+2348031234567" in client.get("/e/alpha/home/bans/").data
    refused = client.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id))
    assert refused.status_code == 422
    assert b"You have banned +2348031234567. Lift your ban first" in refused.data
    assert _visits(dbs) == []
    # Lifted, the number may be invited again.
    client.post(f"/e/alpha/home/bans/{ban.id}/lift")
    assert client.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id)).status_code == 302
    assert [log.action for log in _audit(dbs, "ban.created") + _audit(dbs, "ban.lifted")] == \
        ["ban.created", "ban.lifted"]


def test_a_personal_ban_binds_only_its_owner(client, resident, make, login, app):
    other = make.user("neighbour@alpha.test", estate=resident.alpha.estate, role=Role.RESIDENT)
    make.resident(resident.alpha.estate, resident.alpha.unit, "Neighbour", user=other)
    client.post("/e/alpha/home/bans/", data={"phone": "0803 123 4567", "reason": "Rude"})
    second = app.test_client()
    login("neighbour@alpha.test", as_client=second)
    assert second.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id)).status_code == 302


def test_an_estate_ban_refuses_and_sends_the_resident_to_the_admin(client, resident, app, dbs):
    with dbs() as s:
        s.add(Ban(estate_id=resident.alpha.estate.id, phone="+2348031234567", scope=BanScope.ESTATE,
                  severity="HIGH", reason="Theft"))
        # Lifted or expired bans, and another estate's, do not count.
        s.add(Ban(estate_id=resident.alpha.estate.id, phone="+2348090000002", scope=BanScope.ESTATE,
                  reason="Old", lifted_at=datetime.now(UTC)))
        s.add(Ban(estate_id=resident.alpha.estate.id, phone="+2348090000003", scope=BanScope.ESTATE,
                  reason="Old", expires_at=datetime.now(UTC) - timedelta(days=1)))
        s.add(Ban(estate_id=resident.beta.estate.id, phone="+2348090000004", scope=BanScope.ESTATE, reason="x"))
        s.commit()
    refused = client.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id))
    assert refused.status_code == 422
    assert b"is banned from the estate and cannot be invited. Contact the estate admin" in refused.data
    for phone in ("+2348090000002", "+2348090000003", "+2348090000004"):
        ok = client.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id, **{"guests-0-phone": phone}))
        assert ok.status_code == 302
    assert len(_visits(dbs)) == 3


def test_personal_ban_input_is_checked(client, resident, dbs):
    assert client.post("/e/alpha/home/bans/", data={"phone": "12"}).status_code == 422
    past = client.post("/e/alpha/home/bans/", data={"phone": "08031234567", "expires_on": _local(-3)})
    assert past.status_code == 422 and b"The expiry must be in the future." in past.data
    client.post("/e/alpha/home/bans/", data={"phone": "08031234567"})
    again = client.post("/e/alpha/home/bans/", data={"phone": "+2348031234567"})
    assert again.status_code == 422 and b"You have already banned this number." in again.data
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count(Ban.id))) == 1


# --- codes and time zones ----------------------------------------------------------------


def test_visitor_codes_are_redrawn_when_taken(client, resident, make, monkeypatch, dbs):
    make.visit(resident.alpha.estate, resident.alpha.unit, code="TAKEN222")
    make.visit(resident.beta.estate, resident.beta.unit, code="OTHER333")  # another estate: no clash
    draws = iter(["TAKEN222", "TAKEN222", "FRESH444", "OTHER333"])
    monkeypatch.setattr(service, "new_code", lambda: next(draws))
    assert client.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id)).status_code == 302
    assert client.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id)).status_code == 302
    codes = sorted(v.visitor_code for v in _visits(dbs) if v.estate_id == resident.alpha.estate.id)
    assert codes == ["FRESH444", "OTHER333", "TAKEN222"]
    assert len(_audit(dbs, "visit.created")) == 2  # the failed draws left nothing behind


def test_windows_are_typed_in_the_estates_time_zone_and_stored_in_utc(client, make, login, dbs):
    lagos = make.estate("lagos-court", timezone="Africa/Lagos", country="NG")
    guate = make.estate("zona-10", timezone="America/Guatemala", country="GT", default_language="es")
    for estate in (lagos, guate):
        unit = make.unit(estate, "1")
        user = make.user(f"host@{estate.slug}.test", estate=estate, role=Role.RESIDENT)
        make.resident(estate, unit, "Host", user=user)
        login(user.email)
        day = _local(2, ZoneInfo(estate.timezone))
        response = client.post(f"/e/{estate.slug}/home/visits/new", data=_form(
            unit.id, start_date=day, end_date=day, **{"guests-0-phone": "5555 1234" if estate is guate else
                                                       "08031234567"}))
        assert response.status_code == 302, response.get_data(as_text=True)
        client.post("/logout")
    lagos_visit, guate_visit = _visits(dbs)
    assert lagos_visit.valid_from.astimezone(UTC).hour == 9  # 10:00 WAT = 09:00 UTC
    assert guate_visit.valid_from.astimezone(UTC).hour == 16  # 10:00 CST = 16:00 UTC
    assert guate_visit.visitors[0].phone == "+50255551234"  # the estate's country is the phone's region


# --- list ------------------------------------------------------------------------------


def test_list_shows_current_and_past_visits_of_the_residents_units_only(client, resident, make):
    alpha = resident.alpha
    make.visit(alpha.estate, alpha.unit, alpha.resident, guests=(("Current Guest", "+2348090000001", None),))
    make.visit(alpha.estate, alpha.unit, alpha.resident, guests=(("Old Guest", "+2348090000002", None),),
               starts=timedelta(days=-3), ends=timedelta(days=-2))
    make.visit(alpha.estate, alpha.unit, alpha.resident, guests=(("Cancelled Guest", "+2348090000003", None),),
               status=VisitStatus.CANCELLED)
    neighbour_unit = make.unit(alpha.estate, "Z1")
    make.visit(alpha.estate, neighbour_unit, guests=(("Neighbour Guest", "+2348090000004", None),))
    make.visit(resident.beta.estate, resident.beta.unit, guests=(("Beta Guest", "+2348090000005", None),))
    current = client.get("/e/alpha/home/visits/").get_data(as_text=True)
    assert "Current Guest" in current and "Valid now" in current
    assert not any(name in current for name in ("Old Guest", "Cancelled Guest", "Neighbour Guest", "Beta Guest"))
    past = client.get("/e/alpha/home/visits/?when=past", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in past and 'id="visit-table"' not in past
    assert "Old Guest" in past and "Cancelled Guest" in past and "Expired" in past and "Current Guest" not in past
    assert "Current Guest" in client.get("/e/alpha/home/visits/?q=current").get_data(as_text=True)
    assert b"No visit matches this search." in client.get("/e/alpha/home/visits/?q=nobody").data


def test_empty_list_invites_the_resident_to_invite(client, resident):
    assert b"No upcoming visits." in client.get("/e/alpha/home/visits/").data


def test_list_is_paginated_and_runs_a_constant_number_of_queries(client, resident, dbs, count_queries):
    alpha = resident.alpha
    now = datetime.now(UTC)

    def add(n: int, offset: int = 0):
        with dbs() as s:
            for i in range(n):
                visit = Visit(estate_id=alpha.estate.id, unit_id=alpha.unit.id, host_user_id=alpha.resident.id,
                              pass_type=PassType.SINGLE_USE, valid_from=now, valid_until=now + timedelta(hours=5),
                              max_entries=1, qr_token=f"token-{offset + i}", visitor_code=f"Q{offset + i:07d}")
                visit.visitors = [VisitGuest(estate_id=alpha.estate.id, full_name=f"Guest {offset + i}",
                                             phone="+2348090000001"), VisitGuest(estate_id=alpha.estate.id,
                                                                                 full_name="Second")]
                s.add(visit)
            s.commit()

    add(2)
    client.get("/e/alpha/home/visits/")
    with count_queries() as few:
        client.get("/e/alpha/home/visits/")
    add(28, offset=100)
    with count_queries() as many:
        page = client.get("/e/alpha/home/visits/").get_data(as_text=True)
    assert many.count == few.count
    assert page.count('class="visitor-code"') == 25 and "Page 1 of 2" in page


# --- detail, edit, extend, cancel ----------------------------------------------------


def test_detail_shows_the_pass_and_its_gate_history(client, resident, make, dbs):
    alpha = resident.alpha
    visit = make.visit(alpha.estate, alpha.unit, alpha.resident, code="HISTRY22", purpose="Party")
    page = client.get(f"/e/alpha/home/visits/{visit.id}").get_data(as_text=True)
    assert "HISTRY22" in page and "Valid now" in page and "Nobody has used this pass at the gate yet." in page
    assert "https://wa.me/?text=" in page and "sms:?&amp;body=" in page and "mailto:?subject=" in page
    assert f"/p/{visit.qr_token}" in page
    with dbs() as s:
        s.add(GateEvent(estate_id=alpha.estate.id, visit_id=visit.id, event_type=GateEventType.ENTRY,
                        method=GateMethod.CODE, gate="Main gate", occurred_at=datetime.now(UTC)))
        s.commit()
    page = client.get(f"/e/alpha/home/visits/{visit.id}").get_data(as_text=True)
    assert "Entered" in page and "Main gate" in page


@pytest.mark.parametrize("fields, state", [
    (dict(starts=timedelta(hours=2), ends=timedelta(hours=5)), "Not valid yet"),
    (dict(starts=timedelta(days=-2), ends=timedelta(days=-1)), "Expired"),
    (dict(entries_used=1), "Used"),
    (dict(status=VisitStatus.CANCELLED), "Cancelled"),
    (dict(status=VisitStatus.REVOKED), "Revoked by the estate"),
])
def test_status_in_words_comes_from_the_rules(client, resident, make, fields, state):
    visit = make.visit(resident.alpha.estate, resident.alpha.unit, resident.alpha.resident, **fields)
    assert f'>{state}</span>' in client.get(f"/e/alpha/home/visits/{visit.id}").get_data(as_text=True)


def test_edit_visitors_and_purpose(client, resident, make, dbs):
    visit = make.visit(resident.alpha.estate, resident.alpha.unit, resident.alpha.resident)
    form = client.get(f"/e/alpha/home/visits/{visit.id}/edit").get_data(as_text=True)
    assert 'value="Visitor"' in form
    response = client.post(f"/e/alpha/home/visits/{visit.id}/edit", data={
        "purpose": "Dinner", "guests-0-full_name": "Amaka", "guests-0-phone": "08090000009",
        "guests-1-full_name": "Chidi", "guests-1-phone": "08090000008", "guests-1-plate": "abc 1"})
    assert response.status_code == 302
    [saved] = _visits(dbs)
    assert saved.purpose == "Dinner" and saved.visitor_code == visit.visitor_code
    assert [(g.full_name, g.phone, g.plate) for g in saved.visitors] == [
        ("Amaka", "+2348090000009", None), ("Chidi", "+2348090000008", "ABC1")]
    [log] = _audit(dbs, "visit.updated")
    assert log.before["purpose"] == "" and log.after["purpose"] == "Dinner"
    bad = client.post(f"/e/alpha/home/visits/{visit.id}/edit", data={"guests-0-full_name": "X", "guests-0-phone": "1"})
    assert bad.status_code == 422 and _visits(dbs)[0].purpose == "Dinner"


def test_extend_moves_the_end_later_only(client, resident, make, dbs):
    alpha = resident.alpha
    visit = make.visit(alpha.estate, alpha.unit, alpha.resident, ends=timedelta(hours=2))
    new_end = datetime.now(LAGOS) + timedelta(days=1)
    response = client.post(f"/e/alpha/home/visits/{visit.id}/extend", data={
        "end_date": new_end.date().isoformat(), "end_time": "18:00"})
    assert response.status_code == 302
    [saved] = _visits(dbs)
    assert saved.valid_until.astimezone(LAGOS).isoformat()[:16] == f"{new_end.date().isoformat()}T18:00"
    [log] = _audit(dbs, "visit.extended")
    assert log.after["valid_until"] == saved.valid_until.isoformat()
    earlier = client.post(f"/e/alpha/home/visits/{visit.id}/extend", data={
        "end_date": _local(0), "end_time": "00:01"})
    assert earlier.status_code == 422 and b"The new end must be later than the current end." in earlier.data


def test_cancel_is_effective_at_once_and_audited(client, resident, make, dbs):
    visit = make.visit(resident.alpha.estate, resident.alpha.unit, resident.alpha.resident)
    page = client.get(f"/e/alpha/home/visits/{visit.id}").get_data(as_text=True)
    assert "hx-confirm=" in page
    assert client.post(f"/e/alpha/home/visits/{visit.id}/cancel").status_code == 302
    client.post(f"/e/alpha/home/visits/{visit.id}/cancel")  # twice: one record
    assert _visits(dbs)[0].status == VisitStatus.CANCELLED
    assert len(_audit(dbs, "visit.cancelled")) == 1
    assert b"Cancelled" in client.get(f"/e/alpha/home/visits/{visit.id}").data
    closed = client.post(f"/e/alpha/home/visits/{visit.id}/extend", data={"end_date": _local(3), "end_time": "10:00"})
    assert closed.status_code == 302 and b"can no longer be changed" in client.get(closed.headers["Location"]).data
    assert _visits(dbs)[0].valid_until == visit.valid_until


# --- frequent visitors ------------------------------------------------------------------


def test_save_a_frequent_visitor_and_invite_again_with_one_tap(client, resident, make, dbs):
    alpha = resident.alpha
    visit = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=(("Mama Ngozi", "+2348090000007", "KJA1"),),
                       purpose="Cleaning")
    with dbs() as s:
        guest_id = s.scalar(sa.select(VisitGuest.id).where(VisitGuest.visit_id == visit.id))
    client.post(f"/e/alpha/home/visits/{visit.id}/visitors/{guest_id}/save")
    client.post(f"/e/alpha/home/visits/{visit.id}/visitors/{guest_id}/save")  # again: still one
    with dbs() as s:
        [saved] = s.scalars(sa.select(FrequentVisitor)).all()
        assert (saved.full_name, saved.phone, saved.plate, saved.purpose, saved.host_user_id) == \
            ("Mama Ngozi", "+2348090000007", "KJA1", "Cleaning", alpha.resident.id)
    listing = client.get("/e/alpha/home/visitors/").get_data(as_text=True)
    assert "Mama Ngozi" in listing and f"/e/alpha/home/visits/new?frequent={saved.id}" in listing
    form = client.get(f"/e/alpha/home/visits/new?frequent={saved.id}").get_data(as_text=True)
    assert 'value="Mama Ngozi"' in form and 'value="+2348090000007"' in form and 'value="Cleaning"' in form
    client.post(f"/e/alpha/home/visitors/{saved.id}/remove")
    assert b"No frequent visitors yet." in client.get("/e/alpha/home/visitors/").data
    assert len(_audit(dbs, "frequent_visitor.saved")) == 1 and len(_audit(dbs, "frequent_visitor.removed")) == 1


# --- admins -----------------------------------------------------------------------------


def test_an_admin_creates_a_visit_for_any_unit(client, estate_pair, make, login, dbs):
    alpha = estate_pair.alpha
    other_unit = make.unit(alpha.estate, "Q5")
    make.unit(estate_pair.beta.estate, "BETA-ONLY")
    login("admin@alpha.test")
    page = client.get("/e/alpha/admin/visits/new").get_data(as_text=True)
    assert ">Q5<" in page and "BETA-ONLY" not in page
    response = client.post("/e/alpha/admin/visits/new", data=_form(other_unit.id))
    [visit] = _visits(dbs)
    assert response.headers["Location"] == f"/p/{visit.qr_token}"
    assert (visit.unit_id, visit.host_user_id, visit.created_by_id) == (other_unit.id, None, alpha.admin.id)
    beta_unit = client.post("/e/alpha/admin/visits/new", data=_form(estate_pair.beta.unit.id))
    assert beta_unit.status_code == 422 and len(_visits(dbs)) == 1


def test_residents_and_guards_cannot_open_the_admin_visit_page(client, estate_pair, login, app):
    login("resident@alpha.test")
    assert client.get("/e/alpha/admin/visits/new").status_code == 403
    guard = app.test_client()
    login("guard@alpha.test", as_client=guard)
    assert guard.get("/e/alpha/admin/visits/new").status_code == 403
    assert guard.get("/e/alpha/home/visits/").status_code == 403


# --- tenancy -----------------------------------------------------------------------------


def test_another_estates_or_another_units_records_are_404_and_unchanged(client, resident, make, dbs):
    alpha, beta = resident.alpha, resident.beta
    neighbour = make.unit(alpha.estate, "N1")
    foreign = [make.visit(beta.estate, beta.unit, beta.resident), make.visit(alpha.estate, neighbour)]
    neighbour_user = make.user("n@alpha.test", estate=alpha.estate, role=Role.RESIDENT)
    with dbs() as s:
        s.add(FrequentVisitor(estate_id=beta.estate.id, host_user_id=beta.resident.id, full_name="B"))
        s.add(FrequentVisitor(estate_id=alpha.estate.id, host_user_id=neighbour_user.id, full_name="N"))
        s.add(Ban(estate_id=beta.estate.id, phone="+2348090000001", scope=BanScope.PERSONAL,
                  owner_user_id=beta.resident.id))
        s.add(Ban(estate_id=alpha.estate.id, phone="+2348090000001", scope=BanScope.PERSONAL,
                  owner_user_id=neighbour_user.id))
        s.add(Ban(estate_id=alpha.estate.id, phone="+2348090000002", scope=BanScope.ESTATE))
        s.commit()
        frequent_ids = list(s.scalars(sa.select(FrequentVisitor.id)))
        ban_ids = list(s.scalars(sa.select(Ban.id)))
        guest_ids = {v.id: s.scalar(sa.select(VisitGuest.id).where(VisitGuest.visit_id == v.id)) for v in foreign}
    for visit in foreign:
        base = f"/e/alpha/home/visits/{visit.id}"
        for url in (base, f"{base}/edit", f"/e/alpha/home/visits/new?frequent={frequent_ids[0]}"):
            assert client.get(url).status_code == 404, url
        for url in (f"{base}/edit", f"{base}/extend", f"{base}/cancel", f"{base}/visitors/{guest_ids[visit.id]}/save"):
            assert client.post(url, data={"purpose": "x", "guests-0-full_name": "Y", "guests-0-phone": "08031234567",
                                          "end_date": _local(5), "end_time": "10:00"}).status_code == 404, url
    for frequent_id in frequent_ids:
        assert client.get(f"/e/alpha/home/visits/new?frequent={frequent_id}").status_code == 404
        assert client.post(f"/e/alpha/home/visitors/{frequent_id}/remove").status_code == 404
    for ban_id in ban_ids:
        assert client.post(f"/e/alpha/home/bans/{ban_id}/lift").status_code == 404
    with dbs() as s:
        assert {v.status for v in s.scalars(sa.select(Visit))} == {VisitStatus.ACTIVE}
        assert s.scalar(sa.select(sa.func.count(FrequentVisitor.id))) == 2
        assert s.scalar(sa.select(sa.func.count(Ban.id)).where(Ban.lifted_at.is_not(None))) == 0
        assert list(s.scalars(sa.select(AuditLog.action).where(AuditLog.action != "auth.sign_in"))) == []
    # Another estate's resident area is a 404 for this resident.
    assert client.get("/e/beta/home/visits/").status_code == 404


def test_resident_pages_have_an_area_nav_and_home_links(client, resident):
    home = client.get("/e/alpha/home/").get_data(as_text=True)
    assert 'id="nav-visits"' in home and 'id="home-invite"' in home and 'id="nav-my-bans"' in home
