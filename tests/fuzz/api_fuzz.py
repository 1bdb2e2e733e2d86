"""OpenAPI-driven fuzz of the kiosk API (`make fuzz-api`; not part of CI).

Creates a fresh PostgreSQL database (FUZZ_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/gatehouse_fuzz), migrates it and seeds the
demo, serves it with gunicorn on a free port, gets a kiosk token for the demo supervisor,
and runs schemathesis against /api/v1/openapi.json with the bearer header for a bounded
time, failing on any 5xx (check `not_a_server_error`). The server's log goes to
test-artifacts/fuzz-api-gunicorn.log. Extra schemathesis options after `--`:

    .venv/bin/python -m tests.fuzz.api_fuzz --max-time 60 -- --seed 1
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
DEVICE = "fuzz-kiosk-0001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(url: str) -> None:
    name = make_url(url).database
    admin = sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def wait_for(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit("gunicorn did not answer /health within 30 s")
        time.sleep(0.2)


def kiosk_token(base: str) -> str:
    body = json.dumps({"estate": "greenpark", "login": "supervisor@greenpark.test", "password": "demo1234",
                       "device_id": DEVICE}).encode()
    request = urllib.request.Request(f"{base}/api/v1/kiosk/token", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]["access_token"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-time", type=int, default=150, help="schemathesis's time budget in seconds")
    parser.add_argument("extra", nargs="*", help="more schemathesis options (after --)")
    args = parser.parse_args()
    url = os.environ.get("FUZZ_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/gatehouse_fuzz")
    fresh_database(url)
    env = dict(os.environ, DATABASE_URL=url, GATEHOUSE_DEV_MODE="1", RATELIMIT_ENABLED="0",
               KIOSK_TOKEN_TTL="21600", PYTHONUNBUFFERED="1")
    env.pop("REDIS_URL", None)
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                       stdin=subprocess.DEVNULL, capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "fuzz-api-gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(base, server, log_path)
            token = kiosk_token(base)
            command = [
                str(BIN / "schemathesis"), "run", f"{base}/api/v1/openapi.json",
                "--url", base,
                "--checks", "not_a_server_error",
                "--header", f"Authorization: Bearer {token}",
                # Revoking the token would leave every later case a 401.
                "--exclude-path", "/api/v1/kiosk/revoke",
                "--max-time", str(args.max_time),
                "--generation-database", "none",
                *args.extra,
            ]
            print("schemathesis against", base, flush=True)
            return subprocess.run(command, cwd=ROOT, stdin=subprocess.DEVNULL).returncode
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
