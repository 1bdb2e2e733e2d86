"""The pass validity rules, judged in the estate's timezone."""

from datetime import UTC, datetime, time, timedelta

import pytest

from portal.models import PassType, Visit, VisitStatus
from portal.visits.rules import Refusal, entry_refusal, exit_refusal

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday; 13:00 in Lagos, 06:00 in Guatemala


def visit(**kw) -> Visit:
    fields = dict(pass_type=PassType.SINGLE_USE, status=VisitStatus.ACTIVE, valid_from=NOW - timedelta(hours=1),
                  valid_until=NOW + timedelta(hours=1), max_entries=1, entries_used=0, people_inside=False,
                  weekdays="")
    fields.update(kw)
    return Visit(**fields)


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({}, None),
        ({"valid_from": NOW + timedelta(minutes=1)}, Refusal.PASS_NOT_YET_VALID),
        ({"valid_until": NOW}, Refusal.PASS_EXPIRED),
        ({"entries_used": 1}, Refusal.PASS_EXHAUSTED),
        ({"pass_type": PassType.MULTI_ENTRY, "max_entries": 3, "entries_used": 2}, None),
        ({"status": VisitStatus.REVOKED}, Refusal.PASS_REVOKED),
        ({"status": VisitStatus.CANCELLED}, Refusal.PASS_REVOKED),
        ({"people_inside": True}, Refusal.ALREADY_INSIDE),
    ],
)
def test_entry_rules(fields, expected):
    assert entry_refusal(visit(**fields), NOW, "Africa/Lagos") == expected


def test_recurring_pass_follows_weekdays_and_hours_in_the_estates_timezone():
    staff = visit(pass_type=PassType.RECURRING, max_entries=None, weekdays="12345",
                  valid_from=NOW - timedelta(days=30), valid_until=NOW + timedelta(days=30),
                  daily_start=time(7, 0), daily_end=time(18, 0))
    assert entry_refusal(staff, NOW, "Africa/Lagos") is None  # Monday 13:00 in Lagos
    assert entry_refusal(staff, NOW, "America/Guatemala") == Refusal.PASS_NOT_YET_VALID  # 06:00 there
    assert entry_refusal(staff, NOW + timedelta(hours=6), "Africa/Lagos") == Refusal.PASS_EXPIRED  # 19:00
    saturday = NOW + timedelta(days=5)
    assert entry_refusal(staff, saturday, "Africa/Lagos") == Refusal.PASS_NOT_YET_VALID


def test_exit_needs_someone_inside():
    assert exit_refusal(visit()) == Refusal.NOT_INSIDE
    assert exit_refusal(visit(people_inside=True)) is None
