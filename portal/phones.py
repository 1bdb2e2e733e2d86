"""Phone numbers are stored and compared in E.164."""

from __future__ import annotations

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
