"""Issue 9, "Access and tokens": kiosk tokens end with what should end them, and
password-reset links end with a reset or a password change."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import KioskToken, Membership, OutboxMessage, Role
from tests.conftest import PASSWORD
from tests.test_api_kiosk import kiosk_for


def _works(kiosk) -> bool:
    response = kiosk.get("/offline/bootstrap")
    assert response.status_code in (200, 401), response.get_data(as_text=True)[:300]
    return response.status_code == 200


@pytest.fixture
def guard_kiosk(estate_pair, app):
    a = estate_pair.alpha
    return a, kiosk_for(app.test_client(), a.estate, a.guard)


def _reset_link(app, client, email: str) -> str:
    assert client.post("/password/forgot", data={"email": email}).status_code == 302
    with app.app_context():
        mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == email)
                                 .order_by(OutboxMessage.id.desc()))
        return re.search(r"http://localhost(/password/reset/\S+)", mail.body).group(1)


# --- kiosk tokens -----------------------------------------------------------------------------


def test_password_change_ends_kiosk_tokens(guard_kiosk, client, login):
    a, kiosk = guard_kiosk
    login(a.guard.email)
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": "new-pass-123",
                                                       "confirm": "new-pass-123"})
    assert response.status_code == 302
    assert not _works(kiosk)


def test_password_reset_ends_kiosk_tokens(guard_kiosk, app, client):
    a, kiosk = guard_kiosk
    link = _reset_link(app, client, a.guard.email)
    assert client.post(link, data={"password": "new-pass-123", "confirm": "new-pass-123"}).status_code == 302
    assert not _works(kiosk)


def test_sign_out_everywhere_ends_kiosk_tokens(guard_kiosk, client, login):
    a, kiosk = guard_kiosk
    login(a.guard.email)
    assert client.post("/logout/everywhere").status_code == 302
    assert not _works(kiosk)


def test_suspension_ends_kiosk_tokens_for_good(guard_kiosk, client, login):
    a, kiosk = guard_kiosk
    login(a.admin.email)
    assert client.post(f"/e/alpha/admin/members/{a.guard.id}/suspend").status_code == 302
    assert not _works(kiosk)
    assert client.post(f"/e/alpha/admin/members/{a.guard.id}/reactivate").status_code == 302
    assert not _works(kiosk)  # lifting the suspension does not bring the token back


def test_deletion_ends_kiosk_tokens(guard_kiosk, client, login, dbs):
    a, kiosk = guard_kiosk
    login(a.admin.email)
    assert client.post(f"/e/alpha/admin/members/{a.guard.id}/delete").status_code == 302
    assert not _works(kiosk)
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(KioskToken)
                        .where(KioskToken.revoked_at.is_(None))) == 0


def test_device_reset_ends_kiosk_tokens_even_if_the_device_comes_back(guard_kiosk, client, login, dbs):
    a, kiosk = guard_kiosk
    login(a.admin.email)
    assert client.post(f"/e/alpha/admin/members/{a.guard.id}/device/reset").status_code == 302
    with dbs() as s:  # the same device is bound again (its next gate request would do so)
        s.execute(sa.update(Membership).where(Membership.user_id == a.guard.id)
                  .values(bound_device_id=kiosk.device_id))
        s.commit()
    assert not _works(kiosk)


@pytest.mark.parametrize("how", ["remove", "roles"])
def test_removal_or_role_change_ends_kiosk_tokens(guard_kiosk, client, login, dbs, how):
    a, kiosk = guard_kiosk
    login(a.admin.email)
    if how == "remove":
        response = client.post(f"/e/alpha/admin/members/{a.guard.id}/remove")
    else:
        response = client.post(f"/e/alpha/admin/members/{a.guard.id}/roles", data={"roles": ["RESIDENT"]})
    assert response.status_code == 302
    assert not _works(kiosk)


def test_the_token_check_is_still_one_query(app, guard_kiosk, count_queries):
    from portal.accounts.kiosk_tokens import authenticate

    _a, kiosk = guard_kiosk
    with app.app_context(), count_queries() as counter:
        authenticate(kiosk.token)
    assert counter.count == 1


# --- password-reset links ---------------------------------------------------------------------


def test_using_a_reset_link_ends_the_older_ones(app, client, estate_pair):
    resident = estate_pair.alpha.resident
    older = _reset_link(app, client, resident.email)
    newer = _reset_link(app, client, resident.email)
    assert client.post(newer, data={"password": "new-pass-123", "confirm": "new-pass-123"}).status_code == 302
    assert client.get(older).status_code == 410
    response = client.post(older, data={"password": "evil-pass-123", "confirm": "evil-pass-123"})
    assert response.status_code == 410


def test_changing_the_password_ends_outstanding_reset_links(app, client, estate_pair, login):
    resident = estate_pair.alpha.resident
    link = _reset_link(app, client, resident.email)
    login(resident.email)
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": "new-pass-123",
                                                       "confirm": "new-pass-123"})
    assert response.status_code == 302
    assert client.get(link).status_code == 410


# --- account enumeration -------------------------------------------------------------------------


def _medians_ms(client, emails: tuple[str, str], n: int) -> tuple[float, float]:
    """Median answer times of /password/forgot for each address, the two interleaved."""
    import statistics
    import time

    times: tuple[list, list] = ([], [])
    for _ in range(n):
        for email, seen in zip(emails, times, strict=True):
            start = time.perf_counter()
            assert client.post("/password/forgot", data={"email": email}).status_code == 302
            seen.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def test_forgot_password_takes_the_same_time_for_known_and_unknown_addresses(app, client, estate_pair):
    app.config["AUTH_RATE_LIMIT"] = "1000 per minute"
    emails = (estate_pair.alpha.resident.email, "nobody-here@example.test")
    _medians_ms(client, emails, 3)  # warm both paths
    # Loose on purpose (a shared machine): before the fix the known address took 2.5 times
    # as long, every round; a busy machine can spoil one round, not three.
    rounds = []
    for _ in range(3):
        known_ms, unknown_ms = _medians_ms(client, emails, 25)
        rounds.append((round(known_ms, 2), round(unknown_ms, 2)))
        if abs(known_ms - unknown_ms) < max(1.0, 0.5 * unknown_ms):
            return
    pytest.fail(f"known vs unknown address, median ms per round: {rounds}")


def test_forgot_password_does_the_same_database_work_for_known_and_unknown_addresses(
        app, client, estate_pair, record_sql):
    def kinds(email: str) -> list[str]:
        with record_sql() as seen:
            assert client.post("/password/forgot", data={"email": email}).status_code == 302
        return [statement.split()[0] for statement in seen]

    known, unknown = kinds(estate_pair.alpha.resident.email), kinds("nobody-here@example.test")
    # The known address writes its link and its message as well; nothing else differs.
    assert known.count("SELECT") == unknown.count("SELECT")
    assert len(known) - len(unknown) <= 2 and unknown.count("INSERT") >= 1


def test_the_phone_code_check_answers_the_same_for_known_and_unknown_numbers(app, make, estate_pair):
    make.user("phone-owner@example.test", phone="+2348031112222")

    def attempt(phone: str) -> tuple[int, str]:
        c = app.test_client()
        assert c.post("/login/code", data={"phone": phone}).status_code == 302
        response = c.post("/login/code/verify", data={"code": "000000"})
        text = response.get_data(as_text=True)
        return response.status_code, text[text.index('role="alert"'):][:200]

    known, unknown = attempt("+2348031112222"), attempt("+2348039998888")
    assert known == unknown and known[0] == 401


# --- sign-out, notifications, cookies, the outbox ---------------------------------------------------


def test_a_get_to_logout_signs_nobody_out_and_shows_the_button(client, login, estate_pair):
    login(estate_pair.alpha.resident.email)
    page = client.get("/logout")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="/logout"' in html and 'method="post"' in html and 'name="csrf_token"' in html
    assert client.get("/e/alpha/home/").status_code == 200  # still signed in
    assert client.post("/logout").status_code == 302
    assert client.get("/e/alpha/home/").status_code == 302


def test_sign_out_needs_the_csrf_token(app, client, login, estate_pair):
    login(estate_pair.alpha.resident.email)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/logout").status_code == 400
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.get("/e/alpha/home/").status_code == 200


def test_every_sign_out_offered_is_a_post_form(client, login, estate_pair):
    for who, page in ((estate_pair.alpha.resident, "/e/alpha/home/"), (estate_pair.alpha.guard, "/e/alpha/gate/"),
                      (estate_pair.alpha.admin, "/e/alpha/admin/")):
        c = client.application.test_client()
        login(who.email, as_client=c)
        html = c.get(page).get_data(as_text=True)
        assert 'href="/logout"' not in html
        assert re.search(r'<form method="post" action="/logout"', html), page


def test_opening_a_notification_by_get_changes_nothing(app, client, login, estate_pair):
    from portal import notifications
    from portal.models import Notification, User, utcnow

    login(estate_pair.alpha.resident.email)
    with app.app_context():
        user = db.session.get(User, estate_pair.alpha.resident.id)
        note_id = notifications.notify(user, None, "other", {}, "/e/alpha/home/", utcnow(), send=False).id
        db.session.commit()
    response = client.get(f"/account/notifications/{note_id}/open")
    assert response.status_code == 302 and response.headers["Location"] == "/e/alpha/home/"
    with app.app_context():
        assert db.session.get(Notification, note_id).read_at is None
    response = client.post(f"/account/notifications/{note_id}/open", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/e/alpha/home/"
    with app.app_context():
        assert db.session.get(Notification, note_id).read_at is not None


def test_the_remember_cookie_is_same_site_lax(client, login, estate_pair):
    response = login(estate_pair.alpha.resident.email, remember=True)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize("address, status", [("127.0.0.1", 200), ("::1", 200), ("192.0.2.7", 404), ("10.0.0.2", 404)])
def test_the_dev_outbox_answers_only_the_machine_itself(client, address, status):
    assert client.get("/dev/outbox", environ_base={"REMOTE_ADDR": address}).status_code == status


def test_the_dev_outbox_behind_a_proxy_goes_by_the_forwarded_address(app):
    from werkzeug.middleware.proxy_fix import ProxyFix

    inner = app.wsgi_app
    app.wsgi_app = ProxyFix(inner, x_for=1)
    try:
        c = app.test_client()
        assert c.get("/dev/outbox", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
        assert c.get("/dev/outbox", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    finally:
        app.wsgi_app = inner


# --- offline replay can't be backdated ------------------------------------------------------------


def _item(event_id: str, code: str, when, event_type: str = "ENTRY") -> dict:
    return {"client_event_id": event_id, "event_type": event_type, "occurred_at": when.isoformat(),
            "visitor_code": code}


@pytest.fixture
def offline_world(estate_pair, make, app):
    from datetime import timedelta

    a = estate_pair.alpha
    kiosk = kiosk_for(app.test_client(), a.estate, a.guard)
    # Valid from 5 h ago until 1 h ago: an entry "from when it was valid" is a backdated one now.
    expired = make.visit(a.estate, a.unit, a.resident, starts=timedelta(hours=-5), ends=timedelta(hours=-1))
    current = make.visit(a.estate, a.unit, a.resident, starts=timedelta(hours=-5), ends=timedelta(hours=5))
    return a, kiosk, expired, current


def _sync(kiosk, items) -> list[dict]:
    response = kiosk.post("/offline/sync", {"items": items})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]["results"]


def test_an_entry_backdated_before_the_devices_last_contact_is_rejected_and_listed(offline_world, dbs, client,
                                                                                    login):
    from datetime import UTC, datetime, timedelta

    from portal.models import AuditLog, Visit

    a, kiosk, expired, current = offline_world
    assert kiosk.get("/offline/bootstrap").status_code == 200  # the device is online now
    backdated = datetime.now(UTC) - timedelta(hours=2)  # when the pass was still valid
    results = _sync(kiosk, [_item("backdate-0001", expired.visitor_code, backdated)])
    assert [(r["status"], r["code"]) for r in results] == [("REJECTED", "EVENT_OUTSIDE_OFFLINE_WINDOW")]
    assert results[0]["message"]
    with dbs() as s:
        assert s.get(Visit, expired.id).people_inside is False
        row = s.scalar(sa.select(AuditLog).where(AuditLog.action == "gate.offline_event_rejected"))
        assert row.estate_id == a.estate.id and row.actor_user_id == a.guard.id
        assert row.after["visitor_code"] == expired.visitor_code
    login(a.admin.email)  # the estate's admins see it in the audit log
    page = client.get("/e/alpha/admin/audit/?action=gate.offline_event_rejected").get_data(as_text=True)
    assert "gate.offline_event_rejected" in page and expired.visitor_code in page
    # A scan after the last contact (an ordinary offline period) is still applied.
    fresh = _sync(kiosk, [_item("after-contact-1", current.visitor_code, datetime.now(UTC))])
    assert fresh[0]["status"] == "APPLIED"


def test_a_live_scan_counts_as_contact(offline_world):
    from datetime import UTC, datetime, timedelta

    a, kiosk, expired, current = offline_world
    t = datetime.now(UTC) - timedelta(minutes=30)
    assert kiosk.post("/checkin/manual", {"visitor_code": current.visitor_code}).status_code == 200
    assert kiosk.post("/checkin/checkout", {"visitor_code": current.visitor_code}).status_code == 200
    results = _sync(kiosk, [_item("before-scan-01", current.visitor_code, t, "EXIT")])
    assert results[0]["code"] == "EVENT_OUTSIDE_OFFLINE_WINDOW"


def test_offline_scans_older_than_the_limit_or_in_the_future_are_rejected(offline_world, app):
    from datetime import UTC, datetime, timedelta

    _a, kiosk, _expired, current = offline_world
    app.config["OFFLINE_MAX_AGE"] = 3600
    now = datetime.now(UTC)
    results = _sync(kiosk, [
        _item("too-old-00001", current.visitor_code, now - timedelta(hours=2)),
        _item("in-future-001", current.visitor_code, now + timedelta(hours=1)),
        _item("within-skew-1", current.visitor_code, now - timedelta(minutes=30)),
    ])
    assert [(r["status"], r["code"]) for r in results] == [
        ("REJECTED", "EVENT_OUTSIDE_OFFLINE_WINDOW"), ("REJECTED", "EVENT_OUTSIDE_OFFLINE_WINDOW"), ("APPLIED", None)]


def test_a_retried_sync_still_answers_duplicate(offline_world):
    from datetime import UTC, datetime, timedelta

    _a, kiosk, _expired, current = offline_world
    items = [_item("retry-000001", current.visitor_code, datetime.now(UTC) - timedelta(minutes=20))]
    assert _sync(kiosk, items)[0]["status"] == "APPLIED"
    assert _sync(kiosk, items)[0]["status"] == "DUPLICATE"  # its first answer was lost: not a refusal


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00-12:00", "0001-01-01T00:00:00+14:00",
                                 "1970-01-01T00:00:00Z"])
def test_absurd_times_are_refused_by_validation_and_the_rest_of_the_batch_is_applied(offline_world, raw):
    from datetime import UTC, datetime

    _a, kiosk, _expired, current = offline_world
    results = _sync(kiosk, [
        {"client_event_id": "absurd-0000001", "event_type": "ENTRY", "occurred_at": raw,
         "visitor_code": current.visitor_code},
        _item("fine-00000001", current.visitor_code, datetime.now(UTC)),
    ])
    assert [(r["status"], r["code"]) for r in results] == [("REJECTED", "VALIDATION_ERROR"), ("APPLIED", None)]


def test_the_gate_page_sync_keeps_the_same_window(estate_pair, make, client, login, dbs):
    import json
    from datetime import UTC, datetime, timedelta

    from portal.models import AuditLog

    a = estate_pair.alpha
    headers = {"X-Gate-Device": "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa"}
    expired = make.visit(a.estate, a.unit, a.resident, starts=timedelta(hours=-5), ends=timedelta(hours=-1))
    login(a.guard.email)
    assert client.get("/e/alpha/gate/offline/bootstrap", headers=headers).status_code == 200
    response = client.post("/e/alpha/gate/offline/sync", headers=headers, content_type="application/json",
                           data=json.dumps({"items": [_item("page-backdate-1", expired.visitor_code,
                                                            datetime.now(UTC) - timedelta(hours=2))]}))
    assert [(r["status"], r["code"]) for r in response.get_json()["results"]] == [
        ("REJECTED", "EVENT_OUTSIDE_OFFLINE_WINDOW")]
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                        .where(AuditLog.action == "gate.offline_event_rejected")) == 1


# --- invitations reveal nothing about accounts outside the estate ---------------------------------


def _invite(client, **data):
    form = {"role": "GUARD", "full_name": "Typed Name", "email": "", "phone": "", "resident_type": "OWNER",
            "unit_id": ""}
    form.update(data)
    return client.post("/e/alpha/admin/invitations/", data=form)


def test_an_invitation_shows_what_the_inviter_typed_never_another_estates_account(
        client, login, estate_pair, make):
    beta_guard = make.user("guard2@beta.test", estate=estate_pair.beta.estate, role="GUARD",
                           full_name="Sule Garba", phone="+2348000000201")
    login(estate_pair.alpha.admin.email)
    response = _invite(client, phone="+2348000000201")
    assert response.status_code == 302
    html = client.get("/e/alpha/admin/invitations/").get_data(as_text=True)
    assert "Typed Name" in html and "+2348000000201" in html
    assert beta_guard.full_name not in html and beta_guard.email not in html
    assert "Sule" not in client.get("/e/alpha/admin/invitations/?q=sule").get_data(as_text=True)


@pytest.mark.parametrize("status", [None, "SUSPENDED", "DISABLED", "DELETED", "PENDING"])
def test_an_existing_account_in_any_state_gets_the_same_answer_as_a_new_one(client, login, estate_pair, make,
                                                                           status):
    from portal.models import UserStatus

    kw = {"status": UserStatus(status)} if status else {}
    make.user("someone@elsewhere.test", estate=estate_pair.beta.estate, role="RESIDENT", **kw)
    login(estate_pair.alpha.admin.email)
    new = _invite(client, email="brand-new@nowhere.test")
    new_page = client.get(new.headers["Location"]).get_data(as_text=True)
    existing = _invite(client, email="someone@elsewhere.test")
    page = client.get(existing.headers["Location"]).get_data(as_text=True)
    assert (existing.status_code, existing.headers["Location"]) == (new.status_code, new.headers["Location"])
    assert "The invitation was sent to someone@elsewhere.test." in page
    assert "The invitation was sent to brand-new@nowhere.test." in new_page
    assert "not active" not in page


def test_the_owner_of_an_existing_account_accepts_with_their_own_password(app, client, login, estate_pair, dbs):
    from portal.models import Invitation, Membership, Role

    beta_guard = estate_pair.beta.guard
    login(estate_pair.alpha.admin.email)
    assert _invite(client, email=beta_guard.email, full_name="Whoever").status_code == 302
    with dbs() as s:
        mail = s.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == beta_guard.email))
    link = re.search(r"http://localhost(/invite/\S+)", mail.body).group(1)
    guest = app.test_client()
    page = guest.get(link).get_data(as_text=True)
    assert "Enter its password" in page  # the holder of the link owns the address: now it may be told
    assert guest.post(link, data={"password": "wrong-password"}).status_code == 422
    assert guest.post(link, data={"password": PASSWORD}).status_code == 302
    with dbs() as s:
        assert s.scalar(sa.select(Invitation.user_id)) == beta_guard.id
        assert s.scalar(sa.select(Membership.id).where(Membership.user_id == beta_guard.id,
                                                       Membership.estate_id == estate_pair.alpha.estate.id,
                                                       Membership.role == Role.GUARD)) is not None


def test_a_suspended_account_cannot_accept(app, client, login, estate_pair, make, dbs):
    from portal.models import UserStatus

    make.user("held@elsewhere.test", status=UserStatus.SUSPENDED)
    login(estate_pair.alpha.admin.email)
    assert _invite(client, email="held@elsewhere.test").status_code == 302
    with dbs() as s:
        mail = s.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "held@elsewhere.test"))
    link = re.search(r"http://localhost(/invite/\S+)", mail.body).group(1)
    response = app.test_client().post(link, data={"password": PASSWORD})
    assert response.status_code == 403 and b"suspended" in response.data


def test_refused_offline_scans_are_listed_for_supervisors_and_admins(offline_world, app, client, login, make):
    from datetime import UTC, datetime, timedelta

    a, kiosk, expired, current = offline_world
    assert kiosk.get("/offline/bootstrap").status_code == 200
    results = _sync(kiosk, [_item("listed-0001", expired.visitor_code, datetime.now(UTC) - timedelta(hours=2))])
    assert results[0]["code"] == "EVENT_OUTSIDE_OFFLINE_WINDOW"
    make.user("sup@alpha.test", estate=a.estate, role=Role.GUARD, supervisor=True, full_name="Sam Supervisor")
    device = {"X-Gate-Device": "tablet-refused-list-0001"}

    guard = app.test_client()
    login(a.guard.email, as_client=guard)
    assert guard.get("/e/alpha/gate/offline-refused/", headers={"X-Gate-Device": kiosk.device_id}).status_code == 403

    supervisor = app.test_client()
    login("sup@alpha.test", as_client=supervisor)
    page = supervisor.get("/e/alpha/gate/offline-refused/", headers=device)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "1 refused scan" in html
    assert expired.visitor_code in html and a.guard.full_name in html
    assert supervisor.get("/e/alpha/gate/offline-refused/", headers={**device, "HX-Request": "true"}).status_code == 200

    login(a.admin.email)
    html = client.get("/e/alpha/admin/offline-refused/").get_data(as_text=True)
    assert expired.visitor_code in html and "Refused offline scans" in html
