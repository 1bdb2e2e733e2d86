"""Money never passes through a float in the billing package (every .py under portal/billing/).

Read from the syntax tree, so comments and strings do not count. Refused:
- a float literal (`1.5`, `1e3`) or the name `float` (a call, an annotation, an isinstance);
- `json.loads(...)` or `<response>.json(...)` without `parse_float=` (JSON numbers with a
  fraction would become floats): pass `parse_float=Decimal`;
- true division `/` or `/=` on a line that does not say `Decimal` (int / int is a float):
  use `//` or `divmod` on integers, or divide a `Decimal(...)`;
- `import math` / `from math import …` (its functions answer in floats).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "portal" / "billing"


def float_uses(source: str, filename: str = "<source>") -> list[str]:
    """Every place in `source` where a float could carry money, as "file:line: what"."""
    tree = ast.parse(source, filename)
    lines = source.splitlines()
    found = []

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, float | complex):
            report(node, f"float literal {node.value!r}")
        elif isinstance(node, ast.Name) and node.id == "float":
            report(node, "the name float")
        elif isinstance(node, ast.Call):
            function = node.func
            keywords = {keyword.arg for keyword in node.keywords}
            is_loads = isinstance(function, ast.Attribute) and function.attr in ("loads", "json") or (
                isinstance(function, ast.Name) and function.id == "loads")
            if is_loads and "parse_float" not in keywords:
                report(node, "JSON read without parse_float=Decimal")
        elif isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.Div):
            if "Decimal" not in lines[node.lineno - 1]:
                report(node, "true division (int / int is a float): use //, divmod, or a Decimal")
        elif isinstance(node, ast.Import) and any(alias.name == "math" for alias in node.names):
            report(node, "import math")
        elif isinstance(node, ast.ImportFrom) and node.module == "math":
            report(node, "from math import")
    return found


def billing_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_billing_package_is_scanned():
    names = {path.name for path in billing_files()}
    assert {"__init__.py", "gateway.py", "flutterwave.py", "documents.py"} <= names


def test_no_float_anywhere_in_the_billing_package():
    problems = []
    for path in billing_files():
        problems += float_uses(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not problems, "Money must not pass through a float:\n" + "\n".join(problems)


@pytest.mark.parametrize("source", [
    "total = 1.5",
    "rate = 7e-2",
    "x = float(amount)",
    "def f(a: float) -> int: ...",
    "ok = isinstance(a, float)",
    "data = json.loads(text)",
    "data = response.json()",
    "from json import loads\ndata = loads(text)",
    "naira = kobo / 100",
    "kobo /= 100",
    "import math",
    "from math import floor",
])
def test_the_scanner_catches(source):
    assert float_uses(source)


@pytest.mark.parametrize("source", [
    "total = 150",
    "naira = Decimal(kobo) / 100",
    "data = json.loads(text, parse_float=Decimal)",
    "data = response.json(parse_float=Decimal)",
    "share, rest = divmod(total, 3)",
    "tax = total * rate_bp // 10_000",
    "label = 'a float like 1.5 in a string'  # or 2.5 in a comment",
])
def test_the_scanner_lets_integer_and_decimal_money_through(source):
    assert float_uses(source) == []
