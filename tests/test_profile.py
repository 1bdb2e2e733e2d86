"""Own profile: details, language, notification choices, sessions and sign-ins."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_login.utils import encode_cookie

from portal.accounts.profile import wants_notification
from portal.models import AuditLog, Role, User, UserSession, utcnow
from tests.conftest import PASSWORD

CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0 Mobile Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture
def ana(make):
    estate = make.estate("alpha")
    return make.user("ana@example.test", estate=estate, role=Role.RESIDENT, phone="+2348031234567",
                     full_name="Ana Okafor")


@pytest.fixture
def signed_in(client, ana, login):
    login("ana@example.test")
    return ana


def _sessions(dbs, user_id, open_only=False):
    with dbs() as s:
        stmt = sa.select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
        if open_only:
            stmt = stmt.where(UserSession.revoked_at.is_(None))
        return s.scalars(stmt).all()


def _profile(**changes):
    data = {"full_name": "Ana Okafor", "email": "ana@example.test", "phone": "+2348031234567",
            "preferred_language": "en"}
    data.update(changes)
    return data


def test_profile_page_shows_details_sessions_and_a_password_link(client, signed_in):
    page = client.get("/account/").get_data(as_text=True)
    assert 'value="Ana Okafor"' in page and 'value="+2348031234567"' in page
    assert 'href="/account/password"' in page
    assert "This device" in page and "Recent sign-ins" in page


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/account/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_edit_name_email_phone_and_language(client, signed_in, dbs):
    response = client.post("/account/", data=_profile(full_name=" Ana  O. ", email="ana.o@example.test",
                                                      phone="0803 765 4321", preferred_language="es"))
    assert response.status_code == 302
    with dbs() as s:
        user = s.get(User, signed_in.id)
        assert (user.full_name, user.email, user.phone, user.preferred_language) == (
            "Ana  O.", "ana.o@example.test", "+2348037654321", "es")
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "user.profile_updated"))
        assert log.before["phone"] == "+2348031234567" and log.after["phone"] == "+2348037654321"
    assert b'lang="es"' in client.get("/account/").data
    client.post("/logout")
    client.post("/login", data={"login": "ana.o@example.test", "password": PASSWORD})
    assert client.get("/account/").status_code == 200


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"full_name": ""}, b"This field is required."),
        ({"email": "not-an-email"}, b"Enter a valid email address."),
        ({"email": "TAKEN@example.test"}, b"Another account already uses this email address."),
        ({"phone": "+2348030000001"}, b"Another account already uses this phone number."),
        ({"phone": "12ab"}, b"Enter a valid phone number"),
        ({"email": "", "phone": ""}, b"Keep an email address or a phone number"),
        ({"preferred_language": "fr"}, b"Not a valid choice."),
    ],
)
def test_bad_profile_input_gets_a_message_and_changes_nothing(client, signed_in, make, dbs, changes, message):
    make.user("taken@example.test", phone="+2348030000001")
    response = client.post("/account/", data=_profile(**changes))
    assert response.status_code == 422
    assert message in response.data
    with dbs() as s:
        user = s.get(User, signed_in.id)
        assert (user.full_name, user.email, user.phone) == ("Ana Okafor", "ana@example.test", "+2348031234567")
        assert s.scalar(sa.select(AuditLog.id).where(AuditLog.action == "user.profile_updated")) is None


def test_notification_choices_are_saved_per_event_and_channel(client, signed_in, dbs):
    response = client.post("/account/notifications", data={
        "visitor_arrived_sms": "y", "invoice_issued_email": "y", "announcement_email": "y",
        "walk_in_request_push": "y"})
    assert response.status_code == 302
    with dbs() as s:
        prefs = s.get(User, signed_in.id).notification_prefs
    assert prefs["visitor_arrived"] == {"email": False, "sms": True, "push": False}
    assert prefs["invoice_issued"] == {"email": True, "sms": False, "push": False}
    assert prefs["walk_in_request"] == {"email": False, "sms": False, "push": True}
    # Not offered (Ana never asked to join): kept as it was.
    assert prefs["approval_decided"] == {"email": True, "sms": False, "push": True}
    page = client.get("/account/").get_data(as_text=True)

    def switch(name):
        return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)

    assert "checked" in switch("visitor_arrived_sms") and "checked" not in switch("visitor_arrived_email")
    user = User(notification_prefs=prefs)
    assert wants_notification(user, "visitor_arrived", "sms")
    assert not wants_notification(user, "visitor_arrived", "email")
    assert wants_notification(user, "walk_in_request", "push") and not wants_notification(user, "visitor_arrived", "push")


def test_notification_defaults(client, signed_in):
    page = client.get("/account/").get_data(as_text=True)
    assert "checked" in re.search(r'<input[^>]*name="visitor_arrived_email"[^>]*>', page).group(0)
    assert "checked" in re.search(r'<input[^>]*name="walk_in_request_sms"[^>]*>', page).group(0)
    assert "checked" in re.search(r'<input[^>]*name="walk_in_request_push"[^>]*>', page).group(0)
    assert 'name="announcement_email"' not in page  # announcements do not exist yet


def test_every_sign_in_records_a_session_with_device_and_ip(client, ana, dbs):
    client.post("/login", data={"login": "ana@example.test", "password": PASSWORD},
                headers={"User-Agent": CHROME_ANDROID}, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    (row,) = _sessions(dbs, ana.id)
    assert row.method == "password" and row.ip_address == "198.51.100.7" and "Android" in row.user_agent
    assert len(row.key_hash) == 64
    with client.session_transaction() as session:
        assert session["sid"] and session["sid"] not in row.key_hash
    page = client.get("/account/", headers={"User-Agent": CHROME_ANDROID}).get_data(as_text=True)
    assert "Chrome · Android" in page and "198.51.100.7" in page


def test_revoking_another_session_signs_that_client_out(app, client, signed_in, login, dbs):
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = SAFARI_IPHONE
    login("ana@example.test", as_client=phone, remember=True)
    assert phone.get("/e/alpha/home/").status_code == 200
    mine, theirs = _sessions(dbs, signed_in.id)
    page = client.get("/account/").get_data(as_text=True)
    assert f'id="session-{theirs.id}"' in page and "Safari · iPhone" in page
    response = client.post(f"/account/sessions/{theirs.id}/revoke")
    assert response.headers["Location"] == "/account/#sessions"
    assert phone.get("/e/alpha/home/").status_code == 302  # signed out, remember-me cookie included
    # Even after the browser forgets its session cookie, the remember-me cookie is no good.
    phone.delete_cookie("session")
    assert phone.get("/e/alpha/home/").status_code == 302
    assert client.get("/e/alpha/home/").status_code == 200  # this one stays
    with dbs() as s:
        assert s.scalar(sa.select(AuditLog.id).where(AuditLog.action == "auth.session_revoked")) is not None
    assert [x.id for x in _sessions(dbs, signed_in.id, open_only=True)] == [mine.id]


def test_revoking_this_session_signs_out(client, signed_in, dbs):
    (mine,) = _sessions(dbs, signed_in.id)
    response = client.post(f"/account/sessions/{mine.id}/revoke")
    assert response.headers["Location"] == "/login"
    assert client.get("/account/").status_code == 302


def test_someone_elses_session_is_a_404(client, signed_in, make, login, app, dbs):
    make.user("other@example.test")
    other = app.test_client()
    login("other@example.test", as_client=other)
    with dbs() as s:
        theirs = s.scalar(sa.select(UserSession.id).join(User, User.id == UserSession.user_id)
                          .where(User.email == "other@example.test"))
    assert client.post(f"/account/sessions/{theirs}/revoke").status_code == 404
    assert other.get("/account/").status_code == 200


def test_recent_sign_ins_list_the_last_twenty(client, ana, dbs):
    with dbs() as s:
        now = utcnow()
        s.add_all([UserSession(user_id=ana.id, key_hash=f"{n:064d}", user_agent=SAFARI_IPHONE, ip_address="10.0.0.1",
                               created_at=now - timedelta(days=1, minutes=n), revoked_at=now) for n in range(25)])
        s.commit()
    client.post("/login", data={"login": "ana@example.test", "password": PASSWORD})
    page = client.get("/account/").get_data(as_text=True)
    sign_ins = page.split('id="sign-ins"')[1]
    assert sign_ins.count("<tr>") == 21  # header + 20 rows


def test_remember_me_cookie_without_a_session_gets_a_fresh_session(client, ana, dbs):
    client.post("/login", data={"login": "ana@example.test", "password": PASSWORD, "remember": "y"})
    client.delete_cookie("session")  # the browser was closed
    assert client.get("/e/alpha/home/").status_code == 200
    assert len(_sessions(dbs, ana.id)) == 1  # the cookie carries its session's key


def test_an_older_keyless_remember_cookie_gets_a_new_session(app, client, ana, dbs):
    with app.test_request_context():
        cookie = encode_cookie(f"{ana.id}:1")
    client.set_cookie("remember_token", cookie)
    assert client.get("/e/alpha/home/").status_code == 200
    (row,) = _sessions(dbs, ana.id)
    assert row.method == "cookie" and row.revoked_at is None
    with client.session_transaction() as session:
        sid = session["sid"]
        assert sid and session["_user_id"].endswith(sid)
    assert sid in client.get_cookie("remember_token").value  # the cookie is written again, with its key
    assert client.get("/e/alpha/home/").status_code == 200
    assert len(_sessions(dbs, ana.id)) == 1


def test_sign_out_and_sign_out_everywhere_close_sessions(app, client, signed_in, login, dbs):
    other = app.test_client()
    login("ana@example.test", as_client=other)
    other.post("/logout")
    assert len(_sessions(dbs, signed_in.id, open_only=True)) == 1
    login("ana@example.test", as_client=other)
    client.post("/logout/everywhere")
    assert _sessions(dbs, signed_in.id, open_only=True) == []
    assert other.get("/e/alpha/home/").status_code == 302


def test_changing_the_password_closes_the_other_sessions_only(app, client, signed_in, login, dbs):
    other = app.test_client()
    login("ana@example.test", as_client=other)
    client.post("/account/password", data={"current_password": PASSWORD, "password": "changed-pass-9",
                                           "confirm": "changed-pass-9"})
    open_sessions = _sessions(dbs, signed_in.id, open_only=True)
    assert len(open_sessions) == 1
    assert client.get("/account/").status_code == 200 and other.get("/account/").status_code == 302
    assert b"This device" in client.get("/account/").data


def test_last_seen_is_updated_at_most_once_a_minute(client, signed_in, dbs, count_queries):
    (row,) = _sessions(dbs, signed_in.id)
    with dbs() as s:
        s.execute(sa.update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
        s.commit()
    client.get("/e/alpha/home/")
    (row,) = _sessions(dbs, signed_in.id)
    assert row.last_seen_at > utcnow() - timedelta(minutes=1)
    seen = row.last_seen_at
    client.get("/e/alpha/home/")
    assert _sessions(dbs, signed_in.id)[0].last_seen_at == seen


def test_the_session_check_is_one_indexed_query(app, client, signed_in, count_queries):
    """The loader reads the user and the session together (it read the user alone before)."""
    from portal.web.login import load_user

    with client.session_transaction() as session:
        session_id = session["_user_id"]
    with app.test_request_context():
        with count_queries() as counted:
            assert load_user(session_id).id == signed_in.id
        assert counted.count == 1
        assert load_user(session_id.rsplit(":", 1)[0] + ":not-the-key") is None
