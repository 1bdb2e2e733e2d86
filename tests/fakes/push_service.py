"""A web push service on a free local port (RFC 8030's "push a message" side only): it
takes each POST to /push/<token> as a push message, keeps its headers and encrypted
body, and answers 201 Created with a Location (as FCM and Mozilla's service do), or the
status a test chose for that token (404/410 for a subscription the browser dropped, 5xx,
or a slow answer). `forward` passes each accepted message on (the browser test hands it to
Chromium, as FCM would).

    with local_push_service() as service:
        endpoint = service.endpoint("device-1")
        service.answer("device-2", 410)
        ...
        [received] = service.wait_for(1)   # Received(token, headers, body)

`Browser` plays the receiving browser: a P-256 key pair and an auth secret made here
(the subscription's `keys`), and `decrypt` opens an aes128gcm body (RFC 8291) with them.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    token: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Browser:
    """A browser's side of a subscription: its keys, and decryption of what it receives."""

    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def keys(self) -> dict[str, str]:
        point = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                           serialization.PublicFormat.UncompressedPoint)
        return {"p256dh": b64url(point), "auth": b64url(self.auth_secret)}

    def decrypt(self, body: bytes) -> bytes:
        return http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret,
                                version="aes128gcm")


def verified_claims(authorization: str, public_key: str) -> dict:
    """The claims of a VAPID Authorization header (RFC 8292: `vapid t=<JWT>, k=<key>`),
    after checking its ES256 signature with the server's public key (InvalidSignature if
    another key signed it)."""
    scheme, _, params = authorization.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert scheme == "vapid" and fields["k"] == public_key
    header, payload, signature = fields["t"].split(".")
    assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(signature)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    key.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
               f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(unb64url(payload))


class PushService:
    def __init__(self):
        self.received: list[Received] = []
        self.answers: dict[str, tuple[int, float]] = {}
        # Called with each message accepted (201), after answering: e.g. to hand it to a browser.
        self.forward: Callable[[Received], None] | None = None
        self._arrived = threading.Condition()
        self.port = 0

    def endpoint(self, token: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/{token}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, token: str, status: int, delay: float = 0.0) -> None:
        self.answers[token] = (status, delay)

    def wait_for(self, count: int, timeout: float = 15) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} push messages, got {len(self.received)}")
                self._arrived.wait(left)
            return list(self.received)


def _handler(service: PushService):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            token = self.path.removeprefix("/push/")
            status, delay = service.answers.get(token, (201, 0.0))
            if delay:
                time.sleep(delay)
            with service._arrived:
                service.received.append(Received(token, {k.lower(): v for k, v in self.headers.items()}, body))
                service._arrived.notify_all()
            self.send_response(status)
            if status == 201:
                self.send_header("Location", f"{service.origin}/message/{len(service.received)}")
            text = b"" if status == 201 else b'{"reason": "push subscription has unsubscribed or expired."}'
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
            self.wfile.flush()
            if status == 201 and service.forward is not None:
                service.forward(service.received[-1])

        def log_message(self, *args):
            pass

    return Handler


@contextmanager
def local_push_service():
    service = PushService()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    server.daemon_threads = True
    service.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
