"""The fake Flutterwave (portal/devtools/fake_flutterwave.py) on a real port for a test, and
a merchant-side receiver that records the webhooks and redirects it is sent.

    with running_fake(app, webhook_url=...) as fake:   # app.config now points at it
        gateway_for(None).create_checkout(...)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.devtools.fake_flutterwave import FakeFlutterwave


@contextmanager
def running_fake(app: Flask | None = None, **options) -> Iterator[FakeFlutterwave]:
    """A FakeFlutterwave served on a free port; `app`'s FLUTTERWAVE_* settings point at it
    for the duration (the `app` fixture restores its config after each test)."""
    fake = FakeFlutterwave(**options)
    with fake.serve() as url:
        if app is not None:
            app.config.update(
                FLUTTERWAVE_BASE_URL=url, FLUTTERWAVE_SECRET_KEY=fake.secret_key,
                FLUTTERWAVE_SECRET_HASH=fake.secret_hash,
            )
        yield fake


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the merchant's side got: webhooks (POST /webhooks/flutterwave) and returns from
    the hosted page (GET /return…). `url` is its base URL."""

    url: str = ""
    status: int = 200  # what it answers webhooks with
    received: list[Received] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def webhooks(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST"]

    def wait_for_webhooks(self, count: int, timeout: float = 10) -> list[Received]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.webhooks()) >= count, timeout)
            return self.webhooks()

    def __call__(self, environ, start_response):
        request = Request(environ)
        item = Received(request.method, request.path, dict(request.args), dict(request.headers), request.get_data())
        with self._arrived:
            self.received.append(item)
            self._arrived.notify_all()
        if request.method == "POST":
            response = Response("ok", status=self.status)
        else:
            response = Response(f"<!doctype html><title>Back at the estate</title><h1>Back at the estate</h1>"
                                f"<p id=query>{request.query_string.decode()}</p>", mimetype="text/html")
        return response(environ, start_response)


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = make_server("127.0.0.1", 0, receiver, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="merchant-receiver", daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield receiver
    finally:
        server.shutdown()
        thread.join(timeout=5)
