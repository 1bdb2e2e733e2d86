"""Gate benchmark: the kiosk API's scans under load, against a trivial endpoint.

    python -m tests.bench.gate_bench                # what `make bench-gate` runs
    python -m tests.bench.gate_bench --driver wrk   # scans only, from wrk (cheap load generator)
    python -m tests.bench.gate_bench profile        # the SQL of one scan and a CPU profile, in process
    python -m tests.bench.gate_bench --help         # levels, duration, gunicorn workers/threads

1. Creates a fresh PostgreSQL database (BENCH_DATABASE_URL, default
   postgresql+psycopg://postgres@127.0.0.1:5432/gatehouse_bench), runs `flask db upgrade`
   and seeds it with COPY: one estate, 2,000 units, 4,000 residents (2,000 with a login),
   32 guards, 5,000 passes valid now (SINGLE_USE and MULTI_ENTRY, one visitor each),
   200,000 past passes and 500,000 past gate events over a year, a few hundred bans; ANALYZE.
2. Serves the app with gunicorn in production mode (GATEHOUSE_ENV=production, a random
   SECRET_KEY, DEV mode off, rate limits off, the job queue in Redis as in production),
   4 sync workers (the production shape: README, "Serving it"); waits for /health, and
   takes one kiosk token per guard (one guard and one device per client).
3. Drives it from a separate process, for 1, 8 and 32 clients, then the same levels
   against GET /api/v1/ping:
   - `--driver python` (default; `drive` below): N client threads, each with its own
     keep-alive connection (http.client). Each client takes an unused pass, scans it
     (expects 200), checks it out (expects 200). Passes are reset between levels; if a
     level runs out of fresh passes it reuses checked-out MULTI_ENTRY passes ("recycled").
     Reports how many requests each connection had answered (fairness).
   - `--driver wrk`: Debian's wrk (installed with apt-get if missing), one connection per
     wrk thread, each with its own guard's token; a Lua script walks fresh visitor codes
     (POST checkin/manual, never a code twice): scans only. Fresh single-use passes
     ("arrivals") are added beside the seed as needed so that no level runs out; every
     level runs 3 times, scan and ping alternating which goes first, and the figures are
     the median (`--repeat`).
4. Prints requests/s and p50/p95/p99 latency per endpoint and level, errors, the
   scan/ping throughput ratio, and where the CPU went (driver, gunicorn, PostgreSQL).

The load generator, gunicorn and PostgreSQL share the machine's cores: the figures are a
floor for a real deployment, where the kiosks are other machines.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.client
import json
import math
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gatehouse_bench"
ESTATE_SLUG = "bench"
GUARD_PASSWORD = "bench-guard-password"  # noqa: S105 - a throwaway benchmark database
UNITS = 2_000
VALID_PASSES = 5_000
PAST_VISITS = 200_000
PAST_EVENTS = 500_000
GUARDS = 32
MULTI_MAX_ENTRIES = 20
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GATES = ("Main gate", "Back gate")
WARM_CODES = 600  # python driver: (unused by wrk, which sizes its warm-up codes by ARRIVALS_PER_SECOND)
# wrk mode: today's arrivals, fresh single-use passes made beside the seed (and kept for the
# next run) so that no level runs out: this many per measured or warm-up second, more
# than the fastest level scans.
ARRIVALS_PER_SECOND = 2_000

# --- database ------------------------------------------------------------------------------


def _libpq_url(url: str) -> str:
    """SQLAlchemy's postgresql+psycopg:// URL as psycopg's postgresql:// one."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def create_database(url: str) -> None:
    """Drop and create the benchmark database (connecting to the server's `postgres` db)."""
    libpq = _libpq_url(url)
    base, name = libpq.rsplit("/", 1)
    name = name.split("?", 1)[0]
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def hash_password(url: str, password: str) -> str:
    """Hashed once with the app's own hasher (argon2id, production parameters)."""
    from portal import create_app
    from portal.accounts.signin import hash_password as app_hash

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        return app_hash(password)


def _copy(cur: psycopg.Cursor, table: str, columns: str, rows) -> int:
    n = 0
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def _copy_lines(cur: psycopg.Cursor, table: str, columns: str, lines: list[str]) -> int:
    """COPY from preformatted tab-separated lines: several times faster than write_row."""
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for i in range(0, len(lines), 10_000):
            copy.write("\n".join(lines[i:i + 10_000]) + "\n")
    return len(lines)


BULK_TABLES = ("visit", "visit_guest", "gate_event")


def _drop_indexes(cur: psycopg.Cursor) -> list[str]:
    """Drop the big tables' secondary indexes and unique constraints (rebuilt after the
    load, much faster than maintaining them row by row); returns the SQL to rebuild them."""
    rebuild = []
    cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)", (list(BULK_TABLES),))
    for table, name, definition in cur.fetchall():
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", (list(BULK_TABLES),))
    for name, definition in cur.fetchall():
        cur.execute(f'DROP INDEX "{name}"')
        rebuild.append(definition)
    return rebuild


def _codes(rng: random.Random, n: int) -> list[str]:
    seen: set[str] = set()
    while len(seen) < n:
        seen.add("".join(rng.choices(CODE_ALPHABET, k=8)))
    codes = list(seen)
    rng.shuffle(codes)
    return codes


def seed(url: str, password_hash: str, now: datetime) -> dict:
    """Bulk-load the estate with COPY (explicit ids, sequences moved after). Returns counts."""
    rng = random.Random(20261130)
    counts: dict[str, int] = {}
    year_ago = now - timedelta(days=365)
    with psycopg.connect(_libpq_url(url)) as conn, conn.cursor() as cur:
        # The rows are consistent by construction: skip the per-row foreign-key triggers.
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET maintenance_work_mem = '256MB'")
        cur.execute("SET work_mem = '128MB'")
        rebuild = _drop_indexes(cur)
        cur.execute(
            "INSERT INTO estate (id, slug, name, address, city, country, timezone, currency, default_language,"
            " status, brand_color, created_at, access_card_limit, gate_names)"
            " VALUES (1, %s, 'Bench Estate', '1 Benchmark Road', 'Lagos', 'NG', 'Africa/Lagos', 'NGN', 'en',"
            " 'ACTIVE', '#1e6b52', %s, 4, %s)",
            (ESTATE_SLUG, year_ago, "\n".join(GATES)),
        )
        counts["unit"] = _copy(
            cur, "unit", "id, estate_id, number, block, floor, unit_type, created_at, notes",
            ((i, 1, f"{chr(65 + (i - 1) // 100)}{(i - 1) % 100 + 1:03d}", chr(65 + (i - 1) // 100),
              str((i - 1) % 10), "APARTMENT", year_ago, "") for i in range(1, UNITS + 1)),
        )
        # Users: one login per unit (the host of its passes), then the guards.
        users = [(i, f"resident{i:04d}@bench.test", f"+23480{i:08d}", f"Resident {i}", password_hash)
                 for i in range(1, UNITS + 1)]
        guard_ids = list(range(UNITS + 1, UNITS + GUARDS + 1))
        users += [(g, f"guard{k + 1:02d}@bench.test", None, f"Guard {k + 1}", password_hash)
                  for k, g in enumerate(guard_ids)]
        counts["user_account"] = _copy(
            cur, "user_account",
            "id, email, phone, full_name, password_hash, status, session_version, created_at, notification_prefs",
            ((uid, email, phone, name, pw, "ACTIVE", 1, year_ago, "{}") for uid, email, phone, name, pw in users),
        )
        memberships = [(i, i, "RESIDENT") for i in range(1, UNITS + 1)]
        memberships += [(g, g, "GUARD") for g in guard_ids]
        counts["membership"] = _copy(
            cur, "membership", "id, user_id, estate_id, role, is_supervisor, created_at",
            ((mid, uid, 1, role, False, year_ago) for mid, uid, role in memberships),
        )
        counts["resident"] = _copy(
            cur, "resident",
            "id, estate_id, unit_id, user_id, full_name, phone, resident_type, created_at, emergency_contact_name",
            (row for i in range(1, UNITS + 1) for row in (
                (2 * i - 1, 1, i, i, f"Resident {i}", f"+23480{i:08d}", "OWNER", year_ago, ""),
                (2 * i, 1, i, None, f"Family {i}", None, "FAMILY", year_ago, ""),
            )),
        )
        # Passes: a year of past ones, then the ones valid now (the benchmark's).
        total_visits = PAST_VISITS + VALID_PASSES
        codes = _codes(rng, total_visits)
        visits, valid = [], []
        for vid in range(1, total_visits + 1):
            unit = rng.randint(1, UNITS)
            multi = rng.random() < 0.5
            kind = "MULTI_ENTRY" if multi else "SINGLE_USE"
            token = secrets.token_urlsafe(24)
            if vid <= PAST_VISITS:
                start = year_ago + timedelta(seconds=rng.randint(0, 364 * 86400))
                until = start + timedelta(hours=rng.choice((4, 12, 24, 48)))
                purpose, max_entries, used = "", 3 if multi else 1, 1
            else:
                start = now - timedelta(minutes=rng.randint(5, 600))
                until = now + timedelta(days=rng.randint(1, 3))
                purpose, max_entries, used = "Visit", MULTI_MAX_ENTRIES if multi else 1, 0
                valid.append((vid, token, multi))
            visits.append(f"{vid}\t1\t{unit}\t{unit}\t{unit}\t{kind}\tACTIVE\t{purpose}\t{start.isoformat()}\t"
                          f"{until.isoformat()}\t\t{max_entries}\t{used}\tf\t{token}\t{codes[vid - 1]}\t"
                          f"{start.isoformat()}")
        counts["visit"] = _copy_lines(
            cur, "visit",
            "id, estate_id, unit_id, host_user_id, created_by_id, pass_type, status, purpose, valid_from,"
            " valid_until, weekdays, max_entries, entries_used, people_inside, qr_token, visitor_code, created_at",
            visits,
        )
        # Visitors and a year of gate events are made by the server itself (seconds, not minutes).
        cur.execute(
            "INSERT INTO visit_guest (id, visit_id, estate_id, full_name, phone, plate)"
            " SELECT id, id, 1, 'Visitor ' || id, '+23490' || lpad(id::text, 8, '0'),"
            "  CASE WHEN id % 3 = 0 THEN 'LAG' || lpad((id % 1000)::text, 3, '0') || 'XY' END FROM visit"
        )
        counts["visit_guest"] = cur.rowcount
        cur.execute("SELECT setseed(0.2026)")
        cur.execute(
            "INSERT INTO gate_event (estate_id, visit_id, guard_user_id, event_type, method, reason, gate,"
            " device_id, occurred_at)"
            " SELECT 1, visit_id, %(g0)s + visit_id %% %(guards)s, event_type, method, reason,"
            "  CASE WHEN visit_id %% 2 = 0 THEN %(gate0)s ELSE %(gate1)s END,"
            "  CASE WHEN event_type = 'DENIED' THEN NULL"
            "   ELSE 'bench-kiosk-' || lpad((visit_id %% %(guards)s + 1)::text, 2, '0') END, occurred_at"
            " FROM ("
            "  SELECT v.id AS visit_id, e.t AS event_type, 'QR' AS method, NULL AS reason,"
            "   CASE e.t WHEN 'ENTRY' THEN v.valid_from + (1 + v.id %% 120) * interval '1 minute'"
            "    ELSE least(v.valid_from + (11 + v.id %% 120 + v.id %% 590) * interval '1 minute', v.valid_until)"
            "   END AS occurred_at"
            "  FROM visit v CROSS JOIN (VALUES ('ENTRY'), ('EXIT')) AS e(t) WHERE v.id <= %(past)s"
            "  UNION ALL"
            "  SELECT v.id, 'DENIED', 'CODE', 'PASS_EXPIRED', v.valid_until + (1 + s %% 48) * interval '1 hour'"
            "  FROM generate_series(1, %(denied)s) AS s JOIN visit v ON v.id = 1 + (s * 7919) %% %(past)s"
            " ) AS events ORDER BY occurred_at",
            {"g0": guard_ids[0], "guards": GUARDS, "gate0": GATES[0], "gate1": GATES[1], "past": PAST_VISITS,
             "denied": PAST_EVENTS - 2 * PAST_VISITS},
        )
        counts["gate_event"] = cur.rowcount
        # Bans on other numbers: the scan's ban query looks at a real table.
        counts["ban"] = _copy(
            cur, "ban", "id, estate_id, phone, scope, owner_user_id, severity, reason, created_by_id, created_at",
            ((b, 1, f"+23470{b:08d}", "ESTATE" if b <= 200 else "PERSONAL", None if b <= 200 else b - 200,
              ("LOW", "MEDIUM", "HIGH")[b % 3], "benchmark ban", guard_ids[0], year_ago) for b in range(1, 301)),
        )
        for statement in rebuild:
            cur.execute(statement)
        for table in ("estate", "unit", "user_account", "membership", "resident", "visit", "visit_guest", "ban",
                      "gate_event"):
            cur.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"counts": counts, "valid": valid, "guards": [f"guard{k + 1:02d}@bench.test" for k in range(GUARDS)]}


def reset_passes(url: str, visit_ids: list[int]) -> None:
    """Between levels: the benchmark's passes unused again (nobody inside, no entry taken)
    and valid now (a database reused days later)."""
    with psycopg.connect(_libpq_url(url)) as conn:
        conn.execute("UPDATE visit SET entries_used = 0, people_inside = false,"
                     " valid_from = least(valid_from, now() - interval '5 minutes'),"
                     " valid_until = greatest(valid_until, now() + interval '1 day') WHERE id = ANY(%s)",
                     (visit_ids,))
        conn.commit()


def ensure_arrivals(url: str, wanted: int) -> list[int]:
    """wrk mode: at least `wanted` of today's arrivals (purpose 'Arrival': single-use passes
    valid now, one visitor each, hosts spread over the units), made as needed; their ids."""
    with psycopg.connect(_libpq_url(url)) as conn:
        ids = [i for (i,) in conn.execute("SELECT id FROM visit WHERE purpose = 'Arrival' ORDER BY id")]
        before = len(ids)
        rng = random.Random(len(ids))
        while len(ids) < wanted:
            missing = wanted - len(ids)
            units = [rng.randint(1, UNITS) for _ in range(missing)]
            made = [i for (i,) in conn.execute(
                "INSERT INTO visit (estate_id, unit_id, host_user_id, created_by_id, pass_type, status, purpose,"
                " valid_from, valid_until, weekdays, max_entries, entries_used, people_inside, qr_token,"
                " visitor_code, created_at)"
                " SELECT 1, u, u, u, 'SINGLE_USE', 'ACTIVE', 'Arrival', now() - interval '1 hour',"
                "  now() + interval '1 day', '', 1, 0, false, t, c, now()"
                " FROM unnest(%s::int[], %s::text[], %s::text[]) AS a(u, t, c)"
                " ON CONFLICT DO NOTHING RETURNING id",
                (units, [secrets.token_urlsafe(24) for _ in units], _codes(rng, missing))).fetchall()]
            conn.execute("INSERT INTO visit_guest (visit_id, estate_id, full_name, phone)"
                         " SELECT id, 1, 'Visitor ' || id, '+23490' || lpad(id::text, 8, '0')"
                         " FROM unnest(%s::int[]) AS id", (made,))
            ids += made
        conn.commit()
        if len(ids) > before:
            # As autovacuum would after so many new rows: vacuumed and analysed before the
            # measurement, rather than in the middle of one (a fresh database's first run).
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE visit, visit_guest")
    return ids


# --- server -------------------------------------------------------------------------------


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"


def clear_job_queue(redis_url: str | None) -> None:
    """The benchmark's Redis: drop the job queue's keys (no worker runs: the host notices'
    delivery jobs pile up there). Only the app's own queue keys are touched."""
    if not redis_url:
        return
    import redis

    conn = redis.Redis.from_url(redis_url)
    keys = [key for key in conn.scan_iter("huey.*gatehouse*")]
    if keys:
        conn.delete(*keys)


def start_server(url: str, port: int, workers: int, threads: int, worker_class: str = "gthread",
                 worker_connections: int | None = None, app_dir: Path = ROOT,
                 redis_url: str | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GATEHOUSE_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "INTEGRATION_KEYS": Fernet.generate_key().decode(),
        "GATEHOUSE_DEV_MODE": "0",
        "RATELIMIT_ENABLED": "0",
        "KIOSK_TOKEN_TTL": str(6 * 3600),
    }
    env.pop("REDIS_URL", None)
    if redis_url:  # production's job queue (else a SQLite file: one write + fsync per scan, serialised)
        env["REDIS_URL"] = redis_url
    cmd = [str(VENV_BIN / "gunicorn"), "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--worker-class", worker_class, "--keep-alive", "30", "--backlog", "512", "--log-level", "warning"]
    if worker_class == "gthread":
        cmd += ["--threads", str(threads)]
    if worker_connections:
        cmd += ["--worker-connections", str(worker_connections)]
    log = open(ROOT / "test-artifacts" / "bench-gate-gunicorn.log", "w")  # noqa: SIM115 - lives with the server
    server = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120  # a busy shared machine boots workers slowly
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}); see test-artifacts/bench-gate-gunicorn.log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /health within 120 s")


def _post_json(port: int, path: str, payload: dict, token: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", path, body=json.dumps(payload), headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    try:
        return resp.status, json.loads(body)
    except ValueError:
        return resp.status, {"raw": body[:300].decode(errors="replace")}


def kiosk_tokens(port: int, guards: list[str], count: int) -> list[tuple[str, str]]:
    """One (token, device_id) per client: each guard signs in on their own gate device."""
    tokens = []
    for k, login in enumerate(guards[:count]):
        device = f"bench-kiosk-{k + 1:02d}"
        status, body = _post_json(port, "/api/v1/kiosk/token", {"estate": ESTATE_SLUG, "login": login,
                                                                 "password": GUARD_PASSWORD, "device_id": device})
        if status != 200 or not body.get("success"):
            raise SystemExit(f"kiosk token for {login}: HTTP {status} {body}")
        tokens.append((body["data"]["access_token"], device))
    return tokens


# --- CPU accounting (Linux /proc, read-only) ----------------------------------------------------


def _proc_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _cpu_snapshot(server_pid: int, database: str) -> dict[str, int]:
    """CPU ticks of gunicorn (master + workers), PostgreSQL (the benchmark database's
    backends and the server's background processes), this process, and the whole machine."""
    snap = {"gunicorn": 0, "postgres": 0, "driver": _proc_ticks(os.getpid())}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
        except OSError:
            continue
        comm = head.split("(", 1)[1]
        ppid = int(tail.split()[1])
        if pid == server_pid or ppid == server_pid:
            snap["gunicorn"] += _proc_ticks(pid)
        elif comm.startswith("postgres"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    title = f.read().decode(errors="replace").split()
            except OSError:
                continue
            # "postgres: user db host(port) state" for a backend, "postgres: walwriter" otherwise
            background = not any("(" in t or t == "[local]" for t in title)
            if database in title or background:
                snap["postgres"] += _proc_ticks(pid)
    with open("/proc/stat") as f:
        total = [int(x) for x in f.readline().split()[1:]]
    snap["machine_busy"] = sum(total) - total[3] - total[4]  # all but idle and iowait
    return snap


def machine_busy(seconds: float = 2.0) -> float:
    """How many cores something was using over `seconds` (before the benchmark: other work)."""
    def busy() -> tuple[int, int]:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        return sum(ticks) - ticks[3] - ticks[4], sum(ticks)

    b0, t0 = busy()
    time.sleep(seconds)
    b1, t1 = busy()
    return (b1 - b0) / max(1, t1 - t0) * (os.cpu_count() or 1)


# --- the load driver (runs in its own process) ----------------------------------------------------


class _Recorder:
    def __init__(self):
        self.samples: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: collections.Counter = collections.Counter()
        self.per_client: list[int] = []  # requests each client had answered in the window
        self.lock = threading.Lock()


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None,
             headers: dict) -> tuple[float, float, object, bytes]:
    t0 = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        return t0, time.perf_counter(), type(exc).__name__, b""
    return t0, time.perf_counter(), resp.status, data


def _error_key(kind: str, status: object, data: bytes) -> str:
    code = ""
    with contextlib.suppress(ValueError, KeyError, TypeError):
        code = json.loads(data)["error"]["code"]
    return f"{kind} {status} {code}".strip()


def drive(cfg: dict) -> dict:
    """N client threads, one keep-alive connection each, for warmup + duration seconds."""
    host, port, mode, clients = "127.0.0.1", cfg["port"], cfg["mode"], cfg["clients"]
    fresh = collections.deque((qr, multi) for qr, multi in cfg.get("passes", []))
    recycled: collections.deque = collections.deque()
    uses: collections.Counter = collections.Counter()
    state = {"recycled_uses": 0, "exhausted": False}
    rec = _Recorder()
    barrier = threading.Barrier(clients + 1)
    times: dict[str, float] = {}

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        local: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
        errors: collections.Counter = collections.Counter()
        if mode == "ping":
            headers = {"Accept": "application/json"}
        else:
            token, device = cfg["tokens"][k]
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        barrier.wait()
        end = times["end"]
        while time.perf_counter() < end:
            if mode == "ping":
                t0, t1, status, data = _request(conn, "GET", "/api/v1/ping", None, headers)
                local["ping"].append((t1, t1 - t0))
                if status != 200:
                    errors[_error_key("ping", status, data)] += 1
                continue
            try:
                qr, multi = fresh.popleft()
            except IndexError:
                try:
                    qr, multi = recycled.popleft()
                    state["recycled_uses"] += 1
                except IndexError:
                    state["exhausted"] = True
                    break
            gate = GATES[k % 2]
            body = json.dumps({"qr_token": qr, "gate": gate, "device_id": device}).encode()
            t0, t1, status, data = _request(conn, "POST", "/api/v1/checkin/scan", body, headers)
            local["scan"].append((t1, t1 - t0))
            if status != 200:
                errors[_error_key("scan", status, data)] += 1
                continue
            t0, t1, status, data = _request(conn, "POST", "/api/v1/checkin/checkout", body, headers)
            local["checkout"].append((t1, t1 - t0))
            if status != 200:
                errors[_error_key("checkout", status, data)] += 1
                continue
            uses[qr] += 1
            if multi and uses[qr] < MULTI_MAX_ENTRIES:
                recycled.append((qr, multi))
        conn.close()
        start = times["measure"]
        with rec.lock:
            for kind, samples in local.items():
                rec.samples[kind].extend(lat for done, lat in samples if start <= done <= end)
            main_kind = "ping" if mode == "ping" else "scan"
            rec.per_client.append(sum(1 for done, _ in local[main_kind] if start <= done <= end))
            rec.errors.update(errors)

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    now = time.perf_counter()
    times["measure"] = now + cfg["warmup"]
    times["end"] = times["measure"] + cfg["duration"]
    barrier.wait()
    time.sleep(max(0.0, times["measure"] - time.perf_counter()))
    before = _cpu_snapshot(cfg["server_pid"], cfg["database"])
    time.sleep(max(0.0, times["end"] - time.perf_counter()))
    after = _cpu_snapshot(cfg["server_pid"], cfg["database"])
    for t in threads:
        t.join()
    hz = os.sysconf("SC_CLK_TCK")
    cpu = {key: (after[key] - before[key]) / hz / cfg["duration"] for key in after}
    result = {"mode": mode, "clients": clients, "duration": cfg["duration"], "cpu_cores": cpu,
              "recycled_uses": state["recycled_uses"], "exhausted": state["exhausted"],
              "errors": dict(rec.errors), "endpoints": {}, "per_client": sorted(rec.per_client)}
    for kind, lats in rec.samples.items():
        lats.sort()
        result["endpoints"][kind] = {
            "requests": len(lats),
            "rps": len(lats) / cfg["duration"],
            **{f"p{q}": _percentile(lats, q / 100) * 1000 for q in (50, 95, 99)},
        }
    return result


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def run_driver(cfg: dict) -> dict:
    """The driver in a separate Python process: the server's GIL and the client's are separate."""
    proc = subprocess.run([sys.executable, "-m", "tests.bench.gate_bench", "drive"], cwd=ROOT,
                          input=json.dumps(cfg), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"driver failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


# --- wrk (the C load generator: scans of fresh codes, few CPU cycles per request) ------------

WRK_SCRIPT = r"""
-- Walks fresh visitor codes: thread k of n takes codes k+1, k+1+n, ... (never one twice),
-- each thread with its own guard's token and device; prints its figures as one JSON line.
local codes_file, tokens_file, path = "%(codes)s", "%(tokens)s", "%(path)s"
local nthreads, made = %(threads)d, 0
function setup(thread)
  thread:set("id", made)
  made = made + 1
end
function init(args)
  codes = {}
  for line in io.lines(codes_file) do codes[#codes + 1] = line end
  local k = 0
  for line in io.lines(tokens_file) do
    if k == id then token, device = line:match("([^ ]+) ([^ ]+)") end
    k = k + 1
  end
  i = id + 1
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (token or "none")}
end
function request()
  if path == "/api/v1/ping" then return wrk.format("GET", path) end
  local code = codes[i]
  if code == nil then code = "ZZZZZZZZ" end  -- out of fresh codes: answered 404, counted
  i = i + nthreads
  return wrk.format("POST", path, headers,
    '{"visitor_code":"' .. code .. '","device_id":"' .. device .. '","gate":"Main gate"}')
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%%d,"duration_us":%%d,"p50":%%d,"p95":%%d,"p99":%%d,"status_errors":%%d,' ..
    '"socket_errors":%%d}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def ensure_wrk() -> str:
    """Debian's wrk, installed with apt-get if missing."""
    import shutil

    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def valid_codes(url: str, visit_ids: list[int]) -> list[str]:
    with psycopg.connect(_libpq_url(url)) as conn:
        return [code for (code,) in conn.execute("SELECT visitor_code FROM visit WHERE id = ANY(%s) ORDER BY id",
                                                 (visit_ids,))]


def run_wrk(cfg: dict) -> dict:
    """One level with wrk: `clients` connections, one per wrk thread, each thread one
    guard's token; scans (POST checkin/manual of fresh codes) or pings. Same result
    shape as `drive` (no per-client figures: wrk does not report them)."""
    import resource

    mode, clients = cfg["mode"], cfg["clients"]
    # One connection per wrk thread, each thread its own guard, device and token (a gate
    # device sends one scan at a time; two connections of one device would queue on its
    # row's last-contact update, which no real gate does).
    threads = clients
    work = ROOT / "test-artifacts"
    codes_file, tokens_file, script = work / "bench-wrk-codes.txt", work / "bench-wrk-tokens.txt", work / "bench.lua"
    codes_file.write_text("\n".join(cfg.get("codes", [])) + "\n")
    tokens_file.write_text("".join(f"{token} {device}\n" for token, device in cfg.get("tokens", [])) or "x x\n")
    path = "/api/v1/checkin/manual" if mode == "scan" else "/api/v1/ping"
    script.write_text(WRK_SCRIPT % {"codes": codes_file, "tokens": tokens_file, "path": path, "threads": threads})
    url = f"http://127.0.0.1:{cfg['port']}{path}"
    wrk = ensure_wrk()

    def once(duration: float, script_path: Path) -> tuple[dict, dict]:
        before = _cpu_snapshot(cfg["server_pid"], cfg["database"])
        child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        duration = max(1, round(duration))  # wrk takes whole seconds
        proc = subprocess.run([wrk, "-t", str(threads), "-c", str(clients), "-d", f"{duration}s", "--timeout", "10s",
                               "-s", str(script_path), url], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        out = proc.stdout
        child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        after = _cpu_snapshot(cfg["server_pid"], cfg["database"])
        lines = [json.loads(line[4:]) for line in out.splitlines() if line.startswith("WRK ")]
        if not lines:
            raise SystemExit(f"wrk printed no figures:\n{out}")
        hz = os.sysconf("SC_CLK_TCK")
        cpu = {key: (after[key] - before[key]) / hz / duration for key in after}
        cpu["driver"] = (child1.ru_utime + child1.ru_stime - child0.ru_utime - child0.ru_stime) / duration
        return lines[0], cpu

    if cfg["warmup"] > 0:  # warm up on codes the measured run does not walk (the end of the list)
        warm = work / "bench-warm.lua"
        warm_codes = work / "bench-wrk-warm-codes.txt"
        warm_codes.write_text("\n".join(cfg.get("warm_codes", [])) + "\n")
        warm.write_text(WRK_SCRIPT % {"codes": warm_codes, "tokens": tokens_file, "path": path, "threads": threads})
        once(cfg["warmup"], warm)
    figures, cpu = once(cfg["duration"], script)
    seconds = figures["duration_us"] / 1e6
    errors = {}
    if figures["status_errors"]:
        errors[f"{mode} non-2xx"] = figures["status_errors"]
    if figures["socket_errors"]:
        errors[f"{mode} socket"] = figures["socket_errors"]
    return {"mode": mode, "clients": clients, "duration": seconds, "cpu_cores": cpu, "recycled_uses": 0,
            "exhausted": mode == "scan" and figures["requests"] > len(cfg.get("codes", [])), "errors": errors,
            "driver": "wrk", "endpoints": {mode: {"requests": figures["requests"], "rps": figures["requests"] / seconds,
                                                  **{f"p{q}": figures[f"p{q}"] / 1000 for q in (50, 95, 99)}}}}


# --- profile (in process, one client) ---------------------------------------------------------


def profile(url: str, seeded: dict, pairs: int) -> None:
    """Scan + check out `pairs` passes through the Flask test client in this process: the
    SQL of one scan and one checkout, queries and time per request (Python vs database),
    and the hottest functions (cProfile). Run after a benchmark (it uses its database)."""
    import cProfile
    import io
    import pstats

    from portal import create_app
    from tests.wire_support import traced

    # The server's production environment (the config reads it when the app is made).
    os.environ.update({"GATEHOUSE_ENV": "production", "GATEHOUSE_DEV_MODE": "0"})
    os.environ.pop("REDIS_URL", None)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ENV_NAME": "production", "DEV_MODE": False,
                      "SECRET_KEY": secrets.token_hex(32), "INTEGRATION_KEYS": Fernet.generate_key().decode(),
                      "RATELIMIT_ENABLED": False,
                      "KIOSK_TOKEN_TTL": 3600})
    client = app.test_client()
    device = f"bench-kiosk-{GUARDS:02d}"
    answer = client.post("/api/v1/kiosk/token", json={"estate": ESTATE_SLUG, "login": seeded["guards"][-1],
                                                      "password": GUARD_PASSWORD, "device_id": device})
    if answer.status_code != 200:
        raise SystemExit(f"kiosk token: {answer.status_code} {answer.get_json()}")
    headers = {"Authorization": f"Bearer {answer.get_json()['data']['access_token']}"}
    reset_passes(url, [vid for vid, _, _ in seeded["valid"]])
    passes = [qr for _, qr, _ in seeded["valid"]][: pairs + 1]

    def call(path: str, qr: str) -> tuple[int, float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.post(path, json={"qr_token": qr, "gate": GATES[0], "device_id": device}, headers=headers)
        return response.status_code, time.perf_counter() - t0, time.process_time() - c0

    for path in ("/api/v1/checkin/scan", "/api/v1/checkin/checkout"):  # warm up (prepares the statements)
        call(path, passes[0])
    reset_passes(url, [vid for vid, _, _ in seeded["valid"]][:1])
    from portal.gate import lean

    with app.app_context():
        own = [lean._connection()]  # the lean path's connection of this thread (the test client's)
    for path in ("/api/v1/checkin/scan", "/api/v1/checkin/checkout"):  # what crosses the wire (libpq's trace)
        with traced(own) as wire:
            status, _, _ = call(path, passes[0])
        print(f"{path} -> {status}: {wire.round_trips} round trips, {len(wire.statements)} statements")
        for text in wire.statements:
            print(f"    {text[:150]}")
    half = len(passes) // 2
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for qr in passes[1:half]:  # without the profiler: CPU time of this process per request
        for path in ("/api/v1/checkin/scan", "/api/v1/checkin/checkout"):
            call(path, qr)
    n = 2 * (half - 1)
    print(f"without profiler: {(time.process_time() - cpu0) / n * 1000:.2f} ms CPU in this process (Flask, the"
          f" app, psycopg) and {(time.perf_counter() - wall0) / n * 1000:.2f} ms wall per request, scan and"
          " checkout alike")
    totals = {"scan": [0.0, 0.0], "checkout": [0.0, 0.0]}  # wall seconds, CPU seconds
    profiler = cProfile.Profile(time.process_time)  # CPU time: waiting on PostgreSQL is not counted
    profiler.enable()
    for qr in passes[half:]:
        for kind, path in (("scan", "/api/v1/checkin/scan"), ("checkout", "/api/v1/checkin/checkout")):
            status, wall, cpu = call(path, qr)
            if status != 200:
                print(f"  {kind} {status}")
            totals[kind][0] += wall
            totals[kind][1] += cpu
    profiler.disable()
    n = len(passes) - half
    for kind, (wall_s, cpu_s) in totals.items():
        print(f"{kind}: {wall_s / n * 1000:.2f} ms per request in process, of which {(wall_s - cpu_s) / n * 1000:.2f}"
              " ms waiting (on PostgreSQL) (profiler on)")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    by_package: collections.Counter = collections.Counter()
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():
        if "site-packages/" in filename:
            package = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif "/portal/" in filename:
            package = "portal"
        elif filename == "~" and "method" in function:
            package = "builtins"
        else:
            package = "stdlib/other"
        by_package[package] += tottime
    total = sum(by_package.values())
    print("CPU time by package (profiler on):")
    for package, seconds in by_package.most_common(10):
        print(f"  {package:<20}{seconds / total:6.0%}")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(45)
    print(out.getvalue())


# --- report ----------------------------------------------------------------------------------


def report(results: list[dict], levels: list[int]) -> str:
    lines = [
        f"{'endpoint':<22}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}",
        "-" * 74,
    ]
    by = {(r["mode"], r["clients"]): r for r in results}
    names = {"scan": "POST checkin/scan", "checkout": "POST checkin/checkout", "ping": "GET ping"}
    if any(r.get("driver") == "wrk" for r in results):
        names["scan"] = "POST checkin/manual"
    wrk = any(r.get("driver") == "wrk" for r in results)
    for mode, kinds in (("scan", ("scan",) if wrk else ("scan", "checkout")), ("ping", ("ping",))):
        for n in levels:
            r = by.get((mode, n))
            if r is None:
                continue
            for kind in kinds:
                e = r["endpoints"].get(kind, {"rps": 0, "p50": float("nan"), "p95": float("nan"),
                                              "p99": float("nan")})
                errs = sum(v for k, v in r["errors"].items() if k.startswith(kind + " "))
                lines.append(f"{names[kind]:<22}{n:>8}{e['rps']:>9.0f}{e['p50']:>9.1f}{e['p95']:>9.1f}"
                             f"{e['p99']:>9.1f}{errs:>8}")
    lines.append("")
    lines.append(f"{'clients':>8}{'scan/s':>9}{'ping/s':>9}{'scan÷ping':>11}{'(scan+checkout)÷ping':>22}")
    for n in levels:
        s, p = by.get(("scan", n)), by.get(("ping", n))
        if not s or not p:
            continue
        scan = s["endpoints"].get("scan", {}).get("rps", 0)
        both = scan + s["endpoints"].get("checkout", {}).get("rps", 0)
        ping = p["endpoints"].get("ping", {}).get("rps", 0) or float("nan")
        lines.append(f"{n:>8}{scan:>9.0f}{ping:>9.0f}{scan / ping:>10.0%} {both / ping:>21.0%}")
    lines.append("")
    lines.append(f"CPU during the measured window, in cores (the machine has {os.cpu_count()}):")
    lines.append(f"{'run':<14}{'gunicorn':>10}{'postgres':>10}{'driver':>8}{'others':>8}{'machine':>9}"
                 f"{'server CPU ms/request':>23}")
    for r in results:
        c = r["cpu_cores"]
        others = max(0.0, c["machine_busy"] - c["gunicorn"] - c["postgres"] - c["driver"])
        requests = sum(e["requests"] for e in r["endpoints"].values()) or 1
        per_request = (c["gunicorn"] + c["postgres"]) * r["duration"] * 1000 / requests
        lines.append(f"{r['mode'] + ' x' + str(r['clients']):<14}{c['gunicorn']:>10.2f}{c['postgres']:>10.2f}"
                     f"{c['driver']:>8.2f}{others:>8.2f}{c['machine_busy']:>9.2f}{per_request:>23.2f}")
    lines.append("(others: processes outside the benchmark; server CPU = gunicorn + PostgreSQL per request)")
    fair = [r for r in results if r.get("per_client")]
    if fair:
        lines.append("")
        lines.append("Service per connection (requests each client had answered in the window):")
        for r in fair:
            counts = r["per_client"]
            spread = counts[-1] / counts[0] if counts[0] else float("inf")
            lines.append(f"  {r['mode']} x{r['clients']}: fewest {counts[0]}, median {counts[len(counts) // 2]}, "
                         f"most {counts[-1]} (most / fewest {spread:.1f})")
    notes = []
    for r in results:
        for key, count in sorted(r["errors"].items()):
            notes.append(f"  {r['mode']} x{r['clients']}: {count} x {key}")
        if r["recycled_uses"]:
            notes.append(f"  {r['mode']} x{r['clients']}: {r['recycled_uses']} scans reused MULTI_ENTRY passes")
        if r["exhausted"]:
            notes.append(f"  {r['mode']} x{r['clients']}: ran out of passes before the end")
    if notes:
        lines.append("")
        lines.append("Errors and notes:")
        lines.extend(notes)
    return "\n".join(lines)


def medians(runs: list[dict]) -> list[dict]:
    """One result per endpoint and level: the median of its runs' throughput, latencies and
    CPU figures; errors added up."""
    grouped: dict[tuple[str, int], list[dict]] = collections.defaultdict(list)
    for r in runs:
        grouped[r["mode"], r["clients"]].append(r)
    out = []
    for group in grouped.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        first = group[0]
        errors: collections.Counter = collections.Counter()
        for r in group:
            errors.update(r["errors"])
        endpoints = {kind: {key: statistics.median(r["endpoints"][kind][key] for r in group)
                            for key in first["endpoints"][kind]} for kind in first["endpoints"]}
        cpu = {key: statistics.median(r["cpu_cores"][key] for r in group) for key in first["cpu_cores"]}
        out.append({**first, "endpoints": endpoints, "cpu_cores": cpu, "errors": dict(errors),
                    "duration": statistics.median(r["duration"] for r in group),
                    "exhausted": any(r["exhausted"] for r in group),
                    "recycled_uses": sum(r["recycled_uses"] for r in group), "per_client": None, "run": "median"})
    return out


def targets(results: list[dict]) -> str:
    by = {(r["mode"], r["clients"]): r for r in results}
    out = []
    s8 = by.get(("scan", 8))
    if s8 and "scan" in s8["endpoints"]:
        p95 = s8["endpoints"]["scan"]["p95"]
        out.append(f"scan p95 at 8 clients: {p95:.1f} ms (target <= 25 ms): {'MET' if p95 <= 25 else 'NOT MET'}")
    for n in sorted({r["clients"] for r in results}):
        s, p = by.get(("scan", n)), by.get(("ping", n))
        if s and p and p["endpoints"].get("ping", {}).get("rps"):
            ratio = s["endpoints"].get("scan", {}).get("rps", 0) / p["endpoints"]["ping"]["rps"]
            verdict = ("MET" if ratio >= 0.25 else "NOT MET") if n == 8 else "(the target is judged at 8 clients)"
            out.append(f"scan/ping throughput at {n} clients: {ratio:.1%} (target >= 25%): {verdict}")
    return "\n".join(out)


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=("run", "drive", "profile"))
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients per level (default 1,8,32)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per level (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first (default 1)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 4)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 4)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8765)))
    parser.add_argument("--reuse-db", action="store_true", help="skip create + seed (the last run's database)")
    parser.add_argument("--only", choices=("scan", "ping"), help="run only one endpoint's levels")
    parser.add_argument("--pairs", type=int, default=300, help="profile: scan + checkout pairs (default 300)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of every level, order alternating (scan first, then ping first, ...); the "
                             "figures are the median (default: 3 with wrk, 1 with the python driver)")
    parser.add_argument("--driver", choices=("python", "wrk"), default=os.environ.get("BENCH_DRIVER", "python"),
                        help="python: scan + checkout pairs from Python threads, with per-client figures; "
                             "wrk: scans only (POST checkin/manual of fresh codes) from wrk")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
                        help="the job queue's Redis, as in production (default %(default)s); "
                             "--redis-url '' for the embedded SQLite queue")
    parser.add_argument("--app-dir", type=Path, default=ROOT,
                        help="serve the app from this checkout (e.g. an older commit, for before/after runs)")
    parser.add_argument("--worker-class", default=os.environ.get("BENCH_WORKER_CLASS", "sync"),
                        choices=("gthread", "sync"))
    parser.add_argument("--worker-connections", type=int, default=int(os.environ.get("BENCH_WORKER_CONNECTIONS", -1)),
                        help="gthread: connections a worker holds at most (default: its threads, so that no "
                             "connection waits behind another's on a busy worker; 0: gunicorn's 1000)")
    args = parser.parse_args(argv)

    if args.command == "drive":
        print(json.dumps(drive(json.load(sys.stdin))))
        return 0

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    levels = [int(x) for x in args.levels.split(",")]
    if max(levels) > GUARDS:
        raise SystemExit(f"at most {GUARDS} clients (one guard each)")
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    state_file = ROOT / "test-artifacts" / "bench-gate-passes.json"
    now = datetime.now(UTC)
    print(f"Gate benchmark on {os.cpu_count()} cores; database {url.rsplit('@', 1)[-1]}", flush=True)
    if args.command == "profile":
        if not state_file.exists():
            raise SystemExit("run the benchmark first: profile uses its database")
        profile(url, json.loads(state_file.read_text()), args.pairs)
        return 0
    if args.reuse_db and state_file.exists():
        seeded = json.loads(state_file.read_text())
        print("reusing the seeded database", flush=True)
    else:
        t = time.perf_counter()
        create_database(url)
        migrate(url)
        print(f"created and migrated in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        password_hash = hash_password(url, GUARD_PASSWORD)
        seeded = seed(url, password_hash, now)
        print(f"seeded in {time.perf_counter() - t:.1f} s: "
              + ", ".join(f"{v:,} {k}" for k, v in seeded["counts"].items()), flush=True)
        state_file.write_text(json.dumps(seeded))
    visit_ids = [vid for vid, _, _ in seeded["valid"]]
    passes = [(qr, multi) for _, qr, multi in seeded["valid"]]
    repeat = args.repeat or (3 if args.driver == "wrk" else 1)
    warm_codes = WARM_CODES
    if args.driver == "wrk" and args.only != "ping":
        warm_codes = math.ceil(ARRIVALS_PER_SECOND * max(args.warmup, 0))
        wanted = math.ceil(ARRIVALS_PER_SECOND * (args.duration + max(args.warmup, 0))) - len(visit_ids)
        t = time.perf_counter()
        arrivals = ensure_arrivals(url, wanted)
        visit_ids = visit_ids + arrivals
        print(f"{len(arrivals):,} arrivals (fresh single-use passes) beside the seed's {len(seeded['valid']):,} valid "
              f"passes, ready in {time.perf_counter() - t:.1f} s", flush=True)

    idle_load = machine_busy()
    print(f"before the run, other processes kept {idle_load:.2f} of {os.cpu_count()} cores busy"
          + ("  (WARNING: the figures will be low)" if idle_load > 0.2 else ""), flush=True)
    if args.worker_connections < 0:
        args.worker_connections = args.threads if args.worker_class == "gthread" else 0
    shape = (f"{args.workers} workers x {args.threads} threads (gthread)" if args.worker_class == "gthread"
             else f"{args.workers} sync workers")
    if args.worker_connections:
        shape += f", at most {args.worker_connections} connections per worker"
    print(f"gunicorn: {shape}, production config; driver: {args.driver}", flush=True)
    if args.app_dir != ROOT:
        print(f"serving the app from {args.app_dir}", flush=True)
    print(f"job queue: {'Redis ' + args.redis_url if args.redis_url else 'SQLite file (embedded default)'}",
          flush=True)
    clear_job_queue(args.redis_url)
    server = start_server(url, args.port, args.workers, args.threads, args.worker_class, args.worker_connections,
                          args.app_dir, args.redis_url or None)
    codes = valid_codes(url, visit_ids) if args.driver == "wrk" else []
    results = []
    try:
        wanted = max(levels)
        tokens = kiosk_tokens(args.port, seeded["guards"], wanted) if args.only != "ping" else []
        base = {"port": args.port, "server_pid": server.pid, "database": _libpq_url(url).rsplit("/", 1)[1], "duration": args.duration, "warmup": args.warmup}
        for run in range(repeat):
            for mode in ("scan", "ping") if run % 2 == 0 else ("ping", "scan"):
                if args.only and mode != args.only:
                    continue
                for n in levels:
                    cfg = {**base, "mode": mode, "clients": n}
                    if mode == "scan":
                        reset_passes(url, visit_ids)
                        random.Random(n + 100 * run).shuffle(passes)
                        random.Random(n + 100 * run).shuffle(codes)
                        cfg.update(passes=passes, tokens=tokens[:n], codes=codes[:len(codes) - warm_codes],
                                   warm_codes=codes[len(codes) - warm_codes:])
                    r = run_wrk(cfg) if args.driver == "wrk" else run_driver(cfg)
                    r["run"] = run + 1
                    results.append(r)
                    main_kind = "scan" if mode == "scan" else "ping"
                    e = r["endpoints"].get(main_kind, {})
                    print(f"  run {run + 1}  {mode:<5} x{n:<3} {e.get('rps', 0):7.0f} req/s  "
                          f"p95 {e.get('p95', float('nan')):6.1f} ms  errors {sum(r['errors'].values())}", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        clear_job_queue(args.redis_url)
    runs = results
    results = medians(runs)
    print()
    if repeat > 1:
        print(f"Median of {repeat} runs per level (each run's figures above):")
    print(report(results, levels))
    print()
    print(targets(results))
    (ROOT / "test-artifacts" / "bench-gate.json").write_text(json.dumps(
        {"date": now.isoformat(), "cores": os.cpu_count(), "busy_before": idle_load, "workers": args.workers, "threads": args.threads,
         "worker_class": args.worker_class, "redis": bool(args.redis_url), "worker_connections": args.worker_connections, "driver": args.driver,
         "repeat": repeat, "results": results, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
