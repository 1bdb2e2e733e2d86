"""Sign-in, one-time codes, password reset, sessions and rate limits."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.signin import check_password
from portal.extensions import db
from portal.models import (
    AuditLog,
    OneTimeCode,
    OutboxMessage,
    PasswordResetToken,
    Role,
    User,
    UserStatus,
    utcnow,
)
from tests.conftest import PASSWORD


@pytest.fixture
def resident(make):
    estate = make.estate("alpha")
    return make.user("ana@example.test", estate=estate, role=Role.RESIDENT, phone="+2348031234567",
                     full_name="Ana Okafor")


def test_email_and_password_lands_on_role_home(client, resident):
    response = client.post("/login", data={"login": "ANA@example.test ", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/e/alpha/home/"
    assert b"Hello, Ana Okafor" in client.get("/e/alpha/home/").data


@pytest.mark.parametrize("phone", ["+2348031234567", "08031234567", "+234 803 123 4567"])
def test_phone_and_password_in_any_common_format(client, resident, phone):
    response = client.post("/login", data={"login": phone, "password": PASSWORD})
    assert response.headers["Location"] == "/e/alpha/home/"


def test_wrong_password_is_refused_and_changes_nothing(client, resident, dbs):
    response = client.post("/login", data={"login": "ana@example.test", "password": "wrong-password"})
    assert response.status_code == 401
    assert b"The email, phone or password is not correct." in response.data
    assert client.get("/e/alpha/home/").status_code == 302  # still signed out
    with dbs() as s:
        assert s.scalar(sa.select(User.last_login_at).where(User.id == resident.id)) is None


def test_unknown_account_gets_the_same_answer(client, resident):
    response = client.post("/login", data={"login": "nobody@example.test", "password": PASSWORD})
    assert response.status_code == 401
    assert b"The email, phone or password is not correct." in response.data


def test_empty_fields_get_messages_next_to_them(client):
    response = client.post("/login", data={"login": "", "password": ""})
    assert response.status_code == 200
    assert response.data.count(b"This field is required.") == 2


@pytest.mark.parametrize(
    "status, reason",
    [
        (UserStatus.PENDING, b"waiting for approval"),
        (UserStatus.SUSPENDED, b"Your account is suspended"),
        (UserStatus.DISABLED, b"Your account has been disabled"),
    ],
)
def test_inactive_accounts_are_refused_with_the_reason(client, make, status, reason):
    estate = make.estate()
    make.user("x@example.test", estate=estate, role=Role.RESIDENT, status=status)
    response = client.post("/login", data={"login": "x@example.test", "password": PASSWORD})
    assert response.status_code == 401
    assert reason in response.data


def test_suspending_a_signed_in_user_ends_their_session(client, resident, login, dbs):
    login("ana@example.test")
    assert client.get("/e/alpha/home/").status_code == 200
    with dbs() as s:
        s.get(User, resident.id).status = UserStatus.SUSPENDED
        s.commit()
    assert client.get("/e/alpha/home/").status_code == 302


def test_sign_in_is_audited(client, resident, login, dbs):
    login("ana@example.test")
    with dbs() as s:
        actions = s.scalars(sa.select(AuditLog.action).where(AuditLog.actor_user_id == resident.id)).all()
    assert "auth.sign_in" in actions


def test_next_parameter_is_followed_only_inside_the_site(client, resident):
    ok = client.post("/login?next=/choose", data={"login": "ana@example.test", "password": PASSWORD})
    assert ok.headers["Location"] == "/choose"
    client.post("/logout")
    evil = client.post("/login?next=https://evil.test/", data={"login": "ana@example.test", "password": PASSWORD})
    assert evil.headers["Location"] == "/e/alpha/home/"


def test_remember_me_sets_a_lasting_cookie(client, resident):
    client.post("/login", data={"login": "ana@example.test", "password": PASSWORD, "remember": "y"})
    assert client.get_cookie("remember_token") is not None


def test_logout_signs_out(client, resident, login):
    login("ana@example.test")
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/e/alpha/home/").status_code == 302


def test_sign_out_everywhere_ends_other_sessions_and_remember_cookies(app, client, resident, login):
    other = app.test_client()
    client.post("/login", data={"login": "ana@example.test", "password": PASSWORD, "remember": "y"})
    login("ana@example.test", as_client=other)
    assert other.get("/e/alpha/home/").status_code == 200
    client.post("/logout/everywhere")
    assert other.get("/e/alpha/home/").status_code == 302
    # A copied remember-me cookie from before is no good either.
    assert client.get("/e/alpha/home/").status_code == 302


# --- one-time codes ---------------------------------------------------------------


def _request_code(client, phone="+2348031234567"):
    response = client.post("/login/code", data={"phone": phone})
    assert response.status_code == 302
    page = client.get("/login/code/verify").get_data(as_text=True)
    match = re.search(r"your code is (\d{6})", page)
    return match.group(1) if match else None


def test_phone_code_sign_in(client, resident, dbs):
    code = _request_code(client, "0803 123 4567")
    assert code is not None
    with dbs() as s:
        sms = s.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "+2348031234567"))
        assert code in sms.body
    response = client.post("/login/code/verify", data={"code": code})
    assert response.headers["Location"] == "/e/alpha/home/"


def test_code_for_unknown_number_reveals_nothing(client, resident, dbs):
    assert _request_code(client, "+2348099999990") is None
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_code_is_not_shown_outside_dev_mode(app, client, resident):
    app.config["DEV_MODE"] = False
    assert _request_code(client) is None


def test_invalid_phone_gets_a_message(client):
    response = client.post("/login/code", data={"phone": "12ab"})
    assert response.status_code == 422
    assert b"Enter a valid phone number" in response.data


def test_wrong_code_then_right_code(client, resident):
    code = _request_code(client)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/login/code/verify", data={"code": wrong})
    assert response.status_code == 401 and b"This code is not correct or no longer valid." in response.data
    assert client.post("/login/code/verify", data={"code": code}).status_code == 302


def test_expired_code_is_refused(client, resident, dbs):
    code = _request_code(client)
    with dbs() as s:
        s.execute(sa.update(OneTimeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    response = client.post("/login/code/verify", data={"code": code})
    assert response.status_code == 401
    assert b"This code is not correct or no longer valid." in response.data
    assert client.get("/e/alpha/home/").status_code == 302


def test_five_wrong_codes_lock_the_code(app, client, resident):
    app.config["AUTH_RATE_LIMIT"] = "100 per minute"
    code = _request_code(client)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert client.post("/login/code/verify", data={"code": wrong}).status_code == 401
    response = client.post("/login/code/verify", data={"code": code})
    assert response.status_code == 401
    assert b"This code is not correct or no longer valid." in response.data


def test_a_code_works_once(app, client, resident):
    code = _request_code(client)
    client.post("/login/code/verify", data={"code": code})
    client.post("/logout")
    with client.session_transaction() as session:
        session["otp_phone"] = "+2348031234567"
    response = client.post("/login/code/verify", data={"code": code})
    assert response.status_code == 401
    assert b"This code is not correct or no longer valid." in response.data


def test_new_code_replaces_the_old_one(client, resident):
    first = _request_code(client)
    second = _request_code(client)
    if first != second:
        assert client.post("/login/code/verify", data={"code": first}).status_code == 401
    assert client.post("/login/code/verify", data={"code": second}).status_code == 302


def test_code_must_have_six_digits(client, resident):
    _request_code(client)
    response = client.post("/login/code/verify", data={"code": "12a"})
    assert b"The code has 6 digits." in response.data


# --- password reset ---------------------------------------------------------------


def _reset_link(app, client, email="ana@example.test"):
    response = client.post("/password/forgot", data={"email": email})
    assert response.status_code == 302
    with app.app_context():
        mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == email)
                                 .order_by(OutboxMessage.id.desc()))
        return re.search(r"http://localhost(/password/reset/\S+)", mail.body).group(1)


def test_password_reset_by_emailed_link(app, client, resident, login):
    link = _reset_link(app, client)
    page = client.get(link)
    assert page.status_code == 200 and b"Choose a new password" in page.data
    response = client.post(link, data={"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert response.headers["Location"] == "/login"
    login("ana@example.test", "brand-new-pass")


def test_reset_link_works_once(app, client, resident, dbs):
    link = _reset_link(app, client)
    client.post(link, data={"password": "brand-new-pass", "confirm": "brand-new-pass"})
    again = client.post(link, data={"password": "another-pass-2", "confirm": "another-pass-2"})
    assert again.status_code == 410
    assert b"already been used" in again.data
    with dbs() as s:
        assert check_password(s.get(User, resident.id), "brand-new-pass")


def test_expired_reset_link_is_refused(app, client, resident, dbs):
    link = _reset_link(app, client)
    with dbs() as s:
        s.execute(sa.update(PasswordResetToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        s.commit()
    response = client.get(link)
    assert response.status_code == 410 and b"expired" in response.data


def test_reset_for_unknown_email_sends_nothing(client, resident, dbs):
    response = client.post("/password/forgot", data={"email": "nobody@example.test"})
    assert response.status_code == 302
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_reset_with_mismatched_passwords_changes_nothing(app, client, resident, dbs):
    link = _reset_link(app, client)
    response = client.post(link, data={"password": "brand-new-pass", "confirm": "different-pass"})
    assert response.status_code == 422
    assert b"The two passwords do not match." in response.data
    with dbs() as s:
        assert s.scalar(sa.select(PasswordResetToken.used_at)) is None


def test_bogus_reset_link_is_a_clear_404(client):
    response = client.get("/password/reset/not-a-token")
    assert response.status_code == 404
    assert b"This reset link is not valid." in response.data


# --- change password ------------------------------------------------------------


def test_change_password_signs_out_other_devices(app, client, resident, login):
    other = app.test_client()
    login("ana@example.test")
    login("ana@example.test", as_client=other)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "changed-pass-9", "confirm": "changed-pass-9"})
    assert response.status_code == 302
    assert client.get("/e/alpha/home/").status_code == 200  # this device stays signed in
    assert other.get("/e/alpha/home/").status_code == 302


def test_change_password_needs_the_current_one(client, resident, login):
    login("ana@example.test")
    response = client.post("/account/password", data={
        "current_password": "not-it", "password": "changed-pass-9", "confirm": "changed-pass-9"})
    assert response.status_code == 422
    assert b"Your current password is not correct." in response.data


def test_short_new_password_is_refused(client, resident, login):
    login("ana@example.test")
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "short", "confirm": "short"})
    assert b"at least 8 characters" in response.data


# --- CSRF and rate limits ---------------------------------------------------------


def test_missing_csrf_token_is_refused_and_changes_nothing(app, client, resident):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/login", data={"login": "ana@example.test", "password": PASSWORD})
    assert response.status_code == 400
    assert b"missing its security token" in response.data
    assert client.get("/e/alpha/home/").status_code == 302


def test_csrf_token_in_the_htmx_header_is_accepted(app, client, resident):
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    response = client.post("/login", data={"login": "ana@example.test", "password": PASSWORD},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302


def test_missing_csrf_on_htmx_post_goes_to_the_message_area(app, client, resident):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/login", data={"login": "a", "password": "b"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages"
    assert b"<html" not in response.data


@pytest.mark.parametrize(
    "path, data",
    [
        ("/login", {"login": "ana@example.test", "password": "wrong"}),
        ("/login/code", {"phone": "+2348031234567"}),
        ("/password/forgot", {"email": "ana@example.test"}),
    ],
)
def test_sixth_quick_attempt_is_rate_limited(client, resident, path, data, dbs):
    def outbox_count():
        with dbs() as s:
            return s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))

    for _ in range(5):
        assert client.post(path, data=data).status_code != 429
    before = outbox_count()
    response = client.post(path, data=data)
    assert response.status_code == 429
    assert b"Too many attempts" in response.data
    assert outbox_count() == before


def test_rate_limit_page_is_translated(client, resident):
    for _ in range(5):
        client.post("/login", data={"login": "x", "password": "y"}, headers={"Accept-Language": "es"})
    response = client.post("/login", data={"login": "x", "password": "y"}, headers={"Accept-Language": "es"})
    assert response.status_code == 429
    assert b'lang="es"' in response.data
    assert b"Too many attempts" not in response.data


def test_messages_go_out_in_the_users_language(client, make, dbs):
    estate = make.estate("flores", default_language="es")
    make.user("maria@flores.test", estate=estate, role=Role.RESIDENT, phone="+50255551234")
    client.post("/password/forgot", data={"email": "maria@flores.test"}, headers={"Accept-Language": "en"})
    client.post("/login/code", data={"phone": "+50255551234"}, headers={"Accept-Language": "en"})
    with dbs() as s:
        mail, sms = s.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert "contraseña" in mail.subject and "Hola" in mail.body
        assert "código" in sms.body
