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
    assert groups == ["people", "gate", "estate", "money"]
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
    assert "Admin menu" in menu and re.search(r"menu-panel-current\">Gate events<", menu)  # the closed menu names the page


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


# --- 7: the enterprise's estates, and the estate's own profile -------------------------

NEW_ESTATE = {
    "name": "Jardines del Lago", "slug": "jardines", "address": "Km 14", "city": "Guatemala", "country": "GT",
    "timezone": "America/Guatemala", "currency": "GTQ", "default_language": "es", "brand_color": "#aa2200",
    "admin_name": "Lucía Pérez", "admin_email": "lucia@jardines.test", "admin_phone": "",
}


@pytest.fixture
def boss(client, make, login):
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")


def test_the_country_suggests_zone_currency_and_language():
    from portal.estates.platform import country_defaults

    assert country_defaults("GH") == ("Africa/Accra", "GHS", "en")
    assert country_defaults("GT") == ("America/Guatemala", "GTQ", "es")
    assert country_defaults("US") == ("America/New_York", "USD", "en")
    assert country_defaults("MX")[0] == "America/Mexico_City"


def test_add_an_estate_form_hints_the_address_and_carries_the_suggestions(client, boss):
    import html as html_lib
    import json

    page = client.get("/enterprise/estates/new").get_data(as_text=True)
    assert "/e//" not in page and 'id="slug-preview"' in page and "/e/your-estate/" in page
    table = json.loads(html_lib.unescape(re.search(r'data-country-defaults="([^"]+)"', page).group(1)))
    assert table["GH"] == ["Africa/Accra", "GHS", "en"] and table["GT"] == ["America/Guatemala", "GTQ", "es"]
    assert 'value="Africa/Accra"' in page  # every zone of every country can be chosen
    assert "js/estate-form.js" in page


def test_a_new_estate_has_a_detail_page_with_its_pending_admin_invitation(client, boss, dbs):
    from portal.models import Invitation

    response = client.post("/enterprise/estates/new", data=NEW_ESTATE)
    assert response.status_code == 302 and re.fullmatch(r"/enterprise/estates/\d+/", response.headers["Location"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<h1>Jardines del Lago</h1>" in page.replace("\n", "") or ">Jardines del Lago</h1>" in page
    assert 'id="estate-counts"' in page and 'id="estate-status"' in page
    assert "No admin yet: the invitation below is waiting for an answer." in page
    invitation_row = page[page.index('id="invitation-'):page.index("</tr>", page.index('id="invitation-'))]
    assert "Lucía Pérez" in invitation_row and "Pending" in invitation_row
    assert "/resend" in invitation_row and "/revoke" in invitation_row
    listing = client.get("/enterprise/").get_data(as_text=True)
    row = listing[listing.index("Jardines del Lago"):listing.index("</tr>", listing.index("Jardines del Lago"))]
    assert "Admin invited: Lucía Pérez" in row and "Pending" in row and "/revoke" in row
    with dbs() as s:
        invitation = s.scalar(sa.select(Invitation).where(Invitation.email == "lucia@jardines.test"))
    estate_id = int(re.search(r"/enterprise/estates/(\d+)/", response.headers["Location"]).group(1))
    back = client.post(f"/enterprise/estates/{estate_id}/invitations/{invitation.id}/resend")
    assert back.status_code == 302
    client.post(f"/enterprise/estates/{estate_id}/invitations/{invitation.id}/revoke")
    page = client.get(f"/enterprise/estates/{estate_id}/").get_data(as_text=True)
    assert "Revoked" in page and "No admin yet: invite one below." in page
    listing = client.get("/enterprise/").get_data(as_text=True)
    row = listing[listing.index("Jardines del Lago"):listing.index("</tr>", listing.index("Jardines del Lago"))]
    assert "No admin yet" in row and "Invite an admin" in row
    # Invite another admin from the detail page; a bad email changes nothing.
    bad = client.post(f"/enterprise/estates/{estate_id}/admins/invite", data={"full_name": "Ana", "email": "x"})
    assert bad.status_code == 422 and b"Enter a valid email address." in bad.data
    ok = client.post(f"/enterprise/estates/{estate_id}/admins/invite",
                     data={"full_name": "Ana Ruiz", "email": "ana@jardines.test"})
    assert ok.status_code == 302
    with dbs() as s:
        actions = s.scalars(sa.select(AuditLog.action).where(AuditLog.estate_id == estate_id)).all()
        assert {"invitation.resent", "invitation.revoked"} <= set(actions) and actions.count("invitation.created") == 2


def test_only_enterprise_admins_reach_estate_details(client, make, login):
    estate = make.estate("alpha")
    make.user("admin@alpha.test", estate=estate, role=Role.ESTATE_ADMIN)
    login("admin@alpha.test")
    assert client.get(f"/enterprise/estates/{estate.id}/").status_code in (403, 404)



def _png(size=(600, 300), colour=(200, 0, 0)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def test_the_estate_admin_edits_the_profile_and_the_pages_use_it(client, make, login, dbs):
    import io

    from PIL import Image

    from portal.models import Estate

    estate = make.estate("alpha", name="Alpha Court")
    make.user("admin@alpha.test", estate=estate, role=Role.ESTATE_ADMIN)
    login("admin@alpha.test")
    form = client.get("/e/alpha/admin/settings/profile").get_data(as_text=True)
    assert 'value="Alpha Court"' in form and 'enctype="multipart/form-data"' in form
    bad = client.post("/e/alpha/admin/settings/profile", data={
        "name": "", "contact_email": "nope", "contact_phone": "12ab", "brand_color": "red",
        "logo": (io.BytesIO(b"not an image"), "logo.png")}, content_type="multipart/form-data")
    assert bad.status_code == 422
    for message in (b"This field is required.", b"Enter a valid email address.", b"Enter a valid phone number",
                    b"Enter a colour as #rrggbb", b"The logo must be a JPEG, PNG or WebP image."):
        assert message in bad.data
    with dbs() as s:
        assert s.get(Estate, estate.id).name == "Alpha Court"
    good = client.post("/e/alpha/admin/settings/profile", data={
        "name": "Alpha Gardens", "address": "2 Palm Road", "city": "Lagos", "contact_email": "office@alpha.test",
        "contact_phone": "0803 123 4567", "brand_color": "#AA2200",
        "logo": (io.BytesIO(_png()), "logo.png")}, content_type="multipart/form-data")
    assert good.status_code == 302
    page = client.get("/e/alpha/admin/").get_data(as_text=True)
    assert "--brand: #aa2200" in page and "Alpha Gardens" in page
    logo_url = re.search(r'<img src="(/e/alpha/logo\.png\?v=1)" alt="" class="brand-logo">', page).group(1)
    logo = client.get(logo_url)
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert max(Image.open(io.BytesIO(logo.data)).size) == 256  # made small on upload
    with dbs() as s:
        saved = s.get(Estate, estate.id)
        assert (saved.contact_phone, saved.contact_email) == ("+2348031234567", "office@alpha.test")
        row = s.scalars(sa.select(AuditLog).where(AuditLog.action == "estate.profile_changed")).one()
        assert row.before["name"] == "Alpha Court" and row.after["logo"] == "new"
    audit = client.get("/e/alpha/admin/audit/").get_data(as_text=True)
    assert "changed the estate&#39;s profile" in audit
    client.post("/e/alpha/admin/settings/profile", data={
        "name": "Alpha Gardens", "brand_color": "#aa2200", "remove_logo": "y"}, content_type="multipart/form-data")
    assert client.get(logo_url).status_code == 404
    assert "brand-logo" not in client.get("/e/alpha/admin/").get_data(as_text=True)


# --- 13: dates and times ---------------------------------------------------------------


def _plain(html: str) -> str:
    return html.replace("\u00a0", " ").replace("\u202f", " ")


def test_profile_and_notifications_keep_the_estate_and_its_time(client, make, login, dbs):
    from datetime import UTC, datetime

    from portal.models import Notification, UserSession

    estate = make.estate("flores", name="Las Flores", timezone="America/Guatemala", country="GT",
                         default_language="es", brand_color="#aa2200")
    user = make.user("ana@flores.test", estate=estate, role=Role.RESIDENT, preferred_language="es")
    login("ana@flores.test")
    with dbs() as s:
        s.execute(sa.update(UserSession).where(UserSession.user_id == user.id)
                  .values(created_at=datetime(2026, 12, 1, 0, 33, 40, tzinfo=UTC)))
        s.add(Notification(user_id=user.id, estate_id=estate.id, kind="walk_in", params={},
                           created_at=datetime(2026, 12, 1, 0, 33, 40, tzinfo=UTC)))
        s.commit()
    client.get("/e/flores/home/")  # the resident's area: remembered for the pages outside it
    profile = _plain(client.get("/account/").get_data(as_text=True))
    assert "Las Flores" in profile and "--brand: #aa2200" in profile
    assert 'aria-label="Residente"' in profile or 'id="nav-visits"' in profile  # the resident's menu
    assert "30/11/2026, 6:33 p. m." in profile  # Guatemala's evening, es_GT, no seconds
    assert "1/12/26" not in profile and "6:33:40" not in profile
    notes = _plain(client.get("/account/notifications").get_data(as_text=True))
    assert "Las Flores" in notes and 'id="nav-visits"' in notes
    assert "30/11/2026, 6:33 p. m." in notes


def test_outside_an_estate_times_are_in_the_users_own_zone(client, make, login, dbs):
    from datetime import UTC, datetime

    from portal.models import User

    make.enterprise_admin("boss@example.test")
    other = make.user("someone@example.test")
    login("boss@example.test")
    with dbs() as s:
        s.execute(sa.update(User).where(User.id == other.id)
                  .values(last_login_at=datetime(2026, 12, 1, 0, 33, 40, tzinfo=UTC)))
        s.commit()
    client.set_cookie("tz", "America/Guatemala")
    page = _plain(client.get("/enterprise/users/?q=someone").get_data(as_text=True))
    assert "Nov 30, 2026, 6:33 PM" in page and "12:33" not in page
    client.set_cookie("tz", "Not/AZone")
    page = _plain(client.get("/enterprise/users/?q=someone").get_data(as_text=True))
    assert "Dec 1, 2026, 12:33 AM" in page  # an unknown zone: the default (UTC)


# --- 17: notification choices only for what exists -----------------------------------------


def test_notification_choices_only_for_what_the_user_can_receive(client, make, login, dbs):
    estate = make.estate("alpha")
    make.user("ana@alpha.test", estate=estate, role=Role.RESIDENT)
    make.user("admin@alpha.test", estate=estate, role=Role.ESTATE_ADMIN)
    login("ana@alpha.test")
    page = client.get("/account/").get_data(as_text=True)
    assert 'name="visitor_arrived_email"' in page and 'name="walk_in_request_sms"' in page
    assert 'name="invoice_issued_email"' in page and 'name="payment_received_email"' in page  # billing, payments
    for absent in ("announcement", "approval_decided"):
        assert f'name="{absent}_email"' not in page  # no announcements yet; Ana never asked to join
    client.post("/logout")
    login("admin@alpha.test")
    page = client.get("/account/").get_data(as_text=True)
    assert 'name="visitor_arrived_email"' not in page and 'id="no-notification-choices"' in page


def test_payment_events_are_offered_once_payments_exist(make, app, monkeypatch):
    from portal.accounts import profile
    from portal.extensions import db
    from portal.models import User

    estate = make.estate("alpha")
    ana = make.user("ana@alpha.test", estate=estate, role=Role.RESIDENT)
    monkeypatch.setattr(profile, "LIVE_FEATURES", profile.LIVE_FEATURES | {"payments"})
    with app.app_context():
        offered = profile.offered_events(db.session.get(User, ana.id))
    assert {"invoice_issued", "payment_received"} <= set(offered) and "announcement" not in offered


def test_the_readme_opening_promises_only_what_exists():
    from pathlib import Path

    from portal.accounts.profile import LIVE_FEATURES

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    opening = readme[:readme.index("## Quick start")]
    promises = opening[:opening.index("Not there yet")]
    unbuilt = {"billing": ("pay ", "bill ", "invoice", "service charge"),
               "announcements": ("announcement",), "amenities": ("book the", "amenit")}
    for feature, words in unbuilt.items():
        if feature not in LIVE_FEATURES:
            assert not [w for w in words if w in promises.lower()], f"the README promises {feature}"


# --- 16: the small things -----------------------------------------------------------------


def test_favicon_and_the_join_link_on_the_login_page(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon"' in page and "favicon.svg" in page
    assert re.search(r'<a href="/join" id="join-estate">New here\? Join your estate with its code</a>', page)
    assert client.get("/static/favicon.svg").status_code == 200


def test_spanish_wording(app):
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("es"):
        assert gettext("DENY") == "DENEGADO" and gettext("ADMIT") == "ADMITIDO"
        assert gettext("Floor") == "Piso" and gettext("Floor %(floor)s", floor="2") == "Piso 2"
        assert gettext("Banned numbers") == "Números bloqueados"


def test_a_unit_named_with_a_word_is_not_called_unit_twice(client, make, login):
    estate = make.estate("flores", default_language="es", country="GT", timezone="America/Guatemala")
    unit = make.unit(estate, "Casa 7")
    user = make.user("ana@flores.test", estate=estate, role=Role.RESIDENT, preferred_language="es")
    make.resident(estate, unit, "Ana", user=user)
    make.unit(estate, "A12")
    login("ana@flores.test")
    page = client.get("/e/flores/home/").get_data(as_text=True)
    assert "Casa 7" in page and "Unidad Casa 7" not in page
    from portal.web.ui import unit_title

    with client.application.test_request_context():
        assert unit_title("A12") == "Unit A12" and unit_title("Casa 7") == "Casa 7"


def test_csv_imports_accept_the_words_of_either_language(client, make, login, dbs):
    import io

    from portal.models import Resident, Unit, UnitType

    estate = make.estate("alpha")
    make.user("admin@alpha.test", estate=estate, role=Role.ESTATE_ADMIN, preferred_language="es")
    login("admin@alpha.test")
    units = "number,block,floor,type,bedrooms,bathrooms,area_sqm,notes\nCasa 2,,,casa,,,,\nB1,,,Apartamento,,,,\n" \
            "B2,,,DUPLEX,,,,\nB3,,,Terrace house,,,,\n"
    preview = client.post("/e/alpha/admin/import/units", data={"file": (io.BytesIO(units.encode()), "u.csv")},
                          content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
    assert client.post("/e/alpha/admin/import/units", data={"token": token}).status_code in (200, 302)
    with dbs() as s:
        types = dict(s.execute(sa.select(Unit.number, Unit.unit_type).where(Unit.estate_id == estate.id)).all())
    assert types == {"Casa 2": UnitType.HOUSE, "B1": UnitType.APARTMENT, "B2": UnitType.DUPLEX,
                     "B3": UnitType.TERRACE}
    residents = ("unit,full_name,type,phone,email,move_in_date,emergency_contact_name,emergency_contact_phone\n"
                 "B1,Ana Ruiz,Propietario,,,,,\nB2,Luis Paz,castillo,,,,,\n")
    bad = client.post("/e/alpha/admin/import/residents", data={"file": (io.BytesIO(residents.encode()), "r.csv")},
                      content_type="multipart/form-data").get_data(as_text=True)
    assert "Tipo desconocido" in bad or "castillo" in bad
    assert "OWNER (Propietario)" in bad  # the error names the codes and their words
    header = re.search(r'<thead><tr>(.*?)</tr></thead>', bad.split('class="striped preview-table"')[1]).group(1)
    assert re.findall(r"<th[^>]*>([^<]+)</th>", header)[:2] == ["Fila", "Errores"]  # errors right after the row
    assert 'id="row-3" class="row-bad"' in bad and 'id="row-2">' in bad
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Resident)) == 0


def test_csv_exports_carry_the_words_beside_the_codes(client, make, login):
    import csv
    import io

    from portal.models import PassType

    estate = make.estate("alpha")
    make.user("admin@alpha.test", estate=estate, role=Role.ESTATE_ADMIN, preferred_language="es")
    unit = make.unit(estate, "A1")
    make.visit(estate, unit, pass_type=PassType.RECURRING, weekdays="1234567", max_entries=None)
    login("admin@alpha.test")
    rows = list(csv.DictReader(io.StringIO(client.get("/e/alpha/admin/visits/export.csv").get_data(as_text=True))))
    assert rows[0]["pass_type"] == "RECURRING" and rows[0]["pass_type_label"] == "Recurrente"
    assert rows[0]["status"] == "ACTIVE" and rows[0]["status_label"]


def test_copy_link_says_what_happened(client, make, login):
    estate = make.estate("alpha")
    unit = make.unit(estate, "A1")
    user = make.user("ana@alpha.test", estate=estate, role=Role.RESIDENT)
    make.resident(estate, unit, "Ana", user=user)
    visit = make.visit(estate, unit, user)
    login("ana@alpha.test")
    page = client.get(f"/e/alpha/home/visits/{visit.id}").get_data(as_text=True)
    assert 'data-done="Copied"' in page and 'data-failed="Link selected: copy it yourself"' in page


# --- 12: the resident's home -------------------------------------------------------------


def test_resident_home_shows_their_visitors_vehicles_cards_not_estate_totals(client, make, login, dbs):
    from datetime import timedelta

    from portal.models import AccessCard, AccessCardStatus, Vehicle

    estate = make.estate("alpha", access_card_limit=2)
    unit = make.unit(estate, "A1")
    other = make.unit(estate, "A2")
    ana = make.user("ana@alpha.test", estate=estate, role=Role.RESIDENT, full_name="Ana Okafor")
    make.resident(estate, unit, "Ana Okafor", user=ana)
    make.visit(estate, unit, ana, guests=(("Chidi Eze", "+2348090000011", None),))
    make.visit(estate, unit, ana, guests=(("Tomorrow Guest", "+2348090000012", None),),
               starts=timedelta(days=1), ends=timedelta(days=1, hours=3))
    make.visit(estate, other, None, guests=(("Neighbour Guest", "+2348090000013", None),))
    with dbs() as s:
        s.add(Vehicle(estate_id=estate.id, unit_id=unit.id, plate="LAG123AB", make="Toyota"))
        s.add(AccessCard(estate_id=estate.id, unit_id=unit.id, card_number="C-77", status=AccessCardStatus.ISSUED))
        s.commit()
    login("ana@alpha.test")
    html = client.get("/e/alpha/home/").get_data(as_text=True)
    assert "Chidi Eze" in html and "Tomorrow Guest" in html and "Neighbour Guest" not in html
    assert "LAG123AB" in html and "C-77" in html and "Issued" in html
    assert "Units in the estate" not in html and 'id="stat-units"' not in html
    response = client.post(f"/e/alpha/home/units/{unit.id}/cards/request")
    assert response.status_code == 302
    assert "sent to the estate" in client.get("/e/alpha/home/").get_data(as_text=True)
    with dbs() as s:
        cards = s.scalars(sa.select(AccessCard).where(AccessCard.unit_id == unit.id)).all()
        assert sorted(c.status.value for c in cards) == ["ISSUED", "REQUESTED"]
    # The limit holds (2 cards); another household's unit is not found.
    again = client.post(f"/e/alpha/home/units/{unit.id}/cards/request")
    assert b"limit of 2 access cards" in client.get(again.headers["Location"]).data
    assert client.post(f"/e/alpha/home/units/{other.id}/cards/request").status_code == 404
