"""Billing periods (calendar months) and which catalogue charges fall due in one.

- MONTHLY: every month from the month of `starts_on`.
- QUARTERLY: the month of `starts_on`, then every third month; the line covers three months.
- ANNUAL: the month of `starts_on`, then every twelfth; the line covers twelve months.
- ONE_OFF: only the month that holds `starts_on`.
A charge bills in a month only if it is active, has started by the month's end and has not
ended before the month began (`ends_on` is its last day).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from portal.models import Charge, ChargeFrequency

_MONTH = re.compile(r"(\d{4})-(\d{2})")
STEP = {ChargeFrequency.MONTHLY: 1, ChargeFrequency.QUARTERLY: 3, ChargeFrequency.ANNUAL: 12}


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def key(self) -> str:
        """2026-12, as the month input and the URLs write it."""
        return f"{self.start.year:04d}-{self.start.month:02d}"


def month(year: int, month_number: int) -> Period:
    last = calendar.monthrange(year, month_number)[1]
    return Period(date(year, month_number, 1), date(year, month_number, last))


def parse_month(text: str) -> Period | None:
    """"2026-12" → December 2026; None for anything else (years 2000–2999)."""
    match = _MONTH.fullmatch((text or "").strip())
    if not match:
        return None
    year, month_number = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2999 and 1 <= month_number <= 12):
        return None
    return month(year, month_number)


def containing(day: date) -> Period:
    return month(day.year, day.month)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def bills_in(charge: Charge, period: Period) -> tuple[date, date] | None:
    """If `charge` bills in `period`, the dates its line covers; else None."""
    if not charge.active or charge.starts_on > period.end:
        return None
    if charge.ends_on is not None and charge.ends_on < period.start:
        return None
    if charge.frequency == ChargeFrequency.ONE_OFF:
        return (period.start, period.end) if containing(charge.starts_on) == period else None
    step = STEP[charge.frequency]
    if _months_between(charge.starts_on, period.start) % step:
        return None
    last = add_months(period.start, step)
    return period.start, date.fromordinal(last.toordinal() - 1)
