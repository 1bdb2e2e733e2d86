"""In-app notifications: the bell's count, the list (newest first, paginated, empty
state), opening one marks it read and follows its link, mark all read; the sentence
is made in the reader's language when shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal import notifications
from portal.extensions import db
from portal.models import AuditLog, Estate, Notification, OutboxMessage, User


def _now() -> datetime:
    return datetime.now(UTC)


def _add(app, email: str, n: int = 1, kind: str = "walk_in_request", start: datetime | None = None, **params):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
        ids = []
        for i in range(n):
            note = notifications.notify(
                user, estate, kind, {"visitor": f"Visitor {i}", "unit": "A1", "gate": "Main gate", **params},
                f"/e/alpha/home/walk-ins/{i + 1}", (start or _now()) + timedelta(minutes=i), send=False)
            ids.append(note.id)
        db.session.commit()
        return ids


@pytest.fixture
def resident(client, estate_pair, login):
    login("resident@alpha.test")
    return estate_pair


def test_the_bell_loads_its_count_after_the_page(client, resident, app):
    page = client.get("/e/alpha/home/").get_data(as_text=True)
    assert 'id="bell"' in page and 'hx-get="/account/notifications/count"' in page
    assert 'id="bell-count"' in page and "badge-count" not in page.split('id="bell-count"')[1].split("</span>")[0]
    assert "badge" not in client.get("/account/notifications/count").get_data(as_text=True)
    _add(app, "resident@alpha.test", 3)
    count = client.get("/account/notifications/count").get_data(as_text=True)
    assert ">3</span>" in count and "every 60s" in count


def test_the_list_is_newest_first_and_opening_one_marks_it_read_and_follows_its_link(client, resident, app):
    ids = _add(app, "resident@alpha.test", 2)
    html = client.get("/account/notifications").get_data(as_text=True)
    assert html.index("Visitor 1 is at Main gate") < html.index("Visitor 0 is at Main gate")
    assert html.count("notification-unread") == 2 and "Mark all read" in html
    assert f'hx-post="/account/notifications/{ids[0]}/open"' in html
    response = client.post(f"/account/notifications/{ids[0]}/open")
    assert response.status_code == 303 and response.headers["Location"] == "/e/alpha/home/walk-ins/1"
    with app.app_context():
        assert db.session.get(Notification, ids[0]).read_at is not None
        assert db.session.get(Notification, ids[1]).read_at is None
        assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_type == "Notification")) == \
            "notification.read"
    assert client.get("/account/notifications").get_data(as_text=True).count("notification-unread") == 1


def test_mark_all_read(client, resident, app):
    _add(app, "resident@alpha.test", 3)
    response = client.post("/account/notifications/read-all")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "All notifications marked read." in html and "notification-unread" not in html
    assert "Mark all read" not in html


def test_empty_state(client, resident):
    html = client.get("/account/notifications").get_data(as_text=True)
    assert 'id="notifications-empty"' in html


def test_another_users_notification_is_404(client, resident, app):
    [theirs] = _add(app, "admin@alpha.test")
    assert client.get(f"/account/notifications/{theirs}/open").status_code == 404
    assert client.post(f"/account/notifications/{theirs}/open").status_code == 404
    assert f"notification-{theirs}" not in client.get("/account/notifications").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Notification, theirs).read_at is None


def test_an_unsafe_link_goes_back_to_the_list(client, resident, app):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "resident@alpha.test"))
        note = notifications.notify(user, None, "other", {}, "https://evil.test/x", _now(), send=False)
        db.session.commit()
        note_id = note.id
    assert client.post(f"/account/notifications/{note_id}/open").headers["Location"] == "/account/notifications"
    assert client.get(f"/account/notifications/{note_id}/open").headers["Location"] == "/account/notifications"


def test_the_list_is_paginated_with_a_constant_number_of_queries(client, resident, app, count_queries):
    _add(app, "resident@alpha.test", 3)
    client.get("/account/notifications")
    with count_queries() as few:
        client.get("/account/notifications")
    _add(app, "resident@alpha.test", 30, start=_now() + timedelta(hours=1))
    with count_queries() as many:
        html = client.get("/account/notifications").get_data(as_text=True)
    assert few.count == many.count
    assert "Page 1 of 2" in html
    assert "Visitor 29" in html and "Visitor 0 is at" not in html.split("Page 1 of 2")[0].split("Visitor 29")[0]


def test_text_is_made_in_the_readers_language_at_display_time(app, estate_pair):
    note = Notification(kind="visitor_arrived", params={"visitor": "Ana", "unit": "A1", "time": "10:05"})
    with app.test_request_context():
        with force_locale("en"):
            assert notifications.render_text(note) == "Ana arrived for unit A1 at 10:05."
        unknown = Notification(kind="nope", params={})
        assert notifications.render_text(unknown) == "You have a new notification."
        decided = Notification(kind="walk_in_decided", params={"resident": "Tunde", "visitor": "Ana", "unit": "A1",
                                                               "approved": False})
        assert notifications.render_text(decided) == "Tunde declined Ana for unit A1."


def test_notify_sends_email_and_sms_as_the_user_chose(app, estate_pair):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "resident@alpha.test"))
        user.phone = "+2348035550001"
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "alpha"))
        notifications.notify(user, estate, "walk_in_request", {"visitor": "Ana", "unit": "A1", "gate": "North"},
                             "/e/alpha/home/walk-ins/9", _now())
        db.session.commit()
        sent = db.session.execute(sa.select(OutboxMessage.channel, OutboxMessage.recipient, OutboxMessage.body)
                                  .order_by(OutboxMessage.channel)).all()
    assert [(s.channel, s.recipient) for s in sent] == [("EMAIL", "resident@alpha.test"), ("SMS", "+2348035550001")]
    assert "Ana is at North and asks to see unit A1" in sent[0].body and "/e/alpha/home/walk-ins/9" in sent[0].body
