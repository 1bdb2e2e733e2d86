"""A stand-in for the Google (GCM/FCM) servers that Chromium asks for a push subscription.

Chromium's `pushManager.subscribe()` goes through its GCM client: a device check-in
(a protobuf AndroidCheckinRequest/Response over HTTP) and a registration (a form POST
answered "token=<registration id>"), after which the browser makes the endpoint
https://…google.com/fcm/send/<token> and its own encryption keys. Offline, against the
real servers, that call never settles. Chromium's switches `--gcm-checkin-url`,
`--gcm-registration-url` and `--gcm-mcs-endpoint` point its GCM client here instead
(`GcmServer.chromium_args()`), so a headless Chromium really subscribes; the
registration request names the applicationServerKey the page subscribed with (`sender`).

Only check-in and registration are served: the MCS connection that would carry pushes
down to the browser is refused, so nothing is delivered to the browser this way (the
browser test hands a push to the service worker through the DevTools protocol instead).
"""

from __future__ import annotations

import struct
import threading
import urllib.parse
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANDROID_ID = 5_123_456_789_012_345
SECURITY_TOKEN = 8_765_432_109_876_543


def checkin_response() -> bytes:
    """AndroidCheckinResponse: stats_ok (1) = true, android_id (7) and security_token (8)
    as fixed64, the three fields Chromium's GCM client needs to go on."""
    return (b"\x08\x01" + b"\x39" + struct.pack("<Q", ANDROID_ID) + b"\x41" + struct.pack("<Q", SECURITY_TOKEN))


class GcmServer:
    def __init__(self):
        self.registrations: list[dict[str, str]] = []
        self.checkins = 0
        self.port = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def chromium_args(self) -> list[str]:
        return [f"--gcm-checkin-url={self.url}/checkin", f"--gcm-registration-url={self.url}/c2dm/register3",
                f"--gcm-mcs-endpoint=https://127.0.0.1:{self.port}"]

    def web_push_registrations(self) -> list[dict[str, str]]:
        """The registrations made for a web page's push subscription (not Chromium's own)."""
        return [r for r in self.registrations if r.get("X-subtype", "").startswith("wp:")]


def _handler(server: GcmServer):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/checkin"):
                with server._lock:
                    server.checkins += 1
                answer, kind = checkin_response(), "application/x-protobuf"
            else:
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                with server._lock:
                    form["token"] = f"fake-registration-{len(server.registrations) + 1}"  # what it was given
                    server.registrations.append(form)
                answer = f"token={form['token']}".encode()
                kind = "text/plain"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    return Handler


@contextmanager
def local_gcm_server():
    found = GcmServer()
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    http.daemon_threads = True
    found.port = http.server_address[1]
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        http.shutdown()
        http.server_close()
