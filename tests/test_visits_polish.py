"""Residents' visits as a user finds them (issue 13, items 9, 10, 11): a recurring pass
lasts three months unless changed and refuses a window without any of its weekdays; a
banned visitor shows the ban on "My visitors" and before an invitation; a pass that
opens nothing any more shows void, without its QR code or share buttons; the active
passes of a supervisor leave out a single-use pass used and exited; a group needs one
contact phone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.models import Ban, BanScope, FrequentVisitor, Role, Visit, VisitStatus
from portal.web.forms import months_later
from tests.test_visits import _form, _visits

LAGOS = ZoneInfo("Africa/Lagos")


@pytest.fixture
def resident(client, estate_pair, login):
    login("resident@alpha.test")
    return estate_pair


def _today() -> date:
    return datetime.now(LAGOS).date()


# --- 9: recurring passes ------------------------------------------------------------------


def test_a_new_recurring_pass_lasts_three_months_unless_changed(client, resident):
    page = client.get("/e/alpha/home/visits/new").get_data(as_text=True)
    last_day = re.search(r'<input[^>]*id="last_day"[^>]*>', page).group(0)
    assert f'value="{months_later(_today(), 3).isoformat()}"' in last_day
    # The one-off end date stays today; the last day sits with the recurring fields.
    assert re.search(rf'id="end_date"[^>]*value="{_today().isoformat()}"', page)
    assert re.search(r'<div class="for-recurring">\s*<label for="last_day">Last day', page)


def test_the_admins_new_visit_page_has_the_same_default(client, estate_pair, login):
    login("admin@alpha.test")
    page = client.get("/e/alpha/admin/visits/new").get_data(as_text=True)
    assert f'value="{months_later(_today(), 3).isoformat()}"' in re.search(r'<input[^>]*id="last_day"[^>]*>',
                                                                            page).group(0)


def test_a_recurring_pass_saved_from_the_page_uses_its_last_day(client, resident, dbs):
    first, last = _today(), months_later(_today(), 3)
    response = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, pass_type="RECURRING", start_date=first.isoformat(), end_date=first.isoformat(),
        last_day=last.isoformat(), weekdays=["2", "4"], daily_start="08:00", daily_end="18:00"))
    assert response.status_code == 302, response.get_data(as_text=True)
    [visit] = _visits(dbs)
    assert visit.valid_until.astimezone(LAGOS).date() == last + timedelta(days=1)
    assert visit.weekdays == "24"


def test_a_recurring_window_without_any_of_its_weekdays_is_refused_next_to_the_last_day(client, resident, dbs):
    first = _today() + timedelta(days=1)
    other_days = [str(d) for d in range(1, 8) if d != first.isoweekday()]
    response = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, pass_type="RECURRING", start_date=first.isoformat(), last_day=first.isoformat(),
        weekdays=other_days[:2], daily_start="08:00", daily_end="18:00"))
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert re.search(r'id="last_day-error">None of the chosen days of the week falls between the first and the '
                     r"last day\. Choose a later last day or other days\.<", html)
    assert _visits(dbs) == []
    # The same days over a week are fine.
    ok = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, pass_type="RECURRING", start_date=first.isoformat(),
        last_day=(first + timedelta(days=6)).isoformat(), weekdays=other_days[:2], daily_start="08:00",
        daily_end="18:00"))
    assert ok.status_code == 302


def test_the_weekday_rule_is_translated(client, resident):
    client.post("/language", data={"lang": "es"})
    first = _today() + timedelta(days=1)
    other = str(first.isoweekday() % 7 + 1)
    response = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, pass_type="RECURRING", start_date=first.isoformat(), last_day=first.isoformat(),
        weekdays=[other], daily_start="08:00", daily_end="18:00"))
    assert response.status_code == 422
    assert "Ninguno de los días elegidos" in unescape(response.get_data(as_text=True))


def test_months_later_keeps_the_day_or_takes_the_months_last():
    assert months_later(date(2026, 12, 1), 3) == date(2027, 3, 1)
    assert months_later(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert months_later(date(2027, 11, 30), 3) == date(2028, 2, 29)


# --- 10: bans, void passes, active passes ------------------------------------------------------


def _estate_ban(dbs, estate_id, phone, **kw):
    with dbs() as s:
        s.add(Ban(estate_id=estate_id, phone=phone, scope=BanScope.ESTATE, severity="HIGH", reason="Theft", **kw))
        s.commit()


def test_my_visitors_shows_the_ban_not_valid_now(client, resident, make, dbs):
    alpha = resident.alpha
    banned = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=(("Banned Visitor", "+2348099999999", None),))
    fine = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=(("Fine Visitor", "+2348090000005", None),))
    _estate_ban(dbs, alpha.estate.id, "+2348099999999")
    html = client.get("/e/alpha/home/visits/").get_data(as_text=True)
    card = re.search(rf'<li id="visit-{banned.id}">.*?</li>', html, re.S).group(0)
    assert 'data-state="BANNED"' in card and ">Visitor banned<" in card and "Valid now" not in card
    assert "+2348099999999 is banned from the estate: the gate refuses them." in card
    other = re.search(rf'<li id="visit-{fine.id}">.*?</li>', html, re.S).group(0)
    assert 'data-state="VALID"' in other and "banned" not in other
    detail = client.get(f"/e/alpha/home/visits/{banned.id}").get_data(as_text=True)
    assert 'id="pass-ban"' in detail and ">Visitor banned<" in detail


def test_a_personal_ban_shows_on_the_hosts_passes(client, resident, make):
    alpha = resident.alpha
    visit = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=(("Ex Friend", "+2348031234567", None),))
    client.post("/e/alpha/home/bans/", data={"phone": "0803 123 4567", "reason": "Rude"})
    html = client.get("/e/alpha/home/visits/").get_data(as_text=True)
    card = re.search(rf'<li id="visit-{visit.id}">.*?</li>', html, re.S).group(0)
    assert "You have banned +2348031234567: the gate refuses them on your passes." in card


def test_my_visitors_checks_bans_in_one_query_for_the_page(client, resident, make, dbs, count_queries):
    alpha = resident.alpha
    for n in range(2):
        make.visit(alpha.estate, alpha.unit, alpha.resident, guests=((f"Guest {n}", f"+23480900001{n:02d}", None),))
    client.get("/e/alpha/home/visits/")
    with count_queries() as few:
        client.get("/e/alpha/home/visits/")
    for n in range(2, 12):
        make.visit(alpha.estate, alpha.unit, alpha.resident, guests=((f"Guest {n}", f"+23480900001{n:02d}", None),))
    _estate_ban(dbs, alpha.estate.id, "+2348090000105")
    with count_queries() as many:
        html = client.get("/e/alpha/home/visits/").get_data(as_text=True)
    assert many.count == few.count and html.count('data-state="BANNED"') == 1


def test_inviting_a_banned_frequent_visitor_warns_before_the_form_is_filled(client, resident, dbs):
    alpha = resident.alpha
    with dbs() as s:
        saved = FrequentVisitor(estate_id=alpha.estate.id, host_user_id=alpha.resident.id, full_name="Mama Ngozi",
                                phone="+2348099999999")
        s.add(saved)
        s.commit()
        saved_id = saved.id
    _estate_ban(dbs, alpha.estate.id, "+2348099999999")
    listing = client.get("/e/alpha/home/visitors/").get_data(as_text=True)
    assert "+2348099999999 is banned from the estate: the gate refuses them." in listing
    form = unescape(client.get(f"/e/alpha/home/visits/new?frequent={saved_id}").get_data(as_text=True))
    assert re.search(r'id="guests-0-phone-error">\+2348099999999 is banned from the estate and cannot be invited', form)
    # And sending it anyway is refused, as before.
    refused = client.post("/e/alpha/home/visits/new", data=_form(alpha.unit.id, **{"guests-0-phone": "+2348099999999"}))
    assert refused.status_code == 422 and _visits(dbs) == []


@pytest.mark.parametrize("fields, words", [
    (dict(status=VisitStatus.CANCELLED), "This pass was cancelled: the gate refuses it."),
    (dict(status=VisitStatus.REVOKED), "This pass was revoked by the estate. It will not open the gate."),
    (dict(starts=timedelta(days=-2), ends=timedelta(days=-1)), "This pass has expired."),
    (dict(entries_used=1), "This pass has no entries left."),
])
def test_a_pass_that_opens_nothing_shows_void_without_qr_or_share_buttons(client, resident, make, fields, words):
    visit = make.visit(resident.alpha.estate, resident.alpha.unit, resident.alpha.resident, **fields)
    html = client.get(f"/e/alpha/home/visits/{visit.id}").get_data(as_text=True)
    assert 'id="pass-void"' in html and ">VOID<" in html and words in html
    assert 'class="segno"' not in html and 'id="share"' not in html and "wa.me" not in html and 'id="pass-link"' not in html
    assert f"<s>{visit.visitor_code}</s>" in html
    public = client.get(f"/p/{visit.qr_token}").get_data(as_text=True)
    assert 'class="segno"' not in public  # nor a scannable QR on the visitor's page


def test_a_good_pass_still_has_its_qr_and_share_buttons(client, resident, make):
    visit = make.visit(resident.alpha.estate, resident.alpha.unit, resident.alpha.resident)
    html = client.get(f"/e/alpha/home/visits/{visit.id}").get_data(as_text=True)
    assert 'class="segno"' in html and 'id="share"' in html and 'id="pass-void"' not in html


def test_active_passes_leave_out_a_single_use_pass_used_and_exited(client, estate_pair, make, login):
    alpha = estate_pair.alpha
    make.user("chief@alpha.test", estate=alpha.estate, role=Role.GUARD, supervisor=True)
    used = make.visit(alpha.estate, alpha.unit, alpha.resident, code="USEDGONE", entries_used=1)
    inside = make.visit(alpha.estate, alpha.unit, alpha.resident, code="USEDINSD", entries_used=1,
                        people_inside=True)
    fresh = make.visit(alpha.estate, alpha.unit, alpha.resident, code="FRESHONE")
    multi = make.visit(alpha.estate, alpha.unit, alpha.resident, code="MULTIONE", max_entries=3, entries_used=1)
    login("chief@alpha.test")
    html = client.get("/e/alpha/gate/passes/", headers={"X-Gate-Device": "tablet-0123456789abcdef"}).get_data(
        as_text=True)
    assert f'id="pass-{used.id}"' not in html
    for visit in (inside, fresh, multi):
        assert f'id="pass-{visit.id}"' in html
    assert "3 active passes" in html


# --- 11: one contact for a group --------------------------------------------------------------


def test_a_group_needs_one_contact_phone_not_one_each(client, resident, dbs):
    family = {f"guests-{i}-full_name": name for i, name in enumerate(["Ada Obi", "Bayo Obi", "Chi Obi", "Dayo Obi"])}
    response = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, pass_type="MULTI_ENTRY", max_entries="4",
        **{**family, "guests-0-phone": "", "guests-2-phone": "0803 111 2222"}))
    assert response.status_code == 302, response.get_data(as_text=True)
    [visit] = _visits(dbs)
    assert [g.phone for g in visit.visitors] == [None, None, "+2348031112222", None]
    nobody = client.post("/e/alpha/home/visits/new", data=_form(
        resident.alpha.unit.id, **{**family, "guests-0-phone": ""}))
    assert nobody.status_code == 422
    assert re.search(r'id="guests-0-phone-error">Enter one visitor&#39;s phone number: one contact is enough for the '
                     r"group\.<", nobody.get_data(as_text=True))
    alone = client.post("/e/alpha/home/visits/new", data=_form(resident.alpha.unit.id, **{"guests-0-phone": ""}))
    assert alone.status_code == 422 and b"Enter the visitor&#39;s phone number." in alone.data
    assert len(_visits(dbs)) == 1
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count(Visit.id))) == 1
    page = client.get("/e/alpha/home/visits/new").get_data(as_text=True)
    assert "One phone number is enough for a group" in page.replace("&#39;", "'")
