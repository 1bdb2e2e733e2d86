"""Admins browse and export their estate's audit log; enterprise admins see all estates."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.models import AuditLog, Estate, Role


def _add_logs(dbs, rows):
    with dbs() as s:
        s.add_all([AuditLog(**row) for row in rows])
        s.commit()


@pytest.fixture
def logs(estate_pair, dbs):
    """A few rows in each estate (the fixture's sign-ins add more)."""
    alpha, beta = estate_pair.alpha, estate_pair.beta
    base = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    _add_logs(dbs, [
        dict(estate_id=alpha.estate.id, actor_user_id=alpha.admin.id, action="unit.created", target_type="Unit",
             target_id=alpha.unit.id, after={"number": "A1"}, created_at=base),
        dict(estate_id=alpha.estate.id, actor_user_id=alpha.admin.id, action="unit.updated", target_type="Unit",
             target_id=alpha.unit.id, before={"number": "A1", "notes": ""}, after={"number": "A1", "notes": "=cmd()"},
             created_at=base + timedelta(days=1)),
        dict(estate_id=alpha.estate.id, actor_user_id=alpha.guard.id, action="guard.device_bound",
             target_type="Membership", target_id=1, after={"device": "abcd1234"}, created_at=base + timedelta(days=2)),
        dict(estate_id=beta.estate.id, actor_user_id=beta.admin.id, action="unit.created", target_type="Unit",
             target_id=beta.unit.id, after={"number": "SECRET-BETA"}, created_at=base),
        dict(estate_id=None, actor_user_id=None, action="platform.thing", target_type="Estate", target_id=None,
             created_at=base),
    ])
    return estate_pair


def _actions(html: str) -> list[str]:
    return re.findall(r"<code>([^<]+)</code></dd>", html)


def test_admin_sees_this_estates_log_newest_first(client, logs, login):
    login("admin@alpha.test")
    html = client.get("/e/alpha/admin/audit/?from=2024-01-01&to=2024-12-31").get_data(as_text=True)
    assert _actions(html) == ["guard.device_bound", "unit.updated", "unit.created"]
    assert "SECRET-BETA" not in html and "platform.thing" not in html
    assert "=cmd()" in html and "<del>" in html  # before → after, compactly


def test_filters_actor_action_target_and_dates(client, logs, login):
    login("admin@alpha.test")
    get = lambda q: _actions(client.get("/e/alpha/admin/audit/?" + q).get_data(as_text=True))  # noqa: E731
    assert get("actor=guard%40alpha") == ["guard.device_bound"]
    assert get("actor=Ada+Obi&action=unit.created") == ["unit.created"]
    assert get("type=Membership") == ["guard.device_bound"]
    assert get("from=2024-05-02&to=2024-05-02") == ["unit.updated"]
    page = client.get("/e/alpha/admin/audit/").get_data(as_text=True)
    assert '<option value="unit.updated"' in page and '<option value="Membership"' in page
    assert "platform.thing" not in page


def test_dates_are_days_in_the_estates_time_zone(client, make, login, dbs):
    estate = make.estate("flores", timezone="America/Guatemala")
    admin = make.user("admin@flores.test", estate=estate, role=Role.ESTATE_ADMIN)
    # 03:00 UTC on 1 May is 21:00 on 30 April in Guatemala (UTC-6).
    _add_logs(dbs, [dict(estate_id=estate.id, actor_user_id=admin.id, action="late.evening", target_type="Unit",
                         created_at=datetime(2024, 5, 1, 3, 0, tzinfo=UTC))])
    login("admin@flores.test")
    assert _actions(client.get("/e/flores/admin/audit/?from=2024-04-30&to=2024-04-30").get_data(as_text=True)) \
        == ["late.evening"]
    assert _actions(client.get("/e/flores/admin/audit/?from=2024-05-01&to=2024-05-01").get_data(as_text=True)) == []


def test_bad_dates_get_a_message_and_are_ignored(client, logs, login):
    login("admin@alpha.test")
    response = client.get("/e/alpha/admin/audit/?from=yesterday")
    assert response.status_code == 422 and b"Enter a date as YYYY-MM-DD." in response.data
    reversed_ = client.get("/e/alpha/admin/audit/?from=2024-05-03&to=2024-05-01")
    assert reversed_.status_code == 422 and b"The end date is before the start date." in reversed_.data


def test_htmx_filtering_swaps_only_the_table(client, logs, login):
    login("admin@alpha.test")
    fragment = client.get("/e/alpha/admin/audit/?action=unit.created", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.data and b'id="audit-table"' not in fragment.data  # the table's content only
    assert _actions(fragment.get_data(as_text=True)) == ["unit.created"]


def test_audit_log_is_paginated_with_a_constant_number_of_queries(client, logs, login, dbs, make, count_queries):
    login("admin@alpha.test")
    client.get("/e/alpha/admin/audit/")
    with count_queries() as few:
        client.get("/e/alpha/admin/audit/")
    alpha = logs.alpha
    actors = [make.user(f"actor{n}@alpha.test").id for n in range(10)]
    _add_logs(dbs, [dict(estate_id=alpha.estate.id, actor_user_id=actors[n % 10], action=f"thing.{n % 7}",
                         target_type="Unit", target_id=n) for n in range(60)])
    with count_queries() as many:
        html = client.get("/e/alpha/admin/audit/").get_data(as_text=True)
    assert many.count == few.count
    assert len(_actions(html)) == 25 and "Page 1 of" in html


def test_csv_export_of_the_filtered_rows(client, logs, login):
    login("admin@alpha.test")
    response = client.get("/e/alpha/admin/audit/export.csv?action=unit.updated")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="audit-alpha-\d{4}-\d{2}-\d{2}\.csv"',
                        response.headers["Content-Disposition"])
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["unit.updated"]
    assert rows[0]["estate"] == "alpha" and rows[0]["actor_email"] == "admin@alpha.test"
    assert json.loads(rows[0]["after"]) == {"number": "A1", "notes": "=cmd()"}
    everything = client.get("/e/alpha/admin/audit/export.csv").get_data(as_text=True)
    assert "SECRET-BETA" not in everything and "platform.thing" not in everything


def test_csv_cells_cannot_become_formulas(client, estate_pair, login, dbs):
    _add_logs(dbs, [dict(estate_id=estate_pair.alpha.estate.id, action="=HYPERLINK()", target_type="Unit")])
    login("admin@alpha.test")
    body = client.get("/e/alpha/admin/audit/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK()" in body


def test_json_export_of_the_filtered_rows(client, logs, login):
    login("admin@alpha.test")
    response = client.get("/e/alpha/admin/audit/export.json?type=Unit&from=2024-05-01&to=2024-05-31")
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].endswith('.json"')
    rows = response.get_json()
    assert [r["action"] for r in rows] == ["unit.updated", "unit.created"]
    assert rows[0]["before"] == {"number": "A1", "notes": ""} and rows[0]["created_at"].startswith("2024-05-02")


def test_a_large_export_streams_every_row(client, estate_pair, login, dbs):
    start = datetime(2023, 1, 1, tzinfo=UTC)
    _add_logs(dbs, [dict(estate_id=estate_pair.alpha.estate.id, action="bulk.row", target_type="Unit",
                         target_id=n, created_at=start + timedelta(seconds=n // 2)) for n in range(2300)])
    login("admin@alpha.test")
    response = client.get("/e/alpha/admin/audit/export.csv?action=bulk.row")
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2300 and len({r["id"] for r in rows}) == 2300
    assert rows[0]["target_id"] in ("2298", "2299") and rows[-1]["target_id"] in ("0", "1")


def test_guards_cannot_open_the_audit_log(client, estate_pair, login):
    login("guard@alpha.test")
    assert client.get("/e/alpha/admin/audit/").status_code == 403
    assert client.get("/e/alpha/admin/audit/export.csv").status_code == 403
    client.post("/logout")
    login("admin@alpha.test")
    assert client.get("/e/beta/admin/audit/export.json").status_code == 404


# --- enterprise ---------------------------------------------------------------------


@pytest.fixture
def boss(client, logs, make, login):
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    return logs


def test_enterprise_admin_sees_every_estate_and_the_platform(client, boss):
    html = client.get("/enterprise/audit/?from=2024-05-01&to=2024-05-31").get_data(as_text=True)
    assert set(_actions(html)) == {"guard.device_bound", "unit.updated", "unit.created", "platform.thing"}
    assert "Alpha Court" in html and "Beta Court" in html and "Platform" in html
    only_beta = client.get(f"/enterprise/audit/?estate={boss.beta.estate.id}&action=unit.created")
    assert _actions(only_beta.get_data(as_text=True)) == ["unit.created"] and b"SECRET-BETA" in only_beta.data
    platform = client.get("/enterprise/audit/?estate=-1&from=2024-05-01&to=2024-05-31").get_data(as_text=True)
    assert _actions(platform) == ["platform.thing"]
    assert client.get("/enterprise/audit/?estate=999999").status_code == 404


def test_enterprise_export_is_named_after_the_estate_filter(client, boss):
    response = client.get(f"/enterprise/audit/export.csv?estate={boss.beta.estate.id}")
    assert 'filename="audit-beta-' in response.headers["Content-Disposition"]
    assert "SECRET-BETA" in response.get_data(as_text=True)
    everything = client.get("/enterprise/audit/export.json")
    assert 'filename="audit-all-estates-' in everything.headers["Content-Disposition"]
    estates = {row["estate"] for row in everything.get_json()}
    assert {"alpha", "beta", None} <= estates


def test_enterprise_audit_runs_a_constant_number_of_queries(client, boss, dbs, count_queries):
    client.get("/enterprise/audit/")
    with count_queries() as few:
        client.get("/enterprise/audit/")
    with dbs() as s:
        ids = s.scalars(sa.select(Estate.id)).all()
    _add_logs(dbs, [dict(estate_id=ids[n % len(ids)], actor_user_id=boss.alpha.admin.id, action="thing",
                         target_type="Unit") for n in range(40)])
    with count_queries() as many:
        client.get("/enterprise/audit/")
    assert many.count == few.count


def test_estate_admins_cannot_open_the_enterprise_audit(client, logs, login):
    login("admin@alpha.test")
    assert client.get("/enterprise/audit/").status_code == 403
    assert client.get("/enterprise/audit/export.csv").status_code == 403
