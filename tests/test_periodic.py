"""Pages never write: a join request or walk-in past its time SHOWS as expired and cannot be
decided, and only the periodic steps (`expire-approvals`, `expire-walkins`, `run-periodic`)
record the expiry, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.gate import walkins
from portal.models import (
    Approval,
    ApprovalStatus,
    AuditLog,
    Estate,
    OutboxMessage,
    ResidentType,
    User,
    UserStatus,
    WalkIn,
    WalkInStatus,
    utcnow,
)
from tests.conftest import _PASSWORD_HASH

DEVICE = "tablet-periodic-0123456789"
HEADERS = {"X-Gate-Device": DEVICE}
WRITES = ("INSERT", "UPDATE", "DELETE")


def _writes(statements: list[str]) -> list[str]:
    return [st for st in statements if st.upper().startswith(WRITES)]


def _count(dbs, model, *where) -> int:
    with dbs() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _status(dbs, model, row_id):
    with dbs() as s:
        return s.get(model, row_id).status


@pytest.fixture
def alpha(estate_pair, dbs):
    with dbs() as s:  # the approvals page assigns a join code on first sight: give it one
        s.get(Estate, estate_pair.alpha.estate.id).join_code = "ALPHA1"
        s.commit()
    return estate_pair.alpha


def _approval(app, estate_id: int, unit_id: int, name: str, expires_in: timedelta) -> int:
    with app.app_context():
        user = User(full_name=name, email=f"{name.lower()}@join.test", password_hash=_PASSWORD_HASH,
                    status=UserStatus.PENDING, preferred_language="en")
        db.session.add(user)
        db.session.flush()
        approval = Approval(estate_id=estate_id, user_id=user.id, unit_id=unit_id, resident_type=ResidentType.OWNER,
                            status=ApprovalStatus.PENDING, expires_at=utcnow() + expires_in)
        db.session.add(approval)
        db.session.commit()
        return approval.id


def _walk_in(app, age: timedelta, name: str) -> int:
    with app.app_context():
        guard = db.session.scalar(sa.select(User).where(User.email == "guard@alpha.test"))
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
        return walkins.create_walk_in(guard, estate, walkins.WalkInData(visitor_name=name, unit_number="A1"),
                                      datetime.now(UTC) - age).id


def test_the_approvals_pages_write_nothing_and_show_a_due_request_expired(app, client, alpha, login, dbs, record_sql):
    due = _approval(app, alpha.estate.id, alpha.unit.id, "Late", timedelta(seconds=-1))
    live = _approval(app, alpha.estate.id, alpha.unit.id, "Fresh", timedelta(days=3))
    login("admin@alpha.test")
    client.get("/e/alpha/admin/")
    audits = _count(dbs, AuditLog)
    with record_sql() as run:
        pending = client.get("/e/alpha/admin/approvals/").get_data(as_text=True)
        expired = client.get("/e/alpha/admin/approvals/?status=EXPIRED").get_data(as_text=True)
        everything = client.get("/e/alpha/admin/approvals/?status=ALL").get_data(as_text=True)
        detail = client.get(f"/e/alpha/admin/approvals/{due}").get_data(as_text=True)
        client.get(f"/e/alpha/admin/approvals/{live}")
    assert _writes(run) == []
    assert _count(dbs, AuditLog) == audits and _status(dbs, Approval, due) == ApprovalStatus.PENDING
    assert f'id="approval-{live}"' in pending and f'id="approval-{due}"' not in pending
    assert f'id="approval-{due}"' in expired and f'id="approval-{live}"' not in expired
    assert "badge-expired" in everything and "badge-pending" in everything
    assert 'id="approval-status">Expired<' in detail and 'id="approve"' not in detail


def test_an_expired_request_cannot_be_decided(app, client, alpha, login, dbs):
    due = _approval(app, alpha.estate.id, alpha.unit.id, "Late", timedelta(seconds=-1))
    login("admin@alpha.test")
    response = client.post(f"/e/alpha/admin/approvals/{due}/reject", data={"reason": "No"})
    assert b"already been decided (Expired)" in client.get(response.headers["Location"]).data
    client.post("/e/alpha/admin/approvals/bulk", data={"ids": [due], "action": "approve"})
    assert _status(dbs, Approval, due) == ApprovalStatus.PENDING
    assert _count(dbs, OutboxMessage) == 0


def test_the_walk_in_pages_write_nothing_and_show_a_due_walk_in_expired(app, client, alpha, login, dbs,
                                                                       record_sql):
    due = _walk_in(app, walkins.WALK_IN_TTL + timedelta(minutes=1), "Late Visitor")
    live = _walk_in(app, timedelta(minutes=1), "Fresh Visitor")
    guard = app.test_client()
    login("guard@alpha.test", as_client=guard)
    guard.get("/e/alpha/gate/", headers=HEADERS)  # binds the device
    login("resident@alpha.test")
    client.get("/e/alpha/home/")
    audits = _count(dbs, AuditLog)
    with record_sql() as run:
        listed = guard.get("/e/alpha/gate/walk-ins/", headers=HEADERS).get_data(as_text=True)
        row = guard.get(f"/e/alpha/gate/walk-ins/{due}", headers=HEADERS).get_data(as_text=True)
        home = client.get("/e/alpha/home/").get_data(as_text=True)
        card = client.get("/e/alpha/home/walk-ins/card").get_data(as_text=True)
        detail = client.get(f"/e/alpha/home/walk-ins/{due}").get_data(as_text=True)
    assert _writes(run) == []
    assert _count(dbs, AuditLog) == audits and _status(dbs, WalkIn, due) == WalkInStatus.PENDING
    assert "Nobody answered in time" in listed and "Nobody answered in time" in row
    assert 'id="walkin-requests"' in home  # the card comes by HTMX:
    assert f'id="walkin-request-{due}" data-status="EXPIRED"' in card
    assert f'id="walkin-{live}-approve"' in card and f'id="walkin-{due}-approve"' not in card
    assert 'data-status="EXPIRED"' in detail and f'id="walkin-{due}-approve"' not in detail


def test_an_expired_walk_in_cannot_be_answered_or_withdrawn(app, client, alpha, login, dbs):
    due = _walk_in(app, walkins.WALK_IN_TTL + timedelta(minutes=1), "Late Visitor")
    login("resident@alpha.test")
    response = client.post(f"/e/alpha/home/walk-ins/{due}/approve")
    assert b"This request expired" in client.get(response.headers["Location"]).data
    guard = app.test_client()
    login("guard@alpha.test", as_client=guard)
    guard.post(f"/e/alpha/gate/walk-ins/{due}/cancel", headers=HEADERS)
    assert b"This request expired" in guard.get("/e/alpha/gate/", headers=HEADERS).data
    assert _status(dbs, WalkIn, due) == WalkInStatus.PENDING


def test_the_periodic_steps_record_the_expiry_audited(app, alpha, dbs):
    due_walk_in = _walk_in(app, walkins.WALK_IN_TTL + timedelta(minutes=1), "Late Visitor")
    live_walk_in = _walk_in(app, timedelta(minutes=1), "Fresh Visitor")
    due = _approval(app, alpha.estate.id, alpha.unit.id, "Late", timedelta(seconds=-1))
    live = _approval(app, alpha.estate.id, alpha.unit.id, "Fresh", timedelta(days=3))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["expire-walkins"])
    assert result.exit_code == 0 and "Expired walk-ins: 1" in result.output
    assert _status(dbs, WalkIn, due_walk_in) == WalkInStatus.EXPIRED
    assert _status(dbs, WalkIn, live_walk_in) == WalkInStatus.PENDING
    assert _count(dbs, AuditLog, AuditLog.action == "walk_in.expired", AuditLog.target_id == due_walk_in) == 1
    result = runner.invoke(args=["run-periodic"])
    assert result.exit_code == 0
    assert "Expired sign-up requests: 1" in result.output and "Expired walk-ins: 0" in result.output
    assert _status(dbs, Approval, due) == ApprovalStatus.EXPIRED
    assert _status(dbs, Approval, live) == ApprovalStatus.PENDING
    assert _count(dbs, AuditLog, AuditLog.action == "approval.expired", AuditLog.target_id == due) == 1
    again = runner.invoke(args=["run-periodic"])
    assert "Expired sign-up requests: 0" in again.output and "Expired walk-ins: 0" in again.output

