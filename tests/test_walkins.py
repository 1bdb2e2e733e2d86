"""Walk-ins: the guard asks a unit, its residents are notified and answer; the first
answer wins; approval makes a single-use pass the guard records at the gate."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.errors import InvalidValue, NotFound
from portal.extensions import db
from portal.gate import walkins
from portal.models import (
    AuditLog,
    Ban,
    BanScope,
    Estate,
    Notification,
    OutboxMessage,
    PassType,
    ResidentType,
    Role,
    User,
    UserStatus,
    Visit,
    VisitStatus,
    WalkIn,
    WalkInStatus,
)

DEVICE = "tablet-walkins-0123456789"
HEADERS = {"X-Gate-Device": DEVICE}


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def people(estate_pair, make):
    """alpha: unit A1 with two residents who can answer (resident@alpha.test and a
    tenant), a household member without a login, one who moved out and one suspended;
    unit B2 with its own resident; beta as in estate_pair."""
    alpha = estate_pair.alpha
    tenant = make.user("tenant@alpha.test", estate=alpha.estate, role=Role.RESIDENT, full_name="Tolu Tenant")
    make.resident(alpha.estate, alpha.unit, "Tolu Tenant", user=tenant, resident_type=ResidentType.TENANT)
    make.resident(alpha.estate, alpha.unit, "Kid Without Login", resident_type=ResidentType.FAMILY)
    gone = make.user("gone@alpha.test", estate=alpha.estate, role=Role.RESIDENT)
    make.resident(alpha.estate, alpha.unit, "Moved Out", user=gone, move_out_date=_now().date() - timedelta(days=3))
    suspended = make.user("suspended@alpha.test", estate=alpha.estate, role=Role.RESIDENT,
                          status=UserStatus.SUSPENDED)
    make.resident(alpha.estate, alpha.unit, "Suspended", user=suspended)
    other_unit = make.unit(alpha.estate, "B2")
    neighbour = make.user("neighbour@alpha.test", estate=alpha.estate, role=Role.RESIDENT, full_name="Nia Neighbour")
    make.resident(alpha.estate, other_unit, "Nia Neighbour", user=neighbour)
    make.unit(alpha.estate, "C3")  # nobody lives here
    return SimpleNamespace(alpha=alpha, beta=estate_pair.beta, tenant=tenant, neighbour=neighbour,
                           other_unit=other_unit)


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _estate(slug: str) -> Estate:
    return db.session.scalar(sa.select(Estate).where(Estate.slug == slug))


def _data(**kw) -> walkins.WalkInData:
    fields = dict(visitor_name="Bola Ahmed", unit_number="a1", phone="0803 111 2222", plate="lag 555 xy",
                  purpose="Plumber", people_count=2, gate="Main gate")
    fields.update(kw)
    return walkins.WalkInData(**fields)


def _create(app, slug: str = "alpha", guard: str = "guard@alpha.test", now: datetime | None = None, **kw) -> int:
    with app.app_context():
        walk_in = walkins.create_walk_in(_user(guard), _estate(slug), _data(**kw), now or _now())
        return walk_in.id


def _get(app, walk_in_id: int) -> WalkIn:
    with app.app_context():
        walk_in = db.session.get(WalkIn, walk_in_id)
        db.session.expunge(walk_in)
        return walk_in


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _decide(app, email: str, walk_in_id: int, approve: bool = True, reason: str = "", slug: str = "alpha",
            now: datetime | None = None) -> WalkIn:
    with app.app_context():
        walk_in = walkins.decide(_user(email), _estate(slug), walk_in_id, approve, reason, now or _now())
        db.session.refresh(walk_in)
        db.session.expunge(walk_in)
        return walk_in


# --- service: asking -----------------------------------------------------------------


def test_a_walk_in_notifies_every_resident_with_a_login_in_the_unit(app, people):
    walk_in_id = _create(app)
    walk_in = _get(app, walk_in_id)
    assert (walk_in.status, walk_in.visitor_name, walk_in.phone, walk_in.plate, walk_in.people_count) == (
        WalkInStatus.PENDING, "Bola Ahmed", "+2348031112222", "LAG555XY", 2)
    with app.app_context():
        notified = db.session.execute(
            sa.select(User.email, Notification.kind, Notification.link, Notification.params)
            .join(Notification, Notification.user_id == User.id).order_by(User.email)).all()
        assert [(n.email, n.kind) for n in notified] == [("resident@alpha.test", "walk_in_request"),
                                                          ("tenant@alpha.test", "walk_in_request")]
        assert notified[0].link == f"/e/alpha/home/walk-ins/{walk_in_id}"
        assert notified[0].params["visitor"] == "Bola Ahmed" and notified[0].params["unit"] == "A1"
        outbox = db.session.scalars(sa.select(OutboxMessage.recipient).order_by(OutboxMessage.id)).all()
        assert sorted(outbox) == ["resident@alpha.test", "tenant@alpha.test"]  # email on by default; no phones
        assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == walk_in_id,
                                                                  AuditLog.target_type == "WalkIn")) == "walk_in.created"


def test_the_email_follows_the_users_choices(app, people, make):
    with app.app_context():
        tenant = _user("tenant@alpha.test")
        tenant.notification_prefs = {"walk_in_request": {"email": False, "sms": True}}
        tenant.phone = "+2348035550000"
        db.session.commit()
    _create(app)
    with app.app_context():
        sent = db.session.execute(sa.select(OutboxMessage.channel, OutboxMessage.recipient)).all()
    assert sorted(sent) == [("EMAIL", "resident@alpha.test"), ("SMS", "+2348035550000")]


@pytest.mark.parametrize(("field", "overrides", "message"), [
    ("visitor_name", {"visitor_name": "  "}, "Enter the visitor's name."),
    ("unit_number", {"unit_number": "Z99"}, "There is no unit Z99 in this estate."),
    ("phone", {"phone": "12"}, "Enter a phone number"),
    ("people_count", {"people_count": 0}, "Enter a number from 1 to 20."),
    ("people_count", {"people_count": 21}, "Enter a number from 1 to 20."),
    ("unit_number", {"unit_number": "C3"}, "No one in unit C3 can answer; call the unit."),
])
def test_bad_input_or_a_unit_nobody_answers_for_is_refused_and_nothing_is_written(app, people, field, overrides,
                                                                                   message):
    with pytest.raises(InvalidValue) as refused:
        _create(app, **overrides)
    assert refused.value.field == field and str(refused.value.message).startswith(message)
    assert _count(app, WalkIn) == 0 and _count(app, Notification) == 0


def test_another_estates_unit_is_unknown(app, people, make):
    make.unit(people.beta.estate, "Z1")
    with pytest.raises(InvalidValue) as refused:
        _create(app, unit_number="Z1")
    assert refused.value.field == "unit_number"


def test_a_banned_phone_is_refused_at_once_with_the_reason(app, people):
    with app.app_context():
        db.session.add(Ban(estate_id=people.alpha.estate.id, phone="+2348031112222", scope=BanScope.ESTATE,
                           severity="HIGH", reason="Stole a bicycle"))
        db.session.commit()
    with pytest.raises(walkins.WalkInBanned) as refused:
        _create(app)
    assert "Stole a bicycle" in str(refused.value.message) and "+2348031112222" in str(refused.value.message)
    assert _count(app, WalkIn) == 0 and _count(app, Notification) == 0
    _create(app, phone="")  # without a phone there is nothing to match


# --- service: answering ----------------------------------------------------------------


def test_approval_makes_a_single_use_pass_for_two_hours_hosted_by_the_approver(app, people):
    walk_in_id = _create(app)
    before = _now()
    walk_in = _decide(app, "tenant@alpha.test", walk_in_id)
    assert walk_in.status == WalkInStatus.APPROVED and walk_in.visit_id is not None
    with app.app_context():
        visit = db.session.get(Visit, walk_in.visit_id)
        assert visit.pass_type == PassType.SINGLE_USE and visit.status == VisitStatus.ACTIVE
        assert visit.host_user_id == people.tenant.id and visit.unit_id == people.alpha.unit.id
        assert visit.purpose == "Plumber" and visit.max_entries == 1
        assert abs(visit.valid_from - before) < timedelta(seconds=5)
        assert abs(visit.valid_until - visit.valid_from - timedelta(hours=2)) < timedelta(seconds=2)
        [guest] = visit.visitors
        assert (guest.full_name, guest.phone, guest.plate) == ("Bola Ahmed", "+2348031112222", "LAG555XY")
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert "visit.created" in actions and "walk_in.approved" in actions
        guard_note = db.session.scalar(sa.select(Notification).where(Notification.kind == "walk_in_decided"))
        assert guard_note.user_id == people.alpha.guard.id and guard_note.params["approved"] is True
        unread = db.session.scalars(sa.select(Notification.user_id).where(Notification.kind == "walk_in_request",
                                                                          Notification.read_at.is_(None))).all()
        assert unread == [people.alpha.resident.id]  # the approver's own request is read


def test_an_approved_walk_in_is_never_committed_without_its_pass(app, people):
    """The gate polls the walk-in: it must never read APPROVED with no pass to admit on."""
    walk_in_id = _create(app)
    seen = []

    def check(session):
        seen.append(session.execute(sa.select(WalkIn.status, WalkIn.visit_id)
                                    .where(WalkIn.id == walk_in_id)).one())

    sa.event.listen(db.session, "before_commit", check)
    try:
        _decide(app, "tenant@alpha.test", walk_in_id)
    finally:
        sa.event.remove(db.session, "before_commit", check)
    assert seen and all(status != WalkInStatus.APPROVED or visit_id is not None for status, visit_id in seen)


def test_approval_without_a_phone_still_makes_a_pass(app, people):
    walk_in_id = _create(app, phone="", plate="")
    walk_in = _decide(app, "resident@alpha.test", walk_in_id)
    with app.app_context():
        [guest] = db.session.get(Visit, walk_in.visit_id).visitors
        assert (guest.full_name, guest.phone, guest.plate) == ("Bola Ahmed", None, None)


def test_decline_keeps_the_reason_and_makes_no_pass(app, people):
    walk_in_id = _create(app)
    walk_in = _decide(app, "resident@alpha.test", walk_in_id, approve=False, reason="  Not expecting   anyone ")
    assert (walk_in.status, walk_in.decline_reason, walk_in.visit_id) == (
        WalkInStatus.DECLINED, "Not expecting anyone", None)
    assert _count(app, Visit) == 0
    with pytest.raises(InvalidValue):
        _decide(app, "tenant@alpha.test", _create(app), approve=False, reason="x" * 201)


def test_the_second_answer_is_told_who_answered_first(app, people):
    walk_in_id = _create(app)
    _decide(app, "tenant@alpha.test", walk_in_id, approve=False)
    with pytest.raises(walkins.AlreadyAnswered, match="CONFLICT") as late:
        _decide(app, "resident@alpha.test", walk_in_id, approve=True)
    assert str(late.value.message) == "Already answered by Tolu Tenant: declined."
    assert _get(app, walk_in_id).status == WalkInStatus.DECLINED and _count(app, Visit) == 0


def test_only_a_resident_of_the_unit_may_answer_and_another_estate_is_not_found(app, people, make):
    walk_in_id = _create(app)
    with pytest.raises(NotFound):
        _decide(app, "neighbour@alpha.test", walk_in_id)
    with pytest.raises(NotFound):  # a resident of beta asking about alpha's walk-in through beta
        _decide(app, "resident@beta.test", walk_in_id, slug="beta")
    with app.app_context(), pytest.raises(NotFound):
        walkins.get_walk_in(_estate("beta"), walk_in_id, _now())
    assert _get(app, walk_in_id).status == WalkInStatus.PENDING


def test_a_personal_ban_of_the_approver_refuses_the_approval_and_leaves_it_pending(app, people):
    with app.app_context():
        db.session.add(Ban(estate_id=people.alpha.estate.id, phone="+2348031112222", scope=BanScope.PERSONAL,
                           owner_user_id=people.tenant.id, reason="Not him again"))
        db.session.commit()
    walk_in_id = _create(app)
    with pytest.raises(InvalidValue, match="VALIDATION_ERROR"):
        _decide(app, "tenant@alpha.test", walk_in_id)
    assert _get(app, walk_in_id).status == WalkInStatus.PENDING and _count(app, Visit) == 0
    assert _decide(app, "resident@alpha.test", walk_in_id).status == WalkInStatus.APPROVED


def test_a_walk_in_nobody_answers_expires_after_thirty_minutes(app, people):
    old = _create(app, now=_now() - walkins.WALK_IN_TTL - timedelta(seconds=1))
    fresh = _create(app, now=_now() - walkins.WALK_IN_TTL + timedelta(minutes=1), visitor_name="Fresh")
    with pytest.raises(walkins.AlreadyAnswered, match="CONFLICT") as late:
        _decide(app, "resident@alpha.test", old)
    assert "expired" in str(late.value.message)
    with app.app_context(), pytest.raises(walkins.AlreadyAnswered, match="CONFLICT") as withdrawn:
        walkins.cancel(_user("guard@alpha.test"), _estate("alpha"), old, _now())
    assert "expired" in str(withdrawn.value.message)
    assert _get(app, old).status == WalkInStatus.PENDING  # shown expired; written so by the job
    with app.app_context():
        listed = {w.id: walkins.effective_status(w, _now()) for w in walkins.list_today(_estate("alpha"), _now()).items}
        assert listed == {old: WalkInStatus.EXPIRED, fresh: WalkInStatus.PENDING}
        assert walkins.expire_due(_now()) == 1
    assert _get(app, old).status == WalkInStatus.EXPIRED
    assert _get(app, fresh).status == WalkInStatus.PENDING
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                                 .where(AuditLog.action == "walk_in.expired")) == 1


def test_the_guard_withdraws_a_pending_walk_in_only(app, people):
    walk_in_id = _create(app)
    with app.app_context():
        walkins.cancel(_user("guard@alpha.test"), _estate("alpha"), walk_in_id, _now())
    assert _get(app, walk_in_id).status == WalkInStatus.CANCELLED
    with pytest.raises(walkins.AlreadyAnswered, match="CONFLICT"):
        _decide(app, "resident@alpha.test", walk_in_id)
    answered = _create(app)
    _decide(app, "resident@alpha.test", answered)
    with app.app_context(), pytest.raises(walkins.AlreadyAnswered, match="CONFLICT"):
        walkins.cancel(_user("guard@alpha.test"), _estate("alpha"), answered, _now())


@pytest.mark.real_commits  # two threads, each with its own connection
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="a real race needs PostgreSQL")
def test_two_residents_answering_at_once_one_wins(app, people):
    walk_in_id = _create(app)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def answer(email: str, approve: bool):
        with app.app_context():
            user, estate = _user(email), _estate("alpha")
            barrier.wait()
            try:
                results[email] = walkins.decide(user, estate, walk_in_id, approve, "", _now()).status
            except walkins.AlreadyAnswered as exc:
                results[email] = str(exc.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=answer, args=("resident@alpha.test", True)),
               threading.Thread(target=answer, args=("tenant@alpha.test", True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 2 and list(results.values()).count(WalkInStatus.APPROVED) == 1
    [late] = [r for r in results.values() if r != WalkInStatus.APPROVED]
    assert str(late).startswith("Already answered by")
    assert _count(app, Visit) == 1 and _get(app, walk_in_id).visit_id is not None


# --- the gate pages ------------------------------------------------------------------


@pytest.fixture
def guard(client, people, login):
    login("guard@alpha.test")
    return people


def _form(**kw) -> dict:
    fields = dict(visitor_name="Bola Ahmed", unit_number="A1", phone="08031112222", plate="", purpose="Parcel",
                  people_count="1")
    fields.update(kw)
    return fields


def test_the_gate_page_has_the_walk_in_button_and_loads_todays_walk_ins(client, guard):
    html = client.get("/e/alpha/gate/", headers=HEADERS).get_data(as_text=True)
    assert 'id="walkin-button"' in html and 'id="walkin-form"' in html
    assert 'hx-get="/e/alpha/gate/walk-ins/?desk=1"' in html
    assert "No walk-ins today." in client.get("/e/alpha/gate/walk-ins/", headers=HEADERS).get_data(as_text=True)


def test_the_guard_sends_a_walk_in_with_htmx_and_the_list_refreshes(client, guard, app):
    response = client.post("/e/alpha/gate/walk-ins/", data=_form(), headers={**HEADERS, "HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "walkins-refresh"
    html = response.get_data(as_text=True)
    assert 'id="walkin-form"' in html and "Asked unit A1 about Bola Ahmed" in html  # the flash rides along
    [walk_in_id] = [w.id for w in _all(app)]
    rows = client.get("/e/alpha/gate/walk-ins/?desk=1", headers={**HEADERS, "HX-Request": "true"}).get_data(as_text=True)
    assert "Bola Ahmed" in rows and "Waiting for unit A1 to answer" in rows
    assert f'hx-get="/e/alpha/gate/walk-ins/{walk_in_id}?desk=1"' in rows and 'hx-trigger="every 3s"' in rows


def _all(app) -> list[WalkIn]:
    with app.app_context():
        return list(db.session.scalars(sa.select(WalkIn).order_by(WalkIn.id)))


def test_walk_in_form_errors_show_next_to_the_field(client, guard, app):
    response = client.post("/e/alpha/gate/walk-ins/", data=_form(unit_number="C3", people_count="30"),
                           headers={**HEADERS, "HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Enter a number from 1 to 20." in html
    response = client.post("/e/alpha/gate/walk-ins/", data=_form(unit_number="C3"), headers=HEADERS)
    assert response.status_code == 422 and "No one in unit C3 can answer; call the unit." in response.get_data(as_text=True)
    assert _all(app) == []


def test_a_banned_visitor_is_refused_on_the_form(client, guard, app):
    with app.app_context():
        db.session.add(Ban(estate_id=guard.alpha.estate.id, phone="+2348031112222", scope=BanScope.ESTATE,
                           severity="HIGH", reason="Threatened a guard"))
        db.session.commit()
    response = client.post("/e/alpha/gate/walk-ins/", data=_form(), headers={**HEADERS, "HX-Request": "true"})
    assert response.status_code == 422 and "Threatened a guard" in response.get_data(as_text=True)
    assert _all(app) == []


def test_without_javascript_the_form_redirects_to_the_gate(client, guard, app):
    assert client.get("/e/alpha/gate/walk-ins/new", headers=HEADERS).status_code == 200
    response = client.post("/e/alpha/gate/walk-ins/", data=_form(), headers=HEADERS)
    assert response.status_code == 302 and response.headers["Location"] == "/e/alpha/gate/"


def test_an_approved_row_offers_one_tap_entry_and_the_entry_is_admitted(client, guard, app):
    walk_in_id = _create(app)
    walk_in = _decide(app, "resident@alpha.test", walk_in_id)
    row = client.get(f"/e/alpha/gate/walk-ins/{walk_in_id}?desk=1", headers={**HEADERS, "HX-Request": "true"})
    html = row.get_data(as_text=True)
    assert "Approved by" in html and "every 3s" not in html
    assert f'hx-post="/e/alpha/gate/visits/{walk_in.visit_id}/entry"' in html and 'hx-target="#result"' in html
    entry = client.post(f"/e/alpha/gate/visits/{walk_in.visit_id}/entry", data={"method": "SEARCH"},
                        headers={**HEADERS, "HX-Request": "true"})
    assert "ENTRY RECORDED" in entry.get_data(as_text=True)
    again = client.get(f"/e/alpha/gate/walk-ins/{walk_in_id}", headers=HEADERS).get_data(as_text=True)
    assert "Entered." in again and "Record entry" not in again
    with app.app_context():  # the host hears of it in the bell too
        note = db.session.scalar(sa.select(Notification).where(Notification.kind == "visitor_arrived"))
        assert note.user_id == guard.alpha.resident.id and note.link == f"/e/alpha/home/visits/{walk_in.visit_id}"


def test_a_declined_row_shows_the_reason(client, guard, app):
    walk_in_id = _create(app)
    _decide(app, "tenant@alpha.test", walk_in_id, approve=False, reason="Wrong house")
    html = client.get(f"/e/alpha/gate/walk-ins/{walk_in_id}", headers=HEADERS).get_data(as_text=True)
    assert "Declined by Tolu Tenant." in html and "Reason: Wrong house" in html


def test_the_guard_withdraws_from_the_list(client, guard, app):
    walk_in_id = _create(app)
    response = client.post(f"/e/alpha/gate/walk-ins/{walk_in_id}/cancel", headers={**HEADERS, "HX-Request": "true"})
    assert response.status_code == 200 and "Withdrawn" in response.get_data(as_text=True)
    assert _get(app, walk_in_id).status == WalkInStatus.CANCELLED


def test_another_estates_walk_in_is_404_at_the_gate(client, guard, app, login):
    walk_in_id = _create(app, slug="beta", guard="guard@beta.test", unit_number="A1")
    assert client.get(f"/e/alpha/gate/walk-ins/{walk_in_id}", headers=HEADERS).status_code == 404
    assert client.post(f"/e/alpha/gate/walk-ins/{walk_in_id}/cancel", headers=HEADERS).status_code == 404
    assert client.get(f"/e/beta/gate/walk-ins/{walk_in_id}", headers=HEADERS).status_code == 404


def test_todays_walk_ins_run_a_constant_number_of_queries(client, guard, app, count_queries):
    def add(n: int):
        for i in range(n):
            walk_in_id = _create(app, visitor_name=f"Visitor {i}", phone="")
            if i % 3 == 1:
                _decide(app, "resident@alpha.test", walk_in_id)
            elif i % 3 == 2:
                _decide(app, "tenant@alpha.test", walk_in_id, approve=False, reason="No")

    add(3)
    url = "/e/alpha/gate/walk-ins/?desk=1"
    client.get(url, headers=HEADERS)
    with count_queries() as few:
        assert client.get(url, headers={**HEADERS, "HX-Request": "true"}).status_code == 200
    add(12)
    with count_queries() as many:
        assert client.get(url, headers={**HEADERS, "HX-Request": "true"}).status_code == 200
    assert few.count == many.count


def test_yesterdays_walk_ins_are_not_listed(client, guard, app):
    _create(app, now=_now() - timedelta(days=2), visitor_name="Old Visitor")
    assert "Old Visitor" not in client.get("/e/alpha/gate/walk-ins/", headers=HEADERS).get_data(as_text=True)


# --- the resident pages ----------------------------------------------------------------


@pytest.fixture
def resident(client, people, login):
    login("resident@alpha.test")
    return people


def test_the_home_page_polls_for_walk_ins(client, resident):
    html = client.get("/e/alpha/home/").get_data(as_text=True)
    assert 'id="walkin-requests"' in html and 'hx-get="/e/alpha/home/walk-ins/card"' in html
    assert "every 5s" in html
    assert client.get("/e/alpha/home/walk-ins/card").get_data(as_text=True).strip() == ""


def test_the_card_shows_the_visitor_and_approve_answers_in_place(client, resident, app):
    walk_in_id = _create(app)
    card = client.get("/e/alpha/home/walk-ins/card", headers={"HX-Request": "true"}).get_data(as_text=True)
    for text in ("Bola Ahmed", "+2348031112222", "LAG555XY", "Plumber", "Main gate", "Approve", "Decline"):
        assert text in card
    response = client.post(f"/e/alpha/home/walk-ins/{walk_in_id}/approve",
                           headers={"HX-Request": "true", "HX-Target": "walkin-requests"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "You let Bola Ahmed in" in html and "Approved by" in html
    assert 'id="walkin-' + str(walk_in_id) + '-approve"' not in html
    assert _get(app, walk_in_id).status == WalkInStatus.APPROVED


def test_decline_from_the_detail_page_with_a_reason(client, resident, app):
    walk_in_id = _create(app)
    page = client.get(f"/e/alpha/home/walk-ins/{walk_in_id}").get_data(as_text=True)
    assert "Bola Ahmed" in page and "Decline the visitor" in page
    response = client.post(f"/e/alpha/home/walk-ins/{walk_in_id}/decline", data={"reason": "Not today"})
    assert response.status_code == 302 and response.headers["Location"] == f"/e/alpha/home/walk-ins/{walk_in_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You declined Bola Ahmed" in page and "Reason: Not today" in page


def test_a_late_answer_is_told_who_answered(client, resident, app):
    walk_in_id = _create(app)
    _decide(app, "tenant@alpha.test", walk_in_id)
    response = client.post(f"/e/alpha/home/walk-ins/{walk_in_id}/decline",
                           headers={"HX-Request": "true", "HX-Target": "walkin-requests"})
    assert "Already answered by Tolu Tenant: approved." in response.get_data(as_text=True)
    assert _get(app, walk_in_id).status == WalkInStatus.APPROVED


def test_another_units_or_estates_walk_in_is_404_for_a_resident(client, people, app, login):
    walk_in_id = _create(app)
    beta_id = _create(app, slug="beta", guard="guard@beta.test")
    login("neighbour@alpha.test")
    assert client.get(f"/e/alpha/home/walk-ins/{walk_in_id}").status_code == 404
    assert client.post(f"/e/alpha/home/walk-ins/{walk_in_id}/approve").status_code == 404
    assert "Bola Ahmed" not in client.get("/e/alpha/home/walk-ins/card").get_data(as_text=True)
    client.post("/logout")
    login("resident@alpha.test")
    assert client.get(f"/e/alpha/home/walk-ins/{beta_id}").status_code == 404
    assert client.post(f"/e/alpha/home/walk-ins/{beta_id}/approve").status_code == 404
    assert _get(app, walk_in_id).status == WalkInStatus.PENDING
    assert _get(app, beta_id).status == WalkInStatus.PENDING


def test_the_card_runs_a_constant_number_of_queries(client, resident, app, count_queries):
    for i in range(2):
        _create(app, visitor_name=f"Early {i}")
    client.get("/e/alpha/home/walk-ins/card")
    with count_queries() as few:
        client.get("/e/alpha/home/walk-ins/card")
    for i in range(8):
        walk_in_id = _create(app, visitor_name=f"Later {i}")
        if i % 2:
            _decide(app, "tenant@alpha.test", walk_in_id)
    with count_queries() as many:
        html = client.get("/e/alpha/home/walk-ins/card").get_data(as_text=True)
    assert "Later 7" in html and few.count == many.count
