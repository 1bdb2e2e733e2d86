"""Each role's home shows true numbers, with a constant number of queries."""

import re

import pytest

from portal.models import ResidentType, Role


def _stat(html: str, stat_id: str) -> str:
    return re.search(rf'id="{stat_id}">\s*<span class="stat-value">([^<]+)<', html).group(1)


def test_admin_home_counts_are_true_for_the_estate(client, estate_pair, make, login):
    alpha = estate_pair.alpha
    for i in range(3):
        unit = make.unit(alpha.estate, f"B{i}")
        make.resident(alpha.estate, unit, f"Member {i}")
    make.unit(estate_pair.beta.estate, "Z9")  # another estate's unit must not count
    login("admin@alpha.test")
    html = client.get("/e/alpha/admin/").get_data(as_text=True)
    assert _stat(html, "stat-units") == "4"
    assert _stat(html, "stat-occupied") == "4"
    assert _stat(html, "stat-residents") == "4"
    assert "Estate dashboard" in html and "admin@alpha.test" not in html


def test_moved_out_residents_are_not_counted(client, estate_pair, make, login):
    from datetime import date

    alpha = estate_pair.alpha
    unit = make.unit(alpha.estate, "C1")
    make.resident(alpha.estate, unit, "Gone Away", move_out_date=date(2025, 1, 1))
    login("admin@alpha.test")
    html = client.get("/e/alpha/admin/").get_data(as_text=True)
    assert _stat(html, "stat-residents") == "1"
    assert _stat(html, "stat-occupied") == "1"


def test_resident_home_shows_their_household(client, estate_pair, make, login):
    alpha = estate_pair.alpha
    make.resident(alpha.estate, alpha.unit, "Little Sister", resident_type=ResidentType.FAMILY)
    other_unit = make.unit(alpha.estate, "Q7")
    make.resident(alpha.estate, other_unit, "A Neighbour")
    login("resident@alpha.test")
    html = client.get("/e/alpha/home/").get_data(as_text=True)
    assert "Unit A1" in html and "Little Sister" in html and "Family" in html
    assert "A Neighbour" not in html
    assert 'id="stat-units"' not in html  # a resident's home is about their household, not estate totals


def test_resident_without_unit_sees_an_empty_state(client, make, login):
    estate = make.estate("gamma")
    make.user("lonely@example.test", estate=estate, role=Role.RESIDENT)
    login("lonely@example.test")
    assert b"not linked to a unit yet" in client.get("/e/gamma/home/").data


def test_gate_search_finds_residents_and_swaps_only_the_results(client, estate_pair, make, login):
    alpha = estate_pair.alpha
    make.resident(alpha.estate, make.unit(alpha.estate, "D4"), "Chidi Eze", phone="+2348030000004")
    make.resident(estate_pair.beta.estate, estate_pair.beta.unit, "Chidi Beta")
    login("guard@alpha.test")
    full = client.get("/e/alpha/gate/?q=chidi")
    assert b"<html" in full.data and b"Chidi Eze" in full.data and b"Chidi Beta" not in full.data
    fragment = client.get("/e/alpha/gate/?q=D4", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.data and b'id="results"' not in fragment.data  # swapped into it, never nested
    assert b"Chidi Eze" in fragment.data
    assert fragment.headers["Vary"] == "HX-Request" or "HX-Request" in fragment.headers["Vary"]
    none = client.get("/e/alpha/gate/?q=nobody-here", headers={"HX-Request": "true"})
    assert b"No resident matches" in none.data


def test_gate_search_is_paginated(client, estate_pair, make, login):
    alpha = estate_pair.alpha
    unit = make.unit(alpha.estate, "P1")
    for i in range(25):
        make.resident(alpha.estate, unit, f"Pager Person {i:02d}")
    login("guard@alpha.test")
    html = client.get("/e/alpha/gate/?q=pager").get_data(as_text=True)
    assert html.count("Pager Person") == 10
    assert "Page 1 of 3" in html
    assert "Page 3 of 3" in client.get("/e/alpha/gate/?q=pager&page=3").get_data(as_text=True)


def test_enterprise_console_lists_every_estate_with_counts(client, estate_pair, make, login):
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    html = client.get("/enterprise/").get_data(as_text=True)
    assert "Alpha Court" in html and "Beta Court" in html
    assert "Enterprise console" in html


@pytest.mark.parametrize(
    "who, url",
    [
        ("admin@alpha.test", "/e/alpha/admin/"),
        ("guard@alpha.test", "/e/alpha/gate/"),
        ("resident@alpha.test", "/e/alpha/home/"),
        ("boss@example.test", "/enterprise/"),
    ],
)
def test_home_pages_run_a_constant_number_of_queries(client, estate_pair, make, login, count_queries, who, url):
    make.enterprise_admin("boss@example.test")
    login(who)
    client.get(url)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    alpha = estate_pair.alpha
    for i in range(15):
        unit = make.unit(alpha.estate, f"N{i}")
        make.resident(alpha.estate, unit, f"Extra {i}")
        make.resident(alpha.estate, alpha.unit, f"Family {i}", resident_type=ResidentType.FAMILY)
        make.estate(f"more-{i}")
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert large.count == small.count
    # The admin dashboard's 9th: guards' pending device changes; the resident's home shows their
    # visitors, vehicles and cards too (issue 13).
    assert small.count <= (10 if "/home/" in url else 9)


def test_only_supervisors_see_the_invite_button_at_the_gate(client, estate_pair, make, login):
    make.user("boss-guard@alpha.test", estate=estate_pair.alpha.estate, role=Role.GUARD, supervisor=True)
    login("guard@alpha.test")
    assert b"/gate/staff/invite" not in client.get("/e/alpha/gate/").data
    client.post("/logout")
    login("boss-guard@alpha.test")
    assert b"/e/alpha/gate/staff/invite" in client.get("/e/alpha/gate/").data
