"""CSV downloads: streamed row by row (a long export never sits whole in memory), UTF-8 with
a byte-order mark so that spreadsheet programs read ₦ and accents right, and safe to open:
a text cell that a spreadsheet would run as a formula (starting with = + - @, or a tab or
carriage return that hides one) is prefixed with an apostrophe, which makes it plain text.
Numbers (ints, Decimals) are written as they are."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from flask import Response, stream_with_context

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FLUSH_AT = 16 * 1024  # send the buffer once it holds this many characters
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_cell(value: object) -> object:
    """A cell as it is written: None → "", numbers as they are, text that could be read as
    a formula → prefixed with "'"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_rows(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV text in pieces of about FLUSH_AT characters, the header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        if buffer.tell() >= FLUSH_AT:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]) -> Response:
    """A streamed CSV download named `filename` (.csv added if missing)."""
    name = _UNSAFE_NAME.sub("-", filename).strip("-.") or "export"
    if not name.lower().endswith(".csv"):
        name += ".csv"
    response = Response(stream_with_context(csv_rows(header, rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
