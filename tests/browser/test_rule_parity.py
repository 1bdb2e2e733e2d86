"""The gate page's offline rules (static/js/gate-offline.js) answer every case of
tests/rule_cases.py as the Python rules do: the same verdict and the same ban shown.

The cases are built and answered in Python in the test's own database; the page is the
real gate page of the demo supervisor on the live server, so the script is the one the
gate loads. Its pure decision function is reached through `window.GatehouseRules`."""

from __future__ import annotations

import json

import pytest

from portal.extensions import db
from tests.browser.test_gate import SUPERVISOR
from tests.browser.test_role_homes import sign_in
from tests.rule_cases import ADMIT, build_cases

pytestmark = pytest.mark.browser

DECIDE_ALL = """(cases) => cases.map((c) => {
  const d = window.GatehouseRules.decide(c.pass, new Date(c.now), c.bans, c.timezone);
  return {verdict: d.refusal || "ADMIT", ban: d.ban ? d.ban.reason : null};
})"""


def _describe(case: dict) -> str:
    p = case["input"]["pass"]
    shown = {k: p[k] for k in ("pass_type", "status", "valid_from", "valid_until", "weekdays", "daily_start",
                               "daily_end", "max_entries", "entries_used", "people_inside")}
    return (f"now={case['input']['now']} tz={case['input']['timezone']} pass={json.dumps(shown)} "
            f"bans={json.dumps(case['input']['bans'])}")


def test_the_offline_gate_decides_every_rule_case_as_the_server_does(app, new_page):
    with app.app_context():
        cases = build_cases()
        db.session.rollback()
    assert ADMIT in {c["verdict"] for c in cases}

    page = new_page("desktop")
    page.goto("/login")
    sign_in(page, SUPERVISOR)
    page.goto("/e/greenpark/gate/")
    page.wait_for_function("() => window.GatehouseRules && typeof window.GatehouseRules.decide === 'function'")
    answers = page.evaluate(DECIDE_ALL, [c["input"] for c in cases])

    wrong = [(c, a) for c, a in zip(cases, answers, strict=True)
             if (a["verdict"], a["ban"]) != (c["verdict"], c["ban"])]
    report = "\n".join(
        f"- {c['name']}\n    python: {c['verdict']}{' / ' + c['ban'] if c['ban'] else ''}"
        f"\n    js:     {a['verdict']}{' / ' + a['ban'] if a['ban'] else ''}\n    {_describe(c)}"
        for c, a in wrong
    )
    assert not wrong, f"the offline gate disagrees with the server on {len(wrong)} of {len(cases)} cases:\n{report}"
