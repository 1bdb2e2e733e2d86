"""Tenancy by construction: another estate's URLs are 404, other roles' areas 403.

Every estate route, method and id is swept in test_route_sweep.py; these are the cases
that say more than a status code."""

import pytest
import sqlalchemy as sa

from portal.models import Estate, EstateStatus, Role


def test_guard_cannot_open_admin_and_resident_cannot_open_gate(client, estate_pair, login, app):
    login("guard@alpha.test")
    page = client.get("/e/alpha/admin/")
    assert page.status_code == 403 and b"Not allowed" in page.data
    client.post("/logout")
    login("resident@alpha.test")
    assert client.get("/e/alpha/gate/").status_code == 403


def test_non_enterprise_users_cannot_open_the_console(client, estate_pair, login):
    login("admin@alpha.test")
    assert client.get("/enterprise/").status_code == 403


def test_enterprise_admin_enters_any_estate(client, estate_pair, make, login):
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    for slug in ("alpha", "beta"):
        assert client.get(f"/e/{slug}/admin/").status_code == 200
        assert client.get(f"/e/{slug}/gate/").status_code == 200


@pytest.mark.parametrize("status", [EstateStatus.SUSPENDED, EstateStatus.PENDING])
def test_closed_estate_shows_a_clear_page_to_members_but_not_to_enterprise_admins(
    client, app, estate_pair, make, login, dbs, status
):
    with dbs() as s:
        s.execute(sa.update(Estate).where(Estate.slug == "alpha").values(status=status))
        s.commit()
    login("admin@alpha.test")
    page = client.get("/e/alpha/admin/")
    assert page.status_code == 403
    assert b"Alpha Court is not available" in page.data
    assert (b"suspended" if status == EstateStatus.SUSPENDED else b"being set up") in page.data
    client.post("/logout")
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    assert client.get("/e/alpha/admin/").status_code == 200


def test_user_with_several_memberships_gets_the_chooser_and_switcher(client, estate_pair, make, login):
    alpha, beta = estate_pair.alpha, estate_pair.beta
    make.member(alpha.admin, beta.estate, Role.GUARD)
    response = login("admin@alpha.test")
    assert response.headers["Location"] == "/choose"
    chooser = client.get("/choose").get_data(as_text=True)
    assert "/e/alpha/admin/" in chooser and "/e/beta/gate/" in chooser
    home = client.get("/e/alpha/admin/").get_data(as_text=True)
    assert 'href="/e/beta/gate/"' in home  # the switcher in the header menu
    assert client.get("/e/beta/gate/").status_code == 200
    assert client.get("/e/beta/admin/").status_code == 403


def test_estate_entry_redirects_to_the_users_area(client, estate_pair, login):
    login("guard@alpha.test")
    assert client.get("/e/alpha/").headers["Location"] == "/e/alpha/gate/"
    assert client.get("/e/beta/").status_code == 404
