"""A typed visitor code at the gate (issue 13, item 1): a code of the wrong shape gets a
hint about its shape next to the field (translated), not "no pass matches", and costs
no lookup; an unknown code is repeated in the verdict; the field keeps what was typed;
the placeholder reads as a hint, not as a code."""

from __future__ import annotations

import re

import pytest

from portal.gate import service

DEVICE = "tablet-0123456789abcdef"
HEADERS = {"X-Gate-Device": DEVICE}
HX = {**HEADERS, "HX-Request": "true"}


@pytest.fixture
def gate(client, estate_pair, login):
    login("guard@alpha.test")
    return estate_pair


def _check(client, code, headers=HX):
    return client.post("/e/alpha/gate/check", data={"code": code}, headers=headers)


@pytest.mark.parametrize("typed, hint", [
    ("", "Type the visitor's 8-character code."),
    ("ab12", "A visitor code has 8 characters; “AB12” has 4."),
    ("ABCD-2345-X", "A visitor code has 8 characters; “ABCD2345X” has 9."),
    ("ABC#2345", "A visitor code has only letters and digits; “ABC#2345” has other signs."),
    ("ÀBCD2345", "A visitor code has only letters and digits"),
])
def test_a_code_of_the_wrong_shape_gets_a_hint_next_to_the_field_and_no_lookup(client, gate, typed, hint,
                                                                               record_sql):
    with record_sql() as seen:
        response = _check(client, typed)
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    # The hint replaces the one under the field (out of band); the answer area is cleared.
    oob = re.search(r'<p[^>]*id="code-hint"[^>]*hx-swap-oob="true"[^>]*>(.*?)</p>', html, re.S)
    assert oob and hint in oob.group(1)
    assert "No pass matches" not in html and 'id="verdict"' not in html
    assert not [sql for sql in seen if "FROM visit" in sql]  # no lookup for a code that cannot exist


def test_without_javascript_the_hint_sits_under_the_field_which_keeps_the_typed_code(client, gate):
    page = _check(client, "ab12", headers=HEADERS).get_data(as_text=True)
    field = re.search(r'<input type="text" id="code"[^>]*>', page, re.S).group(0)
    assert 'value="ab12"' in field and 'aria-invalid="true"' in field and 'aria-describedby="code-hint"' in field
    hint = re.search(r'<p[^>]*id="code-hint"[^>]*>(.*?)</p>', page, re.S)
    assert "hidden" not in hint.group(0) and "has 4" in hint.group(1) and "hx-swap-oob" not in hint.group(0)
    assert page.count('id="code-hint"') == 1


def test_the_placeholder_reads_as_a_hint_not_as_a_typed_code(client, gate):
    page = client.get("/e/alpha/gate/", headers=HEADERS).get_data(as_text=True)
    placeholder = re.search(r'id="code"[^>]*placeholder="([^"]*)"', page, re.S).group(1)
    assert placeholder == "8 letters or digits"
    assert not re.fullmatch(r"[A-Z0-9]{8}", placeholder)
    assert "data-reset-on-success" not in re.search(r'<form[^>]*id="code-form"[^>]*>', page, re.S).group(0)


def test_an_unknown_code_is_repeated_in_the_verdict_and_a_misread_letter_is_pointed_out(client, gate):
    html = _check(client, "zzzz 2222").get_data(as_text=True)
    assert "No pass matches this code." in html and "Code typed: ZZZZ2222" in html
    assert 'id="verdict-hint"' not in html
    # O, 0, I and 1 never appear in codes: a code with one is most likely misread.
    misread = _check(client, "ZZZZ0OO1").get_data(as_text=True)
    assert "Code typed: ZZZZ0OO1" in misread and "never use 0, O, 1 or I" in misread


def test_a_good_code_clears_the_hint_and_the_verdict_takes_the_focus(client, gate, make):
    make.visit(gate.alpha.estate, gate.alpha.unit, gate.alpha.resident, code="GDCD2345")
    html = _check(client, "gdcd-2345").get_data(as_text=True)
    hint = re.search(r'<p[^>]*id="code-hint"[^>]*>', html).group(0)
    assert "hidden" in hint and 'hx-swap-oob="true"' in hint
    verdict = re.search(r'<article[^>]*id="verdict"[^>]*>', html, re.S).group(0)
    assert 'tabindex="-1"' in verdict and "data-reveal" in verdict
    assert "ADMIT" in html and "Code typed" not in html  # the pass row shows the code already


def test_the_hints_are_translated(client, gate):
    client.post("/language", data={"lang": "es"})
    html = _check(client, "ab12").get_data(as_text=True)
    assert "Un código de visitante tiene 8 caracteres" in html
    page = client.get("/e/alpha/gate/", headers=HEADERS).get_data(as_text=True)
    assert 'placeholder="8 letras o números"' in page


def test_the_offline_page_gets_the_same_hints(client, gate):
    strings = client.get("/e/alpha/gate/offline/bootstrap", headers=HEADERS).get_json()["strings"]
    assert 'data-code-length="A visitor code has 8 characters; “{code}” has {count}.' in strings
    assert 'data-code-characters="A visitor code has only letters and digits; “{code}” has other signs.' in strings
    assert 'data-code-typed="Code typed: {code}"' in strings


def test_the_hint_rules_in_plain_python():
    assert service.code_format_hint("abcd 2345") is None
    assert service.code_format_hint(" - ") == str(service.CODE_EMPTY)
    assert "has 7" in service.code_format_hint("ABCD234")
    assert service.code_not_found_hint("ABCD2345") is None
    assert "never use" in service.code_not_found_hint("ABCD2I45")
