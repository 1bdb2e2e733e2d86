"""The database itself refuses emails and unit numbers that differ only in case
(functional unique indexes on lower(...)), whatever path writes them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.models import Unit, User, utcnow


def _insert(dbs, table, **values):
    """A plain INSERT, bypassing the services and the model's validators."""
    with dbs() as s:
        try:
            s.execute(sa.insert(table).values(**values))
            s.commit()
        except IntegrityError:
            s.rollback()
            raise


def _user_row(email: str) -> dict:
    return dict(email=email, full_name="Case Test", status="ACTIVE", session_version=1, notification_prefs={},
                created_at=utcnow())


def test_two_accounts_differing_only_in_case_are_refused_by_the_database(app, dbs):
    _insert(dbs, User.__table__, **_user_row("ada@example.test"))
    with pytest.raises(IntegrityError):
        _insert(dbs, User.__table__, **_user_row("Ada@Example.TEST"))
    _insert(dbs, User.__table__, **_user_row("bola@example.test"))


def test_emails_are_stored_lower_case_and_sign_in_ignores_case(client, make, login, dbs):
    user = make.user("  Mixed.Case@Example.TEST ")
    with dbs() as s:
        assert s.get(User, user.id).email == "mixed.case@example.test"
    login("MIXED.case@example.test")


def _unit_row(estate_id: int, number: str) -> dict:
    return dict(estate_id=estate_id, number=number, block="", floor="", unit_type="APARTMENT", notes="",
                created_at=utcnow())


def test_a12_next_to_A12_is_refused_by_the_database(estate_pair, dbs):
    alpha, beta = estate_pair.alpha.estate.id, estate_pair.beta.estate.id
    _insert(dbs, Unit.__table__, **_unit_row(alpha, "A12"))
    with pytest.raises(IntegrityError):
        _insert(dbs, Unit.__table__, **_unit_row(alpha, "a12"))
    _insert(dbs, Unit.__table__, **_unit_row(beta, "a12"))  # another estate may have its own
    with dbs() as s:
        assert s.scalars(sa.select(Unit.number).where(Unit.number.in_(["A12", "a12"])).order_by(Unit.id)).all() == [
            "A12", "a12"]
