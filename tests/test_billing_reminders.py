"""Payment reminders: coming due and overdue invoices get a reminder at each step, once
(however often the job runs), in the payer's language, as their preferences say, in the
estate's daytime; an estate can turn them off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal import jobs
from portal.billing import reminders
from portal.extensions import db
from portal.models import (
    AuditLog,
    BillingSettings,
    Invoice,
    OutboxMessage,
    PaymentReminder,
    Role,
    User,
)
from tests.billing_support import add_charge, generate, invoices_of, set_billing

# 10:00 in Lagos (UTC+1): daytime.
MORNING = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 20)


@pytest.fixture
def billed(app, estate_pair, make):
    """Alpha's A1 (the resident's, with an email and a phone) billed ₦45,000 for December."""
    a = estate_pair.alpha
    with app.app_context():
        user = db.session.get(User, a.resident.id)
        user.phone = "+2348030000001"
        db.session.commit()
    set_billing(app, a.estate, prefix="AL")
    add_charge(app, a.estate, "Service charge", 4_500_000)
    generate(app, a.estate)
    return invoices_of(app, a.estate)[0]


def _due(app, invoice_id: int, due: date) -> None:
    with app.app_context():
        db.session.execute(sa.update(Invoice).where(Invoice.id == invoice_id).values(due_date=due))
        db.session.commit()


def _reminders(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.reason == "payment_reminder")
                                       .order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def _send(app, now: datetime = MORNING) -> int:
    with app.app_context():
        return reminders.send_reminders(now)


def test_each_step_is_sent_once(app, billed):
    _due(app, billed.id, TODAY + timedelta(days=3))
    assert _send(app) == 1
    assert _send(app) == 0 and _send(app, MORNING + timedelta(hours=3)) == 0  # the job runs hourly
    sent = _reminders(app)
    assert [m.channel for m in sent] == ["EMAIL"]  # SMS is off unless chosen
    assert sent[0].recipient == "resident@alpha.test" and sent[0].language == "en"
    assert sent[0].subject == f"Invoice {billed.number} is due on 23 Dec 2026"
    assert "₦45,000.00" in sent[0].body and "/e/alpha/home/bills/" in sent[0].body
    # Still inside the "due soon" window the next days: nothing more.
    assert _send(app, MORNING + timedelta(days=2)) == 0
    # Overdue: 1 day, then 7, then 30, each once.
    for days, step in ((1, "overdue_1"), (7, "overdue_7"), (30, "overdue_30")):
        later = MORNING + timedelta(days=3 + days)
        assert _send(app, later) == 1, step
        assert _send(app, later) == 0
    assert _send(app, MORNING + timedelta(days=3 + 45)) == 0
    with app.app_context():
        steps = list(db.session.scalars(sa.select(PaymentReminder.step).order_by(PaymentReminder.id)))
        assert steps == ["due_soon", "overdue_1", "overdue_7", "overdue_30"]
    overdue = _reminders(app)[1]
    assert overdue.subject == f"Invoice {billed.number} is overdue"
    assert "was due on 23 Dec 2026 and ₦45,000.00 is still to pay" in overdue.body


def test_a_missed_day_is_caught_up_but_old_steps_are_not_sent_late(app, billed):
    # 9 days overdue when the worker first runs: the 7-day reminder, not the 1-day one.
    _due(app, billed.id, TODAY - timedelta(days=9))
    assert _send(app) == 1
    with app.app_context():
        assert list(db.session.scalars(sa.select(PaymentReminder.step))) == ["overdue_7"]


def test_a_paid_or_void_invoice_gets_no_reminder(app, billed):
    _due(app, billed.id, TODAY - timedelta(days=1))
    with app.app_context():
        db.session.execute(sa.update(Invoice).where(Invoice.id == billed.id).values(
            status="PAID", amount_paid_minor=Invoice.total_minor, balance_minor=0))
        db.session.commit()
    assert _send(app) == 0 and _reminders(app) == []


def test_only_in_the_estates_daytime(app, billed):
    _due(app, billed.id, TODAY + timedelta(days=1))
    night = datetime(2026, 12, 20, 22, 0, tzinfo=UTC)  # 23:00 in Lagos
    assert _send(app, night) == 0
    early = datetime(2026, 12, 21, 6, 30, tzinfo=UTC)  # 07:30 in Lagos
    assert _send(app, early) == 0
    assert _send(app, early + timedelta(hours=1)) == 1  # 08:30


def test_in_the_payers_language_and_as_their_preferences_say(app, estate_pair, billed):
    _due(app, billed.id, TODAY - timedelta(days=2))
    with app.app_context():
        user = db.session.get(User, estate_pair.alpha.resident.id)
        user.preferred_language = "es"
        user.notification_prefs = {"payment_reminder": {"email": False, "sms": True}}
        db.session.commit()
    assert _send(app) == 1
    (sms,) = _reminders(app)
    assert sms.channel == "SMS" and sms.recipient == "+2348030000001" and sms.language == "es"
    assert sms.body.startswith(f"Un recordatorio de Alpha Court: la factura {billed.number} de la unidad A1 venció el")
    assert "Consulta y paga tus facturas" in sms.body


def test_nobody_who_wants_it_still_uses_up_the_step(app, estate_pair, billed):
    _due(app, billed.id, TODAY - timedelta(days=2))
    with app.app_context():
        user = db.session.get(User, estate_pair.alpha.resident.id)
        user.notification_prefs = {"payment_reminder": {"email": False, "sms": False}}
        db.session.commit()
    assert _send(app) == 1 and _reminders(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(PaymentReminder.messages)) == 0
        user = db.session.get(User, estate_pair.alpha.resident.id)
        user.notification_prefs = {}
        db.session.commit()
    assert _send(app) == 0 and _reminders(app) == []  # that step is done; the next one will reach them


def test_an_estate_can_turn_reminders_off(app, estate_pair, billed):
    _due(app, billed.id, TODAY + timedelta(days=2))
    with app.app_context():
        db.session.get(BillingSettings, estate_pair.alpha.estate.id).reminders_enabled = False
        db.session.commit()
    assert _send(app) == 0 and _reminders(app) == []
    with app.app_context():
        db.session.get(BillingSettings, estate_pair.alpha.estate.id).reminders_enabled = True
        db.session.commit()
    assert _send(app) == 1


def test_each_estate_counts_days_in_its_own_time_zone(app, billed, make):
    flores = make.estate("flores", name="Las Flores", timezone="America/Guatemala", currency="GTQ", country="GT",
                         default_language="es")
    set_billing(app, flores, prefix="LF")
    casa = make.unit(flores, "Casa 7")
    vecino = make.user("vecino@flores.test", estate=flores, role=Role.RESIDENT)
    make.resident(flores, casa, "Andrés Morales", user=vecino)
    add_charge(app, flores, "Cuota", 85_000)
    generate(app, flores)
    invoice = invoices_of(app, flores)[0]
    # 02:00 UTC on the 21st: the 21st in Lagos (night), still the 20th in Guatemala (20:00 there: evening).
    _due(app, invoice.id, date(2026, 12, 19))
    _due(app, billed.id, date(2026, 12, 19))
    at = datetime(2026, 12, 21, 1, 0, tzinfo=UTC)  # 19:00 in Guatemala, 02:00 in Lagos
    assert _send(app, at) == 1
    (message,) = _reminders(app)
    assert message.recipient == "vecino@flores.test" and message.language == "es" and "Q850.00" in message.body


def test_the_run_is_audited_and_the_job_and_command_send(app, billed):
    _due(app, billed.id, date.today() - timedelta(days=1))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-reminders"])
    assert "Invoices reminded: 1" in result.output
    assert runner.invoke(args=["send-reminders"]).output.strip() == "Invoices reminded: 0"
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "invoice.reminders_sent"))
        assert entry.after["count"] == 1 and entry.after["reminders"] == [f"{billed.number} (overdue_1)"]
        assert jobs.get(app).send_reminders.call_local() == 0  # the periodic job: nothing left to send


def test_two_runs_at_once_send_once(app, billed):
    """The claim is decided by the unique (invoice, step) row: a run that finds it taken
    writes nothing."""
    _due(app, billed.id, TODAY - timedelta(days=1))
    with app.app_context():
        db.session.add(PaymentReminder(estate_id=billed.estate_id, invoice_id=billed.id, step="overdue_1",
                                       sent_at=MORNING))
        db.session.commit()
        from portal.models import Estate

        estate = db.session.get(Estate, billed.estate_id)
        # As if another worker claimed it between this run's read and its insert.
        assert reminders._claim([{"estate_id": estate.id, "invoice_id": billed.id, "step": "overdue_1",
                                  "messages": 1, "sent_at": MORNING}]) == set()
        db.session.rollback()
    assert _send(app) == 0 and _reminders(app) == []


def test_many_invoices_are_claimed_in_chunks(app, estate_pair, billed, make, monkeypatch):
    a = estate_pair.alpha
    for number in ("A2", "A3", "A4"):
        unit = make.unit(a.estate, number)
        make.resident(a.estate, unit, f"Owner of {number}", user=make.user(f"{number.lower()}@alpha.test"))
    from portal.billing.periods import month

    generate(app, a.estate, month(2026, 11))
    with app.app_context():
        db.session.execute(sa.update(Invoice).values(due_date=TODAY - timedelta(days=8)))
        db.session.commit()
    monkeypatch.setattr(reminders, "CLAIM_CHUNK", 2)
    assert _send(app) == 5  # A1's two invoices (November, December) and one each for A2–A4
    assert _send(app) == 0
    assert len(_reminders(app)) == 5
