"""Estate admins manage members (roles, suspend, reactivate, soft-delete, remove);
enterprise admins manage users across estates."""

import re

import pytest
import sqlalchemy as sa

from portal.models import AuditLog, Membership, Role, User, UserSession, UserStatus
from tests.conftest import PASSWORD


@pytest.fixture
def admin(client, estate_pair, login):
    login("admin@alpha.test")
    return estate_pair


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/e/\w+/admin/members/\d+/"><strong>([^<]+)</strong>', html)


def _status(dbs, user_id):
    with dbs() as s:
        return s.get(User, user_id).status


def _roles(dbs, user_id, estate_id):
    with dbs() as s:
        return sorted(s.scalars(sa.select(Membership.role).where(
            Membership.user_id == user_id, Membership.estate_id == estate_id)).all())


def test_members_list_shows_this_estates_accounts_only(client, admin, make):
    make.user("third@beta.test", full_name="Beta Only", estate=admin.beta.estate, role=Role.RESIDENT)
    html = client.get("/e/alpha/admin/members/").get_data(as_text=True)
    assert "3 members" in html
    assert "admin@alpha.test" in html and "guard@alpha.test" in html and "resident@alpha.test" in html
    assert "beta.test" not in html and "Beta Only" not in html
    assert "Never" in html  # the guard has never signed in


def test_members_search_and_filters_swap_only_the_table(client, admin, make):
    make.user("zed@alpha.test", full_name="Zed Guard", estate=admin.alpha.estate, role=Role.GUARD,
              phone="+2348035550101")
    fragment = client.get("/e/alpha/admin/members/?role=GUARD", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.data and b'id="member-table"' not in fragment.data  # the table's content only
    assert len(_names(fragment.get_data(as_text=True))) == 2
    assert _names(client.get("/e/alpha/admin/members/?q=zed").get_data(as_text=True)) == ["Zed Guard"]
    assert _names(client.get("/e/alpha/admin/members/?q=0803%20555").get_data(as_text=True)) == ["Zed Guard"]
    assert b"No member matches these filters." in client.get("/e/alpha/admin/members/?q=nobody-like-this").data


def test_members_list_is_paginated(client, admin, make):
    for n in range(30):
        make.user(f"p{n:02d}@alpha.test", full_name=f"Person {n:02d}", estate=admin.alpha.estate, role=Role.RESIDENT)
    first = client.get("/e/alpha/admin/members/").get_data(as_text=True)
    assert len(_names(first)) == 25 and "Page 1 of 2" in first
    assert len(_names(client.get("/e/alpha/admin/members/?page=2").get_data(as_text=True))) == 8


def test_members_list_runs_a_constant_number_of_queries(client, admin, make, count_queries):
    client.get("/e/alpha/admin/members/")
    with count_queries() as few:
        client.get("/e/alpha/admin/members/")
    other = make.estate("gamma")
    for n in range(20):
        user = make.user(f"m{n}@alpha.test", estate=admin.alpha.estate, role=Role.GUARD)
        make.member(user, admin.alpha.estate, Role.RESIDENT)
        make.member(user, other, Role.RESIDENT)
    with count_queries() as many:
        client.get("/e/alpha/admin/members/")
    assert many.count == few.count


def test_suspend_ends_the_members_sessions_at_once_and_reactivate_lets_them_back(app, client, admin, login, dbs):
    guard_client = app.test_client()
    login("guard@alpha.test", as_client=guard_client)
    assert guard_client.get("/e/alpha/gate/").status_code == 200
    guard_id = admin.alpha.guard.id
    response = client.post(f"/e/alpha/admin/members/{guard_id}/suspend")
    assert response.status_code == 302
    assert _status(dbs, guard_id) == UserStatus.SUSPENDED
    assert guard_client.get("/e/alpha/gate/").status_code == 302
    refused = guard_client.post("/login", data={"login": "guard@alpha.test", "password": PASSWORD})
    assert refused.status_code == 401 and b"suspended" in refused.data
    assert b"is suspended and has been signed out everywhere" in client.get(f"/e/alpha/admin/members/{guard_id}/").data
    client.post(f"/e/alpha/admin/members/{guard_id}/reactivate")
    assert _status(dbs, guard_id) == UserStatus.ACTIVE
    login("guard@alpha.test", as_client=guard_client)
    with dbs() as s:
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "user.suspended"))
        assert (log.before, log.after, log.estate_id) == ({"status": "ACTIVE"}, {"status": "SUSPENDED"},
                                                         admin.alpha.estate.id)
        assert s.scalar(sa.select(AuditLog.id).where(AuditLog.action == "user.reactivated")) is not None
        assert s.scalar(sa.select(sa.func.count()).select_from(UserSession).where(
            UserSession.user_id == guard_id, UserSession.revoked_at.is_(None))) == 1  # only the new sign-in


def test_an_admin_cannot_suspend_or_delete_themself(client, admin, dbs):
    me = admin.alpha.admin.id
    client.post(f"/e/alpha/admin/members/{me}/suspend")
    assert b"You cannot suspend your own account." in client.get("/e/alpha/admin/members/").data
    client.post(f"/e/alpha/admin/members/{me}/delete")
    assert b"You cannot delete your own account." in client.get("/e/alpha/admin/members/").data
    client.post(f"/e/alpha/admin/members/{me}/remove")
    assert b"You cannot remove yourself from the estate." in client.get("/e/alpha/admin/members/").data
    assert _status(dbs, me) == UserStatus.ACTIVE
    assert _roles(dbs, me, admin.alpha.estate.id) == [Role.ESTATE_ADMIN]


def test_soft_deleted_user_keeps_history_cannot_sign_in_and_shows_only_under_deleted(client, admin, dbs):
    resident_id = admin.alpha.resident.id
    response = client.post(f"/e/alpha/admin/members/{resident_id}/delete")
    assert response.headers["Location"] == "/e/alpha/admin/members/"
    assert _status(dbs, resident_id) == UserStatus.DELETED
    listing = client.get("/e/alpha/admin/members/").get_data(as_text=True)
    assert "resident@alpha.test" not in listing and "was deleted. Its history is kept." in listing
    assert "resident@alpha.test" in client.get("/e/alpha/admin/members/?status=DELETED").get_data(as_text=True)
    assert _roles(dbs, resident_id, admin.alpha.estate.id) == [Role.RESIDENT]  # memberships kept
    other = client.application.test_client()
    refused = other.post("/login", data={"login": "resident@alpha.test", "password": PASSWORD})
    assert refused.status_code == 401 and b"The email, phone or password is not correct." in refused.data
    # An estate admin cannot bring a deleted account back.
    client.post(f"/e/alpha/admin/members/{resident_id}/reactivate")
    assert _status(dbs, resident_id) == UserStatus.DELETED


def test_change_a_members_role_and_supervisor_flag(client, admin, dbs):
    resident_id = admin.alpha.resident.id
    response = client.post(f"/e/alpha/admin/members/{resident_id}/roles", data={"roles": ["GUARD"], "supervisor": "y"})
    assert response.status_code == 302
    assert _roles(dbs, resident_id, admin.alpha.estate.id) == [Role.GUARD]
    with dbs() as s:
        guard = s.scalar(sa.select(Membership).where(Membership.user_id == resident_id))
        assert guard.is_supervisor
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "membership.roles_changed"))
        assert log.before == {"roles": ["RESIDENT"], "supervisor": False}
        assert log.after == {"roles": ["GUARD"], "supervisor": True}
    page = client.get(f"/e/alpha/admin/members/{resident_id}/").get_data(as_text=True)
    assert "The roles of" in page and "Gate device" in page


def test_no_roles_is_refused_with_a_message(client, admin, dbs):
    response = client.post(f"/e/alpha/admin/members/{admin.alpha.guard.id}/roles", data={})
    assert response.status_code == 422 and b"Choose at least one role." in response.data
    assert _roles(dbs, admin.alpha.guard.id, admin.alpha.estate.id) == [Role.GUARD]


def test_an_admin_cannot_remove_their_own_admin_role(client, admin, dbs):
    me = admin.alpha.admin.id
    response = client.post(f"/e/alpha/admin/members/{me}/roles", data={"roles": ["RESIDENT"]})
    assert response.status_code == 422 and b"You cannot remove your own admin role." in response.data
    assert _roles(dbs, me, admin.alpha.estate.id) == [Role.ESTATE_ADMIN]
    # Adding a role to oneself is fine.
    client.post(f"/e/alpha/admin/members/{me}/roles", data={"roles": ["ESTATE_ADMIN", "GUARD"]})
    assert _roles(dbs, me, admin.alpha.estate.id) == [Role.ESTATE_ADMIN, Role.GUARD]


def test_the_estate_keeps_at_least_one_active_admin(client, estate_pair, make, login, dbs):
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    only_admin = estate_pair.alpha.admin.id
    response = client.post(f"/e/alpha/admin/members/{only_admin}/roles", data={"roles": ["RESIDENT"]})
    assert response.status_code == 422 and b"must keep at least one active admin" in response.data
    client.post(f"/e/alpha/admin/members/{only_admin}/remove")
    assert _roles(dbs, only_admin, estate_pair.alpha.estate.id) == [Role.ESTATE_ADMIN]
    # With a second admin, the first may step down.
    client.post(f"/e/alpha/admin/members/{estate_pair.alpha.guard.id}/roles", data={"roles": ["ESTATE_ADMIN"]})
    response = client.post(f"/e/alpha/admin/members/{only_admin}/roles", data={"roles": ["RESIDENT"]})
    assert response.status_code == 302
    assert _roles(dbs, only_admin, estate_pair.alpha.estate.id) == [Role.RESIDENT]


def test_a_user_of_two_estates_can_only_be_removed_by_an_estate_admin(client, admin, make, dbs):
    shared = make.user("both@example.test", full_name="Bea Both", estate=admin.alpha.estate, role=Role.RESIDENT)
    make.member(shared, admin.beta.estate, Role.GUARD)
    page = client.get(f"/e/alpha/admin/members/{shared.id}/").get_data(as_text=True)
    assert "also belongs to another estate" in page and 'id="suspend"' not in page
    client.post(f"/e/alpha/admin/members/{shared.id}/suspend")
    assert b"only an enterprise admin may change their account" in client.get("/e/alpha/admin/members/").data
    assert _status(dbs, shared.id) == UserStatus.ACTIVE
    response = client.post(f"/e/alpha/admin/members/{shared.id}/remove")
    assert response.headers["Location"] == "/e/alpha/admin/members/"
    assert _roles(dbs, shared.id, admin.alpha.estate.id) == []
    assert _roles(dbs, shared.id, admin.beta.estate.id) == [Role.GUARD]
    with dbs() as s:
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "membership.removed"))
        assert log.estate_id == admin.alpha.estate.id and log.before["roles"] == ["RESIDENT"]


def test_another_estates_members_are_404_for_every_route(client, admin, make, dbs):
    theirs = admin.beta.guard.id
    with dbs() as s:
        s.execute(sa.update(Membership).where(Membership.user_id == theirs).values(bound_device_id="beta-device-1"))
        s.commit()
    assert client.get(f"/e/alpha/admin/members/{theirs}/").status_code == 404
    for action in ("suspend", "reactivate", "delete", "remove", "device/reset"):
        assert client.post(f"/e/alpha/admin/members/{theirs}/{action}").status_code == 404, action
    assert client.post(f"/e/alpha/admin/members/{theirs}/roles", data={"roles": ["RESIDENT"]}).status_code == 404
    with dbs() as s:
        user = s.get(User, theirs)
        assert user.status == UserStatus.ACTIVE
        membership = s.scalar(sa.select(Membership).where(Membership.user_id == theirs))
        assert membership.role == Role.GUARD and membership.bound_device_id == "beta-device-1"
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.target_id == theirs)) == 0


def test_guards_and_residents_cannot_open_the_members_pages(client, estate_pair, login):
    login("guard@alpha.test")
    assert client.get("/e/alpha/admin/members/").status_code == 403
    assert client.post(f"/e/alpha/admin/members/{estate_pair.alpha.resident.id}/suspend").status_code == 403


# --- enterprise console ------------------------------------------------------------


@pytest.fixture
def boss(client, estate_pair, make, login):
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    return estate_pair


def test_enterprise_users_page_lists_everyone_with_their_estates(client, boss, make, count_queries):
    html = client.get("/enterprise/users/").get_data(as_text=True)
    assert "admin@alpha.test" in html and "guard@beta.test" in html and "Alpha Court" in html
    assert "7 users" in html
    only_beta = client.get(f"/enterprise/users/?estate={boss.beta.estate.id}&role=GUARD",
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "guard@beta.test" in only_beta and "guard@alpha.test" not in only_beta and "<html" not in only_beta
    with count_queries() as few:
        client.get("/enterprise/users/")
    for n in range(15):
        user = make.user(f"x{n}@example.test", estate=boss.alpha.estate, role=Role.RESIDENT)
        make.member(user, boss.beta.estate, Role.GUARD)
    with count_queries() as many:
        client.get("/enterprise/users/")
    assert many.count == few.count


def test_enterprise_admin_suspends_a_user_of_two_estates_and_restores_a_deleted_one(client, boss, make, dbs):
    shared = make.user("both@example.test", estate=boss.alpha.estate, role=Role.RESIDENT)
    make.member(shared, boss.beta.estate, Role.GUARD)
    assert client.post(f"/enterprise/users/{shared.id}/suspend").status_code == 302
    assert _status(dbs, shared.id) == UserStatus.SUSPENDED
    client.post(f"/enterprise/users/{shared.id}/delete")
    assert _status(dbs, shared.id) == UserStatus.DELETED
    client.post(f"/enterprise/users/{shared.id}/reactivate")
    assert _status(dbs, shared.id) == UserStatus.ACTIVE
    with dbs() as s:
        actions = s.scalars(sa.select(AuditLog.action).where(AuditLog.target_id == shared.id,
                                                             AuditLog.target_type == "User")
                            .order_by(AuditLog.id)).all()
        assert actions == ["user.suspended", "user.deleted", "user.restored"]


def test_enterprise_admin_may_act_in_any_estates_members_page(client, boss, make, dbs):
    shared = make.user("both@example.test", estate=boss.alpha.estate, role=Role.RESIDENT)
    make.member(shared, boss.beta.estate, Role.GUARD)
    client.post(f"/e/alpha/admin/members/{shared.id}/suspend")
    assert _status(dbs, shared.id) == UserStatus.SUSPENDED


def test_enterprise_admin_cannot_suspend_themself(client, boss, dbs):
    with dbs() as s:
        me = s.scalar(sa.select(User.id).where(User.email == "boss@example.test"))
    client.post(f"/enterprise/users/{me}/suspend")
    assert b"You cannot suspend your own account." in client.get("/enterprise/users/").data
    assert _status(dbs, me) == UserStatus.ACTIVE


def test_unknown_users_are_404_in_the_console(client, boss):
    assert client.post("/enterprise/users/999999/suspend").status_code == 404


def test_estate_admins_cannot_open_the_users_console(client, admin):
    assert client.get("/enterprise/users/").status_code == 403
    assert client.post(f"/enterprise/users/{admin.beta.guard.id}/suspend").status_code == 403
