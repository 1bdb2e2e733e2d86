"""The security headers on every kind of response, and templates without inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.models import Role
from portal.web.security_headers import CONTENT_SECURITY_POLICY

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _assert_secure(response, referrer: str = "strict-origin-when-cross-origin") -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'" and directives["form-action"] == "'self'"
    assert directives["connect-src"] == "'self'" and directives["worker-src"] == "'self'"
    assert directives["img-src"] == "'self' data: blob:"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == referrer


def test_a_page_and_an_htmx_fragment(client, make, login):
    estate = make.estate("greenpark")
    make.user("admin@greenpark.test", estate=estate, role=Role.ESTATE_ADMIN)
    _assert_secure(client.get("/login"))
    login("admin@greenpark.test")
    page = client.get("/e/greenpark/admin/audit/")
    assert page.status_code == 200
    _assert_secure(page)
    _assert_secure(client.get("/e/greenpark/admin/audit/", headers={"HX-Request": "true",
                                                                   "HX-Target": "audit-table"}))


def test_json_api_answers(client):
    _assert_secure(client.get("/api/v1/ping"))
    refused = client.post("/api/v1/checkin/manual", json={})
    assert refused.status_code == 401 and refused.is_json
    _assert_secure(refused)


def test_error_pages_and_static_files(client):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    _assert_secure(missing)
    static = client.get("/static/js/app.js")
    assert static.status_code == 200
    _assert_secure(static)
    static.close()


def test_the_pass_page_keeps_no_referrer_and_its_pdf_still_renders(client, make):
    estate = make.estate("greenpark")
    visit = make.visit(estate, make.unit(estate, "B12"))
    _assert_secure(client.get(f"/p/{visit.qr_token}"), referrer="no-referrer")
    pdf = client.get(f"/p/{visit.qr_token}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    _assert_secure(pdf, referrer="no-referrer")


INLINE = [
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL), "inline event handler (on...=)"),
    (re.compile(r"\shx-on[:-]", re.IGNORECASE), "hx-on (htmx runs it with eval)"),
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE), "inline <script> block"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
    (re.compile(r"""hx-(?:vals|headers)=['"]\s*(?:js|javascript):""", re.IGNORECASE), "hx-vals with js:"),
    # an event filter, `click[ctrlKey]` or `every 5s [cond]` (not a selector: `from:input[name=q]`)
    (re.compile(r"""hx-trigger="(?:[^"]*,)?\s*(?:every\s+\S+\s*|[\w.-]+)\[""", re.IGNORECASE),
     "hx-trigger filter (htmx evals it)"),
]


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_carry_no_inline_script(path):
    text = path.read_text()
    for pattern, what in INLINE:
        match = pattern.search(text)
        assert match is None, f"{what} in {path.relative_to(TEMPLATES)}: {match.group(0)[:80]!r}"


def test_the_scan_finds_an_inline_handler():
    assert any(p.search('<button type="button"\n onclick="go()">') for p, _ in INLINE)
    assert any(p.search("<script>alert(1)</script>") for p, _ in INLINE)
    assert any(p.search('hx-trigger="load, every 5s [!this.open]"') for p, _ in INLINE)
    assert not any(p.search('<script src="/static/js/app.js"></script> <p data-online="1">'
                       ' hx-trigger="input changed delay:300ms from:input[name=q], submit"') for p, _ in INLINE)
