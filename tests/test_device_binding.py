"""A guard account works on one gate device: the first device id seen is bound; the
same is accepted, another is refused until an admin resets the binding."""

import sqlalchemy as sa

from portal.accounts import devices
from portal.models import AuditLog, Membership, Role

TABLET = "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
PHONE = "22222222-bbbb-4bbb-8bbb-bbbbbbbbbbbb"


def _gate(client, device=None, cookie=None, **headers):
    if device:
        headers["X-Gate-Device"] = device
    if cookie:
        client.set_cookie("gate_device", cookie)
    return client.get("/e/alpha/gate/", headers=headers)


def _bound(dbs, user_id):
    with dbs() as s:
        return s.scalar(sa.select(Membership.bound_device_id).where(
            Membership.user_id == user_id, Membership.role == Role.GUARD))


def test_first_device_is_bound_then_only_it_is_accepted(client, estate_pair, login, dbs):
    login("guard@alpha.test")
    assert _gate(client, TABLET).status_code == 200
    assert _bound(dbs, estate_pair.alpha.guard.id) == TABLET
    assert _gate(client, TABLET).status_code == 200
    refused = _gate(client, PHONE)
    assert refused.status_code == 403
    assert b"This guard account is assigned to a different device. Ask an admin to reset it." in refused.data
    assert _bound(dbs, estate_pair.alpha.guard.id) == TABLET
    with dbs() as s:
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "guard.device_bound"))
        assert log.estate_id == estate_pair.alpha.estate.id and log.after == {"device": TABLET[:8]}


def test_requests_without_a_device_id_are_accepted_until_the_account_is_bound(client, estate_pair, login, dbs):
    login("guard@alpha.test")
    assert _gate(client).status_code == 200
    assert _gate(client, "short").status_code == 200  # malformed ids count as none
    assert _bound(dbs, estate_pair.alpha.guard.id) is None
    _gate(client, TABLET)
    refused = _gate(client)  # bound now: no id is not this device
    assert refused.status_code == 403
    assert "assigned to a different device" in refused.get_data(as_text=True)
    assert "gate-device.js" in refused.get_data(as_text=True)  # so the right device can set its cookie
    assert _gate(client, TABLET).status_code == 200


def test_the_cookie_is_read_when_there_is_no_header_and_the_header_wins(client, estate_pair, login, dbs):
    login("guard@alpha.test")
    assert _gate(client, cookie=TABLET).status_code == 200
    assert _bound(dbs, estate_pair.alpha.guard.id) == TABLET
    assert _gate(client, cookie=PHONE).status_code == 403
    assert _gate(client, TABLET, cookie=PHONE).status_code == 200


def test_a_device_bound_to_another_guard_is_a_409(app, client, estate_pair, make, login, dbs):
    make.user("guard2@alpha.test", estate=estate_pair.alpha.estate, role=Role.GUARD)
    login("guard@alpha.test")
    _gate(client, TABLET)
    other = app.test_client()
    login("guard2@alpha.test", as_client=other)
    response = _gate(other, TABLET)
    assert response.status_code == 409
    assert b"This device is assigned to another guard account." in response.data
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Membership).where(
            Membership.bound_device_id.is_not(None))) == 1


def test_htmx_refusal_goes_to_the_message_area(client, estate_pair, login):
    login("guard@alpha.test")
    _gate(client, TABLET)
    response = client.get("/e/alpha/gate/?q=x", headers={"X-Gate-Device": PHONE, "HX-Request": "true"})
    assert response.status_code == 403 and response.headers["HX-Retarget"] == "#messages"


def test_admin_sees_and_resets_the_device_then_a_new_device_binds(app, client, estate_pair, login, dbs):
    guard = app.test_client()
    login("guard@alpha.test", as_client=guard)
    _gate(guard, TABLET)
    login("admin@alpha.test")
    guard_id = estate_pair.alpha.guard.id
    listing = client.get("/e/alpha/admin/members/").get_data(as_text=True)
    assert f"Device {TABLET[:8]} since" in listing and "Reset device" in listing
    assert "hx-confirm" in client.get(f"/e/alpha/admin/members/{guard_id}/").get_data(as_text=True)
    response = client.post(f"/e/alpha/admin/members/{guard_id}/device/reset")
    assert response.headers["Location"] == f"/e/alpha/admin/members/{guard_id}/"
    assert _bound(dbs, guard_id) is None
    assert _gate(guard, PHONE).status_code == 200
    assert _bound(dbs, guard_id) == PHONE
    assert _gate(guard, TABLET).status_code == 403
    with dbs() as s:
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "guard.device_reset"))
        assert log.actor_user_id == estate_pair.alpha.admin.id and log.before["device"] == TABLET[:8]


def test_admins_and_enterprise_admins_at_the_gate_are_not_bound(client, estate_pair, make, login, dbs):
    make.member(estate_pair.alpha.admin, estate_pair.alpha.estate, Role.GUARD)
    login("admin@alpha.test")
    assert _gate(client, TABLET).status_code == 200
    assert _gate(client, PHONE).status_code == 200
    assert _bound(dbs, estate_pair.alpha.admin.id) is None
    client.post("/logout")
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    assert _gate(client, TABLET).status_code == 200
    with dbs() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Membership).where(
            Membership.bound_device_id.is_not(None))) == 0


def test_resetting_a_device_of_another_estates_guard_is_a_404(client, estate_pair, login, dbs):
    with dbs() as s:
        s.execute(sa.update(Membership).where(Membership.user_id == estate_pair.beta.guard.id)
                  .values(bound_device_id=TABLET))
        s.commit()
    login("admin@alpha.test")
    assert client.post(f"/e/alpha/admin/members/{estate_pair.beta.guard.id}/device/reset").status_code == 404
    assert client.post(f"/e/alpha/admin/members/{estate_pair.alpha.resident.id}/device/reset").status_code == 404
    assert _bound(dbs, estate_pair.beta.guard.id) == TABLET


def test_the_service_is_reusable_outside_the_gate_pages(app, estate_pair, dbs):
    """The kiosk API will call check_device with a membership and a device id."""
    with dbs() as s:
        membership = s.scalar(sa.select(Membership).where(Membership.user_id == estate_pair.alpha.guard.id))
        assert devices.check_device(membership, TABLET) is True
        assert devices.check_device(membership, TABLET) is False
        try:
            devices.check_device(membership, None)
        except devices.DeviceMismatch:
            pass
        else:
            raise AssertionError("a bound account accepted a request without a device id")
        try:
            devices.check_device(membership, PHONE)
        except devices.DeviceMismatch as exc:
            assert (exc.code, exc.http_status) == ("DEVICE_MISMATCH", 403)
        else:
            raise AssertionError("another device was accepted")
        other = s.scalar(sa.select(Membership).where(Membership.user_id == estate_pair.beta.guard.id))
        try:
            devices.check_device(other, TABLET)
        except devices.DeviceInUse as exc:
            assert (exc.code, exc.http_status) == ("DEVICE_IN_USE", 409)
        else:
            raise AssertionError("a device of another guard was accepted")


def test_the_gate_page_carries_the_device_script(client, estate_pair, login):
    login("guard@alpha.test")
    assert b"/static/js/gate-device.js" in _gate(client).data
