"""Input at the edge: what no view should ever see, and bounded readers of numbers and dates.

- `check_request` (run before every view) refuses control characters (NUL and the like)
  in the path, the query string, form values (tab, newline and carriage return allowed
  there: text areas) and JSON bodies; and JSON bodies nested too deep or holding lone
  surrogates. The answer is the normal validation one: a 422 translated page, or under
  /api/ the VALIDATION_ERROR envelope.
- `BoundedIntConverter` is the app's `int` URL converter: ids beyond a database integer
  are a plain 404.
- `page_arg`, `db_int`, `date_range` (query strings) and `BoundedDateField`,
  `BoundedDateTimeLocalField` (forms) stay inside what the database and `datetime` hold.
"""

from __future__ import annotations

import json
import re
from datetime import date

from flask import Flask, g, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms import DateField, DateTimeLocalField, ValidationError

MAX_ID = 2**31 - 1  # PostgreSQL's integer; ids never get near it
MAX_PAGE = 100_000
MAX_JSON_DEPTH = 32
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)

# C0 controls and DEL; tab, newline and carriage return are allowed in form and JSON values.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

BAD_CHARACTERS = _l("Remove the control characters (such as NUL) from what you sent.")
BAD_JSON = _l("The request body is not valid JSON, or is nested too deeply.")
BAD_DATE = _l("Enter a date as YYYY-MM-DD.")
DATES_REVERSED = _l("The end date is before the start date.")
DATE_OUT_OF_RANGE = _l("Enter a date between %(start)s and %(end)s.", start=MIN_DATE.year, end=MAX_DATE.year)


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` that matches only 0…2³¹−1: a larger id is a 404, not a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 - werkzeug's names
        bound = MAX_ID if max is None or max > MAX_ID else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bound, signed=signed)


def page_arg(name: str = "page") -> int:
    """The page number of a paginated list: 1 when missing or bad, within 1…MAX_PAGE."""
    page = request.args.get(name, 1, type=int)
    return max(1, min(page, MAX_PAGE))


def db_int(value: str) -> int:
    """A `type=` for `request.args.get` and `request.form.get`: a whole number a database
    integer can hold (anything else raises ValueError, so `get` answers its default)."""
    number = int(value)
    if not -MAX_ID <= number <= MAX_ID:
        raise ValueError(value)
    return number


def date_arg(args, name: str, errors: dict) -> date | None:
    """A YYYY-MM-DD query argument between MIN_DATE and MAX_DATE; a bad one is None with
    a message in `errors[name]`."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors[name] = BAD_DATE
        return None
    if not MIN_DATE <= value <= MAX_DATE:
        errors[name] = DATE_OUT_OF_RANGE
        return None
    return value


def date_range(args, errors: dict) -> tuple[date | None, date | None]:
    """The `from` and `to` days of a list's filters (within the dates the portal handles),
    a message in `errors` for each bad one (it is then ignored)."""
    date_from = date_arg(args, "from", errors)
    date_to = date_arg(args, "to", errors)
    if date_from and date_to and date_to < date_from:
        errors["to"] = DATES_REVERSED
        date_to = None
    return date_from, date_to


class BoundedDateField(DateField):
    """A date field that refuses days outside MIN_DATE…MAX_DATE (9999-12-31 plus a day
    is past what `datetime` holds; year 1 in a time zone east of UTC is before it)."""

    def pre_validate(self, form):
        _check_range(self.data)


class BoundedDateTimeLocalField(DateTimeLocalField):
    """The same for a date and time (`<input type="datetime-local">`)."""

    def pre_validate(self, form):
        _check_range(self.data.date() if self.data is not None else None)


def _check_range(day: date | None) -> None:
    if day is not None and not MIN_DATE <= day <= MAX_DATE:
        raise ValidationError(str(DATE_OUT_OF_RANGE))


# --- the check before every view ---------------------------------------------------------------


def _bad_json(value) -> bool:
    """Too deep, or a string (key or value) with a control character or a lone surrogate.
    Iterative, so that it cannot itself run out of stack."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > MAX_JSON_DEPTH:
            return True
        if isinstance(item, str):
            if _CONTROL_IN_TEXT.search(item) or _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend((key, level) for key in item)
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return False


def _json_problem() -> str | None:
    """None, "characters" or "json" for the request's JSON body (any body under /api/)."""
    if not (request.is_json or request.path.startswith("/api/")):
        return None
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except RecursionError:
        return "json"
    except ValueError:
        return None  # not JSON: the view answers as it always has
    if _bad_json(data):
        return "json"
    g.json_body = data  # read once: the kiosk API's Body takes it from here
    return None


def _problem() -> str | None:
    if _CONTROL.search(request.path):
        return "characters"
    for key, value in request.args.items(multi=True):
        if _CONTROL.search(key) or _CONTROL.search(value):
            return "characters"
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if _CONTROL.search(key) or _CONTROL_IN_TEXT.search(value):
                return "characters"
        for upload in request.files.values():
            if upload.filename and _CONTROL.search(upload.filename):
                return "characters"
    return _json_problem()


def _refuse(problem: str):
    message = BAD_CHARACTERS if problem == "characters" else BAD_JSON
    from portal.web.errors import error_response

    if request.path.startswith("/api/"):
        from portal.web.envelope import fail

        field = "body" if problem == "json" else "request"
        return fail("VALIDATION_ERROR", str(message), 422, {field: str(message)})
    return error_response(422, message)


def check_request():
    """Before every view: None, or the validation answer that replaces it."""
    problem = _problem()
    return _refuse(problem) if problem is not None else None


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered (rules are compiled with the converters of
    the moment)."""
    app.url_map.converters["int"] = BoundedIntConverter


def init_checks(app: Flask) -> None:
    # After the extensions' hooks (CSRF, rate limits), before every blueprint's (which
    # look the estate up in the database).
    app.before_request(check_request)
