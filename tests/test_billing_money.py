"""Money as integer minor units: what admins type, read in their locale; and no float in the
billing code (its syntax trees are read: a float() call, a float literal or a true division
fails the build)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from portal.billing import money
from portal.errors import InvalidValue

ROOT = Path(__file__).resolve().parents[1]
# The billing domain, its models, and the web modules that read or show its money.
MONEY_CODE = sorted([
    *(ROOT / "portal" / "billing").glob("*.py"),
    ROOT / "portal" / "models" / "billing.py",
    ROOT / "portal" / "web" / "admin" / "billing_views.py",
    ROOT / "portal" / "web" / "admin" / "billing_forms.py",
    ROOT / "portal" / "web" / "resident" / "billing_views.py",
])


@pytest.mark.parametrize("text, currency, locale, minor", [
    ("1,500.00", "NGN", "en_NG", 150_000),
    ("1500", "NGN", "en_NG", 150_000),
    ("₦1,500", "NGN", "en_NG", 150_000),
    (" 45 000.5 ", "NGN", "en_NG", 4_500_050),
    ("NGN 0.01", "NGN", "en_NG", 1),
    ("1,500.00", "GTQ", "es_GT", 150_000),
    ("Q850", "GTQ", "es_GT", 85_000),
    ("1.500,00", "EUR", "es_ES", 150_000),
    ("1500", "JPY", "en", 1_500),
    ("١٥٠٠", "NGN", "en_NG", 150_000),  # Arabic-Indic digits are digits
])
def test_amounts_are_read_in_the_admins_locale(text, currency, locale, minor):
    assert money.parse_amount(text, currency, locale) == minor


@pytest.mark.parametrize("text, currency, locale, message", [
    ("", "NGN", "en_NG", "Enter an amount such as 1,500.00."),
    ("abc", "NGN", "en_NG", "Enter an amount such as 1,500.00."),
    ("1e5", "NGN", "en_NG", "Enter an amount such as 1,500.00."),
    ("-5", "NGN", "en_NG", "Enter an amount such as 1,500.00."),
    ("NaN", "NGN", "en_NG", "Enter an amount such as 1,500.00."),
    ("1.500,00", "NGN", "en_NG", "Enter an amount such as 1,500.00."),  # separators in the wrong places
    ("15,00,000", "NGN", "en_NG", "Enter an amount such as 1,500.00."),
    ("0", "NGN", "en_NG", "The amount must be more than zero."),
    ("0.00", "NGN", "en_NG", "The amount must be more than zero."),
    ("10.005", "NGN", "en_NG", "NGN has at most 2 decimal places."),
    ("10.5", "JPY", "en", "JPY has no decimal places: enter a whole amount."),
    ("99999999999999", "NGN", "en_NG", "That amount is too large."),
])
def test_bad_amounts_are_refused_with_a_message(app, text, currency, locale, message):
    with app.test_request_context(), pytest.raises(InvalidValue) as refused:
        money.parse_amount(text, currency, locale)
    assert str(refused.value.message) == message and refused.value.field == "amount"


def test_the_message_is_in_the_readers_language(app):
    with app.test_request_context(headers={"Accept-Language": "es"}), pytest.raises(InvalidValue) as refused:
        money.parse_amount("1,5", "GTQ", "es_GT")
    assert str(refused.value.message) == "Ingrese un monto como 1,500.00."


def test_formatting_uses_the_currency_symbol_of_the_readers_locale():
    assert money.format_money(150_000, "NGN", money.reader_locale("en", "NG")) == "₦1,500.00"
    assert money.format_money(85_000, "GTQ", money.reader_locale("es", "GT")) == "Q850.00"
    assert money.as_input(4_500_050, "NGN", "en_NG") == "45,000.50"
    assert money.to_decimal(1, "NGN").as_tuple().exponent == -2


# --- no float anywhere in the money code -----------------------------------------------------------


class FloatFinder(ast.NodeVisitor):
    def __init__(self):
        self.found: list[str] = []

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id == "float":
            self.found.append(f"line {node.lineno}: float(...)")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, float | complex):
            self.found.append(f"line {node.lineno}: float literal {node.value!r}")

    def visit_BinOp(self, node):
        if isinstance(node.op, ast.Div):
            self.found.append(f"line {node.lineno}: true division (/) makes a float; use // on minor units")
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        if isinstance(node.op, ast.Div):
            self.found.append(f"line {node.lineno}: /= makes a float")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == "float":
            self.found.append(f"line {node.lineno}: the float type")


def floats_in(source: str) -> list[str]:
    finder = FloatFinder()
    finder.visit(ast.parse(source))
    return finder.found


def test_the_money_code_has_no_float():
    assert len(MONEY_CODE) >= 10 and all(path.exists() for path in MONEY_CODE)
    found = {str(path.relative_to(ROOT)): floats_in(path.read_text()) for path in MONEY_CODE}
    assert not {path: hits for path, hits in found.items() if hits}


@pytest.mark.parametrize("source", ["x = float(total)", "rate = 0.075", "share = total / 3", "total /= 2",
                                    "def f(x: float): ...", "y = 1e3"])
def test_the_float_check_finds_each_kind(source):
    assert floats_in(source)


def test_the_float_check_lets_integer_code_pass():
    assert floats_in("tax = (subtotal * rate + 5_000) // 10_000\nparts = divmod(total, 3)") == []
