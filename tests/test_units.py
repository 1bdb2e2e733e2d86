"""Estate admins list, add, edit, archive and restore units."""

import pytest
import sqlalchemy as sa

from portal.models import AuditLog, Unit, UnitType


@pytest.fixture
def admin(client, estate_pair, login):
    login("admin@alpha.test")
    return estate_pair


def _unit_numbers(html: str) -> list[str]:
    import re

    return re.findall(r'<td><strong>([^<]+)</strong>', html)


def test_units_list_shows_this_estates_units_with_occupancy(client, admin, make):
    make.unit(admin.alpha.estate, "A2", block="A")
    make.unit(admin.beta.estate, "ZZ9")
    html = client.get("/e/alpha/admin/units/").get_data(as_text=True)
    assert _unit_numbers(html) == ["A1", "A2"]
    assert "2 units" in html and "Occupied" in html and "Vacant" in html
    assert "ZZ9" not in html


def test_units_are_searchable_and_filterable_with_htmx_swapping_only_the_table(client, admin, make):
    estate = admin.alpha.estate
    make.unit(estate, "B1", block="B", unit_type=UnitType.HOUSE)
    make.unit(estate, "B2", block="B", notes="corner plot, near the gate")
    fragment = client.get("/e/alpha/admin/units/?block=B", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.data and b'id="unit-table"' not in fragment.data  # swapped into it, never nested
    assert _unit_numbers(fragment.get_data(as_text=True)) == ["B1", "B2"]
    assert _unit_numbers(client.get("/e/alpha/admin/units/?q=corner").get_data(as_text=True)) == ["B2"]
    assert _unit_numbers(client.get("/e/alpha/admin/units/?type=HOUSE").get_data(as_text=True)) == ["B1"]
    assert _unit_numbers(client.get("/e/alpha/admin/units/?status=OCCUPIED").get_data(as_text=True)) == ["A1"]
    assert _unit_numbers(client.get("/e/alpha/admin/units/?status=VACANT").get_data(as_text=True)) == ["B1", "B2"]
    assert b"No unit matches these filters." in client.get("/e/alpha/admin/units/?q=nothing-like-it").data


def test_units_are_paginated_in_natural_order(client, admin, make):
    for n in range(2, 31):
        make.unit(admin.alpha.estate, f"A{n}")
    first = client.get("/e/alpha/admin/units/").get_data(as_text=True)
    assert _unit_numbers(first)[:3] == ["A1", "A2", "A3"] and len(_unit_numbers(first)) == 25
    assert "Page 1 of 2" in first
    second = client.get("/e/alpha/admin/units/?page=2").get_data(as_text=True)
    assert _unit_numbers(second) == ["A26", "A27", "A28", "A29", "A30"]


def test_units_list_runs_a_constant_number_of_queries(client, admin, make, count_queries):
    client.get("/e/alpha/admin/units/")
    with count_queries() as few:
        client.get("/e/alpha/admin/units/")
    for n in range(2, 40):
        unit = make.unit(admin.alpha.estate, f"A{n}")
        make.resident(admin.alpha.estate, unit, f"Person {n}")
    with count_queries() as many:
        client.get("/e/alpha/admin/units/")
    assert many.count == few.count


def test_add_a_unit(client, admin, dbs):
    response = client.post("/e/alpha/admin/units/new", data={
        "number": " C7 ", "block": "C", "floor": "2", "unit_type": "DUPLEX", "bedrooms": "3",
        "bathrooms": "2", "area_sqm": "85.5", "notes": "Lake view"})
    assert response.headers["Location"] == "/e/alpha/admin/units/"
    assert b"Unit C7 was added." in client.get("/e/alpha/admin/units/").data
    with dbs() as s:
        unit = s.scalar(sa.select(Unit).where(Unit.number == "C7"))
        assert (unit.unit_type, unit.bedrooms, str(unit.area_sqm)) == (UnitType.DUPLEX, 3, "85.50")
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "unit.created"))
        assert log.estate_id == admin.alpha.estate.id and log.after["number"] == "C7"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"number": ""}, b"This field is required."),
        ({"number": "A1"}, b"There is already a unit numbered A1 in this estate."),
        ({"number": "a1"}, b"There is already a unit numbered a1 in this estate."),
        ({"number": "X", "bedrooms": "-1"}, b"Enter a number from 0 to 50."),
        ({"number": "X", "bedrooms": "three"}, b"Not a valid integer value."),
        ({"number": "X", "area_sqm": "big"}, b"Not a valid decimal value."),
        ({"number": "X" * 41}, b"Use at most 40 characters."),
        ({"number": "X", "unit_type": "CASTLE"}, b"Not a valid choice."),
    ],
)
def test_bad_unit_input_gets_a_message_and_changes_nothing(client, admin, dbs, data, message):
    response = client.post("/e/alpha/admin/units/new", data={"unit_type": "APARTMENT", **data})
    assert response.status_code == 422
    assert message in response.data
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Unit).where(Unit.estate_id == admin.alpha.estate.id)) == 1


def test_the_same_number_is_fine_in_another_estate(client, admin):
    response = client.post("/e/alpha/admin/units/new", data={"number": "ZZ1", "unit_type": "APARTMENT"})
    assert response.status_code == 302
    client.post("/logout")
    client.post("/login", data={"login": "admin@beta.test", "password": "secret-pass-1"})
    assert client.post("/e/beta/admin/units/new", data={"number": "ZZ1", "unit_type": "HOUSE"}).status_code == 302


def test_edit_a_unit_and_audit_before_and_after(client, admin, dbs):
    unit_id = admin.alpha.unit.id
    page = client.get(f"/e/alpha/admin/units/{unit_id}/edit")
    assert b'value="A1"' in page.data
    response = client.post(f"/e/alpha/admin/units/{unit_id}/edit", data={
        "number": "A1", "unit_type": "STUDIO", "notes": "Renovated"})
    assert response.status_code == 302
    with dbs() as s:
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "unit.updated"))
        assert log.before["unit_type"] == "APARTMENT" and log.after["unit_type"] == "STUDIO"


def test_renaming_to_a_taken_number_is_refused(client, admin, make):
    other = make.unit(admin.alpha.estate, "A2")
    response = client.post(f"/e/alpha/admin/units/{other.id}/edit", data={"number": "A1", "unit_type": "APARTMENT"})
    assert response.status_code == 422 and b"already a unit numbered A1" in response.data


def test_an_occupied_unit_cannot_be_archived(client, admin, dbs):
    response = client.post(f"/e/alpha/admin/units/{admin.alpha.unit.id}/archive")
    assert response.status_code == 302
    assert b"still has 1 resident(s)" in client.get("/e/alpha/admin/units/").data
    with dbs() as s:
        assert s.get(Unit, admin.alpha.unit.id).archived_at is None


def test_archive_and_restore_a_vacant_unit(client, admin, make, dbs):
    unit = make.unit(admin.alpha.estate, "V1")
    client.post(f"/e/alpha/admin/units/{unit.id}/archive")
    listing = client.get("/e/alpha/admin/units/").get_data(as_text=True)
    assert "Unit V1 was archived." in listing and "V1" not in _unit_numbers(listing)
    archived = client.get("/e/alpha/admin/units/?status=ARCHIVED").get_data(as_text=True)
    assert _unit_numbers(archived) == ["V1"]
    client.post(f"/e/alpha/admin/units/{unit.id}/restore")
    assert "V1" in _unit_numbers(client.get("/e/alpha/admin/units/").get_data(as_text=True))
    with dbs() as s:
        actions = s.scalars(sa.select(AuditLog.action).where(AuditLog.target_type == "Unit")).all()
        assert actions == ["unit.archived", "unit.restored"]


def test_another_estates_unit_is_a_404_for_every_action(client, admin, dbs):
    theirs = admin.beta.unit.id
    assert client.get(f"/e/alpha/admin/units/{theirs}/edit").status_code == 404
    assert client.post(f"/e/alpha/admin/units/{theirs}/edit", data={"number": "HACK", "unit_type": "OTHER"}).status_code == 404
    assert client.post(f"/e/alpha/admin/units/{theirs}/archive").status_code == 404
    assert client.post(f"/e/alpha/admin/units/{theirs}/restore").status_code == 404
    with dbs() as s:
        unit = s.get(Unit, theirs)
        assert unit.number == "A1" and unit.archived_at is None


def test_guards_and_residents_cannot_manage_units(client, estate_pair, login):
    login("guard@alpha.test")
    assert client.get("/e/alpha/admin/units/").status_code == 403
    assert client.post("/e/alpha/admin/units/new", data={"number": "G1"}).status_code == 403


def test_user_input_in_a_lazy_error_message_is_escaped(app):
    """Lazy translated strings claim to be safe HTML (__html__): the field macro must
    still escape what was interpolated into them."""
    from types import SimpleNamespace

    from flask import render_template_string
    from flask_babel import lazy_gettext

    field = SimpleNamespace(id="number", errors=[lazy_gettext("Unit %(number)s", number="<b>X</b>")],
                            label=SimpleNamespace(text="Number"))
    field.__call__ = lambda **kw: ""
    with app.test_request_context():
        html = render_template_string('{% from "_macros.html" import field %}{{ field(f) }}',
                                      f=type("F", (), {**vars(field), "__call__": lambda self, **kw: ""})())
    assert "&lt;b&gt;X&lt;/b&gt;" in html and "<b>X</b>" not in html
