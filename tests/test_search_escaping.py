"""Searches take `%` and `_` literally: they match only rows holding that character
(portal/text.py like_pattern, with escape="\\")."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from portal.models import Role

HEADERS = {"X-Gate-Device": "tablet-escape-0001"}


def _get(client, url: str, q: str, **headers) -> str:
    return client.get(f"{url}?q={quote(q)}", headers=headers).get_data(as_text=True)


@pytest.fixture
def admin(client, estate_pair, login):
    login("admin@alpha.test")
    return estate_pair


def test_units_residents_and_members_take_percent_and_underscore_literally(client, admin, make):
    alpha = admin.alpha.estate
    for number, notes in [("B_1", "plain"), ("B21", "plain"), ("C7", "50% share"), ("C8", "fifty share")]:
        unit = make.unit(alpha, number, notes=notes)
        make.resident(alpha, unit, f"Person of {number.replace('_', '-')}")
    make.user("jane_doe@alpha.test", estate=alpha, role=Role.GUARD, full_name="Jane Underscore")
    make.user("janexdoe@alpha.test", estate=alpha, role=Role.GUARD, full_name="Jane Letter")

    units = _get(client, "/e/alpha/admin/units/", "_")
    assert 'B_1' in units and "B21" not in units and "C7" not in units
    units = _get(client, "/e/alpha/admin/units/", "%")
    assert "C7" in units and "C8" not in units and "B21" not in units

    residents = _get(client, "/e/alpha/admin/residents/", "B_")
    assert "Person of B-1" in residents and "Person of B21" not in residents
    assert "Person of" not in _get(client, "/e/alpha/admin/residents/", "%")

    members = _get(client, "/e/alpha/admin/members/", "e_d")
    assert "Jane Underscore" in members and "Jane Letter" not in members
    assert "Jane" not in _get(client, "/e/alpha/admin/members/", "%")


def test_the_visit_log_and_the_gate_search_take_them_literally(client, estate_pair, login, make, app):
    alpha = estate_pair.alpha
    for name in ("Ann_Lee", "AnnXLee", "Bo 100%", "Bo 1000"):
        make.visit(alpha.estate, alpha.unit, alpha.resident, guests=[(name, None, None)])
    login("admin@alpha.test")
    log = _get(client, "/e/alpha/admin/visits/", "n_l")
    assert "Ann_Lee" in log and "AnnXLee" not in log
    log = _get(client, "/e/alpha/admin/visits/", "0%")
    assert "Bo 100%" in log and "Bo 1000" not in log
    guard = app.test_client()
    login("guard@alpha.test", as_client=guard)
    found = guard.get("/e/alpha/gate/find?find=n_l", headers={"HX-Request": "true", **HEADERS}).get_data(as_text=True)
    assert "Ann_Lee" in found and "AnnXLee" not in found
    found = guard.get(f"/e/alpha/gate/find?find={quote('%')}", headers={"HX-Request": "true", **HEADERS})
    assert "Bo 100%" in found.get_data(as_text=True) and "Bo 1000" not in found.get_data(as_text=True)
