"""Language, time zone, and locale-aware formatting of dates, numbers and money."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError, dates, numbers
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user

from portal.extensions import babel

LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def supported_languages() -> list[str]:
    return current_app.config["LANGUAGES"]


def select_locale() -> str:
    """The switcher's choice made before signing in (for that session), else the user's
    preference, else the switcher's choice, else the estate's default, else the browser's
    Accept-Language."""
    languages = supported_languages()
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):  # the kiosk API: no session cookie, Accept-Language only
        return request.accept_languages.best_match(languages) or languages[0]
    chosen = session.get("lang")
    # Picked with the switcher before signing in: this session reads that language, whatever
    # the account's stored preference (choosing while signed in also stores it).
    if session.get("lang_chosen") and chosen in languages:
        return chosen
    if current_user.is_authenticated and current_user.preferred_language in languages:
        return current_user.preferred_language
    if chosen in languages:
        return chosen
    estate = g.get("estate")
    if estate is not None and estate.default_language in languages:
        return estate.default_language
    return request.accept_languages.best_match(languages) or languages[0]


def select_timezone() -> str:
    """The estate's zone on its pages; elsewhere the user's own (the browser's zone, which
    static/js/app.js keeps in the `tz` cookie), else the default."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_TIMEZONE"]
    estate = g.get("estate")
    if estate is not None:
        return estate.timezone
    zone = request.cookies.get("tz", "")
    return zone if zone in _known_zones() else current_app.config["BABEL_DEFAULT_TIMEZONE"]


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=64)
def _regional(language: str, country: str | None) -> Locale:
    if country:
        try:
            return Locale.parse(f"{language}_{country}")
        except (UnknownLocaleError, ValueError):
            pass
    return Locale.parse(language)


def formatting_locale() -> Locale:
    """The language in the estate's region (es_GT, en_NG) for numbers, money, dates."""
    estate = g.get("estate") if has_request_context() else None
    return _regional(str(get_locale()), estate.country if estate is not None else None)


def money(amount_minor: int, currency: str) -> str:
    """Integer minor units (kobo, centavos) formatted for the current locale."""
    digits = numbers.get_currency_precision(currency)
    return numbers.format_currency(Decimal(amount_minor).scaleb(-digits), currency, locale=formatting_locale())


def percent_bp(basis_points: int) -> str:
    """750 basis points → "7.5" in the current locale (no float on the way)."""
    return numbers.format_decimal(Decimal(basis_points).scaleb(-2), format="0.##", locale=formatting_locale())


def datetime_filter(value: datetime | None, fmt: str = "medium", tz=None) -> str:
    """A moment as people read it: the date in the user's language and region, the time
    without seconds, in `tz` (a zone or its name) or the page's zone (the estate's, or
    the user's own outside an estate)."""
    if value is None:
        return ""
    zone = (ZoneInfo(tz) if isinstance(tz, str) else tz) or get_timezone()
    locale = formatting_locale()
    if fmt == "short":
        return dates.format_datetime(value, "short", tzinfo=zone, locale=locale)
    local = value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    day = dates.format_date(local.date(), fmt, locale=locale)
    clock = dates.format_time(local, "short", locale=locale)
    pattern = str(locale.datetime_formats.get(fmt) or "{1} {0}")
    return pattern.replace("{1}", day).replace("{0}", clock)


def date_filter(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(get_timezone()).date()
    return dates.format_date(value, fmt, locale=formatting_locale())


def number_filter(value: int | float | Decimal) -> str:
    return numbers.format_decimal(value, locale=formatting_locale())


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters.update(
        money=money, datetime=datetime_filter, date=date_filter, number=number_filter, percent_bp=percent_bp
    )
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.context_processor
    def language_context() -> dict:
        return {"current_locale": str(get_locale()), "language_names": LANGUAGE_NAMES}
