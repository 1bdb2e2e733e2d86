"""Each test's rows are gone before the next test starts, on SQLite and on PostgreSQL:
a test runs in a transaction rolled back at its end, and a `real_commits` test's
tables are emptied after it. (The tests run in file order: each pair is write, then look.)"""

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Estate


def _slugs(dbs) -> set[str]:
    with dbs() as s:
        return set(s.scalars(sa.select(Estate.slug)))


def test_1_a_row_committed_by_the_app_is_seen_within_its_test(client, make, login, dbs):
    make.estate("isolation-probe")
    make.enterprise_admin()
    login("boss@example.test")
    assert client.get("/enterprise/").status_code == 200  # a request in its own app context
    assert _slugs(dbs) == {"isolation-probe"}
    with client.application.app_context(), db.engine.connect() as other:  # outside the test's transaction
        assert other.scalar(sa.select(sa.func.count()).select_from(Estate)) == 0


def test_2_and_is_gone_in_the_next_test(dbs):
    assert _slugs(dbs) == set()


@pytest.mark.real_commits
def test_3_a_really_committed_row_is_seen_from_another_connection(app, make):
    make.estate("committed-probe")
    with app.app_context(), db.engine.connect() as other:
        assert other.scalar(sa.select(Estate.slug)) == "committed-probe"


def test_4_and_is_gone_in_the_next_test_too(app, dbs):
    assert _slugs(dbs) == set()
    with app.app_context(), db.engine.connect() as other:
        assert other.scalar(sa.select(sa.func.count()).select_from(Estate)) == 0
