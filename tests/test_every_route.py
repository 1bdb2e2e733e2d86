"""Never a 500, on every route that takes input (issue 9, "Done when"): NUL and other
control characters, numbers and dates out of range, deep JSON and CR/LF, sent to

- every path argument of every rule of `app.url_map` (the others kept valid);
- every query argument a page's inputs name (plus `page` and `next`), on every GET rule;
- every field of every form the GET pages render (one bad field at a time, the others
  as the page filled them), posted to the form's action, signed in as the area's role;
- every field of every kiosk API body named by the OpenAPI spec, and a deep body to
  every POST rule.

Slow (several thousand requests): `make test-pg` runs it on PostgreSQL, where NUL and
out-of-range integers are errors of the database itself."""

from __future__ import annotations

from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urlsplit

import pytest

from portal.models import Role
from portal.web.api.spec import spec
from tests.conftest import PASSWORD
from tests.test_api_kiosk import DEVICE, get_token

pytestmark = pytest.mark.slow

BAD_TEXT = ["a\x00b", "a\x01b", "/\r\nSet-Cookie: x=1", "\u202eevil", "99999999999999999999", "3000000000", "-1",
            "0001-01-01", "9999-12-31", "0001-01-01T00:05", "9999-12-31T23:59"]
BAD_QUERY = ["a\x00b", "/\r\nSet-Cookie: x=1", "99999999999999999999", "3000000000", "0001-01-01", "9999-12-31"]
BAD_PATH = ["a\x00b", "/\r\nx", "2147483648", "9223372036854775808", "99999999999999999999", "-1"]
BAD_JSON = ["a\x00b", "\udfff", "/\r\nSet-Cookie: x=1", 2**63, 10**30, -1, 3_000_000_000, "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00", "0001-01-01", [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
DEEP = "[" * 5000
# Actions that would end the signed-in client's own session or account: fuzzed through
# their path arguments only (bad ids), never through their forms.
SELF_HARM = {"auth.logout", "auth.logout_everywhere", "account.session_revoke", "api.kiosk_revoke",
             "admin.members_suspend", "admin.members_remove", "admin.members_delete", "admin.members_roles",
             "admin.members_device_reset", "enterprise.user_suspend", "enterprise.user_delete",
             "enterprise.estate_suspend"}


class _Forms(HTMLParser):
    """The forms of a page (action, method, fields with their values) and the names of the
    fields that travel in a query string (GET forms, inputs outside a form)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.names: set[str] = set()
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or a.get("hx-post") or "", "method": (a.get("method") or "get").lower(),
                          "fields": {}}
            if a.get("hx-post"):
                self._form["method"] = "post"
            self.forms.append(self._form)
            return
        name = a.get("name")
        if tag in ("input", "select", "textarea") and name:
            if self._form is None or self._form["method"] == "get":
                self.names.add(name)  # a query argument of some GET
            if self._form is not None and a.get("type") not in ("file", "submit", "button", "image"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    self._form["fields"].setdefault(name, a.get("value") or "")
                else:
                    self._form["fields"][name] = a.get("value") or ""
            self._select = name if tag == "select" else None
        elif tag == "option" and self._select and self._form is not None and a.get("value") \
                and not self._form["fields"].get(self._select):
            self._form["fields"][self._select] = a["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


class Run:
    """Sends the requests, counts them and keeps every 5xx (or exception)."""

    def __init__(self):
        self.count = 0
        self.failures: list[str] = []
        self.by_kind: dict[str, int] = defaultdict(int)
        self.pages_ok = 0

    def send(self, kind: str, client, method: str, url: str, **kw):
        self.count += 1
        self.by_kind[kind] += 1
        try:
            response = client.open(url, method=method, **kw)
            response.get_data()  # a streamed body (CSV exports) runs its queries now
            response.close()
        except Exception as exc:  # the app re-raises in testing: that is the 500
            self.failures.append(f"{method} {url!r} {kw.get('data') or kw.get('json')!r:.200}: {exc!r:.300}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{method} {url!r} {kw.get('data') or kw.get('json')!r:.200}: {response.status_code}")
        return response


@pytest.fixture
def world(app, estate_pair, make, client, login):
    app.config["RATELIMIT_ENABLED"] = False
    a = estate_pair.alpha
    make.user("supervisor@alpha.test", estate=a.estate, role=Role.GUARD, supervisor=True)
    make.enterprise_admin("boss@example.test")
    victim = make.user("victim@alpha.test", estate=a.estate, role=Role.RESIDENT)
    visit = make.visit(a.estate, a.unit, a.resident)
    resident = make.resident(a.estate, a.unit, "Tunde Bakare")
    clients = {"anon": app.test_client()}
    for who, email in (("admin", "admin@alpha.test"), ("gate", "supervisor@alpha.test"),
                       ("home", "resident@alpha.test"), ("enterprise", "boss@example.test")):
        clients[who] = app.test_client()
        login(email, PASSWORD, as_client=clients[who])
    token = get_token(clients["anon"], "alpha", "guard@alpha.test", DEVICE).get_json()["data"]["access_token"]
    from datetime import date

    from tests.billing_support import add_charge, add_unit_charge, generate, invoices_of

    charge_id = add_charge(app, a.estate, "Service charge", 4_500_000)
    run = generate(app, a.estate)
    unit_charge_id = add_unit_charge(app, a.estate, a.unit, charge_date=date(2999, 1, 1))
    ids = {"visit_id": visit.id, "unit_id": a.unit.id, "user_id": victim.id, "resident_id": resident.id,
           "estate_id": estate_pair.beta.estate.id, "charge_id": charge_id, "run_id": run.id,
           "invoice_id": invoices_of(app, a.estate)[0].id, "unit_charge_id": unit_charge_id}
    values = {"estate_slug": "alpha", "slug": "alpha", "qr_token": visit.qr_token, "code": "ABCDEF",
              "token": "x" * 32, "filename": "css/app.css"}
    return {"clients": clients, "token": token, "ids": ids, "values": values, "visit": visit}


def _area(rule: str) -> str:
    parts = rule.split("/")
    if rule.startswith("/e/<estate_slug>/") and len(parts) > 3 and parts[3] in ("admin", "gate", "home"):
        return parts[3]
    if rule.startswith("/enterprise"):
        return "enterprise"
    if rule.startswith("/api/"):
        return "api"
    if rule.startswith(("/account", "/choose", "/e/<estate_slug>/")):
        return "home"
    return "anon"


def _url(rule, values: dict) -> str:
    """The rule's path with `values` in its placeholders (`<int:visit_id>`, `<estate_slug>`)."""
    path = rule.rule
    for placeholder in [piece.split(">")[0] for piece in rule.rule.split("<")[1:]]:
        arg = placeholder.split(":")[-1]
        path = path.replace(f"<{placeholder}>", quote(str(values[arg]), safe="/" if arg == "filename" else ""))
    return path


def test_no_route_answers_5xx_to_odd_input(app, world, capsys):
    run = Run()
    clients, ids, values = world["clients"], world["ids"], world["values"]
    api = {"Authorization": f"Bearer {world['token']}"}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]

    def valid(rule) -> dict:
        return {arg: ids.get(arg, values.get(arg, 1)) for arg in rule.arguments}

    def client_of(rule):
        area = _area(rule.rule)
        return clients["anon" if area == "api" else area], (api if area == "api" else {})

    # 1. Path arguments, one bad at a time.
    for rule in rules:
        client, headers = client_of(rule)
        for arg in rule.arguments:
            for bad in BAD_PATH:
                url = _url(rule, {**valid(rule), arg: bad})
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    run.send("path", client, method, url, headers=headers)

    # 2. The GET pages as their role: query arguments, and the forms they render.
    forms: list[tuple[str, str, dict]] = []
    for rule in rules:
        if "GET" not in rule.methods or rule.endpoint in SELF_HARM:
            continue
        client, headers = client_of(rule)
        url = _url(rule, valid(rule))
        response = run.send("page", client, "GET", url, headers=headers)
        run.pages_ok += response is not None and response.status_code == 200
        names = {"page", "next"}
        if response is not None and response.mimetype == "text/html":
            parser = _Forms()
            parser.feed(response.get_data(as_text=True))
            names |= parser.names - {"csrf_token"}
            for form in parser.forms:
                action = form["action"] or url
                if form["method"] == "post" and urlsplit(action).path.startswith("/"):
                    forms.append((_area(action.replace("/e/alpha/", "/e/<estate_slug>/")), action, form["fields"]))
        for name in sorted(names):
            for bad in BAD_QUERY:
                run.send("query", client, "GET", f"{url}?{urlencode({name: bad})}", headers=headers)

    # 3. Every posted form, one bad field at a time.
    seen = set()
    for area, action, fields in forms:
        key = (action, tuple(sorted(fields)))
        endpoint = _endpoint(app, action)
        if key in seen or endpoint in SELF_HARM or endpoint is None:
            continue
        seen.add(key)
        client = clients[area]
        for name in sorted(fields):
            if name == "csrf_token":
                continue
            for bad in BAD_TEXT:
                run.send("form", client, "POST", action, data={**fields, name: bad})

    # 4. The kiosk API: every body field of the spec, and the offline items' fields.
    for path, operations in spec()["paths"].items():
        post = operations.get("post")
        if not post or "requestBody" not in post or path.endswith("/kiosk/revoke"):
            continue
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        body = _valid_body(path, world)
        for name in sorted(schema.get("properties", {})):
            for bad in BAD_JSON:
                run.send("api", clients["anon"], "POST", path, json={**body, name: bad}, headers=api)
        if path.endswith("/offline/sync"):
            item = body["items"][0]
            for name in sorted(item):
                for bad in BAD_JSON:
                    run.send("api", clients["anon"], "POST", path, headers=api,
                             json={**body, "items": [{**item, name: bad}, item]})

    # 5. A deep JSON body, and broken UTF-8, to every POST rule.
    for rule in rules:
        if "POST" not in rule.methods or rule.endpoint in SELF_HARM:
            continue
        client, headers = client_of(rule)
        url = _url(rule, valid(rule))
        run.send("json", client, "POST", url, data=DEEP, content_type="application/json", headers=headers)
        run.send("json", client, "POST", url, data=b'{"a": "\xff\xfe"}', content_type="application/json",
                 headers=headers)

    with capsys.disabled():
        print(f"\n[every route] {run.count} requests: {dict(run.by_kind)}; {len(forms)} forms found, "
              f"{len(seen)} fuzzed; {run.pages_ok} pages 200; {len(run.failures)} answered 5xx")
    assert not run.failures, "\n".join(run.failures[:60])
    assert run.count > 2000 and len(seen) > 25 and run.pages_ok > 60  # the clients stayed signed in


def _endpoint(app, action: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(urlsplit(action).path, method="POST")[0]
    except Exception:
        return None


def _valid_body(path: str, world) -> dict:
    visit = world["visit"]
    if path.endswith("/kiosk/token"):
        return {"estate": "alpha", "login": "guard@alpha.test", "password": PASSWORD, "device_id": DEVICE}
    body = {"device_id": DEVICE, "gate": "Main gate", "offline_event_id": "fuzz-event-0001"}
    if path.endswith("/checkin/scan"):
        return {**body, "qr_token": visit.qr_token}
    if path.endswith("/checkin/manual"):
        return {**body, "visitor_code": visit.visitor_code}
    if path.endswith("/checkin/checkout"):
        return {**body, "visitor_code": visit.visitor_code}
    if path.endswith("/offline/sync"):
        return {"device_id": DEVICE, "gate": "Main gate", "items": [
            {"client_event_id": "fuzz-item-0001", "event_type": "ENTRY", "occurred_at": "2030-01-01T00:00:00Z",
             "visitor_code": visit.visitor_code, "gate": "Main gate"}]}
    return body

