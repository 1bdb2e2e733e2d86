"""Gate page extras: the estate's gates (admin settings, the guard's gate picker), the
incident log with photos (service, gate and admin pages, tenancy) and the QR scanner's
markup."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.errors import InvalidValue
from portal.estates import settings
from portal.incidents import service as incidents
from portal.models import AuditLog, Estate, GateEvent, Incident, IncidentType, User

DEVICE = "tablet-0123456789abcdef"
HEADERS = {"X-Gate-Device": DEVICE}


def _image(fmt: str = "PNG", size=(40, 30), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def _in_app(app, fn):
    with app.app_context():
        return fn()


def _estate(slug: str) -> Estate:
    from portal.extensions import db

    return db.session.scalar(sa.select(Estate).where(Estate.slug == slug))


def _user(email: str) -> User:
    from portal.extensions import db

    return db.session.scalar(sa.select(User).where(User.email == email))


def _audit(dbs, action: str) -> list[AuditLog]:
    with dbs() as s:
        return list(s.scalars(sa.select(AuditLog).where(AuditLog.action == action)))


def _incidents(dbs) -> list[Incident]:
    with dbs() as s:
        return list(s.scalars(sa.select(Incident).order_by(Incident.id)))


# --- the estate's gates: settings service ---------------------------------------------------


@pytest.mark.parametrize("text, names", [
    ("Main gate", ["Main gate"]),
    ("  North  gate \n\n South gate\r\nBack", ["North gate", "South gate", "Back"]),
    ("\n".join(f"Gate {n}" for n in range(10)), [f"Gate {n}" for n in range(10)]),
])
def test_gate_names_parse_one_a_line(text, names):
    assert settings.parse_gate_names(text) == names


@pytest.mark.parametrize("text, message", [
    ("", "at least one gate"),
    (" \n \n", "at least one gate"),
    ("\n".join(f"Gate {n}" for n in range(11)), "at most 10 gates"),
    ("G" * 61, "too long"),
    ("North\nSouth\nnorth", "listed twice"),
])
def test_bad_gate_names_are_refused(app, text, message):
    with app.test_request_context(), pytest.raises(InvalidValue) as exc:
        settings.parse_gate_names(text)
    assert exc.value.field == "gate_names" and message in str(exc.value.message)


def test_saving_settings_is_audited_and_bad_input_changes_nothing(app, estate_pair, dbs):
    def save(text, limit):
        estate, admin = _estate("alpha"), _user("admin@alpha.test")
        return settings.update_settings(admin, estate, settings.SettingsData(text, limit))

    with app.test_request_context():
        save("North gate\nSouth gate", 6)
        for text, limit in [("North gate\nNorth gate", 6), ("North gate", -1), ("North gate", None),
                            ("\n".join(f"G{n:02d}" + "x" * 57 for n in range(11)), 6)]:  # 11 gates: one too many
            with pytest.raises(InvalidValue):
                save(text, limit)
        save("North gate\nSouth gate", 6)  # no change: no audit row
    with dbs() as s:
        estate = s.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
        assert (estate.gate_names, estate.access_card_limit) == ("North gate\nSouth gate", 6)
    [entry] = _audit(dbs, "estate.settings_changed")
    assert entry.before == {"gate_names": ["Main gate"], "access_card_limit": 4}
    assert entry.after == {"gate_names": ["North gate", "South gate"], "access_card_limit": 6}


def test_current_gate_falls_back_to_the_first_gate(app, make):
    make.estate("gates", gate_names="North\nSouth")
    with app.app_context():
        estate = _estate("gates")
        assert settings.gate_names(estate) == ["North", "South"]
        assert settings.current_gate(estate, "South") == "South"
        assert settings.current_gate(estate, "Removed gate") == "North"
        assert settings.current_gate(estate, None) == "North"


# --- the estate's gates: pages ---------------------------------------------------------------


def test_admin_edits_the_estate_settings(client, estate_pair, login, dbs):
    login("admin@alpha.test")
    page = client.get("/e/alpha/admin/settings")
    assert page.status_code == 200 and "Main gate" in page.get_data(as_text=True)
    assert 'id="nav-settings"' in page.get_data(as_text=True)
    bad = client.post("/e/alpha/admin/settings", data={"gate_names": "A\na", "access_card_limit": "3"})
    assert bad.status_code == 422 and "is listed twice" in bad.get_data(as_text=True)
    bad = client.post("/e/alpha/admin/settings", data={"gate_names": "A", "access_card_limit": "lots"})
    assert bad.status_code == 422 and "Give a whole number." in bad.get_data(as_text=True)
    ok = client.post("/e/alpha/admin/settings", data={"gate_names": "North gate\nSouth gate", "access_card_limit": "2"})
    assert ok.status_code == 302
    assert "The estate settings were saved." in client.get("/e/alpha/admin/settings").get_data(as_text=True)
    with dbs() as s:
        alpha = s.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
        beta = s.scalar(sa.select(Estate).where(Estate.slug == "beta"))
        assert (alpha.gate_names, alpha.access_card_limit) == ("North gate\nSouth gate", 2)
        assert beta.gate_names == "Main gate"


def test_a_guard_cannot_open_estate_settings(client, estate_pair, login):
    login("guard@alpha.test")
    assert client.get("/e/alpha/admin/settings").status_code == 403
    assert client.post("/e/alpha/admin/settings", data={"gate_names": "X", "access_card_limit": "1"}).status_code == 403


def test_the_guard_picks_a_gate_and_scans_are_recorded_there(client, estate_pair, login, make, dbs):
    with dbs() as s:
        s.execute(sa.update(Estate).where(Estate.slug == "alpha").values(gate_names="North gate\nSouth gate"))
        s.commit()
    login("guard@alpha.test")
    home = client.get("/e/alpha/gate/", headers=HEADERS).get_data(as_text=True)
    assert 'id="gate-select"' in home and '<option value="South gate" >' in home
    assert client.post("/e/alpha/gate/gate-name", data={"gate": "South gate"}, headers=HEADERS).status_code == 302
    home = client.get("/e/alpha/gate/", headers=HEADERS).get_data(as_text=True)
    assert '<option value="South gate" selected>' in home
    # another estate's gate, or a made-up one, is refused and changes nothing
    refused = client.post("/e/alpha/gate/gate-name", data={"gate": "Main gate"}, headers=HEADERS,
                          follow_redirects=True)
    assert "Choose one of the estate&#39;s gates." in refused.get_data(as_text=True)
    visit = make.visit(estate_pair.alpha.estate, estate_pair.alpha.unit, estate_pair.alpha.resident)
    client.post(f"/e/alpha/gate/visits/{visit.id}/entry", data={"method": "CODE"}, headers=HEADERS)
    with dbs() as s:
        assert s.scalar(sa.select(GateEvent.gate)) == "South gate"


def test_a_single_gate_estate_shows_no_picker(client, estate_pair, login):
    login("guard@alpha.test")
    home = client.get("/e/alpha/gate/", headers=HEADERS).get_data(as_text=True)
    assert 'id="gate-select"' not in home and "Main gate" in home


# --- incidents: service -----------------------------------------------------------------------


NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _create(app, slug="alpha", who="guard@alpha.test", **kw):
    data = dict(incident_type="SUSPICIOUS_PERSON", description="A man tried the side gate twice.", gate="Main gate")
    data.update(kw)
    with app.test_request_context():
        return incidents.create_incident(_user(who), _estate(slug), incidents.IncidentData(**data), NOW).id


@pytest.mark.parametrize("fmt, mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_an_incident_is_logged_with_a_photo(app, estate_pair, dbs, fmt, mime):
    incident_id = _create(app, photo=_image(fmt), occurred_at=NOW - timedelta(hours=2))
    [incident] = _incidents(dbs)
    assert (incident.id, incident.incident_type, incident.photo_type, incident.gate) == (
        incident_id, IncidentType.SUSPICIOUS_PERSON, mime, "Main gate")
    assert incident.occurred_at == NOW - timedelta(hours=2)
    [entry] = _audit(dbs, "incident.logged")
    assert entry.target_id == incident_id and entry.after["photo_bytes"] > 0


def test_an_incident_without_a_time_happened_now(app, estate_pair, dbs):
    _create(app)
    [incident] = _incidents(dbs)
    assert incident.occurred_at == NOW and incident.photo_type is None


@pytest.mark.parametrize("kw, field, message", [
    ({"incident_type": ""}, "incident_type", "Choose the type"),
    ({"incident_type": "ALIENS"}, "incident_type", "Choose the type"),
    ({"description": " abc  "}, "description", "at least 5"),
    ({"description": "x" * 2001}, "description", "at most 2000"),
    ({"occurred_at": NOW + timedelta(hours=1)}, "occurred_at", "future"),
    ({"photo": b"GIF89a not really a picture"}, "photo", "JPEG, PNG or WebP"),
    ({"photo": _image("GIF")}, "photo", "JPEG, PNG or WebP"),
    ({"photo": _image("PNG")[:60]}, "photo", "JPEG, PNG or WebP"),  # truncated
    ({"photo": b"<?php echo 1; ?>"}, "photo", "JPEG, PNG or WebP"),
    ({"photo": b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024)}, "photo", "too large"),
])
def test_bad_incidents_are_refused_and_nothing_is_written(app, estate_pair, dbs, kw, field, message):
    with pytest.raises(InvalidValue) as exc:
        _create(app, **kw)
    assert exc.value.field == field
    with app.test_request_context():
        assert message in str(exc.value.message)
    assert _incidents(dbs) == [] and _audit(dbs, "incident.logged") == []


def test_incidents_list_filters_paginates_and_keeps_to_the_estate(app, estate_pair, dbs, count_queries):
    for n in range(25):
        _create(app, occurred_at=NOW - timedelta(days=n), incident_type="FIRE" if n % 5 == 0 else "VEHICLE",
                photo=_image() if n % 2 else None)
    _create(app, slug="beta", who="guard@beta.test")
    with app.test_request_context():
        alpha = _estate("alpha")
        with count_queries() as counter:
            page = incidents.list_incidents(alpha, page=1, per_page=10)
            for i in page.items:
                _ = (i.reported_by.display_name, i.photo_type, i.description)
        assert counter.count <= 3  # the page, the count (and nothing per row)
        assert page.total == 25 and len(page.items) == 10
        assert [i.occurred_at for i in page.items] == sorted((i.occurred_at for i in page.items), reverse=True)
        fires = incidents.list_incidents(alpha, incidents.IncidentFilters(incident_type="FIRE"))
        assert fires.total == 5
        # dates are the estate's (Lagos, UTC+1) and both ends are inclusive
        window = incidents.IncidentFilters(date_from=(NOW - timedelta(days=3)).date(), date_to=NOW.date())
        assert incidents.list_incidents(alpha, window).total == 4
        assert incidents.list_incidents(alpha, incidents.IncidentFilters(incident_type="BOGUS")).total == 25


def test_a_photo_is_only_served_within_its_estate(app, estate_pair):
    theirs = _create(app, slug="beta", who="guard@beta.test", photo=_image("JPEG"))
    ours = _create(app, photo=_image("PNG", size=(800, 600)))
    plain = _create(app)
    from portal.errors import NotFound

    with app.test_request_context():
        alpha = _estate("alpha")
        data, mime = incidents.get_photo(alpha, ours)
        assert mime == "image/png" and Image.open(io.BytesIO(data)).size == (800, 600)
        thumb, mime = incidents.get_photo(alpha, ours, thumb=True)
        assert mime == "image/jpeg" and max(Image.open(io.BytesIO(thumb)).size) == incidents.THUMB_SIDE
        for other in (theirs, plain, 999999):
            with pytest.raises(NotFound):
                incidents.get_photo(alpha, other)


# --- incidents: pages -------------------------------------------------------------------------


def test_the_gate_incident_page_starts_empty(client, estate_pair, login):
    login("guard@alpha.test")
    page = client.get("/e/alpha/gate/incidents", headers=HEADERS)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in html
    assert "No incidents have been logged yet." in html and 'id="nav-incidents"' in html


def test_a_guard_logs_an_incident_with_a_photo_without_javascript(client, estate_pair, login, dbs):
    login("guard@alpha.test")
    response = client.post("/e/alpha/gate/incidents", headers=HEADERS, content_type="multipart/form-data", data={
        "incident_type": "VEHICLE", "description": "A car hit the barrier arm.", "occurred_at": "2024-05-01T09:30",
        "photo": (io.BytesIO(_image("JPEG")), "barrier.jpg"),
    })
    assert response.status_code == 302
    page = client.get("/e/alpha/gate/incidents", headers=HEADERS).get_data(as_text=True)
    assert "The incident was logged." in page and "A car hit the barrier arm." in page
    assert "Vehicle incident" in page
    [incident] = _incidents(dbs)
    # 09:30 in Lagos (UTC+1) is 08:30 UTC
    assert incident.occurred_at == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    assert incident.photo_type == "image/jpeg" and incident.gate == "Main gate"
    assert f"/e/alpha/gate/incidents/{incident.id}/photo?thumb=1" in page
    photo = client.get(f"/e/alpha/gate/incidents/{incident.id}/photo?thumb=1", headers=HEADERS)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"


@pytest.mark.parametrize("data, message", [
    ({"incident_type": "", "description": "Something odd happened"}, "Choose the type of incident."),
    ({"incident_type": "FIRE", "description": "hot"}, "Describe what happened in at least 5 characters."),
    ({"incident_type": "FIRE", "description": "Smoke at the bins", "occurred_at": "yesterday"},
     "Give a date and time"),
    ({"incident_type": "FIRE", "description": "Smoke at the bins", "occurred_at": "2999-01-01T10:00"},
     "cannot be in the future"),
    ({"incident_type": "FIRE", "description": "Smoke at the bins",
      "photo": (io.BytesIO(b"MZ\x90\x00 an exe renamed"), "smoke.jpg")}, "must be a JPEG, PNG or WebP image"),
])
def test_bad_incident_forms_show_the_error_and_write_nothing(client, estate_pair, login, dbs, data, message):
    login("guard@alpha.test")
    response = client.post("/e/alpha/gate/incidents", headers=HEADERS, data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert _incidents(dbs) == []


def test_admins_filter_incidents_and_see_thumbnails_of_their_estate_only(app, client, estate_pair, login):
    fire = _create(app, incident_type="FIRE", description="Smoke from the generator house.", photo=_image("WEBP"))
    _create(app, incident_type="MEDICAL", description="A visitor fainted at the gate.",
            occurred_at=NOW - timedelta(days=10))
    beta = _create(app, slug="beta", who="guard@beta.test", description="Beta estate incident", photo=_image())
    login("admin@alpha.test")
    page = client.get("/e/alpha/admin/incidents").get_data(as_text=True)
    assert "Smoke from the generator house." in page and "A visitor fainted" in page
    assert "Beta estate incident" not in page and 'id="nav-admin-incidents"' in page
    assert f"/e/alpha/admin/incidents/{fire}/photo?thumb=1" in page
    fires = client.get("/e/alpha/admin/incidents?type=FIRE").get_data(as_text=True)
    assert "Smoke from the generator" in fires and "fainted" not in fires
    recent = client.get(f"/e/alpha/admin/incidents?from={(NOW - timedelta(days=2)).date()}&to={NOW.date()}")
    assert "Smoke from the generator" in recent.get_data(as_text=True)
    assert "fainted" not in recent.get_data(as_text=True)
    none = client.get("/e/alpha/admin/incidents?type=FIRE&from=2001-01-01&to=2001-01-02").get_data(as_text=True)
    assert "No incident matches these filters." in none
    fragment = client.get("/e/alpha/admin/incidents?type=MEDICAL", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "fainted" in fragment.get_data(as_text=True)
    assert client.get("/e/alpha/admin/incidents?from=garbage").status_code == 200
    photo = client.get(f"/e/alpha/admin/incidents/{fire}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/webp"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/e/alpha/admin/incidents/{beta}/photo").status_code == 404
    assert client.get(f"/e/beta/admin/incidents/{beta}/photo").status_code == 404  # not a member of beta


def test_a_guard_cannot_see_another_estates_incident_photo(app, client, estate_pair, login):
    beta = _create(app, slug="beta", who="guard@beta.test", photo=_image())
    login("guard@alpha.test")
    assert client.get(f"/e/alpha/gate/incidents/{beta}/photo", headers=HEADERS).status_code == 404


def test_the_gate_incident_list_is_paginated(app, client, estate_pair, login, count_queries):
    for n in range(12):
        _create(app, description=f"Incident number {n:02d} here", occurred_at=NOW - timedelta(minutes=n))
    login("guard@alpha.test")
    first = client.get("/e/alpha/gate/incidents", headers=HEADERS).get_data(as_text=True)
    assert "Incident number 00" in first and "Incident number 11" not in first and "Page 1 of 2" in first
    second = client.get("/e/alpha/gate/incidents?page=2", headers={**HEADERS, "HX-Request": "true"})
    assert "Incident number 11" in second.get_data(as_text=True) and "<html" not in second.get_data(as_text=True)


# --- the QR scanner markup --------------------------------------------------------------------


def test_the_gate_page_has_the_qr_scanner(client, estate_pair, login):
    login("guard@alpha.test")
    html = client.get("/e/alpha/gate/", headers=HEADERS).get_data(as_text=True)
    assert 'id="scan-qr"' in html and 'name="qr_token"' in html and "js/gate-scanner.js" in html
    assert "vendor/jsqr-1.4.0/jsQR.js" in html and "Camera permission was refused." in html


def test_a_scanned_token_is_checked_like_a_code(client, estate_pair, login, make, dbs):
    visit = make.visit(estate_pair.alpha.estate, estate_pair.alpha.unit, estate_pair.alpha.resident)
    login("guard@alpha.test")
    page = client.post("/e/alpha/gate/check", data={"qr_token": visit.qr_token, "method": "QR"}, headers=HEADERS)
    assert page.status_code == 200 and "ADMIT" in page.get_data(as_text=True)
