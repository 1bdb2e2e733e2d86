"""Billing benchmark: one month's invoices for 10,000 units on PostgreSQL.

    python -m tests.bench.billing_bench             # what `make bench-billing` runs
    python -m tests.bench.billing_bench --units 2000 --reuse-db

1. Creates a fresh PostgreSQL database (BENCH_BILLING_DATABASE_URL, default
   postgresql+psycopg://postgres@127.0.0.1:5432/gatehouse_bench_billing), runs `flask db
   upgrade` and seeds it with COPY: one estate (tax 7.5 %), N units in 10 blocks of mixed
   types, one paying resident with an account per unit (so every invoice has a notice to
   write), five charges (two monthly for all units, a quarterly one that falls due this
   month, one for houses and terraces only, an opt-in one taken by one unit in twenty) and
   a one-off charge for one unit in fifty; ANALYZE.
2. Generates the month in this process with the job's own code
   (portal.billing.generation.execute_run: batches of 500, gapless numbers, bulk INSERTs,
   the notices through messaging.send_many), timed from the first statement to the commit
   of the last batch. MESSAGE_DELIVERY is `dev` (the notices stay in the outbox: delivery
   is the worker's business, not the generation's).
3. Checks the result (one invoice per unit, numbers 1…N without a gap, totals equal to the
   preview's), generates the month again (nothing new: the second figure) and prints both.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from tests.bench.gate_bench import _copy_lines, _libpq_url, create_database, migrate

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gatehouse_bench_billing"
TARGET_SECONDS = 5.0


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) the PostgreSQL backend `pid` has used, from /proc (the
    server runs on this machine); 0 where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed(url: str, units: int, period_start: date) -> int:
    """The estate and its units, residents and charges; the estate's id."""
    rng = random.Random(11)
    now = datetime.now(UTC).isoformat()
    with psycopg.connect(_libpq_url(url)) as conn, conn.cursor() as cur:
        estate_id = cur.execute(
            "INSERT INTO estate (slug, name, address, city, country, timezone, currency, default_language, status,"
            " brand_color, access_card_limit, gate_names, created_at) VALUES ('bench', 'Bench Estate', '1 Bench Road',"
            " 'Lagos', 'NG', 'Africa/Lagos', 'NGN', 'en', 'ACTIVE', '#1e6b52', 4, 'Main gate', %s) RETURNING id",
            (now,)).fetchone()[0]
        cur.execute("INSERT INTO billing_settings (estate_id, invoice_prefix, tax_rate_bp, due_days, updated_at)"
                    " VALUES (%s, 'BN', 750, 14, %s)", (estate_id, now))
        types = ["APARTMENT"] * 6 + ["TERRACE"] * 2 + ["HOUSE", "DUPLEX"]
        _copy_lines(cur, "unit", "estate_id, number, block, floor, unit_type, notes, created_at", [
            f"{estate_id}\t{'ABCDEFGHIJ'[n % 10]}{n + 1}\t{'ABCDEFGHIJ'[n % 10]}\t{n % 8}\t{rng.choice(types)}\t\t{now}"
            for n in range(units)])
        unit_ids = [row[0] for row in cur.execute("SELECT id FROM unit WHERE estate_id = %s ORDER BY id", (estate_id,))]
        _copy_lines(cur, "user_account", "email, full_name, status, session_version, notification_prefs, created_at", [
            f"payer{n}@bench.test\tPayer {n}\tACTIVE\t1\t{{}}\t{now}" for n in range(units)])
        user_ids = [row[0] for row in cur.execute(
            "SELECT id FROM user_account WHERE email LIKE 'payer%%@bench.test' ORDER BY id")]
        _copy_lines(cur, "resident", "estate_id, unit_id, user_id, full_name, resident_type, emergency_contact_name,"
                    " created_at", [f"{estate_id}\t{unit_id}\t{user_id}\tPayer {n}\t{'TENANT' if n % 3 else 'OWNER'}"
                                    f"\t\t{now}" for n, (unit_id, user_id) in enumerate(zip(unit_ids, user_ids,
                                                                                            strict=True))])
        charges = [("Service charge", 4_500_000, "MONTHLY", "ALL", "[]", True),
                   ("Security levy", 1_500_000, "MONTHLY", "ALL", "[]", True),
                   ("Waste management", 900_000, "QUARTERLY", "ALL", "[]", True),
                   ("Generator levy", 750_050, "MONTHLY", "UNIT_TYPES", '["HOUSE", "TERRACE"]', True),
                   ("Gym membership", 1_000_000, "MONTHLY", "ALL", "[]", False)]
        gym = None
        for name, amount, frequency, scope, unit_types, mandatory in charges:
            charge_id = cur.execute(
                "INSERT INTO charge (estate_id, name, description, amount_minor, currency, frequency, mandatory,"
                " applies_to, unit_types, blocks, starts_on, active, created_at) VALUES (%s, %s, '', %s, 'NGN', %s,"
                " %s, %s, %s, '[]', %s, true, %s) RETURNING id",
                (estate_id, name, amount, frequency, mandatory, scope, unit_types, period_start, now)).fetchone()[0]
            if not mandatory:
                gym = charge_id
        _copy_lines(cur, "charge_opt_in", "charge_id, unit_id, estate_id, created_at",
                    [f"{gym}\t{unit_id}\t{estate_id}\t{now}" for unit_id in unit_ids[::20]])
        _copy_lines(cur, "unit_charge", "estate_id, unit_id, description, amount_minor, currency, charge_date,"
                    " created_at", [f"{estate_id}\t{unit_id}\tReplacement access card\t500000\tNGN\t{period_start}"
                                    f"\t{now}" for unit_id in unit_ids[::50]])
        conn.commit()
        cur.execute("ANALYZE")
    return estate_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--reuse-db", action="store_true", help="skip creating and seeding (the invoices are deleted)")
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_BILLING_DATABASE_URL", DEFAULT_DATABASE_URL)
    today = date.today()
    period_start = date(today.year, today.month, 1)

    os.environ.update(MESSAGE_DELIVERY="portal.integrations.delivery:dev", DATABASE_URL=url)
    from portal import create_app
    from portal.billing import generation
    from portal.billing.periods import containing
    from portal.extensions import db
    from portal.models import Estate, Invoice, InvoiceLine, OutboxMessage

    started = time.perf_counter()
    if not args.reuse_db:
        create_database(url)
        migrate(url)
        seed(url, args.units, period_start)
    print(f"database ready in {time.perf_counter() - started:.1f} s ({args.units:,} units)")

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MESSAGE_DELIVERY": "portal.integrations.delivery:dev"})
    import sqlalchemy as sa

    with app.app_context():
        if args.reuse_db:
            for table in ("invoice_line", "payment_allocation"):
                db.session.execute(sa.text(f"DELETE FROM {table}"))
            db.session.execute(sa.text("UPDATE unit_charge SET invoice_id = NULL"))
            for table in ("invoice", "generation_run", "invoice_counter", "outbox_message"):
                db.session.execute(sa.text(f"DELETE FROM {table}"))
            db.session.commit()
        estate = db.session.scalar(sa.select(Estate).where(Estate.slug == "bench"))
        period = containing(period_start)
        preview = generation.preview(estate, period)

        backend = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.commit()  # the pool hands the same connection back (one thread)
        timings, cpu = [], []
        for attempt in ("first run", "second run (nothing new)"):
            begin, python, server = time.perf_counter(), time.process_time(), _backend_cpu(backend)
            run = generation.generate_now(estate, period)
            seconds = time.perf_counter() - begin
            timings.append(seconds)
            cpu.append((time.process_time() - python, _backend_cpu(backend) - server))
            print(f"{attempt}: {seconds:.2f} s wall, CPU {cpu[-1][0]:.2f} s Python + {cpu[-1][1]:.2f} s PostgreSQL"
                  f" — {run.status}, {run.invoices_created:,} invoices, {run.already_invoiced:,} already invoiced,"
                  f" total {run.total_minor:,} kobo")

        invoices = db.session.execute(sa.select(sa.func.count(), sa.func.min(Invoice.sequence),
                                                sa.func.max(Invoice.sequence),
                                                sa.func.count(sa.distinct(Invoice.unit_id)),
                                                sa.func.sum(Invoice.total_minor))).one()
        lines = db.session.scalar(sa.select(sa.func.count()).select_from(InvoiceLine))
        notices = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    count, low, high, distinct_units, total = invoices
    ok = (count == distinct_units == high == args.units and low == 1 and total == preview.total_minor)
    print(f"{count:,} invoices (numbers {low}…{high}, one per unit: {distinct_units == count}), {lines:,} lines, "
          f"{notices:,} notices in the outbox; total equals the preview's: {total == preview.total_minor}")
    verdict = "met" if timings[0] < TARGET_SECONDS else "NOT met"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"RESULT: {args.units:,} units generated in {timings[0]:.2f} s (target < {TARGET_SECONDS:.0f} s: {verdict});"
          f" CPU {sum(cpu[0]):.2f} s; again in {timings[1]:.2f} s; {os.cpu_count()} cores, load {load:.1f};"
          f" measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
