"""Browser-test fixtures: the real app served by gunicorn on a fresh, migrated and
seeded database, and Debian's Chromium driven by Playwright.

Run with `make test-browser` (`pytest -m browser`). Needs /usr/bin/chromium
(`apt-get install -y chromium`); never `playwright install`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import fresh_database

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 60.0  # seconds for gunicorn to answer /health (a loaded CI machine boots workers slowly)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser_database_url(tmp_path_factory):
    """A fresh database for the live server (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""
    with fresh_database("browser", tmp_path_factory.mktemp("browser-db")) as url:
        yield url


def _run(args: list[str], env: dict) -> None:
    result = subprocess.run(
        args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def vapid_keys_file(tmp_path_factory):
    """Where the live server keeps the web push key pair DEV mode makes on first use."""
    return tmp_path_factory.mktemp("push") / "vapid-keys.json"


@pytest.fixture(scope="session")
def live_env(browser_database_url, tmp_path_factory, vapid_keys_file):
    """The environment of the live server and of its job worker: the same database, and a
    job queue of this session's own (a SQLite file)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=browser_database_url,
        GATEHOUSE_DEV_MODE="1",
        RATELIMIT_ENABLED="0",
        PYTHONUNBUFFERED="1",
        VAPID_KEYS_FILE=str(vapid_keys_file),  # not in instance/
        JOBS_SQLITE_PATH=str(tmp_path_factory.mktemp("jobs") / "jobs.db"),
    )
    return env


@pytest.fixture(scope="module")
def job_worker(live_server, live_env):
    """A `flask worker` beside the live server, for the tests whose pages wait for a job
    (invoice generation); started on first use, stopped at the end of the test module (left
    running, it would deliver other tests' messages under them)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "worker.log", "w") as log:
        worker = subprocess.Popen([str(VENV_BIN / "flask"), "--app", "wsgi", "worker", "--no-periodic"], cwd=ROOT,
                                  env=live_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield worker
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@contextmanager
def gunicorn_server(env: dict, log_name: str = "gunicorn.log", workers: int = 2,
                    start_timeout: float = START_TIMEOUT) -> Iterator[str]:
    """The app under gunicorn with `env` on a free port, until the block ends: its base URL."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / log_name
    log = open(log_path, "w")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited with {server.returncode}; see {log_path}:\n"
                            f"{log_path.read_text()[-3000:]}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer {base_url}/health within {start_timeout:.0f} s; "
                            f"see {log_path}:\n{log_path.read_text()[-3000:]}", pytrace=False)
            time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def live_server(live_env):
    """Base URL of the real app under gunicorn (2 workers), with the demo data."""
    env = live_env
    flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
    _run([*flask, "db", "upgrade"], env)
    _run([*flask, "seed-demo"], env)
    with gunicorn_server(env) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless. A missing binary is a failure, not a skip: CI installs it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's Chromium "
            "(apt-get install -y chromium). Do not run `playwright install`.",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait longer than Playwright's 5 s: CI shares two cores with gunicorn.
    expect.set_options(timeout=10_000)

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


# Content-Security-Policy violations seen by any page of the current test (see watch_csp).
CSP_REPORTS: list[str] = []
CSP_MESSAGE = re.compile(r"Content Security Policy|securitypolicyviolation|evalDisallowed", re.IGNORECASE)
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("securitypolicyviolation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
                + " at " + e.sourceFile + ":" + e.lineNumber);
}, true);
"""


def watch_csp(context):
    """Collect every Content-Security-Policy violation in this browser context (the
    browser's own console report, the page's `securitypolicyviolation` event, htmx's
    refusal to eval) into CSP_REPORTS; a test that leaves any there fails."""
    context.add_init_script(_REPORT_VIOLATIONS)

    def on_console(message) -> None:
        if CSP_MESSAGE.search(message.text):
            CSP_REPORTS.append(f"{message.type}: {message.text} ({message.page.url if message.page else '?'})")

    context.on("console", on_console)
    return context


def _fail_on_csp_reports() -> None:
    if CSP_REPORTS:
        reports, CSP_REPORTS[:] = list(CSP_REPORTS), []
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(reports), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A browser test fails when a page broke the Content-Security-Policy."""
    CSP_REPORTS.clear()
    result = yield
    _fail_on_csp_reports()
    return result


def _screenshot_name(node_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name).strip("_") + ".png"


@pytest.fixture
def new_page(browser, live_server, request):
    """Factory: `new_page(viewport="phone"|"desktop"|{...}, locale="en")` opens a page
    in a fresh browser context. The last page opened is saved as
    test-artifacts/screenshots/<test-name>.png when the test ends."""
    contexts = []
    pages = []

    def _new_page(viewport: str | dict = "desktop", locale: str = "en"):
        size = VIEWPORTS[viewport] if isinstance(viewport, str) else viewport
        phone = size["width"] < 768
        context = browser.new_context(
            base_url=live_server, viewport=size, locale=locale, is_mobile=phone, has_touch=phone
        )
        context.set_default_timeout(10_000)
        watch_csp(context)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield _new_page

    try:
        if pages and not pages[-1].is_closed():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            pages[-1].screenshot(path=str(SCREENSHOTS / _screenshot_name(request.node.name)), full_page=True)
    finally:
        for context in contexts:
            context.close()
    _fail_on_csp_reports()  # reports that arrived while the last page was saved


@pytest.fixture(autouse=True)
def _free_gate_devices(request):
    """Every browser context is a new gate device, and a guard account works on one
    device only: each browser test starts with all guards unbound (a test that checks
    binding binds them itself)."""
    if "live_server" not in request.fixturenames and "new_page" not in request.fixturenames:
        yield
        return
    import sqlalchemy as sa

    engine = sa.create_engine(request.getfixturevalue("browser_database_url"))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE membership SET bound_device_id = NULL, bound_at = NULL "
                             "WHERE bound_device_id IS NOT NULL"))
    engine.dispose()
    yield


@pytest.fixture
def demo_languages_kept(browser_database_url):
    """For tests that switch demo users' language (which saves their choice): the other
    browser tests expect the demo's languages, so each such test puts them back."""
    import sqlalchemy as sa

    engine = sa.create_engine(browser_database_url)
    with engine.connect() as conn:
        saved = conn.execute(sa.text("SELECT id, preferred_language FROM user_account")).all()
    yield
    with engine.begin() as conn:
        for user_id, language in saved:
            conn.execute(sa.text("UPDATE user_account SET preferred_language = :lang WHERE id = :id"),
                         {"lang": language, "id": user_id})
    engine.dispose()


def insert_pass(db, name: str, *, starts: timedelta = timedelta(hours=-1), ends: timedelta = timedelta(hours=4),
                entries_used: int = 0, phone: str = "+2348091234567", plate: str = "LAG777GH") -> tuple[int, str]:
    """A fresh SINGLE_USE pass in greenpark for `name` (unit A12, the demo resident as
    host), written straight to the live server's database so the demo's own passes stay
    as they are: (visit id, visitor code)."""
    import secrets
    from datetime import UTC, datetime

    import sqlalchemy as sa

    now = datetime.now(UTC)
    code = "".join(secrets.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(8))
    with db.begin() as conn:
        estate_id, unit_id, host_id = conn.execute(sa.text(
            "SELECT e.id, u.id, (SELECT id FROM user_account WHERE email = 'resident@greenpark.test') "
            "FROM estate e JOIN unit u ON u.estate_id = e.id WHERE e.slug = 'greenpark' AND u.number = 'A12'")).one()
        visit_id = conn.execute(sa.text(
            "INSERT INTO visit (estate_id, unit_id, host_user_id, pass_type, status, purpose, valid_from, valid_until, "
            "weekdays, max_entries, entries_used, people_inside, qr_token, visitor_code, created_at) VALUES "
            "(:estate, :unit, :host, 'SINGLE_USE', 'ACTIVE', 'Visit', :start, :end, '', 1, :used, false, :token, "
            ":code, :now) RETURNING id"),
            dict(estate=estate_id, unit=unit_id, host=host_id, start=now + starts, end=now + ends, used=entries_used,
                 token=secrets.token_urlsafe(24), code=code, now=now)).scalar_one()
        conn.execute(sa.text("INSERT INTO visit_guest (visit_id, estate_id, full_name, phone, plate) "
                             "VALUES (:v, :e, :name, :phone, :plate)"),
                     dict(v=visit_id, e=estate_id, name=name, phone=phone, plate=plate))
    return visit_id, code
