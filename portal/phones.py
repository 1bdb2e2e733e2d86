"""Phone numbers are stored and compared in E.164."""

from __future__ import annotations

import re

import phonenumbers


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str, region: str | None = "NG") -> str:
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(raw) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(raw: str) -> bool:
    stripped = raw.strip().replace(" ", "").replace("-", "")
    return bool(stripped) and "@" not in stripped and stripped.lstrip("+").isdigit()


def phone_digits(query: str) -> str | None:
    """The digits to look for in stored numbers when `query` is written like a phone
    number (digits with spaces, +, -, ., parentheses), at least three of them, leading
    zeros dropped (a national 0803… is stored as +234803…). None for anything else: the
    digits of a name, a unit such as "B5" or a visitor code alone would match nearly
    every number (every Nigerian one contains 234)."""
    if not re.fullmatch(r"[\d\s+().-]+", query.strip()):
        return None
    digits = re.sub(r"\D", "", query).lstrip("0")
    return digits if len(digits) >= 3 else None
