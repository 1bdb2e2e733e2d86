"""Invoice generation for a period: the preview, the background run, invoice numbers.

How a run stays right however it is run, crashed or repeated:

- Units are taken in id order, BATCH_SIZE at a time; each batch is one transaction that
  writes its invoices, their lines, the numbers they used and the run's progress
  (`last_unit_id`), then commits. A crash loses at most the batch in flight (rolled back
  whole: no invoice without its number, no number without its invoice); the run is
  FAILED (or left RUNNING by a dead worker) and a resume goes on after `last_unit_id`.
- Numbers: each batch first locks the estate's counter row for the period's year
  (`UPDATE invoice_counter … RETURNING`, held to its commit), then looks for the units
  that already have an invoice for the period, and takes exactly as many numbers as it
  writes invoices. Two runs of the same period at once are serialised batch by batch on
  that row: the second finds the first one's invoices and skips those units, so there is
  one invoice per unit and period and numbers go 1…N without a gap. The partial unique
  index on (estate_id, unit_id, period_start) for PERIODIC invoices backs this: if it
  ever fired, the batch would roll back whole (never a gap).
- Bulk statements: one INSERT … RETURNING for a batch's invoices, one executemany for the
  lines, one for the one-off charges they bill, one for the notices (messaging.send_bulk);
  no ORM object per row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from portal import audit, bulk, links
from portal.accounts.profile import wants_notification
from portal.billing import money
from portal.billing import settings as billing_settings
from portal.billing.periods import Period, bills_in
from portal.errors import Conflict, FieldErrors, NotFound
from portal.extensions import db
from portal.integrations import messaging
from portal.models import (
    Charge,
    ChargeFrequency,
    ChargeOptIn,
    ChargeScope,
    ChargeUnit,
    Estate,
    GenerationRun,
    GenerationStatus,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Resident,
    ResidentType,
    Unit,
    UnitCharge,
    User,
    utcnow,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 500
# A QUEUED or RUNNING run that has not moved for this long is taken as dead (its worker
# stopped, or it was never picked up): the admin may resume it.
STALE_AFTER = timedelta(minutes=2)
ONE_OFF_GROUP = "one-off"

_invoices = Invoice.__table__
_lines = InvoiceLine.__table__
_unit_charges = UnitCharge.__table__
_counters = InvoiceCounter.__table__
_runs = GenerationRun.__table__


def estate_today(estate: Estate) -> date:
    return datetime.now(ZoneInfo(estate.timezone)).date()


def invoice_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year:04d}-{sequence:06d}"


def default_due_date(estate: Estate, period: Period, today: date | None = None) -> date:
    today = today or estate_today(estate)
    return max(today, period.start) + timedelta(days=billing_settings.get(estate).due_days)


# --- what each unit owes for a period ---------------------------------------------------------


@dataclass(frozen=True)
class PlannedLine:
    description: str
    amount_minor: int
    charge_id: int | None = None
    unit_charge_id: int | None = None
    frequency: ChargeFrequency | None = None
    covers_start: date | None = None
    covers_end: date | None = None

    @property
    def group(self) -> int | str:
        return self.charge_id if self.charge_id is not None else ONE_OFF_GROUP


@dataclass
class PlannedInvoice:
    unit_id: int
    unit_number: str
    block: str
    lines: list[PlannedLine]
    tax_rate_bp: int
    subtotal_minor: int = field(init=False)
    tax_minor: int = field(init=False)
    total_minor: int = field(init=False)

    def __post_init__(self) -> None:
        self.subtotal_minor = sum(line.amount_minor for line in self.lines)
        self.tax_minor = money.tax_on(self.subtotal_minor, self.tax_rate_bp)
        self.total_minor = self.subtotal_minor + self.tax_minor


@dataclass(frozen=True)
class _Rule:
    """A charge that bills in the period, as plain values (read for every unit)."""

    line: PlannedLine  # the same line for every unit it applies to
    scope: ChargeScope
    unit_types: frozenset[str]
    blocks: frozenset[str]
    listed: frozenset[int]
    opt_in_only: bool
    opted_in: frozenset[int]

    def applies(self, unit_id: int, block: str, unit_type: str) -> bool:
        if self.scope == ChargeScope.UNIT_TYPES and unit_type not in self.unit_types:
            return False
        if self.scope == ChargeScope.BLOCKS and block not in self.blocks:
            return False
        if self.scope == ChargeScope.UNITS and unit_id not in self.listed:
            return False
        return not self.opt_in_only or unit_id in self.opted_in


@dataclass
class Catalogue:
    """The charges that bill in a period, with the units each lists or that opted in."""

    charges: list[Charge]
    rules: list[_Rule]

    def lines_for(self, unit_id: int, block: str, unit_type: str) -> list[PlannedLine]:
        return [rule.line for rule in self.rules if rule.applies(unit_id, block, unit_type)]


def load_catalogue(estate: Estate, period: Period) -> Catalogue:
    """Three queries: the estate's active charges, then the units listed and opted in."""
    charges = db.session.scalars(sa.select(Charge).where(Charge.estate_id == estate.id, Charge.active.is_(True))
                                 .order_by(Charge.name, Charge.id)).all()
    billed = [(charge, covers) for charge in charges if (covers := bills_in(charge, period)) is not None]
    ids = [charge.id for charge, _ in billed]
    listed: dict[int, set[int]] = defaultdict(set)
    opted_in: dict[int, set[int]] = defaultdict(set)
    if ids:
        for model, target in ((ChargeUnit, listed), (ChargeOptIn, opted_in)):
            for charge_id, unit_id in db.session.execute(
                    sa.select(model.charge_id, model.unit_id).where(model.charge_id.in_(ids))):
                target[charge_id].add(unit_id)
    rules = []
    for charge, (covers_start, covers_end) in billed:
        spans = charge.frequency in (ChargeFrequency.QUARTERLY, ChargeFrequency.ANNUAL)
        line = PlannedLine(charge.name, charge.amount_minor, charge_id=charge.id, frequency=charge.frequency,
                           covers_start=covers_start if spans else None, covers_end=covers_end if spans else None)
        rules.append(_Rule(line, charge.applies_to, frozenset(charge.unit_types or ()), frozenset(charge.blocks or ()),
                           frozenset(listed.get(charge.id, ())), not charge.mandatory,
                           frozenset(opted_in.get(charge.id, ()))))
    return Catalogue([charge for charge, _ in billed], rules)


def _pending_one_offs(estate: Estate, period: Period, units: tuple[int, int] | None = None,
                      ) -> dict[int, list[PlannedLine]]:
    """One-off charges dated up to the period's end and not on an invoice yet, by unit (of
    the unit id range `units`, if given)."""
    stmt = (sa.select(UnitCharge.id, UnitCharge.unit_id, UnitCharge.description, UnitCharge.amount_minor)
            .where(UnitCharge.estate_id == estate.id, UnitCharge.invoice_id.is_(None),
                   UnitCharge.cancelled_at.is_(None), UnitCharge.charge_date <= period.end)
            .order_by(UnitCharge.charge_date, UnitCharge.id))
    if units is not None:
        stmt = stmt.where(UnitCharge.unit_id.between(*units))
    found: dict[int, list[PlannedLine]] = defaultdict(list)
    for item_id, unit_id, description, amount in db.session.execute(stmt):
        found[unit_id].append(PlannedLine(description, amount, unit_charge_id=item_id))
    return found


# The predicate of the partial unique index, as literals so that the planner uses the index.
_LIVE_PERIODIC = sa.text("invoice.kind = 'PERIODIC' AND invoice.status <> 'VOID'")


def _invoiced_units(estate: Estate, period: Period, units: tuple[int, int] | None = None) -> set[int]:
    """The units (of the id range `units`, if given) with a live generated invoice for the period."""
    stmt = sa.select(Invoice.unit_id).where(Invoice.estate_id == estate.id, Invoice.period_start == period.start,
                                            _LIVE_PERIODIC)
    if units is not None:
        stmt = stmt.where(Invoice.unit_id.between(*units))
    return set(db.session.scalars(stmt))


def _units_stmt(estate: Estate):
    return sa.select(Unit.id, Unit.number, Unit.block, Unit.unit_type).where(
        Unit.estate_id == estate.id, Unit.archived_at.is_(None))


# --- the preview ----------------------------------------------------------------------------------


@dataclass
class ServiceTotal:
    name: str
    units: int = 0
    amount_minor: int = 0


@dataclass
class Preview:
    period: Period
    currency: str
    tax_rate_bp: int
    issue_date: date
    due_date: date
    invoices: list[PlannedInvoice] = field(default_factory=list)
    already_invoiced: list[str] = field(default_factory=list)  # unit numbers
    no_charges: list[str] = field(default_factory=list)
    services: list[ServiceTotal] = field(default_factory=list)
    subtotal_minor: int = 0
    tax_minor: int = 0
    total_minor: int = 0

    @property
    def unit_count(self) -> int:
        return len(self.invoices) + len(self.already_invoiced) + len(self.no_charges)


def check_period(estate: Estate, period: Period | None, today: date | None = None) -> Period:
    """A month the estate may bill: not after next month."""
    if period is None:
        raise FieldErrors({"period": _l("Choose a month.")})
    today = today or estate_today(estate)
    latest = date(today.year + (today.month // 12), today.month % 12 + 1, 1)
    if period.start > latest:
        raise FieldErrors({"period": _l("You can bill this month, next month or past months, not further ahead.")})
    return period


def preview(estate: Estate, period: Period, due_date: date | None = None) -> Preview:
    """What generating `period` would do now, without writing anything (about six queries
    whatever the number of units)."""
    config = billing_settings.get(estate)
    today = estate_today(estate)
    result = Preview(period, estate.currency, config.tax_rate_bp, today,
                     due_date or default_due_date(estate, period, today))
    catalogue = load_catalogue(estate, period)
    invoiced = _invoiced_units(estate, period)
    one_offs = _pending_one_offs(estate, period)
    services: dict[int | str, ServiceTotal] = {c.id: ServiceTotal(c.name) for c in catalogue.charges}
    units = db.session.execute(_units_stmt(estate).order_by(Unit.block, sa.func.length(Unit.number), Unit.number))
    for unit_id, number, block, unit_type in units:
        if unit_id in invoiced:
            result.already_invoiced.append(number)
            continue
        lines = catalogue.lines_for(unit_id, block, unit_type) + one_offs.get(unit_id, [])
        if not lines:
            result.no_charges.append(number)
            continue
        planned = PlannedInvoice(unit_id, number, block, lines, config.tax_rate_bp)
        result.invoices.append(planned)
        for line in lines:
            total = services.setdefault(line.group, ServiceTotal(str(_l("One-off charges"))))
            total.units += 1
            total.amount_minor += line.amount_minor
        result.subtotal_minor += planned.subtotal_minor
        result.tax_minor += planned.tax_minor
        result.total_minor += planned.total_minor
    result.services = [s for s in services.values() if s.units]
    return result


# --- starting, resuming and running a generation -----------------------------------------------


def _enqueue(run_id: int) -> None:
    """Hand the run to the job queue (after the commit that wrote it). If the queue is down
    the run waits as QUEUED; the admin's page offers to resume it."""
    from portal import jobs

    try:
        jobs.get(current_app).generate_invoices(run_id)
    except Exception:
        current_app.logger.exception("Could not enqueue generation run %s", run_id)


def is_stale(run: GenerationRun, now: datetime | None = None) -> bool:
    if run.status not in (GenerationStatus.QUEUED, GenerationStatus.RUNNING):
        return False
    moved = run.heartbeat_at or run.created_at
    return (now or utcnow()) - moved > STALE_AFTER


def can_resume(run: GenerationRun, now: datetime | None = None) -> bool:
    return run.status == GenerationStatus.FAILED or is_stale(run, now)


def start_generation(actor: User, estate: Estate, period: Period, due_date: date | None) -> GenerationRun:
    """Record a run for `period` and queue it. If a run of that period is already under way
    (queued or running, and moving), that one is returned instead of a second."""
    period = check_period(estate, period)
    today = estate_today(estate)
    due = due_date or default_due_date(estate, period, today)
    if due < today:
        raise FieldErrors({"due_date": _l("The due date cannot be before today.")})
    under_way = db.session.scalars(
        sa.select(GenerationRun).where(GenerationRun.estate_id == estate.id,
                                       GenerationRun.period_start == period.start,
                                       GenerationRun.status.in_([GenerationStatus.QUEUED, GenerationStatus.RUNNING]))
        .order_by(GenerationRun.id.desc())).all()
    for run in under_way:
        if not is_stale(run):
            return run
    total = db.session.scalar(sa.select(sa.func.count()).select_from(_units_stmt(estate).subquery()))
    run = GenerationRun(estate_id=estate.id, period_start=period.start, period_end=period.end, issue_date=today,
                        due_date=due, status=GenerationStatus.QUEUED, total_units=total, currency=estate.currency,
                        created_by_id=actor.id)
    db.session.add(run)
    db.session.flush()
    audit.record("billing.generation_started", run, actor_id=actor.id,
                 after={"period": period.key, "due_date": due.isoformat(), "units": total})
    run_id = run.id
    db.session.commit()
    _enqueue(run_id)  # no transaction of ours open meanwhile (reading run.id now would begin one)
    return run


def generate_now(estate: Estate, period: Period, *, actor_id: int | None = None, due_date: date | None = None,
                 batch_size: int = BATCH_SIZE, issue_date: date | None = None) -> GenerationRun:
    """Record a run and execute it here and now, without the queue (demo data, the benchmark,
    scripts). The same batches as the job. `issue_date`: today unless given (the demo's
    history is issued on each month's first day)."""
    today = issue_date or estate_today(estate)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(_units_stmt(estate).subquery()))
    run = GenerationRun(estate_id=estate.id, period_start=period.start, period_end=period.end, issue_date=today,
                        due_date=due_date or default_due_date(estate, period, today), status=GenerationStatus.QUEUED,
                        total_units=total, currency=estate.currency, created_by_id=actor_id)
    db.session.add(run)
    db.session.commit()
    return execute_run(run.id, batch_size=batch_size)


def get_run(estate: Estate, run_id: int) -> GenerationRun:
    run = db.session.scalar(sa.select(GenerationRun).where(GenerationRun.id == run_id,
                                                           GenerationRun.estate_id == estate.id))
    if run is None:
        raise NotFound()
    return run


def recent_runs(estate: Estate, limit: int = 10) -> list[GenerationRun]:
    return list(db.session.scalars(sa.select(GenerationRun).where(GenerationRun.estate_id == estate.id)
                                   .order_by(GenerationRun.created_at.desc(), GenerationRun.id.desc()).limit(limit)))


def resume_run(actor: User, estate: Estate, run_id: int) -> GenerationRun:
    """Queue a failed or stalled run again; it goes on after its last committed batch."""
    run = get_run(estate, run_id)
    if not can_resume(run):
        raise Conflict(_l("This run is finished or still moving; there is nothing to resume."))
    before = {"status": run.status.value, "done_units": run.done_units}
    run.status, run.error, run.heartbeat_at = GenerationStatus.QUEUED, "", utcnow()
    audit.record("billing.generation_resumed", run, actor_id=actor.id, before=before,
                 after={"status": GenerationStatus.QUEUED.value})
    db.session.commit()
    _enqueue(run_id)
    return run


def execute_run(run_id: int, batch_size: int = BATCH_SIZE) -> GenerationRun | None:
    """The job: generate the run's invoices batch by batch (see the module's docstring).
    Never raises: a failure leaves the run FAILED with the error, and what it committed."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(_runs).where(_runs.c.id == run_id, _runs.c.status != GenerationStatus.DONE)
        .values(status=GenerationStatus.RUNNING, started_at=sa.func.coalesce(_runs.c.started_at, now),
                heartbeat_at=now, error="")).rowcount
    db.session.commit()
    run = db.session.get(GenerationRun, run_id)
    if not claimed or run is None:
        return run
    estate = db.session.get(Estate, run.estate_id)
    period = Period(run.period_start, run.period_end)
    try:
        config = billing_settings.get(estate)
        catalogue = load_catalogue(estate, period)
        notice = _NoticeWriter(estate)
        while True:
            cursor = db.session.scalar(sa.select(_runs.c.last_unit_id).where(_runs.c.id == run_id))
            units = db.session.execute(_units_stmt(estate).where(Unit.id > cursor).order_by(Unit.id)
                                       .limit(batch_size)).all()
            if not units:
                break
            _generate_batch(run_id, estate, period, run.issue_date, run.due_date, config, catalogue, units, notice)
            db.session.commit()
        db.session.execute(sa.update(_runs).where(_runs.c.id == run_id).values(
            status=GenerationStatus.DONE, finished_at=utcnow(), heartbeat_at=utcnow()))
        db.session.refresh(run)
        audit.record("billing.generation_finished", run, actor_id=run.created_by_id, after=summary(run))
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("Generation run %s failed", run_id)
        db.session.execute(sa.update(_runs).where(_runs.c.id == run_id).values(
            status=GenerationStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:500], heartbeat_at=utcnow()))
        db.session.commit()
    db.session.refresh(run)
    return run


def summary(run: GenerationRun) -> dict:
    return {"period": run.period_start.isoformat()[:7], "invoices": run.invoices_created,
            "already_invoiced": run.already_invoiced, "no_charges": run.no_charges, "total_minor": run.total_minor,
            "currency": run.currency, "units": run.done_units}


# --- numbers ---------------------------------------------------------------------------------------


def _lock_counter(estate_id: int, year: int) -> int:
    """Lock the estate's counter row for `year` (created if missing) to the end of the
    transaction; the last number given."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(_counters).values(estate_id=estate_id, year=year, last_number=0)
                       .on_conflict_do_nothing(index_elements=["estate_id", "year"]))
    return db.session.execute(
        sa.update(_counters).where(_counters.c.estate_id == estate_id, _counters.c.year == year)
        .values(last_number=_counters.c.last_number).returning(_counters.c.last_number)).scalar_one()


def _take_numbers(estate_id: int, year: int, last: int, count: int) -> None:
    """Move the (locked) counter on by `count`: the numbers last+1 … last+count are used."""
    moved = db.session.execute(
        sa.update(_counters).where(_counters.c.estate_id == estate_id, _counters.c.year == year,
                                   _counters.c.last_number == last)
        .values(last_number=last + count)).rowcount
    if moved != 1:
        raise RuntimeError("the invoice counter moved while locked")


# --- who an invoice is billed to -------------------------------------------------------------------

_PAYER_ORDER = {ResidentType.TENANT: 0, ResidentType.OWNER: 1}


def _billed_to(estate_id: int, units: tuple[int, int], today: date) -> dict[int, SimpleNamespace]:
    """For each unit, its payer: a current tenant or owner, one with an account first,
    tenants before owners, then the longest there (one query)."""
    rows = db.session.execute(
        sa.select(Resident.id, Resident.unit_id, Resident.full_name, Resident.resident_type, Resident.email,
                  Resident.phone, User.id, User.email, User.phone, User.preferred_language, User.notification_prefs)
        .outerjoin(User, User.id == Resident.user_id)
        .where(Resident.estate_id == estate_id, Resident.unit_id.between(*units),
               Resident.resident_type.in_(list(_PAYER_ORDER)),
               sa.or_(Resident.move_out_date.is_(None), Resident.move_out_date > today))
        .order_by(Resident.id)).all()
    best: dict[int, tuple] = {}
    for row in rows:
        key = (row[6] is None, _PAYER_ORDER[row[3]], row[0])
        if row[1] not in best or key < best[row[1]][0]:
            best[row[1]] = (key, row)
    payers = {}
    for unit_id, (_, row) in best.items():
        user = None
        if row[6] is not None:
            user = SimpleNamespace(id=row[6], email=row[7], phone=row[8], preferred_language=row[9],
                                   notification_prefs=row[10] or {})
        payers[unit_id] = SimpleNamespace(id=row[0], name=row[2], user=user)
    return payers


# --- invoice notices ------------------------------------------------------------------------------


class _NoticeWriter:
    """Writes the "invoice issued" email/SMS of many invoices at once: the sentences are
    translated once per language, the rows inserted by messaging.send_bulk, one statement
    per language."""

    SUBJECT = _l("Invoice %(number)s from %(estate)s")
    BODY = _l("Invoice %(number)s for unit %(unit)s: %(amount)s, due on %(due)s.")
    SEE = _l("See your bills: %(link)s")

    def __init__(self, estate: Estate):
        self.estate = estate
        self.link = self._absolute(links.bills_for_resident(estate))
        self._texts: dict[str, tuple[str, str, str]] = {}
        self._amounts: dict[tuple[int, str], str] = {}

    @staticmethod
    def _absolute(link: str) -> str:
        base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
        return f"{base}{link}" if base and link.startswith("/") else link

    def _language_texts(self, language: str) -> tuple[str, str, str]:
        """The three sentences in `language`, placeholders kept (filled per invoice)."""
        if language not in self._texts:
            with force_locale(language):
                self._texts[language] = (str(self.SUBJECT), str(self.BODY), str(self.SEE))
        return self._texts[language]

    def _money(self, amount_minor: int, locale) -> str:
        """Babel's format_currency costs about a millisecond (it looks up the currency's
        name each time); most units of an estate owe the same few amounts."""
        key = (amount_minor, str(locale))
        if key not in self._amounts:
            self._amounts[key] = money.format_money(amount_minor, self.estate.currency, locale)
        return self._amounts[key]

    def language_of(self, user) -> str:
        languages = current_app.config.get("LANGUAGES", ["en"])
        for candidate in (user.preferred_language, self.estate.default_language):
            if candidate in languages:
                return candidate
        return languages[0]

    def write(self, items: list[tuple[SimpleNamespace, str, str, int, date]]) -> int:
        """items: (payer user, invoice number, unit number, total, due date). How many messages."""
        by_language: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
        dates: dict[tuple[str, date], str] = {}
        for user, number, unit_number, total, due in items:
            wants_email = bool(user.email) and wants_notification(user, "invoice_issued", "email")
            wants_sms = bool(user.phone) and wants_notification(user, "invoice_issued", "sms")
            if not (wants_email or wants_sms):
                continue
            language = self.language_of(user)
            subject_t, body_t, see_t = self._language_texts(language)
            locale = money.reader_locale(language, self.estate.country)
            if (language, due) not in dates:
                dates[(language, due)] = money.format_day(due, locale)
            body = body_t % {"number": number, "unit": unit_number, "amount": self._money(total, locale),
                             "due": dates[(language, due)]}
            body = f"{body}\n{see_t % {'link': self.link}}"
            if wants_email:
                by_language[language].append(
                    ("EMAIL", user.email, subject_t % {"number": number, "estate": self.estate.name}, body))
            if wants_sms:
                by_language[language].append(("SMS", user.phone, "", body))
        return sum(messaging.send_bulk(messages, estate=self.estate, language=language, reason="invoice_issued")
                   for language, messages in by_language.items())


# --- one batch ------------------------------------------------------------------------------------


_INVOICE_COLUMNS = ("estate_id", "unit_id", "resident_id", "billed_to_name", "number", "year", "sequence", "kind",
                   "period_start", "period_end", "issue_date", "due_date", "subtotal_minor", "tax_rate_bp", "tax_minor",
                   "total_minor", "amount_paid_minor", "balance_minor", "currency", "status", "run_id", "created_at",
                   "void_reason")
_LINE_COLUMNS = ("invoice_id", "estate_id", "position", "charge_id", "unit_charge_id", "description", "frequency",
                 "covers_start", "covers_end", "quantity", "unit_amount_minor", "amount_minor")


def _write_invoices(estate: Estate, plans: list[tuple[PlannedInvoice, object]], kind: InvoiceKind, start: date,
                    end: date, issue: date, due: date, run_id: int | None, notice: _NoticeWriter,
                    last: int | None = None) -> list[int]:
    """Number and insert planned invoices with their lines, bill their one-off charges and
    write their notices, in the caller's transaction (portal.bulk: COPY on PostgreSQL).
    `last`: the counter's value if the caller holds its lock already (else it is locked here)."""
    if not plans:
        return []
    year = start.year
    prefix = billing_settings.get(estate).invoice_prefix
    if last is None:
        last = _lock_counter(estate.id, year)
    now = utcnow()
    kind_value, issued = kind.value, InvoiceStatus.ISSUED.value
    numbers = [invoice_number(prefix, year, last + i + 1) for i in range(len(plans))]
    rows = [(estate.id, plan.unit_id, payer.id if payer else None, (payer.name if payer else "")[:160], number, year,
             last + i + 1, kind_value, start, end, issue, due, plan.subtotal_minor, plan.tax_rate_bp, plan.tax_minor,
             plan.total_minor, 0, plan.total_minor, estate.currency, issued, run_id, now, "")
            for i, ((plan, payer), number) in enumerate(zip(plans, numbers, strict=True))]
    ids = bulk.insert(_invoices, _INVOICE_COLUMNS, rows, ids=True)
    _take_numbers(estate.id, year, last, len(rows))
    line_rows, billed = [], []
    for invoice_id, (plan, _) in zip(ids, plans, strict=True):
        for position, line in enumerate(plan.lines):
            line_rows.append((invoice_id, estate.id, position, line.charge_id, line.unit_charge_id,
                              line.description[:200], line.frequency, line.covers_start, line.covers_end, 1,
                              line.amount_minor, line.amount_minor))
            if line.unit_charge_id is not None:
                billed.append((line.unit_charge_id, invoice_id))
    bulk.insert(_lines, _LINE_COLUMNS, line_rows)
    if bulk.set_where_null(_unit_charges, "invoice_id", billed) != len(billed):
        raise RuntimeError("a one-off charge was billed by another invoice meanwhile")
    notice.write([(payer.user, number, plan.unit_number, plan.total_minor, due)
                  for (plan, payer), number in zip(plans, numbers, strict=True) if payer is not None and payer.user])
    return ids


def _generate_batch(run_id: int, estate: Estate, period: Period, issue: date, due: date, config, catalogue: Catalogue,
                    units: list, notice: _NoticeWriter) -> None:
    """One transaction's worth: lock the numbers, skip the units invoiced already, write the
    rest, move the run's cursor."""
    unit_ids = [u.id for u in units]
    # The counter lock first: whatever another run committed before we got it is seen below.
    last = _lock_counter(estate.id, period.start.year)
    span = (unit_ids[0], unit_ids[-1])  # the batch's units are in id order
    invoiced = _invoiced_units(estate, period, span)
    one_offs = _pending_one_offs(estate, period, span)
    payers = _billed_to(estate.id, span, issue)
    plans, no_charges = [], 0
    for unit_id, number, block, unit_type in units:
        if unit_id in invoiced:
            continue
        lines = catalogue.lines_for(unit_id, block, unit_type) + one_offs.get(unit_id, [])
        if not lines:
            no_charges += 1
            continue
        plans.append((PlannedInvoice(unit_id, number, block, lines, config.tax_rate_bp), payers.get(unit_id)))
    _write_invoices(estate, plans, InvoiceKind.PERIODIC, period.start, period.end, issue, due, run_id, notice, last)
    total = sum(plan.total_minor for plan, _ in plans)
    top = max(unit_ids)
    db.session.execute(sa.update(_runs).where(_runs.c.id == run_id, _runs.c.last_unit_id < top).values(
        last_unit_id=top, done_units=_runs.c.done_units + len(units),
        invoices_created=_runs.c.invoices_created + len(plans),
        already_invoiced=_runs.c.already_invoiced + len(invoiced),
        no_charges=_runs.c.no_charges + no_charges, total_minor=_runs.c.total_minor + total, heartbeat_at=utcnow()))


def invoice_unit_charge(estate: Estate, item: UnitCharge, unit: Unit) -> int:
    """A one-off charge invoiced at once, on an invoice of its own (in the caller's
    transaction): issued today, due after the estate's due days. The invoice's id."""
    config = billing_settings.get(estate)
    today = estate_today(estate)
    line = PlannedLine(item.description, item.amount_minor, unit_charge_id=item.id)
    plan = PlannedInvoice(unit.id, unit.number, unit.block, [line], config.tax_rate_bp)
    payer = _billed_to(estate.id, (unit.id, unit.id), today).get(unit.id)
    ids = _write_invoices(estate, [(plan, payer)], InvoiceKind.ONE_OFF, today, today, today,
                          today + timedelta(days=config.due_days), None, _NoticeWriter(estate))
    db.session.refresh(item)
    return ids[0]
