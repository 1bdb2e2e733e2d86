"""A stand-in for the Google (GCM/FCM) servers that Chromium asks for a push subscription.

Chromium's `pushManager.subscribe()` goes through its GCM client: a device check-in
(a protobuf AndroidCheckinRequest/Response over HTTP) and a registration (a form POST
answered "token=<registration id>"), after which the browser makes the endpoint
https://…google.com/fcm/send/<token> and its own encryption keys. Offline, against the
real servers, that call never settles. Chromium's switches `--gcm-checkin-url`,
`--gcm-registration-url` and `--gcm-mcs-endpoint` point its GCM client here instead
(`GcmServer.chromium_args()`), so a headless Chromium really subscribes; the
registration request names the applicationServerKey the page subscribed with (`sender`).

It also stands in for MCS, the long-lived TLS connection (`--gcm-mcs-endpoint`) on which
FCM hands pushes down to Chromium: it answers the browser's LoginRequest and, on
`deliver()`, sends a DataMessageStanza carrying an encrypted web push exactly as it
reached the push service (raw_data, "content-encoding: aes128gcm"), which Chromium
decrypts with the subscription's keys and gives to the service worker's push event.
The protobuf messages are written by hand (the few fields Chromium requires).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import struct
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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
        self.mcs_port = 0
        self.mcs_logins = 0
        self._connections: list[ssl.SSLSocket] = []
        self._lock = threading.Lock()
        self._logged_in = threading.Condition(self._lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def chromium_args(self) -> list[str]:
        return [f"--gcm-checkin-url={self.url}/checkin", f"--gcm-registration-url={self.url}/c2dm/register3",
                f"--gcm-mcs-endpoint=https://127.0.0.1:{self.mcs_port}",
                "--ignore-certificate-errors"]  # the MCS stand-in's certificate is self-signed

    def web_push_registrations(self) -> list[dict[str, str]]:
        """The registrations made for a web page's push subscription (not Chromium's own)."""
        return [r for r in self.registrations if r.get("X-subtype", "").startswith("wp:")]

    def wait_for_login(self, timeout: float = 30) -> None:
        with self._logged_in:
            if not self._logged_in.wait_for(lambda: self._connections, timeout):
                raise AssertionError("Chromium's GCM client never logged in to the MCS stand-in")

    def deliver(self, registration: dict[str, str], raw_data: bytes) -> None:
        """Hand an encrypted web push to the browser, as FCM does for the subscription that
        `registration` made (its subtype names it, its sender is the VAPID key)."""
        self.wait_for_login()
        packet = data_message(sender=registration["sender"], app_id=registration["X-subtype"], raw_data=raw_data,
                              persistent_id=f"0:{time.time_ns()}%fake")
        with self._lock:
            for connection in self._connections:
                connection.sendall(packet)

    def _serve_mcs(self, connection: ssl.SSLSocket) -> None:
        try:
            stream = connection.makefile("rb")
            if stream.read(1) != bytes([MCS_VERSION]):
                return
            tag = stream.read(1)[0]
            size = _read_varint(stream)
            stream.read(size)
            if tag != TAG_LOGIN_REQUEST:
                return
            connection.sendall(bytes([MCS_VERSION]) + login_response())
            with self._logged_in:
                self.mcs_logins += 1
                self._connections.append(connection)
                self._logged_in.notify_all()
            while stream.read(4096):  # heartbeats and acknowledgements: not needed here
                pass
        except (OSError, ValueError, IndexError):
            pass
        finally:
            with self._lock:
                if connection in self._connections:
                    self._connections.remove(connection)
            connection.close()


def _read_varint(stream) -> int:
    value, shift = 0, 0
    while True:
        byte = stream.read(1)[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
        shift += 7


def _tls_context(folder: Path) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    (folder / "mcs.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "mcs.pem")
    return context


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
    threading.Thread(target=http.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as folder:
        context = _tls_context(Path(folder))
        listener = socket.create_server(("127.0.0.1", 0))
        found.mcs_port = listener.getsockname()[1]

        def accept() -> None:
            while True:
                try:
                    raw, _ = listener.accept()
                    connection = context.wrap_socket(raw, server_side=True)
                except OSError:
                    if listener.fileno() == -1:
                        return
                    continue
                threading.Thread(target=found._serve_mcs, args=(connection,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        try:
            yield found
        finally:
            http.shutdown()
            http.server_close()
            listener.close()
            with found._lock:
                for connection in list(found._connections):
                    with contextlib.suppress(OSError):
                        connection.close()


# --- MCS: the connection that carries pushes down to the browser -------------------------

MCS_VERSION = 41
TAG_LOGIN_REQUEST, TAG_LOGIN_RESPONSE, TAG_DATA_MESSAGE = 2, 3, 8


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, value) -> bytes:
    """One protobuf field: a string/bytes (length-delimited) or an int (varint)."""
    if isinstance(value, int | bool):
        return _varint(number << 3) + _varint(int(value))
    data = value.encode() if isinstance(value, str) else bytes(value)
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def mcs_packet(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _varint(len(body)) + body


def login_response() -> bytes:
    """LoginResponse: id (1), the only required field."""
    return mcs_packet(TAG_LOGIN_RESPONSE, _field(1, "fake-mcs-login"))


def data_message(*, sender: str, app_id: str, raw_data: bytes, persistent_id: str) -> bytes:
    """DataMessageStanza as a push service hands a web push to Chromium: from (3) = the
    applicationServerKey it subscribed with, category (5), app_data (7) naming the
    subscription (subtype) and the encoding, raw_data (21) = the encrypted body as it
    arrived at the push service."""
    app_data = b"".join(_field(7, _field(1, key) + _field(2, value))
                        for key, value in (("subtype", app_id), ("content-encoding", "aes128gcm")))
    body = (_field(2, persistent_id) + _field(3, sender) + _field(5, "org.chromium.linux") + app_data
            + _field(9, persistent_id) + _field(21, raw_data))
    return mcs_packet(TAG_DATA_MESSAGE, body)
