"""Local fake SMS gateways: a threaded HTTP server on 127.0.0.1 that speaks one
provider's API as its documentation describes it, checks its credentials, records every
request, and can be told to fail (`fail(status)`), to refuse a recipient
(`refuse_recipient`, Africa's Talking) or to answer late (`hang(seconds)`).

    with FakeSmsServer("termii") as termii:
        ... settings {"kind": "termii", "base_url": termii.url, "api_key": termii.api_key, ...}
        termii.requests[0].json["sms"]

Kinds and what they answer:
- termii: POST /api/sms/send, JSON; 200 {"message_id": …, "message": "Successfully Sent", …};
  a wrong api_key → 401 {"message": …}.
- africastalking: POST /version1/messaging, form (username, to, message, from) with the
  apiKey header; 201 {"SMSMessageData": {"Message": …, "Recipients": [{statusCode 101, messageId…}]}};
  a wrong key → 401 text.
- twilio: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form (To, From, Body) with
  HTTP Basic auth (AccountSid:AuthToken); 201 a Message resource (sid "SM…");
  wrong credentials → 401 {"code": 20003, "message": "Authenticate", …}.
- http: any method and path; 200 {"data": {"id": …}} (the generic provider's test gateway),
  checking the Authorization header when `api_key` is given.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

KINDS = ("termii", "africastalking", "twilio", "http")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.text, keep_blank_values=True).items()}

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class _Failure:
    status: int
    body: str | dict | None
    remaining: int | None  # None: every request from now on


@dataclass
class FakeSmsServer:
    kind: str
    api_key: str = "test-api-key"
    account_sid: str = "AC" + "0" * 30 + "01"
    auth_token: str = "test-auth-token"
    username: str = "gatehouse"
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(self.kind)
        self._failures: list[_Failure] = []
        self._delay = 0.0
        self._refusal: tuple[int, str] | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # --- programming the fake ---------------------------------------------------------

    def fail(self, status: int, body: str | dict | None = None, *, times: int | None = None) -> FakeSmsServer:
        """Answer the next `times` requests (every one, when None) with `status`."""
        self._failures.append(_Failure(status, body, times))
        return self

    def hang(self, seconds: float) -> FakeSmsServer:
        """Answer every request only after `seconds` (a slow or dead gateway)."""
        self._delay = seconds
        return self

    def refuse_recipient(self, status_code: int, status: str) -> FakeSmsServer:
        """Africa's Talking: accept the request but refuse the number with this status."""
        self._refusal = (status_code, status)
        return self

    def reset(self) -> None:
        self._failures.clear()
        self._delay = 0.0
        self._refusal = None

    def wait_for(self, count: int, timeout: float = 10) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.requests)

    # --- the server --------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeSmsServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                fake._handle(self)

            do_GET = do_POST = do_PUT = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name=f"fake-{self.kind}", daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()  # let hanging answers go
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSmsServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- answering ---------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        recorded = Recorded(handler.command, parts.path, parse_qs(parts.query), dict(handler.headers.items()), body)
        with self._lock:
            self.requests.append(recorded)
            failure = self._failures[0] if self._failures else None
            if failure is not None and failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.pop(0)
        if self._delay:
            self._released.wait(self._delay)
        if failure is not None:
            return self._answer(handler, failure.status, failure.body if failure.body is not None
                                else {"message": f"fake {self.kind} failure {failure.status}"})
        status, answer = getattr(self, f"_{self.kind}")(recorded)
        self._answer(handler, status, answer)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, answer: str | dict) -> None:
        if isinstance(answer, str):
            payload, content_type = answer.encode(), "text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(answer).encode(), "application/json"
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass

    def _termii(self, r: Recorded) -> tuple[int, str | dict]:
        if r.method != "POST" or r.path != "/api/sms/send":
            return 404, {"message": "Not Found"}
        data = r.json or {}
        if data.get("api_key") != self.api_key:
            return 401, {"message": "Unauthorized: invalid api_key"}
        missing = [k for k in ("to", "from", "sms", "type", "channel") if not data.get(k)]
        if missing:
            return 422, {"message": f"The {missing[0]} field is required."}
        number = next(self._ids)
        return 200, {"code": "ok", "message_id": f"30{number:017d}", "message_id_str": f"30{number:017d}",
                     "message": "Successfully Sent", "balance": 9, "user": "Gatehouse Test"}

    def _africastalking(self, r: Recorded) -> tuple[int, str | dict]:
        if r.method != "POST" or r.path != "/version1/messaging":
            return 404, "Not Found"
        if r.header("apiKey") != self.api_key:
            return 401, "The supplied authentication is invalid"
        form = r.form
        if form.get("username") != self.username:
            return 401, "The supplied authentication is invalid"
        if not form.get("to") or not form.get("message"):
            return 400, "Request is missing required form field 'to'"
        if self._refusal is not None:
            code, status = self._refusal
            recipient = {"statusCode": code, "number": form["to"], "status": status, "cost": "0", "messageId": "None"}
            return 201, {"SMSMessageData": {"Message": "Sent to 0/1 Total Cost: 0", "Recipients": [recipient]}}
        recipient = {"statusCode": 101, "number": form["to"], "status": "Success", "cost": "NGN 2.2000",
                     "messageId": f"ATXid_{uuid.uuid4().hex}"}
        return 201, {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: NGN 2.2000", "Recipients": [recipient]}}

    def _twilio(self, r: Recorded) -> tuple[int, str | dict]:
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/"
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if r.header("Authorization") != expected or not r.path.startswith("/2010-04-01/Accounts/"):
            return 401, {"code": 20003, "message": "Authenticate",
                         "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}
        if r.method != "POST" or r.path != prefix + "Messages.json":
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        form = r.form
        if not form.get("To", "").startswith("+"):
            return 400, {"code": 21211, "message": f"The 'To' number {form.get('To')} is not a valid phone number.",
                         "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
        sid = "SM" + uuid.uuid4().hex
        return 201, {"sid": sid, "account_sid": self.account_sid, "to": form["To"], "from": form.get("From"),
                     "messaging_service_sid": form.get("MessagingServiceSid"), "body": form.get("Body"),
                     "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                     "date_created": "Thu, 01 May 2025 10:00:00 +0000", "date_updated": "Thu, 01 May 2025 10:00:00 +0000",
                     "uri": f"{prefix}Messages/{sid}.json", "error_code": None, "error_message": None, "price": None}

    def _http(self, r: Recorded) -> tuple[int, str | dict]:
        if self.api_key and r.header("Authorization") not in (None, f"Bearer {self.api_key}"):
            return 401, {"error": "bad token"}
        return 200, {"ok": True, "data": {"id": f"gw-{next(self._ids)}"}}
