"""The app under a real gunicorn on a fresh, migrated and seeded database, for the race
tests (tests/test_gate_race.py, tests/test_amenity_race.py)."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from tests.browser.conftest import ARTIFACTS, ROOT, VENV_BIN, _free_port, _run
from tests.conftest import fresh_database


@contextmanager
def seeded_gunicorn(label: str, tmp_dir, *, workers: int = 4, start_timeout: float = 30) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of gunicorn (`workers` workers, 4 threads each) serving a
    fresh database with the demo data; its log is test-artifacts/gunicorn-<label>.log."""
    with fresh_database(label, tmp_dir) as url:
        env = dict(os.environ, DATABASE_URL=url, GATEHOUSE_DEV_MODE="1", RATELIMIT_ENABLED="0", PYTHONUNBUFFERED="1")
        flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
        _run([*flask, "db", "upgrade"], env)
        _run([*flask, "seed-demo"], env)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        ARTIFACTS.mkdir(exist_ok=True)
        log_path = ARTIFACTS / f"gunicorn-{label}.log"
        with open(log_path, "w") as log:
            server = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--threads", "4",
                 "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + start_timeout
                while True:
                    assert server.poll() is None, log_path.read_text()[-3000:]
                    try:
                        with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                            if response.status == 200:
                                break
                    except (urllib.error.URLError, ConnectionError, TimeoutError):
                        pass
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
                yield base, url
            finally:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
