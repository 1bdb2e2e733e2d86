"""The gate page keeps working when the tablet loses its network: it decides from the
pass list it saved while online (ADMIT / DENY with the reason), queues the entries the
guard records, shows how many wait, and sends them by itself when the network returns;
an entry the server refuses at sync (the pass was revoked meanwhile) is shown to the
guard until dismissed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, insert_pass
from tests.browser.test_gate import SUPERVISOR, db, free_supervisor_device  # noqa: F401 - fixtures
from tests.browser.test_role_homes import assert_no_horizontal_scroll, choose_language, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABLET = {"width": 1280, "height": 800}


def _pass(db, name: str, *, entries_used: int = 0, starts=timedelta(hours=-1), ends=timedelta(hours=4)) -> dict:  # noqa: F811
    """A fresh SINGLE_USE pass in greenpark for `name` (unit A12, the demo resident as
    host), written to the live server's database."""
    visit_id, code = insert_pass(db, name, starts=starts, ends=ends, entries_used=entries_used,
                                 phone="+2348091230000", plate="LAG555OF")
    return {"id": visit_id, "code": code}


def _events(db, visit_id: int) -> list[tuple[str, str, str | None]]:  # noqa: F811
    with db.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(
            "SELECT event_type, method, reason FROM gate_event WHERE visit_id = :v ORDER BY id"), {"v": visit_id})]


def _open_gate_online(page, *codes: str) -> None:
    """Sign the supervisor in on the tablet and wait until the saved pass list holds `codes`."""
    page.goto("/login")
    sign_in(page, SUPERVISOR)
    page.goto("/e/greenpark/gate/")
    choose_language(page, "en")  # another test may have left the supervisor in Spanish
    page.wait_for_function(
        """(codes) => Object.keys(localStorage).some((key) => {
             if (!key.endsWith('.bootstrap')) return false;
             const saved = JSON.parse(localStorage.getItem(key));
             const known = saved.data.passes.map((p) => p.visitor_code);
             return saved.lang === document.documentElement.lang && codes.every((code) => known.includes(code));
           })""", arg=list(codes))
    # The service worker is active and holds the page, so a reload without network shows it.
    page.evaluate("() => navigator.serviceWorker.ready")
    page.wait_for_function("""async () => {
        for (const name of await caches.keys()) {
          if (await (await caches.open(name)).match('/e/greenpark/gate/', {ignoreVary: true})) return true;
        }
        return false;
      }""")


def _check_offline(page, code: str) -> None:
    page.fill("#code", code)
    page.click("#check-code")


def test_offline_the_gate_decides_locally_queues_the_entry_and_syncs_it_when_back_online(
        new_page, db, free_supervisor_device):  # noqa: F811
    fresh = _pass(db, "Offline Visitor")
    used = _pass(db, "Used Visitor", entries_used=1)
    ended = _pass(db, "Late Visitor", starts=timedelta(hours=-6), ends=timedelta(hours=-1))
    page = new_page(TABLET)
    _open_gate_online(page, fresh["code"], used["code"], ended["code"])
    banner = page.locator("#offline-banner")
    expect(banner).to_be_hidden()

    page.context.set_offline(True)
    _check_offline(page, fresh["code"].lower())
    verdict = page.locator("#verdict")
    expect(verdict).to_have_class("verdict verdict-admit")
    expect(verdict).to_contain_text("ADMIT")
    expect(verdict).to_contain_text("Offline Visitor")
    expect(verdict).to_contain_text("A12")
    expect(verdict).to_contain_text("LAG555OF")
    expect(page.locator("#verdict-offline")).to_contain_text("No network")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "gate_offline_admit_tablet.png"))

    page.click("#record-entry")
    expect(verdict).to_contain_text("ENTRY RECORDED")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Offline — 1 scan waiting")
    expect(banner).to_be_in_viewport()  # it stays at the top of the screen while scrolled
    page.screenshot(path=str(SCREENSHOTS / "gate_offline_banner_tablet.png"))

    _check_offline(page, fresh["code"])  # the same visitor again: already inside
    expect(verdict).to_have_class("verdict verdict-deny")
    expect(page.locator("#verdict-reason")).to_have_text("This visitor is already inside.")
    _check_offline(page, used["code"])  # a used single-use pass
    expect(verdict).to_have_class("verdict verdict-deny")
    expect(page.locator("#verdict-reason")).to_have_text("This pass has no entries left.")
    expect(page.locator("#record-entry")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "gate_offline_deny_tablet.png"))
    _check_offline(page, ended["code"])  # ended an hour ago: expired, not "no pass matches"
    expect(verdict).to_have_class("verdict verdict-deny")
    expect(page.locator("#verdict-reason")).to_have_text("This pass has expired.")
    assert _events(db, fresh["id"]) == []  # nothing reached the server yet

    page.reload()  # the service worker serves the saved page; the queue survives
    expect(page.locator("h1")).to_have_text("Gate")
    expect(banner).to_contain_text("Offline — 1 scan waiting")

    page.context.set_offline(False)
    expect(banner).to_be_hidden(timeout=30_000)  # sent by itself
    assert _events(db, fresh["id"]) == [("ENTRY", "OFFLINE", None)]
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT entries_used, people_inside FROM visit WHERE id = :v"),
                            {"v": fresh["id"]}).one() == (1, True)
    assert page.evaluate("() => window.gatehouseOffline.queue().length") == 0
    expect(page.locator("#offline-rejected")).to_be_hidden()


def test_an_offline_entry_refused_at_sync_is_shown_to_the_guard(new_page, db, free_supervisor_device):  # noqa: F811
    visit = _pass(db, "Revoked Visitor")
    page = new_page(TABLET)
    _open_gate_online(page, visit["code"])

    page.context.set_offline(True)
    _check_offline(page, visit["code"])
    expect(page.locator("#verdict")).to_have_class("verdict verdict-admit")
    page.click("#record-entry")
    expect(page.locator("#offline-banner")).to_contain_text("Offline — 1 scan waiting")
    with db.begin() as conn:  # meanwhile a supervisor revokes the pass on the server
        conn.execute(sa.text("UPDATE visit SET status = 'REVOKED' WHERE id = :v"), {"v": visit["id"]})

    page.context.set_offline(False)
    refused = page.locator("#offline-rejected")
    expect(refused).to_be_visible(timeout=30_000)
    expect(refused).to_contain_text(visit["code"])
    expect(refused).to_contain_text("This pass was cancelled or revoked.")
    expect(page.locator("#offline-banner")).to_be_hidden()
    expect(page.locator("#verdict")).to_have_class("verdict verdict-deny")  # the answer on screen follows
    expect(page.locator("#verdict-reason")).to_have_text("This pass was cancelled or revoked.")
    expect(refused).to_be_in_viewport()
    assert _events(db, visit["id"]) == [("DENIED", "OFFLINE", "PASS_REVOKED")]
    page.screenshot(path=str(SCREENSHOTS / "gate_offline_rejected_tablet.png"))

    page.reload()  # still listed until dismissed
    expect(refused).to_contain_text(visit["code"])
    page.click("#offline-dismiss")
    expect(refused).to_be_hidden()
    page.reload()
    expect(page.locator("h1")).to_have_text("Gate")
    expect(refused).to_be_hidden()


def test_on_a_phone_the_offline_answer_and_banner_fit_the_screen(new_page, db, free_supervisor_device):  # noqa: F811
    visit = _pass(db, "Phone Visitor")
    page = new_page("phone")
    _open_gate_online(page, visit["code"])
    page.context.set_offline(True)
    _check_offline(page, visit["code"])
    expect(page.locator("#verdict")).to_have_class("verdict verdict-admit")
    page.click("#record-entry")
    expect(page.locator("#offline-banner")).to_contain_text("Offline — 1 scan waiting")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(SCREENSHOTS / "gate_offline_phone.png"), full_page=True)
    page.context.set_offline(False)
    expect(page.locator("#offline-banner")).to_be_hidden(timeout=30_000)
    assert _events(db, visit["id"]) == [("ENTRY", "OFFLINE", None)]
