"""Payment reminders: a periodic job writes, through the messaging outbox, a reminder for
each unpaid invoice coming due and for each overdue one, at a few steps of its life, each
step once per invoice.

- Steps (`STEPS`): due within 3 days (`due_soon`), then 1, 7 and 30 days overdue. A step
  is sent while the invoice is within its window (`due_soon` from 3 days before the due
  date to the day itself, `overdue_1` days 1–6, `overdue_7` days 7–29, `overdue_30` days
  30–59), so a day the worker missed is caught up the next run, and an invoice never gets
  the same step twice.
- Once, decided in the database: the run claims (invoice, step) by inserting a
  payment_reminder row with ON CONFLICT DO NOTHING … RETURNING on its unique pair, in the
  transaction that writes the messages; only what it claimed is sent. Two workers at once,
  or a run repeated, send nothing twice.
- To the invoice's billed-to resident's account, in their language (else the estate's),
  by email and/or SMS as their notification preferences say (`payment_reminder`); a step
  claimed for someone who wants neither is recorded with no message.
- Days are counted in the estate's time zone, and messages go out only in the estate's
  daytime (08:00–20:00): the job runs hourly (portal/jobs.py) and each estate's reminders
  leave with its first daytime run.
- An estate can turn reminders off (billing settings: `reminders_enabled`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from portal import audit, links
from portal.accounts.profile import wants_notification
from portal.billing import money
from portal.extensions import db
from portal.integrations import messaging
from portal.models import (
    OPEN_STATUSES,
    BillingSettings,
    Estate,
    Invoice,
    PaymentReminder,
    Resident,
    Unit,
    User,
    utcnow,
)

EVENT = "payment_reminder"


@dataclass(frozen=True)
class Step:
    key: str
    first_day: int  # days after the due date (negative: before)
    last_day: int


STEPS = (Step("due_soon", -3, 0), Step("overdue_1", 1, 6), Step("overdue_7", 7, 29), Step("overdue_30", 30, 59))
DAYTIME = (8, 20)  # local hours: from 08:00 to before 20:00

SUBJECT_DUE = _l("Invoice %(number)s is due on %(due)s")
BODY_DUE = _l("A reminder from %(estate)s: invoice %(number)s for unit %(unit)s, %(amount)s, is due on %(due)s.")
SUBJECT_OVERDUE = _l("Invoice %(number)s is overdue")
BODY_OVERDUE = _l("A reminder from %(estate)s: invoice %(number)s for unit %(unit)s was due on %(due)s and "
                  "%(amount)s is still to pay. If you have paid it already, thank you: please ignore this message.")
SEE = _l("See and pay your bills: %(link)s")


def step_for(days_after_due: int) -> Step | None:
    for step in STEPS:
        if step.first_day <= days_after_due <= step.last_day:
            return step
    return None


def _estates(now: datetime) -> list[Estate]:
    """Estates with reminders on and an open invoice within some step's window (give or
    take a day for the time zones)."""
    today = now.date()
    low = today - timedelta(days=STEPS[-1].last_day + 1)
    high = today + timedelta(days=-STEPS[0].first_day + 1)
    candidates = sa.select(Invoice.estate_id).where(Invoice.status.in_(OPEN_STATUSES), Invoice.balance_minor > 0,
                                                    Invoice.due_date.between(low, high)).distinct()
    return list(db.session.scalars(
        sa.select(Estate).outerjoin(BillingSettings, BillingSettings.estate_id == Estate.id)
        .where(Estate.id.in_(candidates), sa.func.coalesce(BillingSettings.reminders_enabled, sa.true()).is_(True))
        .order_by(Estate.id)))



def _absolute(link: str) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{link}" if base and link.startswith("/") else link


CLAIM_CHUNK = 1000  # rows per INSERT (6 parameters each: within SQLite's and PostgreSQL's limits)


def _claim(rows: list[dict]) -> set[tuple[int, str]]:
    """Insert the reminder rows not there yet; the (invoice, step) pairs this call wrote."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = PaymentReminder.__table__
    claimed = set()
    for start in range(0, len(rows), CLAIM_CHUNK):
        stmt = (insert(table).values(rows[start:start + CLAIM_CHUNK])
                .on_conflict_do_nothing(index_elements=["invoice_id", "step"])
                .returning(table.c.invoice_id, table.c.step))
        claimed.update((invoice_id, step) for invoice_id, step in db.session.execute(stmt))
    return claimed


def send_for_estate(estate: Estate, now: datetime | None = None) -> int:
    """Claim and write the estate's reminders due today (one transaction, committed). How
    many invoices were reminded (each once per step)."""
    now = now or utcnow()
    today: date = now.astimezone(ZoneInfo(estate.timezone)).date()
    low = today - timedelta(days=STEPS[-1].last_day)
    high = today - timedelta(days=STEPS[0].first_day)
    rows = db.session.execute(
        sa.select(Invoice.id, Invoice.number, Invoice.due_date, Invoice.balance_minor, Invoice.currency, Unit.number,
                  User.email, User.phone, User.preferred_language, User.notification_prefs)
        .join(Unit, Unit.id == Invoice.unit_id)
        .outerjoin(Resident, Resident.id == Invoice.resident_id)
        .outerjoin(User, User.id == Resident.user_id)
        .where(Invoice.estate_id == estate.id, Invoice.status.in_(OPEN_STATUSES), Invoice.balance_minor > 0,
               Invoice.due_date.between(low, high))
        .order_by(Invoice.id)).all()
    done = set(db.session.execute(
        sa.select(PaymentReminder.invoice_id, PaymentReminder.step).join(Invoice, Invoice.id == PaymentReminder.invoice_id)
        .where(PaymentReminder.estate_id == estate.id, Invoice.estate_id == estate.id,
               Invoice.due_date.between(low, high))).all()) if rows else set()
    plans = []
    for invoice_id, number, due, balance, currency, unit_number, email, phone, language, prefs in rows:
        step = step_for((today - due).days)
        if step is None or (invoice_id, step.key) in done:
            continue
        user = None
        if email is not None or phone is not None:
            user = SimpleNamespace(email=email, phone=phone, preferred_language=language,
                                   notification_prefs=prefs or {})
        plans.append((invoice_id, step, number, due, balance, currency, unit_number, user))
    if not plans:
        return 0
    messages_of = {}
    for invoice_id, step, number, due, balance, currency, unit_number, user in plans:
        messages_of[(invoice_id, step.key)] = _messages(estate, user, step, number, due, balance, currency, unit_number)
    claimed = _claim([{"estate_id": estate.id, "invoice_id": invoice_id, "step": step.key,
                       "messages": len(messages_of[(invoice_id, step.key)][1]), "sent_at": now}
                      for invoice_id, step, *_ in plans])
    by_language: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    numbers = []
    for invoice_id, step, number, *_ in plans:
        if (invoice_id, step.key) not in claimed:
            continue
        language, messages = messages_of[(invoice_id, step.key)]
        by_language[language].extend(messages)
        numbers.append(f"{number} ({step.key})")
    written = sum(messaging.send_bulk(messages, estate=estate, language=language, reason=EVENT)
                  for language, messages in by_language.items())
    if numbers:
        audit.record("invoice.reminders_sent", estate, actor_id=None, estate_id=estate.id,
                     after={"count": len(numbers), "messages": written, "reminders": numbers[:50],
                            "today": today.isoformat()})
    db.session.commit()
    return len(numbers)


def _messages(estate: Estate, user: SimpleNamespace | None, step: Step, number: str, due: date, balance: int, currency: str,
              unit_number: str) -> tuple[str, list[tuple[str, str, str, str]]]:
    """(language, [(channel, recipient, subject, body)]) for one reminder; none when the
    payer has no account or wants no reminder."""
    if user is None:
        return "", []
    wants_email = bool(user.email) and wants_notification(user, EVENT, "email")
    wants_sms = bool(user.phone) and wants_notification(user, EVENT, "sms")
    language = messaging.language_for(user.preferred_language, estate)
    if not (wants_email or wants_sms):
        return language, []
    locale = money.reader_locale(language, estate.country)
    values = {"estate": estate.name, "number": number, "unit": unit_number,
              "amount": money.format_money(balance, currency, locale), "due": money.format_day(due, locale)}
    overdue = step.first_day > 0
    with force_locale(language):
        subject = str(SUBJECT_OVERDUE if overdue else SUBJECT_DUE) % values
        body = str(BODY_OVERDUE if overdue else BODY_DUE) % values
        body = f"{body}\n{str(SEE) % {'link': _absolute(links.bills_for_resident(estate))}}"
    messages = []
    if wants_email:
        messages.append(("EMAIL", user.email, subject, body))
    if wants_sms:
        messages.append(("SMS", user.phone, "", body))
    return language, messages


def in_daytime(estate: Estate, now: datetime) -> bool:
    hour = now.astimezone(ZoneInfo(estate.timezone)).hour
    return DAYTIME[0] <= hour < DAYTIME[1]


def send_reminders(now: datetime | None = None, *, any_hour: bool = False) -> int:
    """The periodic job: every estate with reminders on, in its daytime (`any_hour`: now,
    whatever the hour — the command line). How many invoices were reminded."""
    now = now or utcnow()
    total = 0
    for estate in _estates(now):
        if any_hour or in_daytime(estate, now):
            total += send_for_estate(estate, now)
    return total
