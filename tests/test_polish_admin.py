"""Issue 13, the admin side: grouped admin menu, audit sentences, enterprise estates,
dates and times, sign out everywhere, natural sort of units, the small things, and
notification preferences."""

from __future__ import annotations

import re

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


# --- 6: the audit log as sentences ---------------------------------------------------

ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _recorded_actions() -> set[str]:
    """Every action string that portal/ passes to audit.record or audit.write, read from
    the source: literals, both sides of a conditional, names assigned in the module or
    given as an argument to the enclosing function, and the two f-strings (expanded from
    their enums). An audit call of any other shape fails the test, to be taught here."""
    import ast
    from pathlib import Path

    from portal.imports.service import ImportKind
    from portal.models import ApprovalStatus

    fstrings = {
        "f'{kind.value}.imported'": {f"{k.value}.imported" for k in ImportKind},
        "f'approval.{status.value.lower()}'": {f"approval.{s.value.lower()}" for s in
                                                (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)},
    }
    found: set[str] = set()
    root = Path(__file__).resolve().parents[1] / "portal"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

        def strings(node) -> set[str]:
            return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                    and ACTION.match(n.value)}

        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr in ("record", "write") and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "audit" and call.args):
                continue
            arg = call.args[0]
            where = f"{path.relative_to(root.parent)}:{call.lineno}"
            if isinstance(arg, ast.Constant | ast.IfExp):
                got = strings(arg)
            elif isinstance(arg, ast.JoinedStr):
                got = fstrings.get(ast.unparse(arg), set())
            elif isinstance(arg, ast.Name):
                got = set()
                for node in ast.walk(tree):  # assignments to that name
                    if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == arg.id
                                                            for t in node.targets):
                        got |= strings(node.value)
                func = call
                while func is not None and not isinstance(func, ast.FunctionDef):
                    func = parents.get(func)
                if func is not None and arg.id in [a.arg for a in func.args.args]:  # given by the callers
                    for node in ast.walk(tree):
                        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                                and node.func.id == func.name:
                            got |= strings(node)
            else:
                got = set()
            assert got, f"{where}: cannot tell which action this audit call records; teach this test"
            found |= got
    return found


def test_every_recorded_action_reads_as_a_sentence():
    from portal.web.audit_sentences import ACTION_NAMES, SENTENCES

    actions = _recorded_actions()
    assert len(actions) > 60 and "guard.device_bound" in actions and "user.reactivated" in actions
    assert "units.imported" in actions and "approval.rejected" in actions and "gate.offline_event_rejected" in actions
    missing = sorted(a for a in actions if a not in SENTENCES)
    assert not missing, f"audit actions without a sentence in portal/web/audit_sentences.py: {missing}"
    unnamed = sorted(a for a in actions if a not in ACTION_NAMES)
    assert not unnamed, f"audit actions without a name for the filter: {unnamed}"


def test_audit_rows_read_as_sentences_in_spanish_with_local_times(client, make, login, dbs):
    from datetime import UTC, datetime

    estate = make.estate("flores", name="Las Flores", timezone="America/Guatemala", country="GT",
                         default_language="es")
    admin = make.user("admin@flores.test", estate=estate, role=Role.ESTATE_ADMIN, preferred_language="es",
                      full_name="Lucía Méndez")
    guard = make.user("guard@flores.test", estate=estate, role=Role.GUARD, full_name="Sule Garba")
    with dbs() as s:
        from portal.models import Membership

        membership_id = s.scalar(sa.select(Membership.id).where(Membership.user_id == guard.id))
        s.add_all([
            AuditLog(estate_id=estate.id, actor_user_id=guard.id, action="guard.device_bound",
                     target_type="Membership", target_id=membership_id, after={"device": "abcd1234"},
                     created_at=datetime(2026, 12, 1, 0, 33, 20, tzinfo=UTC)),
            AuditLog(estate_id=estate.id, actor_user_id=None, action="walk_in.expired", target_type="WalkIn",
                     target_id=999, before={"status": "PENDING"}, after={"status": "EXPIRED",
                                                                         "visitor_name": "Pedro Ruiz"},
                     created_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC)),
            AuditLog(estate_id=estate.id, actor_user_id=admin.id, action="visit.extended", target_type="Visit",
                     target_id=998, before={"valid_until": "2026-12-01T06:00:00+00:00"},
                     after={"valid_until": "2026-12-02T06:00:00+00:00"},
                     created_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),
        ])
        s.commit()
    login("admin@flores.test")
    html = client.get("/e/flores/admin/audit/").get_data(as_text=True).replace("\u00a0", " ").replace("\u202f", " ")
    assert "El dispositivo de portería de Sule Garba quedó vinculado a su cuenta" in html
    assert "Nadie respondió a tiempo la solicitud de visita sin cita de Pedro Ruiz" in html
    assert "Lucía Méndez extendió el pase de alguien hasta el 2/12/2026, 12:00 a. m." in html  # es_GT
    assert "30/11/2026, 6:33 p. m." in html  # 00:33 UTC is 18:33 the evening before in Guatemala, no seconds
    assert "6:33:20" not in html and "T00:33" not in html
    table = html[html.index('id="audit-table"'):]
    assert "LocalProxy" not in html and "Membership" not in re.sub(r"<code>[^<]*</code>", "", table.split(
        "<details")[0])
    filters = html[html.index('name="action"'):html.index("</select>", html.index('name="action"'))]
    assert ">Dispositivo de portería vinculado<" in filters and "guard.device_bound<" not in filters
    home = client.get("/e/flores/admin/").get_data(as_text=True)
    assert "El dispositivo de portería de Sule Garba quedó vinculado a su cuenta" in home
    assert "guard.device_bound" not in home
