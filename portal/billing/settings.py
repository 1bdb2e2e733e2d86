"""An estate's billing settings: the invoice number prefix, the tax rate, the due days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import InvalidOperation

from babel import Locale, numbers
from flask_babel import lazy_gettext as _l

from portal import audit
from portal.errors import FieldErrors
from portal.extensions import db
from portal.models import BillingSettings, Estate, User

DEFAULT_DUE_DAYS = 14
_PREFIX = re.compile(r"[A-Z0-9]{1,12}")


@dataclass(frozen=True)
class Settings:
    invoice_prefix: str
    tax_rate_bp: int
    due_days: int


def default_prefix(estate: Estate) -> str:
    """From the slug: the initials of a several-word slug (green-park → GP), else its
    first three letters (greenpark → GRE)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", estate.slug) if w]
    prefix = "".join(w[0] for w in words) if len(words) > 1 else (words[0][:3] if words else "INV")
    return prefix.upper()[:12]


def get(estate: Estate) -> Settings:
    row = db.session.get(BillingSettings, estate.id)
    if row is None:
        return Settings(default_prefix(estate), 0, DEFAULT_DUE_DAYS)
    return Settings(row.invoice_prefix, row.tax_rate_bp, row.due_days)


def percent_text(rate_bp: int, locale: Locale | str) -> str:
    """750 → "7.5" (for the form)."""
    from decimal import Decimal

    return numbers.format_decimal(Decimal(rate_bp).scaleb(-2), format="0.##", locale=locale)


def parse_percent(text: str, locale: Locale | str) -> int:
    """"7.5" → 750 basis points; 0 to 100 with at most two decimals."""
    message = _l("Enter a percentage from 0 to 100, with at most two decimals (such as 7.5).")
    cleaned = (text or "").strip().rstrip("%").strip() or "0"
    try:
        value = numbers.parse_decimal(cleaned, locale=locale, strict=True)
    except (numbers.NumberFormatError, InvalidOperation, ValueError):
        raise FieldErrors({"tax_rate": message}) from None
    if not value.is_finite():
        raise FieldErrors({"tax_rate": message})
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value() or not 0 <= scaled <= 10_000:
        raise FieldErrors({"tax_rate": message})
    return int(scaled)


def update(actor: User, estate: Estate, prefix: str, tax_rate_bp: int, due_days: int | None) -> Settings:
    prefix = (prefix or "").strip().upper()
    errors = {}
    if not _PREFIX.fullmatch(prefix):
        errors["invoice_prefix"] = _l("Use 1 to 12 letters or digits (such as GP).")
    if due_days is None or not 0 <= due_days <= 365:
        errors["due_days"] = _l("Enter a number of days from 0 to 365.")
    if not 0 <= tax_rate_bp <= 10_000:
        errors["tax_rate"] = _l("Enter a percentage from 0 to 100, with at most two decimals (such as 7.5).")
    if errors:
        raise FieldErrors(errors)
    before = get(estate)
    row = db.session.get(BillingSettings, estate.id)
    if row is None:
        row = BillingSettings(estate_id=estate.id)
        db.session.add(row)
    row.invoice_prefix, row.tax_rate_bp, row.due_days = prefix, tax_rate_bp, due_days
    after = Settings(prefix, tax_rate_bp, due_days)
    if after != before:
        audit.record("billing.settings_updated", estate, actor_id=actor.id, estate_id=estate.id,
                     before=before.__dict__, after=after.__dict__)
    db.session.commit()
    return after

