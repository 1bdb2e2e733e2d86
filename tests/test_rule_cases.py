"""The rule table of tests/rule_cases.py stays meaningful: enough cases, every answer
the gate can give among them, and every input in the offline bootstrap's shape. (The
browser test tests/browser/test_rule_parity.py compares them with the JavaScript.)"""

from portal.extensions import db
from portal.visits.rules import Refusal
from tests.rule_cases import ADMIT, build_cases

ENTRY_ANSWERS = {ADMIT, Refusal.PASS_EXPIRED, Refusal.PASS_NOT_YET_VALID, Refusal.PASS_EXHAUSTED,
                 Refusal.PASS_REVOKED, Refusal.VISITOR_BANNED, Refusal.ALREADY_INSIDE}


def test_the_rule_table_covers_every_answer_in_the_bootstraps_shape(app):
    with app.app_context():
        cases = build_cases()
        db.session.rollback()
    names = [c["name"] for c in cases]
    assert len(names) >= 40 and len(set(names)) == len(names)
    assert {c["verdict"] for c in cases} == ENTRY_ANSWERS
    assert sum(c["verdict"] == ADMIT for c in cases) >= 10
    assert all((c["ban"] is not None) == (c["verdict"] == Refusal.VISITOR_BANNED) for c in cases)
    pass_keys = {"id", "status", "pass_type", "valid_from", "valid_until", "weekdays", "daily_start", "daily_end",
                 "max_entries", "entries_used", "people_inside", "host", "visitors"}
    for case in cases:
        assert pass_keys <= set(case["input"]["pass"]), case["name"]
    assert {c["input"]["timezone"] for c in cases} >= {"Africa/Lagos", "America/Guatemala"}
