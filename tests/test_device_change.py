"""A guard bound to another device has a way out (issue 13, item 3): the refusal page
offers "Ask to use this device", whom to call (the estate's admins) and Sign out; the
request is audited and the admins are notified once; an admin sees it on the dashboard,
the members list and the member's page and approves it in one tap, which frees the
binding as a reset does; the next gate request of the new device binds it."""

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.models import AuditLog, KioskToken, Membership, Notification, Role, User
from tests.test_device_binding import PHONE, TABLET, _bound, _gate


def _membership(dbs, user_id) -> Membership:
    with dbs() as s:
        m = s.scalar(sa.select(Membership).where(Membership.user_id == user_id, Membership.role == Role.GUARD))
        s.expunge(m)
        return m


def _actions(dbs, action):
    with dbs() as s:
        return list(s.scalars(sa.select(AuditLog).where(AuditLog.action == action)))


def _set_phone(dbs, email, phone):
    with dbs() as s:
        s.execute(sa.update(User).where(User.email == email).values(phone=phone, full_name="Ada Admin"))
        s.commit()


def test_the_refusal_page_gives_a_way_out_request_whom_to_call_and_sign_out(client, estate_pair, login, dbs):
    _set_phone(dbs, "admin@alpha.test", "+2348030000111")
    login("guard@alpha.test")
    _gate(client, TABLET)
    page = _gate(client, PHONE)
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "assigned to a different device" in html
    assert 'id="device-change-request"' in html and "Ask to use this device" in html
    assert re.search(r'hx-confirm="Ask the estate(&#39;|\')s admins to move your guard account to this device\?', html)
    assert "Ada Admin" in html and 'href="tel:+2348030000111"' in html and "admin@alpha.test" in html
    assert 'id="device-sign-out"' in html and 'action="/logout"' in html
    assert "Go to your home page" not in html  # it reloaded the same refusal
    assert "gate-device.js" in html


def test_a_guard_asks_once_the_admins_are_told_once_and_the_page_shows_it_is_waiting(client, estate_pair, make,
                                                                                    login, dbs):
    second_admin = make.user("admin2@alpha.test", estate=estate_pair.alpha.estate, role=Role.ESTATE_ADMIN)
    make.user("admin@beta2.test", estate=estate_pair.beta.estate, role=Role.ESTATE_ADMIN)
    login("guard@alpha.test")
    _gate(client, TABLET)
    asked = client.post("/e/alpha/gate/device/change", headers={"X-Gate-Device": PHONE})
    assert asked.status_code == 302 and asked.headers["Location"] == "/e/alpha/gate/"
    guard = _membership(dbs, estate_pair.alpha.guard.id)
    assert guard.device_change_requested_at is not None and guard.bound_device_id == TABLET  # nothing moves yet
    [log] = _actions(dbs, "guard.device_change_requested")
    assert log.actor_user_id == estate_pair.alpha.guard.id and log.estate_id == estate_pair.alpha.estate.id
    with dbs() as s:
        told = s.scalars(sa.select(Notification).where(Notification.kind == "device_change_requested")).all()
        assert sorted(n.user_id for n in told) == sorted([estate_pair.alpha.admin.id, second_admin.id])
        assert told[0].link == f"/e/alpha/admin/members/{estate_pair.alpha.guard.id}/"
    page = _gate(client, PHONE).get_data(as_text=True)
    assert 'id="device-change-pending"' in page and 'id="device-change-request"' not in page
    assert "Your request was sent to the estate" in page.replace("&#39;", "'")
    again = client.post("/e/alpha/gate/device/change", headers={"X-Gate-Device": PHONE}, follow_redirects=True)
    assert "Your request is already waiting for an admin." in again.get_data(as_text=True)
    assert len(_actions(dbs, "guard.device_change_requested")) == 1
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2


def test_the_bound_device_itself_has_nothing_to_ask(client, estate_pair, login, dbs):
    login("guard@alpha.test")
    _gate(client, TABLET)
    client.post("/e/alpha/gate/device/change", headers={"X-Gate-Device": TABLET})
    assert _membership(dbs, estate_pair.alpha.guard.id).device_change_requested_at is None
    assert _actions(dbs, "guard.device_change_requested") == []


def test_the_admin_approves_in_one_tap_and_the_new_device_is_bound_at_its_next_request(app, client, estate_pair,
                                                                                      login, dbs):
    login("guard@alpha.test")
    _gate(client, TABLET)
    client.post("/e/alpha/gate/device/change", headers={"X-Gate-Device": PHONE})
    guard_id = estate_pair.alpha.guard.id
    with dbs() as s:
        membership_id = s.scalar(sa.select(Membership.id).where(Membership.user_id == guard_id,
                                                                Membership.role == Role.GUARD))
        now = datetime.now(UTC)
        s.add(KioskToken(membership_id=membership_id, jti="kiosk-jti-1", device_id=TABLET,
                         estate_id=estate_pair.alpha.estate.id, issued_at=now, expires_at=now + timedelta(hours=8)))
        s.commit()

    admin = app.test_client()
    login("admin@alpha.test", as_client=admin)
    dashboard = admin.get("/e/alpha/admin/").get_data(as_text=True)
    assert 'id="device-requests"' in dashboard and "Device change requested" in dashboard
    button = re.search(rf'<form method="post" action="/e/alpha/admin/members/{guard_id}/device/approve"[^>]*>',
                       dashboard).group(0)
    assert "hx-confirm" not in button  # one tap
    listing = admin.get("/e/alpha/admin/members/").get_data(as_text=True)
    assert "Device change requested" in listing
    assert 'id="device-change-requested"' in admin.get(f"/e/alpha/admin/members/{guard_id}/").get_data(as_text=True)

    approved = admin.post(f"/e/alpha/admin/members/{guard_id}/device/approve", data={"next": "/e/alpha/admin/"})
    assert approved.status_code == 302 and approved.headers["Location"] == "/e/alpha/admin/"
    after = _membership(dbs, guard_id)
    assert (after.bound_device_id, after.device_change_requested_at) == (None, None)
    [log] = _actions(dbs, "guard.device_change_approved")
    assert log.actor_user_id == estate_pair.alpha.admin.id and log.before["device"] == TABLET[:8]
    with dbs() as s:
        assert s.scalar(sa.select(KioskToken.revoked_at).where(KioskToken.jti == "kiosk-jti-1")) is not None
    assert 'id="device-requests"' not in admin.get("/e/alpha/admin/").get_data(as_text=True)

    assert _gate(client, PHONE).status_code == 200  # the device the guard asked from
    assert _bound(dbs, guard_id) == PHONE
    assert _gate(client, TABLET).status_code == 403

    twice = admin.post(f"/e/alpha/admin/members/{guard_id}/device/approve", follow_redirects=True)
    assert "has no device change waiting" in twice.get_data(as_text=True)
    assert _bound(dbs, guard_id) == PHONE


def test_a_reset_settles_a_pending_request_and_another_estates_admin_cannot_approve(app, client, estate_pair,
                                                                                   login, dbs):
    login("guard@alpha.test")
    _gate(client, TABLET)
    client.post("/e/alpha/gate/device/change", headers={"X-Gate-Device": PHONE})
    guard_id = estate_pair.alpha.guard.id
    beta_admin = app.test_client()
    login("admin@beta.test", as_client=beta_admin)
    assert beta_admin.post(f"/e/beta/admin/members/{guard_id}/device/approve").status_code == 404
    assert _membership(dbs, guard_id).device_change_requested_at is not None
    admin = app.test_client()
    login("admin@alpha.test", as_client=admin)
    admin.post(f"/e/alpha/admin/members/{guard_id}/device/reset")
    after = _membership(dbs, guard_id)
    assert (after.bound_device_id, after.device_change_requested_at) == (None, None)
    assert _actions(dbs, "guard.device_reset")[0].before["change_requested_at"]


def test_a_device_bound_to_another_guard_offers_whom_to_call_not_a_request(app, client, estate_pair, make, login):
    make.user("guard2@alpha.test", estate=estate_pair.alpha.estate, role=Role.GUARD)
    login("guard@alpha.test")
    _gate(client, TABLET)
    other = app.test_client()
    login("guard2@alpha.test", as_client=other)
    html = _gate(other, TABLET).get_data(as_text=True)
    assert "Device in use" in html and 'id="device-change-request"' not in html
    assert 'id="device-contacts"' in html and 'id="device-sign-out"' in html


def test_the_dashboard_runs_a_constant_number_of_queries_with_requests(client, estate_pair, make, login, dbs,
                                                                      count_queries):
    login("admin@alpha.test")
    client.get("/e/alpha/admin/")
    with count_queries() as none:
        client.get("/e/alpha/admin/")
    with dbs() as s:
        for n in range(3):
            user = make.user(f"g{n}@alpha.test", estate=estate_pair.alpha.estate, role=Role.GUARD)
            s.execute(sa.update(Membership).where(Membership.user_id == user.id).values(
                bound_device_id=f"device-{n}-0123456789", device_change_requested_at=sa.func.now()))
        s.commit()
    with count_queries() as three:
        html = client.get("/e/alpha/admin/").get_data(as_text=True)
    assert html.count('id="device-request-') == 3
    assert three.count == none.count

