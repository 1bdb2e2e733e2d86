"""Money as integer minor units: reading what an admin types, tax, formatting.

Amounts are ints of the currency's minor unit (kobo for NGN, centavos for GTQ) from the
form to the database and back; a `Decimal` appears only between Babel's parser and the
integer, and in the formatter. Nothing here (or anywhere in portal/billing) uses a
float: tests/test_billing_money.py reads these modules' syntax trees and fails on one.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError, dates, numbers
from flask_babel import lazy_gettext as _l

from portal.errors import InvalidValue

# A bill of more than 10¹³ minor units (a hundred billion naira) is a typing mistake.
MAX_AMOUNT_MINOR = 10**13

BAD_AMOUNT = _l("Enter an amount such as %(example)s.")
AMOUNT_NOT_POSITIVE = _l("The amount must be more than zero.")
TOO_MANY_DIGITS = _l("%(currency)s has at most %(digits)d decimal places.")
NO_DECIMALS = _l("%(currency)s has no decimal places: enter a whole amount.")
TOO_LARGE = _l("That amount is too large.")

_ALLOWED = re.compile(r"[\d.,'\u066b\u066c\u2019]+")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


@lru_cache(maxsize=64)
def reader_locale(language: str, country: str | None) -> Locale:
    """The reader's language in the estate's country (es_GT, en_NG) when Babel knows that
    pair, else the language alone: what the pages use for numbers, money and dates."""
    if country:
        try:
            return Locale.parse(f"{language}_{country}")
        except (UnknownLocaleError, ValueError):
            pass
    return Locale.parse(language)


def format_day(day: date, locale: Locale | str) -> str:
    return dates.format_date(day, "medium", locale=locale)


def minor_digits(currency: str) -> int:
    """How many decimal places the currency has (2 for NGN and GTQ, 0 for JPY)."""
    return numbers.get_currency_precision(currency)


def to_decimal(amount_minor: int, currency: str) -> Decimal:
    """Minor units as the currency's amount (exact: 150000 kobo → Decimal('1500.00'))."""
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


def format_money(amount_minor: int, currency: str, locale: Locale | str) -> str:
    """₦1,500.00 (en_NG), Q1,500.00 (es_GT)."""
    return numbers.format_currency(to_decimal(amount_minor, currency), currency, locale=locale)


def as_input(amount_minor: int, currency: str, locale: Locale | str) -> str:
    """The amount as an admin would type it back (1,500.00), without the symbol."""
    digits = minor_digits(currency)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return numbers.format_decimal(to_decimal(amount_minor, currency), format=pattern, locale=locale,
                                  decimal_quantization=True)


def parse_amount(text: str, currency: str, locale: Locale | str, field: str = "amount") -> int:
    """What an admin typed ("1,500.00", "1500", "₦1,500") in their locale → minor units.

    Refused, with a translated message for `field`: anything but digits and the locale's
    separators (exponents, minus signs, letters), separators in the wrong places (Babel's
    strict parsing: "1.500,00" in English), zero, more decimals than the currency has,
    and absurd sizes."""
    locale = Locale.parse(locale) if isinstance(locale, str) else locale
    example = as_input(150_000 * 10 ** max(0, minor_digits(currency) - 2), currency, locale)
    cleaned = (text or "").strip()
    for symbol in {numbers.get_currency_symbol(currency, locale=locale), currency, currency.lower()}:
        cleaned = cleaned.replace(symbol, "")
    cleaned = _SPACES.sub("", cleaned)
    if not cleaned or not _ALLOWED.fullmatch(cleaned) or not any(ch.isdigit() for ch in cleaned):
        raise InvalidValue(field, BAD_AMOUNT % {"example": example})
    try:
        value = numbers.parse_decimal(cleaned, locale=locale, strict=True)
    except (numbers.NumberFormatError, InvalidOperation, ValueError):
        raise InvalidValue(field, BAD_AMOUNT % {"example": example}) from None
    if not value.is_finite():
        raise InvalidValue(field, BAD_AMOUNT % {"example": example})
    digits = minor_digits(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        message = NO_DECIMALS % {"currency": currency} if digits == 0 else \
            TOO_MANY_DIGITS % {"currency": currency, "digits": digits}
        raise InvalidValue(field, message)
    minor = int(scaled)
    if minor <= 0:
        raise InvalidValue(field, AMOUNT_NOT_POSITIVE)
    if minor > MAX_AMOUNT_MINOR:
        raise InvalidValue(field, TOO_LARGE)
    return minor


def tax_on(subtotal_minor: int, rate_bp: int) -> int:
    """Tax on an invoice's subtotal at `rate_bp` basis points (750 = 7.5 %), rounded half
    up to the minor unit: 1,001 kobo at 7.5 % is 75.075 → 75; 1,002 at 7.5 % is 75.15 → 75;
    10 kobo at 5 % is 0.5 → 1. Integer arithmetic only; amounts are never negative."""
    if subtotal_minor < 0 or rate_bp < 0:
        raise ValueError("tax on a negative amount or rate")
    return (subtotal_minor * rate_bp + 5_000) // 10_000
