"""Issue 13, the admin side: grouped admin menu, audit sentences, enterprise estates,
dates and times, sign out everywhere, natural sort of units, the small things, and
notification preferences."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.models import AuditLog, Role

# --- 4: the admin menu -------------------------------------------------------------


def test_admin_menu_is_grouped_and_marks_the_current_page(client, make, login):
    estate = make.estate("alpha")
    make.user("admin@alpha.test", estate=estate, role=Role.ESTATE_ADMIN)
    login("admin@alpha.test")
    html = client.get("/e/alpha/admin/gate-events/").get_data(as_text=True)
    menu = html[html.index('id="admin-menu"'):html.index("</nav>", html.index('id="admin-menu"'))]
    groups = re.findall(r'id="menu-group-(\w+)"', menu)
    assert groups == ["people", "gate", "estate"]  # Money shows once billing adds a link
    people = menu[menu.index('menu-group-people'):menu.index('menu-group-gate')]
    for link in ("nav-members", "nav-residents", "nav-approvals", "nav-invitations"):
        assert f'id="{link}"' in people
    gate = menu[menu.index('menu-group-gate'):menu.index('menu-group-estate')]
    for link in ("nav-visit-log", "nav-gate-events", "nav-passes", "nav-bans", "nav-admin-incidents",
                 "nav-offline-refused"):
        assert f'id="{link}"' in gate
    assert re.search(r'id="nav-gate-events"\s+aria-current="page"', menu)
    assert menu.count('aria-current="page"') == 1
    assert re.search(r'<summary class="current">Gate', menu)
    assert "Admin menu" in menu and "· Gate events" in menu  # the phone's closed menu names the page


def test_admin_menu_marks_a_units_household_page_under_units(client, make, login):
    estate = make.estate("alpha")
    make.user("admin@alpha.test", estate=estate, role=Role.ESTATE_ADMIN)
    unit = make.unit(estate, "B4")
    login("admin@alpha.test")
    html = client.get(f"/e/alpha/admin/units/{unit.id}/").get_data(as_text=True)
    assert re.search(r'id="nav-units"\s+aria-current="page"', html)


# --- 14: sign out everywhere ---------------------------------------------------------


def test_sign_out_everywhere_in_the_menu_asks_first_and_keeps_spanish(client, make, login, dbs):
    estate = make.estate("alpha")
    user = make.user("ana@alpha.test", estate=estate, role=Role.RESIDENT, preferred_language="es")
    login("ana@alpha.test")
    html = client.get("/e/alpha/home/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/logout/everywhere"[^>]*>', html).group(0)
    assert 'hx-confirm="¿Cerrar sesión en todos los dispositivos, incluido este?"' in form
    response = client.post("/logout/everywhere")
    assert response.status_code == 302
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="es">' in login_page and "Iniciar sesión" in login_page
    with dbs() as s:
        row = s.scalars(sa.select(AuditLog).where(AuditLog.action == "auth.signed_out_everywhere")).one()
        assert (row.target_type, row.target_id) == ("User", user.id)  # not "LocalProxy"


def test_sign_out_keeps_the_language_the_user_was_reading(client, make, login):
    estate = make.estate("alpha")
    make.user("ana@alpha.test", estate=estate, role=Role.RESIDENT, preferred_language="es")
    login("ana@alpha.test")
    response = client.post("/logout")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="es">' in page


# --- 15: natural order of unit labels -------------------------------------------------


def test_unit_labels_sort_as_people_read_them_across_pages(client, make, login):
    from portal.models.people import natural_key

    assert sorted(["A10", "A2", "a1", "A12"], key=natural_key) == ["a1", "A2", "A10", "A12"]
    assert natural_key("Casa 2") < natural_key("Casa 10") < natural_key("casa  11")
    estate = make.estate("alpha")
    make.user("admin@alpha.test", estate=estate, role=Role.ESTATE_ADMIN)
    for n in (10, 2, 30, 1, 21, 3, 12, 20, 11, 25, 4, 26, 5, 27, 6, 28, 7, 29, 8, 9, 13, 14, 15, 16, 17, 18):
        make.unit(estate, f"A{n}")
    login("admin@alpha.test")
    first = client.get("/e/alpha/admin/units/").get_data(as_text=True)
    second = client.get("/e/alpha/admin/units/?page=2").get_data(as_text=True)
    shown = re.findall(r"<strong>(A\d+)</strong>", first) + re.findall(r"<strong>(A\d+)</strong>", second)
    expected = [f"A{n}" for n in sorted((10, 2, 30, 1, 21, 3, 12, 20, 11, 25, 4, 26, 5, 27, 6, 28, 7, 29, 8, 9,
                                          13, 14, 15, 16, 17, 18))]
    assert shown == expected


def test_bulk_inserted_and_renamed_units_get_their_sort_key(app, make):
    from portal.extensions import db
    from portal.models import Unit

    estate = make.estate("alpha")
    with app.app_context():
        db.session.execute(sa.insert(Unit), [{"estate_id": estate.id, "number": "Casa 10"},
                                             {"estate_id": estate.id, "number": "Casa 2"}])
        unit = db.session.scalar(sa.select(Unit).where(Unit.number == "Casa 10"))
        unit.number = "Casa 9"
        db.session.commit()
        rows = db.session.execute(sa.select(Unit.number).where(Unit.estate_id == estate.id)
                                  .order_by(Unit.sort_key)).scalars().all()
    assert rows == ["Casa 2", "Casa 9"]
