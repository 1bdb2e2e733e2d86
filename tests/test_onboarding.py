"""Resident sign-up with admin approval (join page, short code, queue, bulk, expiry) and
invitations (who may invite whom, single-use links)."""

from __future__ import annotations

import itertools
import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.errors import DomainError
from portal.extensions import db
from portal.models import (
    Approval,
    ApprovalStatus,
    AuditLog,
    Estate,
    EstateStatus,
    Invitation,
    Membership,
    OutboxMessage,
    Resident,
    ResidentType,
    Role,
    Unit,
    User,
    UserStatus,
    utcnow,
)
from portal.onboarding import invitations
from portal.onboarding import join as joining
from tests.conftest import _PASSWORD_HASH, PASSWORD

NEW_PASSWORD = "joining-pass-9"
_phones = itertools.count()


@pytest.fixture(autouse=True)
def _generous_rate_limit(app):
    app.config["AUTH_RATE_LIMIT"] = "1000 per minute"


@pytest.fixture
def alpha(estate_pair, make):
    """estate_pair, with more units in alpha (B5 current, OLD archived)."""
    estate_pair.b5 = make.unit(estate_pair.alpha.estate, "B5", block="B")
    estate_pair.old = make.unit(estate_pair.alpha.estate, "OLD", archived_at=utcnow())
    return estate_pair


def join_form(unit: int, **overrides) -> dict:
    data = {
        "full_name": "Ada Newcomer", "email": "ada@new.test", "phone": "0803 123 4567",
        "unit_id": str(unit), "resident_type": "TENANT", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "emergency_contact_name": "Obi Newcomer", "emergency_contact_phone": "0803 765 4321", "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def count(s, model, *where) -> int:
    return s.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def join(client, pair, **overrides):
    return client.post(f"/e/{pair.alpha.estate.slug}/join", data=join_form(pair.b5.id, **overrides))


def pending_approval(dbs, email="ada@new.test"):
    with dbs() as s:
        return s.scalar(sa.select(Approval.id).join(User, User.id == Approval.user_id).where(User.email == email))


def outbox(dbs, recipient: str) -> list[OutboxMessage]:
    with dbs() as s:
        rows = s.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == recipient)
                         .order_by(OutboxMessage.id)).all()
        s.expunge_all()
        return rows


# --- the join page ---------------------------------------------------------------------


def test_join_page_offers_only_this_estates_current_units(client, alpha, make):
    make.unit(alpha.beta.estate, "ZZ9")
    page = client.get("/e/alpha/join")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Join Alpha Court" in html
    options = re.findall(r'<option value="(\d+)">([^<]+)</option>', html)
    assert [label for _, label in options] == ["A1", "B5"]


@pytest.mark.parametrize("slug", ["no-such-estate", "closed"])
def test_join_page_is_404_for_unknown_and_closed_estates(client, make, slug):
    make.estate("closed", status=EstateStatus.SUSPENDED)
    assert client.get(f"/e/{slug}/join").status_code == 404
    assert client.post(f"/e/{slug}/join", data={}).status_code == 404


def test_joining_creates_a_pending_user_and_a_30_day_request(client, alpha, dbs):
    response = join(client, alpha)
    assert response.status_code == 302 and response.headers["Location"] == "/e/alpha/join/sent"
    sent = client.get("/e/alpha/join/sent").get_data(as_text=True)
    assert "Your request was sent" in sent and "will check your request" in sent
    with dbs() as s:
        user = s.scalar(sa.select(User).where(User.email == "ada@new.test"))
        assert user.status == UserStatus.PENDING and user.phone == "+2348031234567"
        assert user.preferred_language == "en" and user.password_hash
        approval = s.scalar(sa.select(Approval).where(Approval.user_id == user.id))
        assert approval.estate_id == alpha.alpha.estate.id and approval.unit_id == alpha.b5.id
        assert approval.status == ApprovalStatus.PENDING and approval.resident_type == ResidentType.TENANT
        assert approval.emergency_contact_phone == "+2348037654321"
        assert abs(approval.expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)
        assert count(s, Membership, Membership.user_id == user.id) == 0
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "approval.requested"))
        assert log.estate_id == alpha.alpha.estate.id and log.after["consent_to_terms"] is True


def test_a_pending_applicant_who_signs_in_is_told_the_request_is_waiting(client, alpha):
    join(client, alpha)
    response = client.post("/login", data={"login": "ada@new.test", "password": NEW_PASSWORD})
    assert response.status_code == 401
    assert b"Your account is waiting for approval by the estate" in response.data


def test_an_email_alone_or_a_phone_alone_is_enough(client, alpha, dbs):
    assert join(client, alpha, phone="").status_code == 302
    assert join(client, alpha, email="", phone="+234 803 000 1111", full_name="Phone Only").status_code == 302
    with dbs() as s:
        assert s.scalar(sa.select(User.email).where(User.phone == "+2348030001111")) is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"full_name": ""}, b"This field is required."),
        ({"email": "", "phone": ""}, b"Give an email address or a phone number (or both)."),
        ({"email": "not-an-email"}, b"Enter a valid email address."),
        ({"phone": "12"}, b"Enter a valid phone number"),
        ({"emergency_contact_phone": "abc"}, b"Enter a valid phone number"),
        ({"emergency_contact_name": ""}, b"This field is required."),
        ({"confirm": "something-else"}, b"The two passwords do not match."),
        ({"password": "short", "confirm": "short"}, b"The password must have at least 8 characters."),
        ({"consent": None}, b"You must accept the terms to send your request."),
        ({"unit_id": ""}, b"This field is required."),
        ({"resident_type": "LANDLORD"}, b"Not a valid choice."),
    ],
)
def test_bad_join_input_gets_a_message_and_writes_nothing(client, alpha, dbs, overrides, message):
    response = join(client, alpha, **overrides)
    assert response.status_code == 422
    assert message in response.data
    with dbs() as s:
        assert count(s, Approval) == 0 and count(s, User, User.status == UserStatus.PENDING) == 0


def test_units_of_another_estate_or_archived_ones_cannot_be_chosen(client, alpha, dbs):
    for unit_id in (alpha.beta.unit.id, alpha.old.id):
        response = client.post("/e/alpha/join", data=join_form(unit_id))
        assert response.status_code == 422 and b"Not a valid choice." in response.data
    with dbs() as s:
        assert count(s, Approval) == 0


def test_a_phone_already_used_by_a_resident_of_this_estate_is_refused_with_409(client, alpha, make, dbs):
    make.resident(alpha.alpha.estate, alpha.alpha.unit, "No Login", phone="+2348022223333")
    response = join(client, alpha, phone="0802 222 3333")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "A resident of this estate is already registered with this phone number." in html
    assert 'id="phone-error"' in html
    with dbs() as s:
        assert count(s, Approval) == 0 and count(s, User, User.status == UserStatus.PENDING) == 0


@pytest.mark.parametrize(
    "overrides, recipient",
    [
        ({"email": "ADMIN@alpha.test"}, "admin@alpha.test"),
        ({"email": "admin@beta.test"}, "admin@beta.test"),
        ({"phone": "+2348000000999", "email": ""}, "+2348000000999"),
    ],
)
def test_details_of_an_existing_account_get_the_same_answer_and_the_owner_is_told(
        client, alpha, make, dbs, overrides, recipient):
    make.user("someone@else.test", phone="+2348000000999")
    new = join(client.application.test_client(), alpha, email="fresh@new.test", phone="0803 000 1111")
    response = join(client, alpha, **overrides)
    assert response.status_code == new.status_code == 302
    assert response.headers["Location"] == new.headers["Location"]
    assert "already" not in client.get(response.headers["Location"]).get_data(as_text=True)
    with dbs() as s:
        assert count(s, Approval) == 1  # only the new person's
    (notice,) = outbox(dbs, recipient)
    assert "Alpha Court" in notice.body and "no request was made" in notice.body.lower()


def test_the_service_makes_no_request_for_an_existing_account(app, alpha, dbs):
    data = joining.JoinData(
        full_name="X", email="admin@alpha.test", phone="", unit_id=alpha.b5.id, resident_type=ResidentType.OWNER,
        password=NEW_PASSWORD, emergency_contact_name="Y", emergency_contact_phone="08031112222", consent=True)
    with app.test_request_context():
        assert joining.request_to_join(db.session.get(Estate, alpha.alpha.estate.id), data) is None
    with dbs() as s:
        assert count(s, Approval) == 0


def test_a_second_request_with_the_same_details_answers_as_the_first(client, alpha, dbs):
    first = join(client, alpha)
    again = join(client, alpha, phone="")
    assert again.status_code == first.status_code == 302
    with dbs() as s:
        assert count(s, Approval) == 1
    assert len(outbox(dbs, "ada@new.test")) == 1  # the owner is told of the second try


def test_the_join_form_is_rate_limited_like_sign_in(client, alpha, app):
    app.config["AUTH_RATE_LIMIT"] = "2 per minute"
    codes = [join(client, alpha, email="", full_name="").status_code for _ in range(3)]
    assert codes == [422, 422, 429]


# --- the estate's short code ---------------------------------------------------------


def test_the_approvals_page_gives_the_estate_a_code_and_the_code_leads_to_the_join_page(client, alpha, login, dbs):
    login("admin@alpha.test")
    page = client.get("/e/alpha/admin/approvals/").get_data(as_text=True)
    with dbs() as s:
        code = s.scalar(sa.select(Estate.join_code).where(Estate.id == alpha.alpha.estate.id))
        assert s.scalar(sa.select(AuditLog.action).where(AuditLog.action == "estate.join_code_assigned"))
    assert re.fullmatch(r"[A-HJKMNP-Z]{6}", code)
    assert code in page and "http://localhost/e/alpha/join" in page and f"http://localhost/join/{code}" in page
    client.get("/e/alpha/admin/approvals/")  # the code stays
    with dbs() as s:
        assert s.scalar(sa.select(Estate.join_code).where(Estate.id == alpha.alpha.estate.id)) == code
    client.post("/logout")
    response = client.post("/join", data={"code": f" {code.lower()} "})
    assert response.status_code == 302 and response.headers["Location"] == "/e/alpha/join"
    assert client.get(f"/join/{code.lower()}").headers["Location"] == "/e/alpha/join"
    assert client.get("/join").status_code == 200


def test_an_unknown_code_is_refused(client, alpha):
    response = client.post("/join", data={"code": "NOPE42"})
    assert response.status_code == 422 and b"No estate has this code." in response.data
    assert client.get("/join/NOPE42").status_code == 404


def test_a_suspended_estates_code_leads_nowhere(client, make):
    make.estate("shut", status=EstateStatus.SUSPENDED, join_code="SHUTTT")
    assert client.get("/join/SHUTTT").status_code == 404


def test_a_join_code_collision_draws_again(app, alpha, make, monkeypatch):
    make.estate("other", join_code="AAAAAA")
    draws = iter(["AAAAAA", "BBBBBB"])
    monkeypatch.setattr(joining, "_random_join_code", lambda: next(draws))
    with app.app_context():
        estate = db.session.get(Estate, alpha.alpha.estate.id)
        assert joining.ensure_join_code(None, estate) == "BBBBBB"


# --- the approval queue --------------------------------------------------------------


@pytest.fixture
def admin(client, alpha, login):
    login("admin@alpha.test")
    return alpha


def add_requests(app, estate_id: int, unit_id: int, n: int, *, status=ApprovalStatus.PENDING, prefix="person",
                 expires_in=timedelta(days=30)) -> list[int]:
    """n sign-up requests made straight in the database (bulk, quick)."""
    with app.app_context():
        users = [User(full_name=f"{prefix.title()} {i}", email=f"{prefix}{i}@join.test", phone=f"+23480555{next(_phones):05d}",
                      password_hash=_PASSWORD_HASH, status=UserStatus.PENDING, preferred_language="en")
                 for i in range(n)]
        db.session.add_all(users)
        db.session.flush()
        approvals = [Approval(estate_id=estate_id, user_id=u.id, unit_id=unit_id, resident_type=ResidentType.OWNER,
                              emergency_contact_name="EC", status=status, expires_at=utcnow() + expires_in)
                     for u in users]
        db.session.add_all(approvals)
        db.session.commit()
        return [a.id for a in approvals]


def _names(html: str) -> list[str]:
    return re.findall(r"<td><strong>([^<]+)</strong></td>", html)


def test_the_queue_lists_this_estates_waiting_requests_with_a_badge_on_every_admin_page(client, admin, app):
    add_requests(app, admin.alpha.estate.id, admin.b5.id, 2)
    add_requests(app, admin.beta.estate.id, admin.beta.unit.id, 3, prefix="beta")
    html = client.get("/e/alpha/admin/approvals/").get_data(as_text=True)
    assert _names(html) == ["Person 0", "Person 1"] and "2 requests" in html
    for path in ("/e/alpha/admin/", "/e/alpha/admin/units/", "/e/alpha/admin/approvals/"):
        page = client.get(path).get_data(as_text=True)
        assert re.search(r'id="approvals-badge"[^>]*>2</span>', page), path


def test_no_badge_when_nothing_waits(client, admin):
    assert b'id="approvals-badge"' not in client.get("/e/alpha/admin/").data
    assert b"No request is waiting for you." in client.get("/e/alpha/admin/approvals/").data


def test_the_queue_searches_and_filters_and_htmx_swaps_only_the_table(client, admin, app, dbs):
    ids = add_requests(app, admin.alpha.estate.id, admin.b5.id, 3)
    with dbs() as s:
        s.execute(sa.update(Approval).where(Approval.id == ids[2]).values(status=ApprovalStatus.REJECTED))
        s.commit()
    assert _names(client.get("/e/alpha/admin/approvals/?q=person1@").get_data(as_text=True)) == ["Person 1"]
    with dbs() as s:
        phone = s.scalar(sa.select(User.phone).where(User.email == "person0@join.test"))
    assert _names(client.get(f"/e/alpha/admin/approvals/?q={phone[4:]}").get_data(as_text=True)) == ["Person 0"]
    assert _names(client.get("/e/alpha/admin/approvals/?q=b5").get_data(as_text=True)) == ["Person 0", "Person 1"]
    assert _names(client.get("/e/alpha/admin/approvals/?status=REJECTED").get_data(as_text=True)) == ["Person 2"]
    assert len(_names(client.get("/e/alpha/admin/approvals/?status=ALL").get_data(as_text=True))) == 3
    fragment = client.get("/e/alpha/admin/approvals/?q=person0", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.data and b'id="approval-table"' not in fragment.data  # swapped into it, never nested
    assert b"No request matches this search." in client.get("/e/alpha/admin/approvals/?q=nobody").data


def test_the_queue_is_paginated(client, admin, app):
    add_requests(app, admin.alpha.estate.id, admin.b5.id, 27)
    first = client.get("/e/alpha/admin/approvals/").get_data(as_text=True)
    assert len(_names(first)) == 25 and "Page 1 of 2" in first
    assert len(_names(client.get("/e/alpha/admin/approvals/?page=2").get_data(as_text=True))) == 2


def test_the_queue_and_the_invitations_run_a_constant_number_of_queries(client, admin, app, count_queries, make):
    for path in ("/e/alpha/admin/approvals/", "/e/alpha/admin/invitations/"):
        client.get(path)
    add_requests(app, admin.alpha.estate.id, admin.b5.id, 2)
    _invite_many(app, admin, 2)
    few = {}
    for path in ("/e/alpha/admin/approvals/", "/e/alpha/admin/invitations/"):
        with count_queries() as c:
            client.get(path)
        few[path] = c.count
    add_requests(app, admin.alpha.estate.id, admin.b5.id, 30, prefix="more")
    _invite_many(app, admin, 30, prefix="many")
    for path in ("/e/alpha/admin/approvals/", "/e/alpha/admin/invitations/"):
        with count_queries() as c:
            client.get(path)
        assert c.count == few[path], path


def test_the_detail_page_shows_the_request(client, admin):
    join(client.application.test_client(), admin)
    approval_id = pending_approval_id(client)
    html = client.get(f"/e/alpha/admin/approvals/{approval_id}").get_data(as_text=True)
    assert "Request of Ada Newcomer" in html and "B5" in html and "Obi Newcomer" in html
    assert "+2348031234567" in html and 'id="approve"' in html


def pending_approval_id(client) -> int:
    with client.application.app_context():
        return db.session.scalar(sa.select(Approval.id).where(Approval.status == ApprovalStatus.PENDING))


def test_approving_activates_the_user_with_a_membership_and_a_resident_row_and_tells_them(
        client, admin, app, dbs, login):
    applicant = app.test_client()
    applicant.post("/language", data={"lang": "es"})
    join(applicant, admin)
    approval_id = pending_approval_id(client)
    response = client.post(f"/e/alpha/admin/approvals/{approval_id}/approve")
    assert response.status_code == 302 and response.headers["Location"] == "/e/alpha/admin/approvals/"
    assert b"Ada Newcomer was approved and can sign in now." in client.get("/e/alpha/admin/approvals/").data
    with dbs() as s:
        approval = s.get(Approval, approval_id)
        assert approval.status == ApprovalStatus.APPROVED and approval.decided_by_id == admin.alpha.admin.id
        user = s.get(User, approval.user_id)
        assert user.status == UserStatus.ACTIVE and user.preferred_language == "es"
        membership = s.scalar(sa.select(Membership).where(Membership.user_id == user.id))
        assert (membership.estate_id, membership.role) == (admin.alpha.estate.id, Role.RESIDENT)
        resident = s.scalar(sa.select(Resident).where(Resident.user_id == user.id))
        assert (resident.unit_id, resident.resident_type, resident.phone, resident.email) == (
            admin.b5.id, ResidentType.TENANT, "+2348031234567", "ada@new.test")
        assert resident.emergency_contact_name == "Obi Newcomer" and resident.move_in_date == datetime.now(ZoneInfo("Africa/Lagos")).date()
        log = s.scalar(sa.select(AuditLog).where(AuditLog.action == "approval.approved"))
        assert log.actor_user_id == admin.alpha.admin.id and log.after["resident_id"] == resident.id
    (mail,) = outbox(dbs, "ada@new.test")
    assert "Alpha Court" in mail.subject and "http://localhost/login" in mail.body
    (sms,) = outbox(dbs, "+2348031234567")
    assert "Alpha Court" in sms.body
    # Signs in at once, and lands on the resident home.
    response = applicant.post("/login", data={"login": "ada@new.test", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/e/alpha/home/"


def test_rejecting_needs_a_reason_then_disables_the_user_and_tells_them_why(client, admin, dbs):
    join(client.application.test_client(), admin)
    approval_id = pending_approval_id(client)
    refused = client.post(f"/e/alpha/admin/approvals/{approval_id}/reject", data={"reason": "  "})
    assert refused.status_code == 422 and b"Give a reason; the applicant will read it." in refused.data
    with dbs() as s:
        assert s.get(Approval, approval_id).status == ApprovalStatus.PENDING
    response = client.post(f"/e/alpha/admin/approvals/{approval_id}/reject",
                           data={"reason": "Unit B5 is not rented out."})
    assert response.status_code == 302
    with dbs() as s:
        approval = s.get(Approval, approval_id)
        assert approval.status == ApprovalStatus.REJECTED and approval.reason == "Unit B5 is not rented out."
        assert s.get(User, approval.user_id).status == UserStatus.DISABLED
        assert count(s, Membership, Membership.user_id == approval.user_id) == 0
        assert count(s, Resident, Resident.user_id == approval.user_id) == 0
        assert s.scalar(sa.select(AuditLog.after).where(AuditLog.action == "approval.rejected"))["reason"]
    (mail,) = outbox(dbs, "ada@new.test")
    assert "Unit B5 is not rented out." in mail.body
    # They cannot sign in, nor sign up again with the same details.
    signin = client.application.test_client().post("/login", data={"login": "ada@new.test", "password": NEW_PASSWORD})
    assert signin.status_code == 401 and b"has been disabled" in signin.data
    again = join(client.application.test_client(), admin)
    assert again.status_code == 302  # the same answer as a new request; nothing is made
    with dbs() as s:
        assert count(s, Approval) == 1


def test_a_decided_request_cannot_be_decided_again(client, admin, dbs):
    join(client.application.test_client(), admin)
    approval_id = pending_approval_id(client)
    client.post(f"/e/alpha/admin/approvals/{approval_id}/approve")
    response = client.post(f"/e/alpha/admin/approvals/{approval_id}/reject", data={"reason": "Changed my mind"})
    assert response.headers["Location"] == f"/e/alpha/admin/approvals/{approval_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This request has already been decided (Approved). Nothing was changed." in page
    assert 'id="approve"' not in page
    with dbs() as s:
        assert s.get(Approval, approval_id).status == ApprovalStatus.APPROVED
        assert count(s, Resident, Resident.email == "ada@new.test") == 1
        assert count(s, AuditLog, AuditLog.action.like("approval.%")) == 2  # requested, approved


@pytest.mark.real_commits  # the other admin writes on a connection of its own
def test_two_admins_deciding_at_once_decide_it_once(client, admin, app, dbs):
    """Another admin rejects the request between our read and our write: the
    conditional UPDATE finds it no longer PENDING, and nothing of ours is written."""
    join(client.application.test_client(), admin)
    approval_id = pending_approval_id(client)
    with app.app_context():
        engine = db.engine
    fired = []

    def other_admin_first(conn, cursor, statement, *args):
        if not fired and statement.lstrip().upper().startswith("UPDATE APPROVAL"):
            fired.append(True)
            with engine.begin() as other:
                other.execute(sa.text("UPDATE approval SET status = 'REJECTED', reason = 'other admin' WHERE id = :id"),
                              {"id": approval_id})

    sa.event.listen(engine, "before_cursor_execute", other_admin_first)
    try:
        response = client.post(f"/e/alpha/admin/approvals/{approval_id}/approve")
    finally:
        sa.event.remove(engine, "before_cursor_execute", other_admin_first)
    assert fired and response.status_code == 302
    assert b"already been decided (Rejected)" in client.get(response.headers["Location"]).data
    with dbs() as s:
        approval = s.get(Approval, approval_id)
        assert approval.status == ApprovalStatus.REJECTED and approval.reason == "other admin"
        assert count(s, Membership, Membership.user_id == approval.user_id) == 0
        assert count(s, Resident, Resident.user_id == approval.user_id) == 0
        assert count(s, AuditLog, AuditLog.action == "approval.approved") == 0


def test_bulk_approve_and_bulk_reject_with_a_reason(client, admin, app, dbs):
    ids = add_requests(app, admin.alpha.estate.id, admin.b5.id, 4)
    response = client.post("/e/alpha/admin/approvals/bulk", data={"ids": [ids[0], ids[1]], "action": "approve"})
    assert response.status_code == 302
    assert b"2 requests were approved." in client.get("/e/alpha/admin/approvals/").data
    no_reason = client.post("/e/alpha/admin/approvals/bulk", data={"ids": [ids[2], ids[3]], "action": "reject"})
    assert no_reason.status_code == 422 and b"Give a reason; the applicant will read it." in no_reason.data
    assert no_reason.data.count(b" checked") == 2  # the selection is kept
    none = client.post("/e/alpha/admin/approvals/bulk", data={"action": "approve"})
    assert none.status_code == 422 and b"Select at least one request." in none.data
    client.post("/e/alpha/admin/approvals/bulk",
                data={"ids": [ids[1], ids[2], ids[3]], "action": "reject", "reason": "Not known to the owners"})
    listing = client.get("/e/alpha/admin/approvals/?status=ALL").get_data(as_text=True)
    assert "2 requests were rejected." in listing and "1 request had already been decided" in listing
    with dbs() as s:
        statuses = [s.get(Approval, i).status for i in ids]
        assert statuses == [ApprovalStatus.APPROVED] * 2 + [ApprovalStatus.REJECTED] * 2
        assert count(s, Membership, Membership.role == Role.RESIDENT, Membership.estate_id == admin.alpha.estate.id) == 3
        assert count(s, OutboxMessage, OutboxMessage.channel == "EMAIL") == 4


def test_requests_show_expired_after_30_days_and_the_cli_records_it(client, admin, app, dbs):
    late = add_requests(app, admin.alpha.estate.id, admin.b5.id, 2, prefix="late", expires_in=timedelta(seconds=-1))
    fresh = add_requests(app, admin.alpha.estate.id, admin.b5.id, 1, prefix="fresh")
    other = add_requests(app, admin.beta.estate.id, admin.beta.unit.id, 1, prefix="other",
                         expires_in=timedelta(seconds=-1))
    # The badge never counts a request that is due, even before it is marked.
    assert re.search(rb'id="approvals-badge"[^>]*>1</span>', client.get("/e/alpha/admin/").data)
    html = client.get("/e/alpha/admin/approvals/").get_data(as_text=True)
    assert _names(html) == ["Fresh 0"]
    expired = client.get("/e/alpha/admin/approvals/?status=EXPIRED").get_data(as_text=True)
    assert sorted(_names(expired)) == ["Late 0", "Late 1"] and "badge-expired" in expired
    # Pages only show it: nothing is written until the job runs.
    with dbs() as s:
        assert {s.get(Approval, i).status for i in late + fresh + other} == {ApprovalStatus.PENDING}
        assert count(s, AuditLog, AuditLog.action == "approval.expired") == 0 and count(s, OutboxMessage) == 0
    # Deciding an expired request is refused, and changes nothing.
    response = client.post(f"/e/alpha/admin/approvals/{late[0]}/approve")
    assert b"already been decided (Expired)" in client.get(response.headers["Location"]).data
    with dbs() as s:
        assert s.get(Approval, late[0]).status == ApprovalStatus.PENDING and count(s, OutboxMessage) == 0
    # The command expires every estate's due requests: audited, the users disabled and told.
    result = app.test_cli_runner().invoke(args=["expire-approvals"])
    assert result.exit_code == 0 and "Expired sign-up requests: 3" in result.output
    with dbs() as s:
        assert [s.get(Approval, i).status for i in late + fresh + other] == [
            ApprovalStatus.EXPIRED, ApprovalStatus.EXPIRED, ApprovalStatus.PENDING, ApprovalStatus.EXPIRED]
        assert s.scalar(sa.select(User.status).where(User.email == "late0@join.test")) == UserStatus.DISABLED
        assert count(s, AuditLog, AuditLog.action == "approval.expired") == 3
    assert "expired" in outbox(dbs, "late0@join.test")[0].subject


def test_a_request_due_when_opened_is_shown_expired(client, admin, app):
    (late,) = add_requests(app, admin.alpha.estate.id, admin.b5.id, 1, expires_in=timedelta(seconds=-1))
    html = client.get(f"/e/alpha/admin/approvals/{late}").get_data(as_text=True)
    assert 'id="approval-status">Expired<' in html and 'id="approve"' not in html


# --- tenancy and roles ---------------------------------------------------------------


def test_another_estates_requests_and_invitations_are_404_and_unchanged(client, admin, app, dbs, make):
    (theirs,) = add_requests(app, admin.beta.estate.id, admin.beta.unit.id, 1, prefix="beta")
    (ours,) = add_requests(app, admin.alpha.estate.id, admin.b5.id, 1)
    invitation = _invite_many(app, admin, 1, estate="beta")[0]
    assert client.get(f"/e/alpha/admin/approvals/{theirs}").status_code == 404
    assert client.post(f"/e/alpha/admin/approvals/{theirs}/approve").status_code == 404
    assert client.post(f"/e/alpha/admin/approvals/{theirs}/reject", data={"reason": "x"}).status_code == 404
    bulk = client.post("/e/alpha/admin/approvals/bulk", data={"ids": [ours, theirs], "action": "approve"})
    assert bulk.status_code == 404
    assert client.post(f"/e/alpha/admin/invitations/{invitation}/resend").status_code == 404
    assert client.post(f"/e/alpha/admin/invitations/{invitation}/revoke").status_code == 404
    with dbs() as s:
        assert s.get(Approval, theirs).status == ApprovalStatus.PENDING
        assert s.get(Approval, ours).status == ApprovalStatus.PENDING
        inv = s.get(Invitation, invitation)
        assert inv.revoked_at is None and count(s, OutboxMessage) == 0
    assert b"beta0" not in client.get("/e/alpha/admin/invitations/").data
    assert b"Beta 0" not in client.get("/e/alpha/admin/approvals/").data


@pytest.mark.parametrize("who", ["guard", "resident"])
def test_guards_and_residents_cannot_open_the_queue_or_the_invitations(client, alpha, login, who):
    login(f"{who}@alpha.test")
    for path in ("/e/alpha/admin/approvals/", "/e/alpha/admin/invitations/"):
        assert client.get(path).status_code == 403
    assert client.post("/e/alpha/admin/approvals/bulk", data={"action": "approve"}).status_code == 403
    assert client.post("/e/alpha/admin/invitations/", data={"role": "GUARD"}).status_code == 403


# --- invitations -----------------------------------------------------------------------


def _invite_many(app, pair, n: int, prefix: str = "invitee", estate: str = "alpha") -> list[int]:
    """n pending invitations straight in the database (bulk, quick)."""
    people = getattr(pair, estate)
    with app.app_context():
        rows = [Invitation(estate_id=people.estate.id, full_name=f"{prefix.title()} {i}",
                           email=f"{estate}{prefix}{i}@inv.test", role=Role.GUARD,
                           token_hash=secrets.token_hex(32),
                           expires_at=utcnow() + timedelta(days=7), invited_by_id=people.admin.id) for i in range(n)]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def invite(client, path="/e/alpha/admin/invitations/", **data):
    form = {"role": "GUARD", "full_name": "Gate Keeper", "email": "keeper@new.test", "phone": "",
            "resident_type": "OWNER", "unit_id": ""}
    form.update(data)
    return client.post(path, data={k: v for k, v in form.items() if v is not None})


def link_in(message: OutboxMessage) -> str:
    return re.search(r"http://localhost(/invite/\S+)", message.body).group(1)


def test_an_admin_invites_a_guard_supervisor_who_sets_a_password_and_is_signed_in(client, admin, app, dbs):
    response = invite(client, is_supervisor="y")
    assert response.status_code == 302
    assert b"The invitation was sent to keeper@new.test." in client.get("/e/alpha/admin/invitations/").data
    with dbs() as s:  # no account until the person accepts
        assert s.scalar(sa.select(User).where(User.email == "keeper@new.test")) is None
        invitation = s.scalar(sa.select(Invitation).where(Invitation.email == "keeper@new.test"))
        assert invitation.is_supervisor and invitation.role == Role.GUARD and invitation.user_id is None
        assert invitation.full_name == "Gate Keeper"
        assert abs(invitation.expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=1)
    (mail,) = outbox(dbs, "keeper@new.test")
    link = link_in(mail)
    with dbs() as s:  # only the token's sha256 is kept
        assert link.rsplit("/", 1)[1] not in s.scalar(sa.select(Invitation.token_hash))
    guest = app.test_client()
    page = guest.get(link).get_data(as_text=True)
    assert "Welcome to Alpha Court" in page and "invited as a guard supervisor" in page
    mismatch = guest.post(link, data={"password": NEW_PASSWORD, "confirm": "other-pass-1"})
    assert mismatch.status_code == 422 and b"The two passwords do not match." in mismatch.data
    accepted = guest.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert accepted.status_code == 302 and accepted.headers["Location"] == "/e/alpha/gate/"
    assert guest.get("/e/alpha/gate/").status_code == 200
    with dbs() as s:
        user = s.scalar(sa.select(User).where(User.email == "keeper@new.test"))
        assert user.status == UserStatus.ACTIVE and user.full_name == "Gate Keeper"
        assert s.scalar(sa.select(Invitation.user_id)) == user.id
        membership = s.scalar(sa.select(Membership).where(Membership.user_id == user.id))
        assert membership.role == Role.GUARD and membership.is_supervisor
        actions = set(s.scalars(sa.select(AuditLog.action).where(AuditLog.action.like("invitation.%"))))
        assert actions == {"invitation.created", "invitation.accepted"}
    # The link works once.
    reused = app.test_client().get(link)
    assert reused.status_code == 410 and b"This invitation has already been used." in reused.data
    again = app.test_client().post(link, data={"password": "another-pass", "confirm": "another-pass"})
    assert again.status_code == 410
    assert "accepted" in client.get("/e/alpha/admin/invitations/?status=ACCEPTED").get_data(as_text=True).lower()


def test_a_resident_invited_by_phone_gets_an_sms_and_becomes_a_household_member(client, admin, app, dbs, make):
    make.resident(admin.alpha.estate, admin.b5, "Kid Without Login", phone="+2348039990000",
                  resident_type=ResidentType.FAMILY)
    response = invite(client, role="RESIDENT", full_name="Kid Grown Up", email="", phone="0803 999 0000",
                      unit_id=str(admin.b5.id), resident_type="FAMILY")
    assert response.status_code == 302
    (sms,) = outbox(dbs, "+2348039990000")
    guest = app.test_client()
    page = guest.get(link_in(sms)).get_data(as_text=True)
    assert "invited as a resident of unit B5" in page
    assert guest.post(link_in(sms), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).headers[
        "Location"] == "/e/alpha/home/"
    with dbs() as s:
        user = s.scalar(sa.select(User).where(User.phone == "+2348039990000"))
        residents = s.scalars(sa.select(Resident).where(Resident.phone == "+2348039990000")).all()
        assert len(residents) == 1 and residents[0].user_id == user.id  # the household member, now with a login
        assert s.scalar(sa.select(Membership.role).where(Membership.user_id == user.id)) == Role.RESIDENT


def test_an_existing_account_is_reused_and_confirms_with_its_own_password(client, admin, app, dbs):
    response = invite(client, role="RESIDENT", full_name="Beta Person", email="resident@beta.test",
                      unit_id=str(admin.b5.id))
    assert response.status_code == 302
    with dbs() as s:
        assert count(s, User, User.email == "resident@beta.test") == 1
    link = link_in(outbox(dbs, "resident@beta.test")[0])
    guest = app.test_client()
    assert b"You already have a Gatehouse account." in guest.get(link).data
    wrong = guest.post(link, data={"password": "not-my-password"})
    assert wrong.status_code == 422 and b"Your current password is not correct." in wrong.data
    ok = guest.post(link, data={"password": PASSWORD})
    assert ok.status_code == 302 and ok.headers["Location"] == "/choose"  # now in two estates
    with dbs() as s:
        user = s.scalar(sa.select(User).where(User.email == "resident@beta.test"))
        assert {m.estate_id for m in s.scalars(sa.select(Membership).where(Membership.user_id == user.id))} == {
            admin.alpha.estate.id, admin.beta.estate.id}


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"email": "guard@alpha.test"}, 409, b"already has this role in this estate."),
        ({"email": "", "phone": ""}, 422, b"Give an email address or a phone number (or both)."),
        ({"phone": "12"}, 422, b"Enter a valid phone number"),
        ({"full_name": ""}, 422, b"This field is required."),
        ({"role": "RESIDENT"}, 422, b"Choose the unit from the list."),
        ({"role": "OWNER"}, 422, b"Not a valid choice."),
    ],
)
def test_bad_or_duplicate_invitations_are_refused_and_write_nothing(client, admin, dbs, data, status, message):
    response = invite(client, **data)
    assert response.status_code == status and message in response.data
    with dbs() as s:
        assert count(s, Invitation) == 0 and count(s, OutboxMessage) == 0


def test_a_resident_phone_already_in_the_estate_is_a_conflict(client, admin, make, dbs):
    make.resident(admin.alpha.estate, admin.alpha.unit, "Lives in A1", phone="+2348037770000")
    response = invite(client, role="RESIDENT", email="", phone="+2348037770000", unit_id=str(admin.b5.id))
    assert response.status_code == 409
    assert b"A resident of this estate is already registered with this phone number." in response.data


def test_a_second_invitation_while_one_waits_is_refused(client, admin):
    invite(client)
    again = invite(client)
    assert again.status_code == 409 and b"already waiting. Resend it from the list instead." in again.data


def test_resend_makes_a_new_link_and_revoke_closes_it(client, admin, app, dbs):
    invite(client)
    with dbs() as s:
        invitation_id = s.scalar(sa.select(Invitation.id))
    old = link_in(outbox(dbs, "keeper@new.test")[0])
    assert client.post(f"/e/alpha/admin/invitations/{invitation_id}/resend").status_code == 302
    new = link_in(outbox(dbs, "keeper@new.test")[1])
    guest = app.test_client()
    assert old != new and guest.get(old).status_code == 404 and guest.get(new).status_code == 200
    assert client.post(f"/e/alpha/admin/invitations/{invitation_id}/revoke").status_code == 302
    revoked = guest.post(new, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert revoked.status_code == 410 and b"This invitation has been withdrawn." in revoked.data
    assert client.post(f"/e/alpha/admin/invitations/{invitation_id}/resend").status_code == 302
    assert b"already been accepted or revoked" in client.get("/e/alpha/admin/invitations/").data
    with dbs() as s:
        assert count(s, Membership, Membership.user_id == s.scalar(
            sa.select(Invitation.user_id).where(Invitation.id == invitation_id))) == 0
        assert {"invitation.resent", "invitation.revoked"} <= set(s.scalars(sa.select(AuditLog.action)))


def test_an_expired_link_changes_nothing(client, admin, app, dbs):
    invite(client)
    link = link_in(outbox(dbs, "keeper@new.test")[0])
    with dbs() as s:
        s.execute(sa.update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    response = app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410 and b"This invitation has expired." in response.data
    assert b"Expired" in client.get("/e/alpha/admin/invitations/?status=EXPIRED").data
    with dbs() as s:
        assert s.scalar(sa.select(User.password_hash).where(User.email == "keeper@new.test")) is None
        assert count(s, Membership, Membership.role == Role.GUARD) == 2  # alpha's and beta's guards only


def test_an_unknown_link_is_404(client):
    response = client.get("/invite/not-a-token")
    assert response.status_code == 404 and b"This invitation link is not valid." in response.data


def test_the_invitations_list_searches_and_filters(client, admin, app):
    _invite_many(app, admin, 3)
    html = client.get("/e/alpha/admin/invitations/?q=invitee1").get_data(as_text=True)
    assert _names(html) == ["Invitee 1"]
    fragment = client.get("/e/alpha/admin/invitations/?status=PENDING", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.data and fragment.data.count(b"<strong>Invitee") == 3
    assert b"No invitation matches these filters." in client.get("/e/alpha/admin/invitations/?status=REVOKED").data


# --- who may invite whom -------------------------------------------------------------


@pytest.fixture
def supervisor(client, alpha, make, login):
    make.user("chief@alpha.test", estate=alpha.alpha.estate, role=Role.GUARD, supervisor=True)
    login("chief@alpha.test")
    return alpha


def test_a_supervisor_invites_guards_and_residents_from_the_gate(client, supervisor, dbs):
    page = client.get("/e/alpha/gate/staff/invite").get_data(as_text=True)
    roles = re.findall(r'<option[^>]*value="(ESTATE_ADMIN|GUARD|RESIDENT)"', page)
    assert roles == ["GUARD", "RESIDENT"] and "is_supervisor" not in page
    assert invite(client, "/e/alpha/gate/staff/invite").status_code == 302
    assert invite(client, "/e/alpha/gate/staff/invite", role="RESIDENT", email="res@new.test",
                  unit_id=str(supervisor.b5.id)).status_code == 302
    with dbs() as s:
        assert sorted(s.scalars(sa.select(Invitation.role))) == [Role.GUARD, Role.RESIDENT]


def test_a_supervisor_cannot_invite_admins_or_supervisors(client, supervisor, dbs):
    assert invite(client, "/e/alpha/gate/staff/invite", role="ESTATE_ADMIN").status_code == 422
    assert invite(client, "/e/alpha/gate/staff/invite", is_supervisor="y").status_code == 403
    with dbs() as s:
        assert count(s, Invitation) == 0


def test_the_service_refuses_what_a_role_may_not_create(app, supervisor):
    from portal.web.tenancy import EstateAccess

    with app.test_request_context():
        estate = db.session.get(Estate, supervisor.alpha.estate.id)
        chief = db.session.scalar(sa.select(User).where(User.email == "chief@alpha.test"))
        plain = db.session.scalar(sa.select(User).where(User.email == "guard@alpha.test"))
        as_chief = EstateAccess(estate, tuple(chief.memberships), as_enterprise_admin=False)
        as_guard = EstateAccess(estate, tuple(plain.memberships), as_enterprise_admin=False)
        assert invitations.invite_powers(as_chief).roles == (Role.GUARD, Role.RESIDENT)
        assert not invitations.invite_powers(as_guard)
        for access, data in [
            (as_chief, invitations.InviteData(Role.ESTATE_ADMIN, "X", email="x@new.test")),
            (as_chief, invitations.InviteData(Role.GUARD, "X", email="x@new.test", is_supervisor=True)),
            (as_guard, invitations.InviteData(Role.GUARD, "X", email="x@new.test")),
        ]:
            with pytest.raises(DomainError) as info:
                invitations.create_invitation(chief, access, data)
            assert info.value.http_status == 403


@pytest.mark.parametrize("who", ["guard@alpha.test", "resident@alpha.test", "admin@alpha.test"])
def test_plain_guards_residents_and_off_duty_admins_cannot_invite_from_the_gate(client, alpha, login, dbs, who):
    login(who)
    assert client.get("/e/alpha/gate/staff/invite").status_code == 403
    assert invite(client, "/e/alpha/gate/staff/invite").status_code == 403
    with dbs() as s:
        assert count(s, Invitation) == 0


def test_an_admin_on_gate_duty_may_invite_any_role_from_the_gate(client, alpha, make, login):
    make.member(alpha.alpha.admin, alpha.alpha.estate, Role.GUARD)
    login("admin@alpha.test")
    page = client.get("/e/alpha/gate/staff/invite").get_data(as_text=True)
    assert re.findall(r'<option[^>]*value="(ESTATE_ADMIN|GUARD|RESIDENT)"', page) == ["ESTATE_ADMIN", "GUARD", "RESIDENT"]
    assert invite(client, "/e/alpha/gate/staff/invite", role="ESTATE_ADMIN").status_code == 302


def test_the_supervisor_gate_page_of_another_estate_is_404(client, supervisor):
    assert client.get("/e/beta/gate/staff/invite").status_code == 404
    assert invite(client, "/e/beta/gate/staff/invite").status_code == 404


def test_unit_choices_are_scoped_to_the_estate(client, admin):
    beta_unit = admin.beta.unit.id
    response = invite(client, role="RESIDENT", unit_id=str(beta_unit))
    assert response.status_code == 422 and b"Not a valid choice." in response.data
    assert f'value="{beta_unit}"'.encode() not in client.get("/e/alpha/admin/invitations/").data
    with client.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit).where(Unit.id == beta_unit)) == 1


def test_review_links_are_not_inside_the_bulk_form_and_do_not_inherit_its_confirmation(client, admin, app):
    add_requests(app, admin.alpha.estate.id, admin.b5.id, 2)
    html = client.get("/e/alpha/admin/approvals/").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="bulk-form".*?</form>', html, re.S).group(0)
    assert "hx-confirm=" in form and "Review" not in form
    assert html.count('form="bulk-form"') == 2  # the checkboxes join the form from the table
    table = re.search(r"<table.*?</table>", html, re.S).group(0)
    assert table.count(">Review</a>") == 2 and "<form" not in table and "hx-confirm" not in table
    before_table = html[:html.index("<table")]
    assert before_table.count("<form") == before_table.count("</form>")  # no form left open around it
