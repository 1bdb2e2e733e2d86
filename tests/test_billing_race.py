"""Two generations of the same period at once, on PostgreSQL, each in its own thread and
connection (two admins pressing "Generate", or a run and its resume): one invoice per
unit, numbers 1…N without a gap; the other estate's numbers are its own.

Needs PostgreSQL: run with TEST_DATABASE_URL set (`make test-pg`)."""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from portal.billing import generation
from portal.billing.periods import month
from portal.extensions import db
from portal.models import Estate, GenerationRun, GenerationStatus, Invoice
from tests.billing_support import add_charge, set_billing

pytestmark = [
    pytest.mark.real_commits,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                       reason="needs PostgreSQL (TEST_DATABASE_URL): real concurrent transactions"),
]

UNITS = 60
BATCH = 7  # small batches: the two runs interleave many times


def _run_at_once(app, run_ids: list[int]) -> list:
    barrier = threading.Barrier(len(run_ids))
    results, errors = {}, []

    def work(run_id: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                run = generation.execute_run(run_id, batch_size=BATCH)
                results[run_id] = (run.status, run.invoices_created, run.already_invoiced, run.error)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(run_id,)) for run_id in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return [results[run_id] for run_id in run_ids]


def _new_run(app, estate_id: int, period) -> int:
    with app.app_context():
        estate = db.session.get(Estate, estate_id)
        run = GenerationRun(estate_id=estate.id, period_start=period.start, period_end=period.end,
                            issue_date=period.start, due_date=period.end, status=GenerationStatus.QUEUED,
                            total_units=UNITS, currency=estate.currency)
        db.session.add(run)
        db.session.commit()
        return run.id


def test_two_runs_of_one_period_at_once_make_one_gapless_set(app, make):
    alpha, beta = make.estate("alpha"), make.estate("beta")
    for estate, prefix in ((alpha, "AL"), (beta, "BE")):
        set_billing(app, estate, prefix=prefix)
        add_charge(app, estate, "Service charge", 4_500_000)
        for n in range(UNITS):
            make.unit(estate, f"U{n + 1}")
    period = month(2026, 12)
    runs = [_new_run(app, alpha.id, period), _new_run(app, alpha.id, period), _new_run(app, beta.id, period)]

    results = _run_at_once(app, runs)

    assert all(status == GenerationStatus.DONE for status, *_ in results), results
    created = [r[1] for r in results]
    assert created[0] + created[1] == UNITS and created[2] == UNITS
    assert results[0][2] + results[1][2] == UNITS  # what one made, the other found made
    with app.app_context():
        for estate, prefix in ((alpha, "AL"), (beta, "BE")):
            rows = db.session.execute(sa.select(Invoice.unit_id, Invoice.sequence, Invoice.number)
                                      .where(Invoice.estate_id == estate.id).order_by(Invoice.sequence)).all()
            assert len({unit_id for unit_id, _, _ in rows}) == len(rows) == UNITS  # one per unit
            assert [seq for _, seq, _ in rows] == list(range(1, UNITS + 1))  # 1…N, no gap
            assert rows[-1].number == f"{prefix}-2026-{UNITS:06d}"


def test_a_run_and_its_resume_at_once_make_one_set(app, make):
    estate = make.estate("alpha")
    set_billing(app, estate, prefix="AL")
    add_charge(app, estate, "Service charge", 10_000)
    for n in range(UNITS):
        make.unit(estate, f"U{n + 1}")
    run_id = _new_run(app, estate.id, month(2026, 12))

    _run_at_once(app, [run_id, run_id])

    with app.app_context():
        sequences = db.session.scalars(sa.select(Invoice.sequence).where(Invoice.estate_id == estate.id)
                                       .order_by(Invoice.sequence)).all()
        run = db.session.get(GenerationRun, run_id)
        assert sequences == list(range(1, UNITS + 1))
        assert (run.status, run.invoices_created, run.done_units) == (GenerationStatus.DONE, UNITS, UNITS)
