"""A Spanish user sees no English: every page, rendered in Spanish, is checked against
every English message of the catalogue."""

import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from portal.models import EstateStatus, Role

PO = Path(__file__).resolve().parent.parent / "translations" / "es" / "LC_MESSAGES" / "messages.po"


def _english_phrases() -> list[str]:
    with PO.open("rb") as f:
        catalog = read_po(f)
    phrases = set()
    for message in catalog:
        if not message.id or isinstance(message.id, tuple) or message.string in (message.id, ""):
            continue  # (untranslated entries are test_translations.py's business)
        # The literal parts of each message, around its placeholders.
        for part in re.split(r"%\(\w+\)[sd]|\n", message.id):
            part = part.strip(" .,:·")
            if len(part) >= 4 and part not in message.string:
                phrases.add(part)
    return sorted(phrases, key=len, reverse=True)


PHRASES = _english_phrases()


def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    # Time-zone names (America/Mexico_City) are IANA identifiers, not English prose.
    page = re.sub(r'<select[^>]*name="timezone".*?</select>', " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html.unescape(page).split())


def _assert_spanish(response):
    body = response.get_data(as_text=True)
    assert '<html lang="es">' in body
    text = _visible_text(body)
    leftovers = [p for p in PHRASES if re.search(rf"(?<![\w]){re.escape(p)}(?![\w])", text)]
    assert not leftovers, f"English on a Spanish page {response.request.path}: {leftovers[:5]}"


@pytest.fixture
def spanish(client):
    client.post("/language", data={"lang": "es"})
    return client


ANONYMOUS_PAGES = ["/login", "/login/code", "/password/forgot", "/password/reset/bogus", "/no/such/page", "/dev/outbox",
                   "/join", "/invite/bogus-token"]


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_public_pages_read_in_spanish(spanish, path):
    _assert_spanish(spanish.get(path))


def test_sign_in_errors_read_in_spanish(spanish, estate_pair):
    _assert_spanish(spanish.post("/login", data={"login": "admin@alpha.test", "password": "nope"}))
    _assert_spanish(spanish.post("/login", data={"login": "", "password": ""}))
    spanish.post("/login/code", data={"phone": "+2348031234500"})
    _assert_spanish(spanish.get("/login/code/verify"))
    _assert_spanish(spanish.post("/login/code/verify", data={"code": "12"}))


@pytest.mark.parametrize(
    "who, paths",
    [
        ("admin@alpha.test", ["/e/alpha/admin/", "/e/alpha/gate/", "/account/password", "/choose",
                              "/e/alpha/admin/units/", "/e/alpha/admin/units/new", "/e/alpha/admin/units/?q=zzz",
                              "/e/alpha/admin/residents/", "/e/alpha/admin/import/units",
                              "/e/alpha/admin/import/residents", "/e/alpha/admin/approvals/",
                              "/e/alpha/admin/invitations/", "/e/alpha/admin/members/", "/e/alpha/admin/audit/",
                              "/e/alpha/admin/visits/", "/e/alpha/admin/visits/?q=zzz&from=bad",
                              "/e/alpha/admin/gate-events/", "/e/alpha/admin/gate-events/?type=DENIED",
                              "/account/", "/e/alpha/gate/staff/invite"]),
        ("guard@alpha.test", ["/e/alpha/gate/", "/e/alpha/gate/?q=zzz", "/e/alpha/admin/"]),
        ("resident@alpha.test", ["/e/alpha/home/", "/e/beta/home/"]),
        ("boss@example.test", ["/enterprise/", "/e/alpha/admin/", "/enterprise/users/", "/enterprise/audit/",
                               "/enterprise/estates/new"]),
    ],
)
def test_signed_in_pages_read_in_spanish(spanish, estate_pair, make, login, who, paths):
    make.enterprise_admin("boss@example.test")
    make.member(estate_pair.alpha.admin, estate_pair.alpha.estate, Role.GUARD)
    login(who, as_client=spanish)
    for path in paths:
        _assert_spanish(spanish.get(path))


def test_closed_estate_page_reads_in_spanish(spanish, make, login):
    estate = make.estate("closed", name="Condominio Cerrado", status=EstateStatus.SUSPENDED)
    make.user("member@closed.test", estate=estate, role=Role.RESIDENT)
    login("member@closed.test", as_client=spanish)
    _assert_spanish(spanish.get("/e/closed/home/"))


def test_the_check_itself_catches_english(spanish):
    with pytest.raises(AssertionError):
        spanish.post("/language", data={"lang": "en"})
        _assert_spanish(spanish.get("/login"))


def test_unit_form_errors_and_edit_page_read_in_spanish(spanish, estate_pair, login):
    login("admin@alpha.test", as_client=spanish)
    _assert_spanish(spanish.post("/e/alpha/admin/units/new", data={"number": "A1", "bedrooms": "-3", "unit_type": "HOUSE"}))
    _assert_spanish(spanish.get(f"/e/alpha/admin/units/{estate_pair.alpha.unit.id}/edit"))


def test_join_page_and_household_page_read_in_spanish(spanish, estate_pair, login):
    _assert_spanish(spanish.get("/e/alpha/join"))
    _assert_spanish(spanish.post("/e/alpha/join", data={"full_name": "", "password": "x"}))
    login("admin@alpha.test", as_client=spanish)
    _assert_spanish(spanish.get(f"/e/alpha/admin/units/{estate_pair.alpha.unit.id}/"))
    _assert_spanish(spanish.get(f"/e/alpha/admin/members/{estate_pair.alpha.resident.id}/"))


def test_visit_pass_and_gate_pages_read_in_spanish(spanish, estate_pair, make, login):
    alpha = estate_pair.alpha
    visit = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=(("Carlos Pérez", "+2348090000001", None),))
    _assert_spanish(spanish.get(f"/p/{visit.qr_token}"))
    login("resident@alpha.test", as_client=spanish)
    for path in ["/e/alpha/home/visits/", "/e/alpha/home/visits/new", f"/e/alpha/home/visits/{visit.id}",
                 f"/e/alpha/home/visits/{visit.id}/edit", "/e/alpha/home/visitors/", "/e/alpha/home/bans/"]:
        _assert_spanish(spanish.get(path))
    spanish.post("/logout")
    spanish.post("/language", data={"lang": "es"})
    make.member(alpha.admin, alpha.estate, Role.GUARD, supervisor=True)
    login("admin@alpha.test", as_client=spanish)
    for path in ["/e/alpha/gate/inside", "/e/alpha/gate/inside?print=1", "/e/alpha/gate/bans/", "/e/alpha/gate/passes/",
                 "/e/alpha/admin/bans/", "/e/alpha/admin/bans/new", "/e/alpha/admin/passes/", "/e/alpha/admin/visits/new"]:
        _assert_spanish(spanish.get(path))
    _assert_spanish(spanish.post("/e/alpha/gate/check", data={"code": visit.visitor_code}))
    _assert_spanish(spanish.post("/e/alpha/gate/check", data={"code": "NOPE1234"}))


def test_gate_extras_pages_read_in_spanish(spanish, estate_pair, login, dbs):
    from portal.models import Estate

    with dbs() as s:
        s.execute(sa.update(Estate).where(Estate.slug == "alpha").values(gate_names="Norte\nSur"))
        s.commit()
    login("guard@alpha.test", as_client=spanish)
    _assert_spanish(spanish.get("/e/alpha/gate/incidents"))
    _assert_spanish(spanish.post("/e/alpha/gate/incidents", data={"incident_type": "", "description": "x",
                                                                  "occurred_at": "nope"}))
    _assert_spanish(spanish.post("/e/alpha/gate/incidents", data={"incident_type": "FIRE", "description": "Humo",
                                                                  "occurred_at": "2999-01-01T10:00"}))
    _assert_spanish(spanish.post("/e/alpha/gate/gate-name", data={"gate": "Nope"}, follow_redirects=True))
    spanish.post("/e/alpha/gate/incidents", data={"incident_type": "FIRE", "description": "Humo en la caseta"})
    _assert_spanish(spanish.get("/e/alpha/gate/incidents"))
    spanish.post("/logout")
    spanish.post("/language", data={"lang": "es"})
    login("admin@alpha.test", as_client=spanish)
    for path in ["/e/alpha/admin/settings", "/e/alpha/admin/incidents", "/e/alpha/admin/incidents?type=MEDICAL"]:
        _assert_spanish(spanish.get(path))
    _assert_spanish(spanish.post("/e/alpha/admin/settings", data={"gate_names": "A\na", "access_card_limit": "x"}))


def test_visit_log_and_gate_events_with_rows_read_in_spanish(spanish, estate_pair, make, login, dbs):
    from datetime import UTC, datetime

    from portal.models import GateEvent, GateEventType, GateMethod

    alpha = estate_pair.alpha
    visit = make.visit(alpha.estate, alpha.unit, alpha.resident, guests=[("Ana Pérez", "+2348091110001", "ABC123")],
                       entries_used=1, people_inside=True)
    with dbs() as s:
        s.add_all([GateEvent(estate_id=alpha.estate.id, visit_id=visit.id, guard_user_id=alpha.guard.id,
                             event_type=kind, method=GateMethod.CODE, gate="Puerta", reason=reason,
                             occurred_at=datetime.now(UTC))
                   for kind, reason in ((GateEventType.ENTRY, None), (GateEventType.DENIED, "ALREADY_INSIDE"))])
        s.commit()
    login("admin@alpha.test", as_client=spanish)
    for path in ("/e/alpha/admin/visits/", "/e/alpha/admin/gate-events/", f"/e/alpha/admin/visits/{visit.id}"):
        _assert_spanish(spanish.get(path))


def test_walk_in_and_notification_pages_read_in_spanish(spanish, estate_pair, login, app):
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from portal.extensions import db
    from portal.gate import walkins
    from portal.models import Estate, User

    with app.app_context():
        guard = db.session.scalar(sa.select(User).where(User.email == "guard@alpha.test"))
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
        walk_in_id = walkins.create_walk_in(guard, estate, walkins.WalkInData(
            visitor_name="Carlos Pérez", unit_number="A1", phone="08031112222", people_count=2), datetime.now(UTC)).id
    login("guard@alpha.test", as_client=spanish)
    for path in ["/e/alpha/gate/", "/e/alpha/gate/walk-ins/", "/e/alpha/gate/walk-ins/new"]:
        _assert_spanish(spanish.get(path))
    _assert_spanish(spanish.post("/e/alpha/gate/walk-ins/", data={"visitor_name": "", "unit_number": "Z9"}))
    spanish.post("/logout")
    spanish.post("/language", data={"lang": "es"})
    login("resident@alpha.test", as_client=spanish)
    for path in ["/e/alpha/home/walk-ins/card", f"/e/alpha/home/walk-ins/{walk_in_id}", "/account/notifications",
                 "/account/notifications/count"]:
        response = spanish.get(path)
        assert response.status_code == 200
        if path != "/account/notifications/count" and not path.endswith("/card"):
            _assert_spanish(response)
    spanish.post(f"/e/alpha/home/walk-ins/{walk_in_id}/decline", data={"reason": "No"})
    _assert_spanish(spanish.get(f"/e/alpha/home/walk-ins/{walk_in_id}"))
