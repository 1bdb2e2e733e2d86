"""Searching by phone: only a query written like a phone number is looked for in the
stored numbers. The digits of a name, a unit or a visitor code alone ("B5", "A2B3C4DE")
matched nearly every number (every Nigerian one contains 234)."""

from __future__ import annotations

import pytest

from portal.phones import phone_digits


@pytest.mark.parametrize("query, digits", [
    ("0803 555 0101", "8035550101"), ("+234 803-555", "234803555"), ("(0803) 555", "803555"),
    ("555", "555"), ("05", None), ("B5", None), ("A2B3C4DE", None), ("abcde5", None), ("Tunde", None),
    ("", None),
])
def test_only_phone_like_queries_search_the_numbers(query, digits):
    assert phone_digits(query) == digits


def test_a_visitor_code_with_234_in_it_finds_only_its_visit(client, estate_pair, make, login):
    a = estate_pair.alpha
    for n in range(3):
        make.visit(a.estate, a.unit, a.resident, guests=((f"Guest {n}", f"+23480900000{n}", None),))
    wanted = make.visit(a.estate, a.unit, a.resident, code="KMN234PQ", guests=(("Wanted", "+2348090000099", None),))
    login("admin@alpha.test")
    page = client.get(f"/e/alpha/admin/visits/?q={wanted.visitor_code}&status=ALL").get_data(as_text=True)
    assert "Wanted" in page and "Guest 0" not in page
