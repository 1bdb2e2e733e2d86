"""Plates are stored and searched in one form (portal/text.py normalise_plate): upper-case
letters and digits, whatever separators were typed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.models import Vehicle, VisitGuest, WalkIn
from portal.text import normalise_plate, plate_pattern

HEADERS = {"X-Gate-Device": "tablet-plates-0001"}


@pytest.mark.parametrize("typed", ["LAG-123-XY", "lag 123 xy", "LAG.123.XY", " lag–123/xy ", "LAG_123\tXY"])
def test_every_way_of_typing_a_plate_gives_one_form(typed):
    assert normalise_plate(typed) == "LAG123XY"


def test_a_query_without_letters_or_digits_matches_no_plate():
    assert normalise_plate(None) == "" and plate_pattern(" - . ") is None
    assert plate_pattern("lag-12") == "%LAG12%"


def _invite_today(client, unit_id: int, plate: str):
    now = datetime.now(ZoneInfo("Africa/Lagos"))
    end = min(now + timedelta(hours=2), now.replace(hour=23, minute=59))
    return client.post("/e/alpha/home/visits/new", data={
        "unit_id": unit_id, "pass_type": "SINGLE_USE", "purpose": "Lunch",
        "guests-0-full_name": "Tunde Bakare", "guests-0-phone": "0803 123 4567", "guests-0-plate": plate,
        "start_date": now.date().isoformat(), "start_time": now.strftime("%H:%M"),
        "end_date": end.date().isoformat(), "end_time": end.strftime("%H:%M"),
    })


def test_a_plate_typed_with_hyphens_is_found_by_the_gate_search_however_it_is_typed(
        client, estate_pair, login, app, dbs):
    login("resident@alpha.test")
    assert _invite_today(client, estate_pair.alpha.unit.id, "LAG-123-XY").status_code == 302
    with dbs() as s:
        assert s.scalars(sa.select(VisitGuest.plate)).all() == ["LAG123XY"]
    guard = app.test_client()
    login("guard@alpha.test", as_client=guard)
    for query in ("LAG-123-XY", "LAG123XY", "lag 123 xy", "lag-123", "123.xy"):
        html = guard.get(f"/e/alpha/gate/find?find={query}", headers={"HX-Request": "true", **HEADERS})
        assert "Tunde Bakare" in html.get_data(as_text=True), query
    for query in ("-", "LAG-124"):
        html = guard.get(f"/e/alpha/gate/find?find={query}", headers={"HX-Request": "true", **HEADERS})
        assert "Tunde Bakare" not in html.get_data(as_text=True), query
    admin = app.test_client()
    login("admin@alpha.test", as_client=admin)
    assert "Tunde Bakare" in admin.get("/e/alpha/admin/visits/?q=lag 123-xy").get_data(as_text=True)
    assert "Tunde Bakare" not in admin.get("/e/alpha/admin/visits/?q=lag 124-xy").get_data(as_text=True)
    assert "Tunde Bakare" in client.get("/e/alpha/home/visits/?q=lag-123-xy").get_data(as_text=True)
    assert "Tunde Bakare" not in client.get("/e/alpha/home/visits/?q=lag-124-xy").get_data(as_text=True)


def test_walk_ins_and_household_vehicles_store_the_same_form(client, estate_pair, login, app, dbs):
    login("guard@alpha.test")
    response = client.post("/e/alpha/gate/walk-ins/", headers=HEADERS, data={
        "visitor_name": "Bola Ahmed", "unit_number": "A1", "phone": "08031112222", "plate": "lag.123-xy",
        "purpose": "Parcel", "people_count": "1"})
    assert response.status_code in (200, 302)
    admin = app.test_client()
    login("admin@alpha.test", as_client=admin)
    added = admin.post(f"/e/alpha/admin/units/{estate_pair.alpha.unit.id}/vehicles", data={"plate": "kja.555 x-y"})
    assert added.status_code == 302
    with dbs() as s:
        assert s.scalars(sa.select(WalkIn.plate)).all() == ["LAG123XY"]
        assert s.scalars(sa.select(Vehicle.plate)).all() == ["KJA555XY"]
