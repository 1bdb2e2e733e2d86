"""Tenancy by construction: another estate's URLs are 404, other roles' areas 403."""

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.models import Estate, EstateStatus, Role


def _estate_get_rules():
    app = create_app({"TESTING": True})
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/e/<estate_slug>/") and "GET" in rule.methods and len(rule.arguments) == 1
    )


ESTATE_URLS = _estate_get_rules()
SUPERVISOR_ONLY = {"/e/<estate_slug>/gate/staff/invite", "/e/<estate_slug>/gate/bans/",
                   "/e/<estate_slug>/gate/bans/new", "/e/<estate_slug>/gate/passes/"}
AREA_OF_ROLE = {"admin": Role.ESTATE_ADMIN, "gate": Role.GUARD, "home": Role.RESIDENT}


def _area(rule: str) -> str:
    return rule.split("/")[3]


def test_every_estate_area_has_routes():
    assert {"admin", "gate", "home"} <= {_area(r) for r in ESTATE_URLS if r.count("/") > 3}


@pytest.mark.parametrize("rule", ESTATE_URLS)
def test_other_estates_urls_are_404(client, estate_pair, login, rule):
    login("admin@alpha.test")
    assert client.get(rule.replace("<estate_slug>", "beta")).status_code == 404
    assert client.get(rule.replace("<estate_slug>", "no-such-estate")).status_code == 404


@pytest.mark.parametrize("rule", ESTATE_URLS)
def test_anonymous_is_sent_to_sign_in(client, estate_pair, rule):
    response = client.get(rule.replace("<estate_slug>", "alpha"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("rule", [r for r in ESTATE_URLS if r.count("/") > 3])
@pytest.mark.parametrize("who", ["admin", "guard", "resident"])
def test_each_role_opens_only_its_own_area(client, estate_pair, login, rule, who):
    login(f"{who}@alpha.test")
    response = client.get(rule.replace("<estate_slug>", "alpha"))
    role = {"admin": Role.ESTATE_ADMIN, "guard": Role.GUARD, "resident": Role.RESIDENT}[who]
    expected = 200 if AREA_OF_ROLE[_area(rule)] == role else 403
    if rule in SUPERVISOR_ONLY and who == "guard":
        expected = 403  # a plain guard; supervisors are tested in test_onboarding
    assert response.status_code == expected


def test_guard_cannot_open_admin_and_resident_cannot_open_gate(client, estate_pair, login, app):
    login("guard@alpha.test")
    page = client.get("/e/alpha/admin/")
    assert page.status_code == 403 and b"Not allowed" in page.data
    client.get("/logout")
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
    client.get("/logout")
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
