"""The gate page's offline routes (session-authenticated): the pass list for offline use,
the sync of scans recorded offline, and the service worker. Sign-in, role, tenancy,
device binding and CSRF apply as to every gate request."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.models import AuditLog, GateEvent, GateEventType, GateMethod, Visit, VisitStatus

TABLET = "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
PHONE = "22222222-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
HEADERS = {"X-Gate-Device": TABLET}


@pytest.fixture
def gate(client, estate_pair, login):
    login("guard@alpha.test")
    return estate_pair


def _visit(make, people, **kw):
    return make.visit(people.estate, people.unit, people.resident, **kw)


def _item(code: str, event_type: str = "ENTRY", when: datetime | None = None, event_id: str | None = None) -> dict:
    return {"client_event_id": event_id or str(uuid.uuid4()), "event_type": event_type,
            "occurred_at": (when or datetime.now(UTC)).isoformat(), "visitor_code": code}


def _sync(client, items, slug: str = "alpha", headers=None):
    return client.post(f"/e/{slug}/gate/offline/sync", data=json.dumps({"items": items}),
                       content_type="application/json", headers=headers or HEADERS)


def _events(dbs) -> list[GateEvent]:
    with dbs() as s:
        return list(s.scalars(sa.select(GateEvent).order_by(GateEvent.id)))


def test_bootstrap_gives_this_estates_passes_and_a_fresh_csrf_token(client, gate, make):
    mine = _visit(make, gate.alpha)
    theirs = _visit(make, gate.beta)
    response = client.get("/e/alpha/gate/offline/bootstrap", headers=HEADERS)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["csrf_token"] and body["gate"] == "Main gate"
    data = body["data"]
    assert data["estate"]["slug"] == "alpha"
    codes = [p["visitor_code"] for p in data["passes"]]
    assert mine.visitor_code in codes and theirs.visitor_code not in codes
    assert all("qr_token" not in p for p in data["passes"])
    assert 'data-admit="ADMIT"' in body["strings"] and 'data-record-entry="Record entry"' in body["strings"]
    assert 'data-refusal-pass-exhausted="This pass has no entries left."' in body["strings"]
    assert 'data-pass-type-single-use="Single use"' in body["strings"]


def test_offline_routes_need_a_signed_in_guard_of_this_estate(app, client, estate_pair, login):
    assert client.get("/e/alpha/gate/offline/bootstrap").status_code == 302  # to sign-in
    assert _sync(client, []).status_code == 302
    login("resident@alpha.test")
    assert client.get("/e/alpha/gate/offline/bootstrap").status_code == 403
    assert _sync(client, []).status_code == 403
    stranger = app.test_client()
    login("guard@beta.test", as_client=stranger)
    assert stranger.get("/e/alpha/gate/offline/bootstrap").status_code == 404  # another estate
    assert _sync(stranger, []).status_code == 404
    assert stranger.get("/e/alpha/gate/sw.js").status_code == 404


def test_sync_applies_an_offline_entry_once_as_the_guard_at_the_sessions_gate(client, gate, make, dbs):
    visit = _visit(make, gate.alpha)
    item = _item(visit.visitor_code, when=datetime.now(UTC) - timedelta(minutes=3))
    response = _sync(client, [item])
    assert response.status_code == 200
    [result] = response.get_json()["results"]
    assert result["status"] == "APPLIED" and result["visit_id"] == visit.id
    again = _sync(client, [item]).get_json()["results"]
    assert again[0]["status"] == "DUPLICATE"
    [event] = _events(dbs)
    assert (event.event_type, event.method, event.guard_user_id) == (
        GateEventType.ENTRY, GateMethod.OFFLINE, gate.alpha.guard.id)
    assert event.gate == "Main gate" and event.device_id == TABLET
    assert event.client_event_id == item["client_event_id"]
    assert abs(event.occurred_at - datetime.fromisoformat(item["occurred_at"])) < timedelta(seconds=1)
    with dbs() as s:
        assert s.get(Visit, visit.id).entries_used == 1
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                        .where(AuditLog.action == "visit.entered")) == 1


def test_an_entry_whose_answer_was_lost_and_then_queued_offline_counts_once(client, gate, make, dbs):
    """The tablet taps "Record entry" online; the server records it but the answer never
    arrives, so the page queues the same entry offline with the same event id. At sync
    that is a DUPLICATE, not a refusal (already inside) shown to the guard."""
    visit = _visit(make, gate.alpha)
    event_id = str(uuid.uuid4())
    online = client.post(f"/e/alpha/gate/visits/{visit.id}/entry", data={"client_event_id": event_id},
                         headers={**HEADERS, "HX-Request": "true"})
    assert online.status_code == 200 and "ENTRY RECORDED" in online.get_data(as_text=True)
    # The same tap sent again (a retry) is not a second entry either.
    again = client.post(f"/e/alpha/gate/visits/{visit.id}/entry", data={"client_event_id": event_id},
                        headers={**HEADERS, "HX-Request": "true"})
    assert "ENTRY RECORDED" in again.get_data(as_text=True)
    [result] = _sync(client, [_item(visit.visitor_code, event_id=event_id)]).get_json()["results"]
    assert (result["status"], result["code"]) == ("DUPLICATE", None)
    [event] = _events(dbs)
    assert (event.event_type, event.method, event.client_event_id) == (GateEventType.ENTRY, GateMethod.CODE, event_id)
    with dbs() as s:
        assert s.get(Visit, visit.id).entries_used == 1


def test_sync_rejects_a_pass_revoked_while_offline_and_another_estates_code(client, gate, make, dbs):
    revoked = _visit(make, gate.alpha, status=VisitStatus.REVOKED)
    theirs = _visit(make, gate.beta)
    good = _visit(make, gate.alpha)
    results = _sync(client, [_item(revoked.visitor_code), _item(theirs.visitor_code),
                             _item(good.visitor_code), {"event_type": "ENTRY"}]).get_json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        ("REJECTED", "PASS_REVOKED"), ("REJECTED", "NOT_FOUND"), ("APPLIED", None), ("REJECTED", "VALIDATION_ERROR")]
    assert results[0]["message"] == "This pass was cancelled or revoked."
    with dbs() as s:
        assert s.get(Visit, theirs.id).entries_used == 0
        assert s.get(Visit, revoked.id).entries_used == 0


@pytest.mark.parametrize("body", ["not json", json.dumps({"items": "x"}), json.dumps([1, 2])])
def test_a_bad_sync_body_is_a_422_and_changes_nothing(client, gate, dbs, body):
    response = client.post("/e/alpha/gate/offline/sync", data=body, content_type="application/json", headers=HEADERS)
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "Send a JSON object with a list of items."
    assert _events(dbs) == []


def test_too_many_items_is_a_422(client, gate, make, dbs):
    visit = _visit(make, gate.alpha)
    response = _sync(client, [_item(visit.visitor_code) for _ in range(501)])
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "VALIDATION_ERROR"
    assert _events(dbs) == []


def test_device_binding_applies_to_the_offline_routes(client, gate, make, dbs):
    visit = _visit(make, gate.alpha)
    assert client.get("/e/alpha/gate/", headers=HEADERS).status_code == 200  # binds the tablet
    other = {"X-Gate-Device": PHONE}
    assert client.get("/e/alpha/gate/offline/bootstrap", headers=other).status_code == 403
    assert _sync(client, [_item(visit.visitor_code)], headers=other).status_code == 403
    assert client.get("/e/alpha/gate/sw.js", headers=other).status_code == 403
    assert _events(dbs) == []
    assert _sync(client, [_item(visit.visitor_code)]).status_code == 200


def test_sync_needs_the_csrf_token_in_the_header(app, client, gate, make, dbs):
    visit = _visit(make, gate.alpha)
    app.config["WTF_CSRF_ENABLED"] = True
    token = client.get("/e/alpha/gate/offline/bootstrap", headers=HEADERS).get_json()["csrf_token"]
    refused = _sync(client, [_item(visit.visitor_code)])
    assert refused.status_code == 400
    wrong = _sync(client, [_item(visit.visitor_code)], headers={**HEADERS, "X-CSRFToken": "nope"})
    assert wrong.status_code == 400
    assert _events(dbs) == []
    ok = _sync(client, [_item(visit.visitor_code)], headers={**HEADERS, "X-CSRFToken": token})
    assert ok.status_code == 200 and ok.get_json()["results"][0]["status"] == "APPLIED"


def test_the_sync_answer_is_in_the_guards_language(client, gate, make):
    revoked = _visit(make, gate.alpha, status=VisitStatus.REVOKED)
    client.post("/language", data={"lang": "es", "next": "/"})
    results = _sync(client, [_item(revoked.visitor_code)]).get_json()["results"]
    assert results[0]["code"] == "PASS_REVOKED"
    assert results[0]["message"] != "This pass was cancelled or revoked."


def test_the_service_worker_caches_the_gate_page_and_its_assets(client, gate):
    response = client.get("/e/alpha/gate/sw.js", headers=HEADERS)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    text = response.get_data(as_text=True)
    assert '"/e/alpha/gate/"' in text
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in text and "/static/js/gate-offline.js" in text
    assert 'var CACHE = "gatehouse-gate-alpha-' in text


def test_the_gate_page_carries_the_offline_strings_and_urls(client, gate):
    page = client.get("/e/alpha/gate/", headers=HEADERS).get_data(as_text=True)
    assert 'id="offline-gate"' in page and 'data-sync-url="/e/alpha/gate/offline/sync"' in page
    assert 'data-offline-one="Offline — {n} scan waiting"' in page
    assert 'data-offline-other="Offline — {n} scans waiting"' in page
    assert "/static/js/gate-offline.js" in page
    assert "ADMIT" not in page and "Record entry" not in page  # those come with the pass list
