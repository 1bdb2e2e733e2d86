"""The enterprise console: estates with counts, a new estate with its first admin,
suspending and reactivating an estate."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.models import (
    Approval,
    AuditLog,
    Estate,
    EstateStatus,
    Invitation,
    Membership,
    OutboxMessage,
    ResidentType,
    Role,
    User,
    utcnow,
)
from tests.conftest import PASSWORD


@pytest.fixture
def boss(client, estate_pair, make, login):
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    return estate_pair


def _approval(dbs, estate, unit, n, **kw):
    with dbs() as s:
        user = User(full_name=f"Applicant {n}", email=f"applicant{n}@example.test", status="PENDING")
        s.add(user)
        s.flush()
        s.add(Approval(estate_id=estate.id, user_id=user.id, unit_id=unit.id, resident_type=ResidentType.TENANT,
                       expires_at=kw.pop("expires_at", utcnow() + timedelta(days=30)), **kw))
        s.commit()


def _row(html: str, slug: str) -> list[str]:
    row = re.search(rf"<tr id=\"estate-\d+\">(?:(?!</tr>).)*/e/{slug}/(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    return re.findall(r'<td class="num"[^>]*>([^<]+)</td>', row)


def test_estates_are_listed_with_units_residents_and_pending_approvals(client, boss, make, dbs):
    alpha = boss.alpha
    make.unit(alpha.estate, "A2")
    for n in range(3):
        _approval(dbs, alpha.estate, alpha.unit, n)
    _approval(dbs, alpha.estate, alpha.unit, 9, status="REJECTED")
    _approval(dbs, alpha.estate, alpha.unit, 10, expires_at=utcnow() - timedelta(days=1))
    html = client.get("/enterprise/").get_data(as_text=True)
    assert _row(html, "alpha") == ["2", "1", "3"]
    assert _row(html, "beta") == ["1", "1", "0"]


def test_estates_search_filter_and_htmx(client, boss, make):
    make.estate("gamma", name="Gamma Gardens", city="Antigua Guatemala", status=EstateStatus.SUSPENDED)
    fragment = client.get("/enterprise/?q=antigua", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Gamma Gardens" in fragment and "Alpha Court" not in fragment
    suspended = client.get("/enterprise/?status=SUSPENDED").get_data(as_text=True)
    assert "Gamma Gardens" in suspended and "Alpha Court" not in suspended
    assert b"No estate matches these filters." in client.get("/enterprise/?q=nothing-like-it").data


def test_estates_list_is_paginated_with_a_constant_number_of_queries(client, boss, make, dbs, count_queries):
    client.get("/enterprise/")
    with count_queries() as few:
        client.get("/enterprise/")
    for n in range(30):
        estate = make.estate(f"more-{n:02d}", name=f"More {n:02d}")
        make.unit(estate, "U1")
    with count_queries() as many:
        html = client.get("/enterprise/").get_data(as_text=True)
    assert many.count == few.count
    assert "Page 1 of 2" in html


NEW_ESTATE = {
    "name": "Jardines del Lago", "slug": "jardines", "address": "Km 14 Carretera a El Salvador",
    "city": "Guatemala", "country": "GT", "timezone": "America/Guatemala", "currency": "gtq",
    "default_language": "es", "brand_color": "#0055AA", "admin_name": "Lucía Pérez",
    "admin_email": "lucia@jardines.test", "admin_phone": "5555 1234",
}


def test_create_an_estate_with_its_first_admin(app, client, boss, dbs):
    response = client.post("/enterprise/estates/new", data=NEW_ESTATE)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert b"Jardines del Lago was created." in client.get("/enterprise/").data
    with dbs() as s:
        estate = s.scalar(sa.select(Estate).where(Estate.slug == "jardines"))
        assert (estate.status, estate.timezone, estate.currency, estate.country, estate.brand_color,
                estate.default_language) == (EstateStatus.ACTIVE, "America/Guatemala", "GTQ", "GT", "#0055aa", "es")
        assert s.scalar(sa.select(User).where(User.email == "lucia@jardines.test")) is None  # made on accepting
        invitation = s.scalar(sa.select(Invitation).where(Invitation.estate_id == estate.id))
        assert invitation.role == Role.ESTATE_ADMIN and invitation.user_id is None
        assert (invitation.email, invitation.phone) == ("lucia@jardines.test", "+50255551234")
        mail = s.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "lucia@jardines.test"))
        actions = s.scalars(sa.select(AuditLog.action).where(AuditLog.estate_id == estate.id)).all()
        assert "estate.created" in actions
    link = re.search(r"http://localhost(/\S+)", mail.body).group(1)
    lucia = app.test_client()
    accepted = lucia.post(link, data={"password": "lucia-pass-1", "confirm": "lucia-pass-1"})
    assert accepted.status_code == 302
    assert lucia.get("/e/jardines/admin/").status_code == 200
    with dbs() as s:
        admin = s.scalar(sa.select(User).where(User.email == "lucia@jardines.test"))
        assert admin.phone == "+50255551234" and admin.password_hash is not None


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"slug": "Bad Slug!"}, b"Use 1 to 60 lower-case letters"),
        ({"slug": "alpha"}, b"The address alpha is already used by another estate."),
        ({"name": ""}, b"This field is required."),
        ({"timezone": "Mars/Olympus"}, b"Choose a time zone from the list."),
        ({"currency": "XYZ"}, b"Enter a currency code of three letters"),
        ({"currency": "12"}, b"Enter a currency code of three letters"),
        ({"brand_color": "green"}, b"Enter a colour as #rrggbb"),
        ({"country": "ZZ"}, b"Choose a country from the list."),
        ({"default_language": "fr"}, b"Not a valid choice."),
        ({"admin_email": "nope"}, b"Enter a valid email address."),
        ({"admin_name": ""}, b"This field is required."),
        ({"admin_phone": "12ab"}, b"Enter a valid phone number"),
    ],
)
def test_bad_estate_input_gets_a_message_and_writes_nothing(client, boss, dbs, changes, message):
    response = client.post("/enterprise/estates/new", data={**NEW_ESTATE, **changes})
    assert response.status_code == 422
    assert message in response.data
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Estate)) == 2
        assert s.scalar(sa.select(User.id).where(User.email == "lucia@jardines.test")) is None
        assert s.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_an_existing_account_can_be_made_the_first_admin(client, boss, dbs):
    response = client.post("/enterprise/estates/new", data={**NEW_ESTATE, "admin_email": "admin@alpha.test",
                                                            "admin_phone": ""})
    assert response.status_code == 302
    with dbs() as s:
        invitation = s.scalar(sa.select(Invitation))
        assert invitation.email == "admin@alpha.test" and invitation.user_id is None
        mail = s.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "admin@alpha.test"))
    link = re.search(r"http://localhost(/\S+)", mail.body).group(1)
    accepted = client.application.test_client().post(link, data={"password": PASSWORD})
    assert accepted.status_code == 302  # the existing account confirms with its own password
    with dbs() as s:
        assert s.scalar(sa.select(Invitation.user_id)) == boss.alpha.admin.id
        assert s.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "admin@alpha.test")) == 1


def test_the_form_offers_common_time_zones_and_countries(client, boss):
    page = client.get("/enterprise/estates/new").get_data(as_text=True)
    assert re.search(r'<option selected value="Africa/Lagos">', page)  # the default
    assert 'value="America/Guatemala"' in page and 'value="GT"' in page


def test_suspend_and_reactivate_an_estate(app, client, boss, login, dbs):
    resident = app.test_client()
    login("resident@alpha.test", as_client=resident)
    page = client.get("/enterprise/").get_data(as_text=True)
    assert "hx-confirm" in page
    response = client.post(f"/enterprise/estates/{boss.alpha.estate.id}/suspend")
    assert response.status_code == 302
    closed = resident.get("/e/alpha/home/")
    assert closed.status_code == 403 and b"is not available" in closed.data
    assert client.get("/e/alpha/admin/").status_code == 200  # enterprise admins still enter
    client.post(f"/enterprise/estates/{boss.alpha.estate.id}/reactivate")
    assert resident.get("/e/alpha/home/").status_code == 200
    with dbs() as s:
        logs = s.scalars(sa.select(AuditLog).where(AuditLog.target_type == "Estate").order_by(AuditLog.id)).all()
        assert [(log.action, log.estate_id, log.after) for log in logs] == [
            ("estate.suspended", boss.alpha.estate.id, {"status": "SUSPENDED"}),
            ("estate.reactivated", boss.alpha.estate.id, {"status": "ACTIVE"}),
        ]


def test_suspending_twice_changes_nothing_more(client, boss, dbs):
    client.post(f"/enterprise/estates/{boss.alpha.estate.id}/suspend")
    client.post(f"/enterprise/estates/{boss.alpha.estate.id}/suspend")
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.action == "estate.suspended")) == 1


def test_unknown_estates_are_404(client, boss):
    assert client.post("/enterprise/estates/999999/suspend").status_code == 404
    assert client.post("/enterprise/estates/999999/reactivate").status_code == 404


@pytest.mark.parametrize("who", ["admin@alpha.test", "guard@alpha.test", "resident@alpha.test"])
def test_only_enterprise_admins_use_the_console(client, estate_pair, login, dbs, who):
    login(who)
    assert client.get("/enterprise/estates/new").status_code == 403
    assert client.post("/enterprise/estates/new", data=NEW_ESTATE).status_code == 403
    assert client.post(f"/enterprise/estates/{estate_pair.alpha.estate.id}/suspend").status_code == 403
    with dbs() as s:
        assert s.get(Estate, estate_pair.alpha.estate.id).status == EstateStatus.ACTIVE
        assert s.scalar(sa.select(sa.func.count()).select_from(Membership)) == 6
