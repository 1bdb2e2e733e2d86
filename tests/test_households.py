"""Estate admins: the residents directory and each unit's household page (members,
move-in/move-out, vehicles, access cards with a per-unit limit)."""

import contextlib
import re
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.errors import DomainError
from portal.extensions import db
from portal.models import (
    AccessCard,
    AccessCardStatus,
    AuditLog,
    Estate,
    Membership,
    Resident,
    ResidentType,
    Role,
    Unit,
    User,
    Vehicle,
)


@pytest.fixture
def admin(client, estate_pair, login):
    login("admin@alpha.test")
    return estate_pair


def _names(html: str) -> list[str]:
    return re.findall(r'class="resident-name">([^<]+)</a>', html)


def _count(s, model, *where) -> int:
    return s.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _actions(s) -> list[str]:
    """The audit trail of this test's changes (sign-ins are audited too: left out)."""
    return list(s.scalars(sa.select(AuditLog.action).where(AuditLog.action.not_like("auth.%")).order_by(AuditLog.id)))


def _household_url(unit_id: int) -> str:
    return f"/e/alpha/admin/units/{unit_id}/"


# --- the directory -------------------------------------------------------------------

def test_residents_directory_lists_this_estates_current_residents(client, admin, make):
    estate = admin.alpha.estate
    unit = make.unit(estate, "B7")
    make.resident(estate, unit, "Zainab Musa", resident_type=ResidentType.TENANT)
    make.resident(estate, unit, "Gone Away", move_out_date=date(2024, 1, 1))
    make.resident(admin.beta.estate, admin.beta.unit, "Beta Person")
    page = client.get("/e/alpha/admin/residents/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert _names(html) == ["Resident of alpha", "Zainab Musa"]
    assert "2 residents" in html and "Tenant" in html and "Beta Person" not in html
    assert 'id="nav-residents"' in html and 'aria-current="page">Residents' in html
    assert f'href="/e/alpha/admin/units/{unit.id}/"' in html


def test_residents_are_searchable_by_name_unit_phone_and_email(client, admin, make):
    estate = admin.alpha.estate
    unit = make.unit(estate, "C12")
    make.resident(estate, unit, "Ngozi Eze", phone="+2348031234567", email="Ngozi@Example.com")
    make.resident(estate, admin.alpha.unit, "Tunde 100%", phone="+2348090000000")

    def names(q):
        return _names(client.get("/e/alpha/admin/residents/", query_string={"q": q}).get_data(as_text=True))

    assert names("ngozi") == ["Ngozi Eze"]
    assert names("c12") == ["Ngozi Eze"]
    assert names("0803 123 4567") == ["Ngozi Eze"]  # national format, normalised with the estate's country
    assert names("+234 803 123 4567") == ["Ngozi Eze"]
    assert names("1234567") == ["Ngozi Eze"]
    assert names("example.com") == ["Ngozi Eze"]
    assert names("100%") == ["Tunde 100%"]  # LIKE wildcards are taken literally
    assert names("%") == ["Tunde 100%"]
    assert b"No resident matches these filters." in client.get("/e/alpha/admin/residents/?q=nobody").data


def test_residents_filter_by_type_and_status_with_htmx_swapping_only_the_table(client, admin, make):
    estate = admin.alpha.estate
    make.resident(estate, admin.alpha.unit, "Driver Dan", resident_type=ResidentType.STAFF)
    make.resident(estate, admin.alpha.unit, "Old Owner", move_out_date=date(2023, 5, 1))
    fragment = client.get("/e/alpha/admin/residents/?type=STAFF", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.data and b'id="resident-table"' not in fragment.data  # swapped into it, never nested
    assert _names(fragment.get_data(as_text=True)) == ["Driver Dan"]
    moved = client.get("/e/alpha/admin/residents/?status=MOVED_OUT").get_data(as_text=True)
    assert _names(moved) == ["Old Owner"] and "Moved out on" in moved
    everyone = client.get("/e/alpha/admin/residents/?status=ALL").get_data(as_text=True)
    assert _names(everyone) == ["Driver Dan", "Old Owner", "Resident of alpha"]


def test_residents_directory_is_paginated_and_has_an_empty_state(client, admin, make, dbs):
    with dbs() as s:
        s.execute(sa.delete(Resident))
        s.commit()
    assert b"No residents yet." in client.get("/e/alpha/admin/residents/").data
    with dbs() as s:
        s.add_all(Resident(estate_id=admin.alpha.estate.id, unit_id=admin.alpha.unit.id, full_name=f"Person {n:02d}",
                           resident_type=ResidentType.FAMILY) for n in range(30))
        s.commit()
    first = client.get("/e/alpha/admin/residents/").get_data(as_text=True)
    assert len(_names(first)) == 25 and "Page 1 of 2" in first
    assert _names(client.get("/e/alpha/admin/residents/?page=2").get_data(as_text=True)) == [
        f"Person {n}" for n in range(25, 30)]


def test_residents_directory_runs_a_constant_number_of_queries(client, admin, count_queries, dbs):
    client.get("/e/alpha/admin/residents/")
    with count_queries() as few:
        client.get("/e/alpha/admin/residents/?q=person")
    with dbs() as s:
        units = [Unit(estate_id=admin.alpha.estate.id, number=f"P{n}") for n in range(30)]
        s.add_all(units)
        s.flush()
        s.add_all(Resident(estate_id=admin.alpha.estate.id, unit_id=u.id, full_name=f"Person {u.number}",
                           resident_type=ResidentType.OWNER, user_id=None) for u in units)
        s.commit()
    with count_queries() as many:
        client.get("/e/alpha/admin/residents/?q=person")
    assert many.count == few.count


# --- the household page --------------------------------------------------------------

def test_household_page_shows_facts_members_past_members_vehicles_and_cards(client, admin, make, dbs):
    estate, unit = admin.alpha.estate, admin.alpha.unit
    make.resident(estate, unit, "Kemi Bakare", resident_type=ResidentType.FAMILY, phone="+2348031112222",
                  email="kemi@example.com", emergency_contact_name="Bola Bakare",
                  emergency_contact_phone="+2348033334444", move_in_date=date(2022, 3, 1))
    make.resident(estate, unit, "Past Tenant", resident_type=ResidentType.TENANT,
                  move_in_date=date(2020, 1, 1), move_out_date=date(2021, 12, 31))
    with dbs() as s:
        s.add(Vehicle(estate_id=estate.id, unit_id=unit.id, plate="LND123AB", make="Toyota", model="Corolla",
                      colour="Blue"))
        s.add(AccessCard(estate_id=estate.id, unit_id=unit.id, status=AccessCardStatus.ISSUED, card_number="C-001"))
        s.commit()
    html = client.get(_household_url(unit.id)).get_data(as_text=True)
    assert "Unit A1" in html and "Occupied" in html
    members = html.split('id="past-members"')[0]
    assert "Kemi Bakare" in members and "Family" in members and "+2348031112222" in members
    assert "kemi@example.com" in members and "Bola Bakare" in members and "+2348033334444" in members
    assert "Has a login" in members and "No login" in members  # the estate_pair resident has one
    past = html.split('id="past-members"')[1].split('id="vehicles"')[0]
    assert "Past Tenant" in past and "Past Tenant" not in members
    assert "LND123AB" in html and "Toyota · Corolla · Blue" in html
    assert "C-001" in html and "1 of 4 cards in use" in html


def test_units_list_links_each_unit_to_its_household(client, admin):
    html = client.get("/e/alpha/admin/units/").get_data(as_text=True)
    assert f'href="/e/alpha/admin/units/{admin.alpha.unit.id}/" class="household-link"' in html


def test_household_page_runs_a_constant_number_of_queries(client, admin, count_queries, dbs):
    estate, unit = admin.alpha.estate, admin.alpha.unit
    client.get(_household_url(unit.id))
    with count_queries() as few:
        client.get(_household_url(unit.id))
    with dbs() as s:
        for n in range(12):
            s.add(Resident(estate_id=estate.id, unit_id=unit.id, full_name=f"Member {n}",
                           resident_type=ResidentType.FAMILY, move_out_date=date(2020, 1, 1) if n % 2 else None))
            s.add(Vehicle(estate_id=estate.id, unit_id=unit.id, plate=f"CAR{n}"))
        s.flush()
        member = s.scalar(sa.select(Resident.id).where(Resident.full_name == "Member 0"))
        s.add_all(AccessCard(estate_id=estate.id, unit_id=unit.id, resident_id=member,
                             status=AccessCardStatus.DEACTIVATED) for _ in range(10))
        s.commit()
    with count_queries() as many:
        client.get(_household_url(unit.id))
    assert many.count == few.count


# --- members -------------------------------------------------------------------------

def test_add_a_member_without_a_login_normalises_phones_and_audits(client, admin, dbs):
    unit_id = admin.alpha.unit.id
    assert client.get(f"/e/alpha/admin/units/{unit_id}/members/new").status_code == 200
    response = client.post(f"/e/alpha/admin/units/{unit_id}/members/new", data={
        "full_name": " Amaka Obi ", "resident_type": "STAFF", "phone": "0803 555 1234", "email": "amaka@example.com",
        "move_in_date": "2024-02-01", "emergency_contact_name": "Obi Senior", "emergency_contact_phone": "0809 000 1111"})
    assert response.status_code == 302 and response.headers["Location"] == _household_url(unit_id)
    assert b"Amaka Obi was added to unit A1." in client.get(_household_url(unit_id)).data
    with dbs() as s:
        member = s.scalar(sa.select(Resident).where(Resident.full_name == "Amaka Obi"))
        assert (member.phone, member.emergency_contact_phone) == ("+2348035551234", "+2348090001111")
        assert member.user_id is None and member.resident_type == ResidentType.STAFF
        assert member.move_in_date == date(2024, 2, 1) and member.estate_id == admin.alpha.estate.id
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "resident.added"))
        assert log.target_id == member.id and log.after["phone"] == "+2348035551234"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"full_name": ""}, b"This field is required."),
        ({"full_name": "X" * 161}, b"Use at most 160 characters."),
        ({"phone": "12"}, b"Enter a valid phone number."),
        ({"emergency_contact_phone": "call me"}, b"Enter a valid phone number."),
        ({"email": "not-an-email"}, b"Enter a valid email address."),
        ({"resident_type": "LANDLORD"}, b"Not a valid choice."),
        ({"move_in_date": "31/01/2024"}, b"Not a valid date value."),
    ],
)
def test_bad_member_input_gets_a_message_and_writes_nothing(client, admin, dbs, data, message):
    form = {"full_name": "Someone", "resident_type": "FAMILY", **data}
    response = client.post(f"/e/alpha/admin/units/{admin.alpha.unit.id}/members/new", data=form)
    assert response.status_code == 422 and message in response.data
    assert b'aria-invalid="true"' in response.data
    with dbs() as s:
        assert _count(s, Resident, Resident.estate_id == admin.alpha.estate.id) == 1
        assert _actions(s) == []


def test_a_household_cannot_hold_the_same_phone_twice(client, admin, make, dbs):
    make.resident(admin.alpha.estate, admin.alpha.unit, "Ifeoma", phone="+2348031234567")
    response = client.post(f"/e/alpha/admin/units/{admin.alpha.unit.id}/members/new", data={
        "full_name": "Ifeoma Again", "resident_type": "FAMILY", "phone": "08031234567"})
    assert response.status_code == 422
    assert b"Ifeoma, a current member of this household, already has this phone number." in response.data
    with dbs() as s:
        assert _count(s, Resident, Resident.full_name == "Ifeoma Again") == 0


def test_edit_a_member_audits_before_and_after(client, admin, make, dbs):
    member = make.resident(admin.alpha.estate, admin.alpha.unit, "Yusuf", resident_type=ResidentType.TENANT)
    url = f"/e/alpha/admin/units/{admin.alpha.unit.id}/members/{member.id}/edit"
    page = client.get(url)
    assert b'value="Yusuf"' in page.data and b'<option selected value="TENANT">' in page.data
    response = client.post(url, data={"full_name": "Yusuf Bello", "resident_type": "OWNER", "phone": "+234 803 999 0000"})
    assert response.status_code == 302
    with dbs() as s:
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "resident.updated"))
        assert log.before["full_name"] == "Yusuf" and log.after["full_name"] == "Yusuf Bello"
        assert log.after["phone"] == "+2348039990000" and log.after["resident_type"] == "OWNER"


def test_moving_out_the_only_residency_ends_access_and_keeps_history(client, admin, make, dbs, login, app):
    alpha = admin.alpha
    with dbs() as s:
        resident = s.scalar(sa.select(Resident).where(Resident.user_id == alpha.resident.id))
        s.add(AccessCard(estate_id=alpha.estate.id, unit_id=alpha.unit.id, resident_id=resident.id,
                         status=AccessCardStatus.ISSUED, card_number="K1"))
        s.commit()
        resident_id = resident.id
    url = f"/e/alpha/admin/units/{alpha.unit.id}/members/{resident_id}/move-out"
    page = client.get(url)
    assert page.status_code == 200 and b"hx-confirm=" in page.data
    response = client.post(url, data={"move_out_date": "2024-06-30"})
    assert response.status_code == 302
    assert b"can no longer sign in to this estate as a resident" in client.get(_household_url(alpha.unit.id)).data
    with dbs() as s:
        resident = s.get(Resident, resident_id)
        assert resident.move_out_date == date(2024, 6, 30)  # the row and its history stay
        assert _count(s, Membership, Membership.user_id == alpha.resident.id, Membership.estate_id == alpha.estate.id) == 0
        assert s.scalar(sa.select(AccessCard.status).where(AccessCard.card_number == "K1")) == AccessCardStatus.DEACTIVATED
        actions = set(_actions(s))
        assert {"resident.moved_out", "membership.removed", "access_card.deactivated"} <= actions
    other = app.test_client()
    login("resident@alpha.test", as_client=other)
    assert other.get("/e/alpha/home/").status_code == 404
    # Moving out twice changes nothing.
    again = client.post(url, data={"move_out_date": "2024-07-01"})
    assert again.status_code == 302
    with dbs() as s:
        assert s.get(Resident, resident_id).move_out_date == date(2024, 6, 30)


def test_moving_out_of_one_unit_keeps_access_while_living_in_another(client, admin, make, dbs):
    alpha = admin.alpha
    second = make.unit(alpha.estate, "A2")
    make.resident(alpha.estate, second, "Resident of alpha too", user=alpha.resident)
    with dbs() as s:
        resident_id = s.scalar(sa.select(Resident.id).where(Resident.unit_id == alpha.unit.id))
    client.post(f"/e/alpha/admin/units/{alpha.unit.id}/members/{resident_id}/move-out",
                data={"move_out_date": "2024-06-30"})
    with dbs() as s:
        assert s.get(Resident, resident_id).move_out_date is not None
        assert _count(s, Membership, Membership.user_id == alpha.resident.id, Membership.estate_id == alpha.estate.id,
                      Membership.role == Role.RESIDENT) == 1
        assert "membership.removed" not in _actions(s)


@pytest.mark.parametrize("when, message", [
    ("2019-12-31", b"The move-out date cannot be before the move-in date."),
    ((date.today() + timedelta(days=3)).isoformat(), b"The move-out date cannot be in the future."),
    ("", b"This field is required."),
    ("soon", b"Not a valid date value."),
])
def test_bad_move_out_dates_are_refused(client, admin, make, dbs, when, message):
    member = make.resident(admin.alpha.estate, admin.alpha.unit, "Chidi", move_in_date=date(2020, 1, 1))
    response = client.post(f"/e/alpha/admin/units/{admin.alpha.unit.id}/members/{member.id}/move-out",
                           data={"move_out_date": when})
    assert response.status_code == 422 and message in response.data
    with dbs() as s:
        assert s.get(Resident, member.id).move_out_date is None
        assert _actions(s) == []


def test_an_archived_unit_takes_no_new_members(client, admin, make, dbs):
    unit = make.unit(admin.alpha.estate, "Z9")
    client.post(f"/e/alpha/admin/units/{unit.id}/archive")
    response = client.post(f"/e/alpha/admin/units/{unit.id}/members/new",
                           data={"full_name": "Late", "resident_type": "OWNER"})
    assert response.status_code == 422 and b"Unit Z9 is archived." in response.data
    with dbs() as s:
        assert _count(s, Resident, Resident.unit_id == unit.id) == 0


# --- vehicles ------------------------------------------------------------------------

def test_add_and_remove_a_vehicle_with_a_normalised_plate(client, admin, dbs):
    unit_id = admin.alpha.unit.id
    response = client.post(f"/e/alpha/admin/units/{unit_id}/vehicles",
                           data={"plate": " lnd-123 ab ", "make": "Toyota", "model": "Camry", "colour": "Silver"})
    assert response.status_code == 302
    page = client.get(_household_url(unit_id)).get_data(as_text=True)
    assert "Vehicle LND123AB was added." in page and "Toyota · Camry · Silver" in page
    with dbs() as s:
        vehicle = s.scalar(sa.select(Vehicle))
        assert vehicle.plate == "LND123AB" and vehicle.removed_at is None
    assert client.post(f"/e/alpha/admin/units/{unit_id}/vehicles/{vehicle.id}/remove").status_code == 302
    page = client.get(_household_url(unit_id)).get_data(as_text=True)
    assert "Vehicle LND123AB was removed." in page and "No vehicles are registered for this unit." in page
    with dbs() as s:
        assert s.get(Vehicle, vehicle.id).removed_at is not None
        assert _actions(s) == ["vehicle.added", "vehicle.removed"]
    # A removed plate can be registered again (here to the same unit).
    assert client.post(f"/e/alpha/admin/units/{unit_id}/vehicles", data={"plate": "LND 123 AB"}).status_code == 302
    with dbs() as s:
        assert s.get(Vehicle, vehicle.id).removed_at is None


def test_a_plate_is_unique_in_the_estate(client, admin, make, dbs):
    other = make.unit(admin.alpha.estate, "A2")
    client.post(f"/e/alpha/admin/units/{other.id}/vehicles", data={"plate": "KJA-555-XY"})
    response = client.post(f"/e/alpha/admin/units/{admin.alpha.unit.id}/vehicles", data={"plate": "kja 555 xy"})
    assert response.status_code == 422
    assert b"The plate KJA555XY is already registered in this estate." in response.data
    assert b"<details open" in response.data
    bad = client.post(f"/e/alpha/admin/units/{admin.alpha.unit.id}/vehicles", data={"plate": "ABCDE-12345-FGHIJ-123456"})
    assert bad.status_code == 422 and b"at most 20 letters and digits" in bad.data
    empty = client.post(f"/e/alpha/admin/units/{admin.alpha.unit.id}/vehicles", data={"plate": ""})
    assert empty.status_code == 422 and b"This field is required." in empty.data
    with dbs() as s:
        assert _count(s, Vehicle) == 1
    client.post("/logout")
    client.post("/login", data={"login": "admin@beta.test", "password": "secret-pass-1"})
    assert client.post(f"/e/beta/admin/units/{admin.beta.unit.id}/vehicles", data={"plate": "KJA555XY"}).status_code == 302


# --- access cards --------------------------------------------------------------------

def test_card_request_issue_and_deactivate(client, admin, make, dbs):
    unit_id = admin.alpha.unit.id
    with dbs() as s:
        holder = s.scalar(sa.select(Resident.id).where(Resident.unit_id == unit_id))
    assert client.post(f"/e/alpha/admin/units/{unit_id}/cards", data={"holder": str(holder)}).status_code == 302
    with dbs() as s:
        card = s.scalar(sa.select(AccessCard))
        assert (card.status, card.resident_id, card.requested_by_id) == (
            AccessCardStatus.REQUESTED, holder, admin.alpha.admin.id)
    page = client.get(_household_url(unit_id)).get_data(as_text=True)
    assert "An access card was requested for unit A1." in page and "Requested" in page
    assert client.post(f"/e/alpha/admin/units/{unit_id}/cards/{card.id}/issue",
                       data={"card_number": " gp 0042 "}).status_code == 302
    assert "Access card GP0042 was issued." in client.get(_household_url(unit_id)).get_data(as_text=True)
    assert client.post(f"/e/alpha/admin/units/{unit_id}/cards/{card.id}/deactivate").status_code == 302
    assert "Access card GP0042 was deactivated." in client.get(_household_url(unit_id)).get_data(as_text=True)
    with dbs() as s:
        card = s.get(AccessCard, card.id)
        assert card.status == AccessCardStatus.DEACTIVATED and card.issued_at and card.deactivated_at
        assert _actions(s) == [
            "access_card.requested", "access_card.issued", "access_card.deactivated"]


def test_card_numbers_are_unique_in_the_estate(client, admin, dbs):
    unit_id = admin.alpha.unit.id
    with dbs() as s:
        s.add(AccessCard(estate_id=admin.alpha.estate.id, unit_id=unit_id, status=AccessCardStatus.DEACTIVATED,
                         card_number="GP7"))
        waiting = AccessCard(estate_id=admin.alpha.estate.id, unit_id=unit_id)
        s.add(waiting)
        s.commit()
        waiting_id = waiting.id
    response = client.post(f"/e/alpha/admin/units/{unit_id}/cards/{waiting_id}/issue", data={"card_number": "gp7"})
    assert response.status_code == 422
    assert b"Card number GP7 is already registered in this estate." in response.data
    assert f'id="card-number-{waiting_id}" value="gp7"'.encode() in response.data
    empty = client.post(f"/e/alpha/admin/units/{unit_id}/cards/{waiting_id}/issue", data={"card_number": ""})
    assert empty.status_code == 422 and b"This field is required." in empty.data
    with dbs() as s:
        assert s.get(AccessCard, waiting_id).status == AccessCardStatus.REQUESTED


def test_the_card_limit_counts_requested_and_issued_cards(client, admin, dbs):
    unit_id = admin.alpha.unit.id
    with dbs() as s:
        s.get(Estate, admin.alpha.estate.id).access_card_limit = 2
        s.add(AccessCard(estate_id=admin.alpha.estate.id, unit_id=unit_id, status=AccessCardStatus.ISSUED,
                         card_number="L1"))
        s.add(AccessCard(estate_id=admin.alpha.estate.id, unit_id=unit_id, status=AccessCardStatus.DEACTIVATED))
        s.commit()
    assert client.post(f"/e/alpha/admin/units/{unit_id}/cards", data={"holder": ""}).status_code == 302
    refused = client.post(f"/e/alpha/admin/units/{unit_id}/cards", data={"holder": ""})
    assert refused.status_code == 409
    assert b"Unit A1 has reached its limit of 2 access cards." in refused.data
    page = client.get(_household_url(unit_id)).get_data(as_text=True)
    assert "2 of 2 cards in use" in page and 'id="card-form"' not in page and 'id="card-limit"' in page
    with dbs() as s:
        assert _count(s, AccessCard, AccessCard.status != AccessCardStatus.DEACTIVATED) == 2


def test_a_card_holder_must_be_a_current_member_of_the_household(client, admin, make, dbs):
    elsewhere = make.resident(admin.alpha.estate, make.unit(admin.alpha.estate, "A2"), "Neighbour")
    response = client.post(f"/e/alpha/admin/units/{admin.alpha.unit.id}/cards", data={"holder": str(elsewhere.id)})
    assert response.status_code == 422 and b"Not a valid choice." in response.data
    with dbs() as s:
        assert _count(s, AccessCard) == 0


@pytest.mark.real_commits  # two threads, each with its own connection
def test_two_admins_asking_for_the_last_card_at_once_get_one(app, estate_pair, monkeypatch, dbs):
    """Decided under the unit's row lock: both requests count the live cards, but the
    second counts only after the first has committed."""
    from portal.households import service

    alpha = estate_pair.alpha
    with dbs() as s:
        s.get(Estate, alpha.estate.id).access_card_limit = 1
        s.commit()
    real_count = service.live_card_count
    barrier = threading.Barrier(2, timeout=0.5)

    def slow_count(unit_id):
        n = real_count(unit_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()  # without a lock both requests would meet here, each having counted 0
        return n

    monkeypatch.setattr(service, "live_card_count", slow_count)
    outcomes = []

    def ask():
        with app.app_context():
            estate = db.session.get(Estate, alpha.estate.id)
            try:
                service.request_card(db.session.get(User, alpha.admin.id), estate, alpha.unit.id)
                outcomes.append("ok")
            except DomainError as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(outcomes) == ["CARD_LIMIT_REACHED", "ok"]
    with dbs() as s:
        assert _count(s, AccessCard, AccessCard.unit_id == alpha.unit.id) == 1


# --- tenancy and roles ---------------------------------------------------------------

def test_another_estates_ids_are_404_for_every_household_route(client, admin, make, dbs):
    alpha, beta = admin.alpha, admin.beta
    with dbs() as s:
        beta_resident = s.scalar(sa.select(Resident).where(Resident.estate_id == beta.estate.id))
        vehicle = Vehicle(estate_id=beta.estate.id, unit_id=beta.unit.id, plate="BETA1")
        card = AccessCard(estate_id=beta.estate.id, unit_id=beta.unit.id)
        s.add_all([vehicle, card])
        s.commit()
        ids = {"unit": beta.unit.id, "resident": beta_resident.id, "vehicle": vehicle.id, "card": card.id}
        alpha_resident = s.scalar(sa.select(Resident.id).where(Resident.estate_id == alpha.estate.id))
    member = {"full_name": "Hacker", "resident_type": "OWNER"}
    for unit in (ids["unit"], alpha.unit.id):  # their unit, or our unit with their rows
        base = f"/e/alpha/admin/units/{unit}"
        if unit == ids["unit"]:
            assert client.get(f"{base}/").status_code == 404
            assert client.get(f"{base}/members/new").status_code == 404
            assert client.post(f"{base}/members/new", data=member).status_code == 404
            assert client.post(f"{base}/vehicles", data={"plate": "HACK1"}).status_code == 404
            assert client.post(f"{base}/cards", data={"holder": ""}).status_code == 404
        assert client.get(f"{base}/members/{ids['resident']}/edit").status_code == 404
        assert client.post(f"{base}/members/{ids['resident']}/edit", data=member).status_code == 404
        assert client.get(f"{base}/members/{ids['resident']}/move-out").status_code == 404
        assert client.post(f"{base}/members/{ids['resident']}/move-out",
                           data={"move_out_date": "2024-01-01"}).status_code == 404
        assert client.post(f"{base}/vehicles/{ids['vehicle']}/remove").status_code == 404
        assert client.post(f"{base}/cards/{ids['card']}/issue", data={"card_number": "X1"}).status_code == 404
        assert client.post(f"{base}/cards/{ids['card']}/deactivate").status_code == 404
    # Our resident under another of our units is a 404 too.
    other = make.unit(alpha.estate, "A2")
    assert client.get(f"/e/alpha/admin/units/{other.id}/members/{alpha_resident}/edit").status_code == 404
    with dbs() as s:
        resident = s.get(Resident, ids["resident"])
        assert resident.full_name == "Resident of beta" and resident.move_out_date is None
        assert s.get(Vehicle, ids["vehicle"]).removed_at is None
        card = s.get(AccessCard, ids["card"])
        assert card.status == AccessCardStatus.REQUESTED and card.card_number is None
        assert _count(s, Resident) == 2 and _count(s, Vehicle) == 1 and _count(s, AccessCard) == 1
        assert _actions(s) == []


@pytest.mark.parametrize("who", ["guard", "resident"])
def test_guards_and_residents_cannot_open_the_directory_or_households(client, estate_pair, login, who):
    login(f"{who}@alpha.test")
    unit_id = estate_pair.alpha.unit.id
    assert client.get("/e/alpha/admin/residents/").status_code == 403
    assert client.get(f"/e/alpha/admin/units/{unit_id}/").status_code == 403
    assert client.post(f"/e/alpha/admin/units/{unit_id}/vehicles", data={"plate": "X1"}).status_code == 403
    assert client.post(f"/e/alpha/admin/units/{unit_id}/cards", data={}).status_code == 403
