"""What an invoice or a receipt shows, as plain data, and how its amounts are written.

Billing fills a `BillingDocument` from its models; the web layer renders it to PDF
(portal/web/documents.py: `document_pdf(doc)`, templates/documents/). Amounts are integers
in minor units; `format_money` writes them in the reader's language with the estate's
currency symbol (₦, Q), through Babel.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.languages import get_official_languages
from babel.numbers import format_currency, get_currency_symbol, get_territory_currencies

from portal.billing.gateway import to_decimal

if TYPE_CHECKING:
    from portal.models import Estate

DEFAULT_COLOUR = "#1e6b52"


class DocumentKind(enum.StrEnum):
    INVOICE = "INVOICE"
    RECEIPT = "RECEIPT"


@dataclass(frozen=True)
class Branding:
    """The estate as its documents show it. `logo` is a local image file (PNG/JPEG), the
    image's bytes (the estate's stored logo), or None; a missing or unreadable one is left out. `colour` is #rrggbb (anything else: the default)."""

    name: str
    address: str = ""  # one or more lines
    colour: str = DEFAULT_COLOUR
    logo: Path | bytes | None = None


def estate_branding(estate: Estate) -> Branding:
    """The estate's name, address (with its city), brand colour and stored logo, as its
    invoices, receipts and statements show them."""
    address = "\n".join(part for part in (estate.address or "", estate.city or "") if part.strip())
    logo = estate.logo if estate.logo_version else None
    return Branding(name=estate.name, address=address, colour=estate.brand_color or "", logo=logo)


@dataclass(frozen=True)
class BilledTo:
    name: str
    unit: str = ""  # e.g. "A12"
    email: str = ""
    address: str = ""


@dataclass(frozen=True)
class DocumentLine:
    description: str
    amount_minor: int


@dataclass(frozen=True)
class BillingDocument:
    """One invoice or receipt. For an invoice, `lines` are the charges (their sum is the
    subtotal), `paid_minor` what has been paid so far and `balance_minor` what is still due.
    For a receipt, `number` is the receipt's, `lines` what the payment settled (e.g. "Invoice
    GP-2026-000123"), `paid_minor` the amount received and `balance_minor` what the unit still
    owes after it; `payment_method` and `payment_reference` say how it was paid."""

    kind: DocumentKind
    number: str
    issue_date: date
    currency: str  # ISO 4217
    language: str  # the reader's: "en", "es"
    estate: Branding
    billed_to: BilledTo
    lines: Sequence[DocumentLine]
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    paid_minor: int
    balance_minor: int
    due_date: date | None = None
    period: str = ""  # e.g. "May 2026", already in the reader's language
    tax_label: str = ""  # e.g. "VAT 7.5%"; empty: the translated "Tax"
    status: str = ""  # translated label, e.g. "Paid"
    payment_method: str = ""  # receipts: translated, e.g. "Card (Flutterwave)"
    payment_reference: str = ""  # receipts: the provider's or the bank's reference
    notes: str = ""
    void_note: str = ""  # set on a void invoice: why (translated), shown as a banner
    extra: dict[str, str] = field(default_factory=dict)  # further label → value rows

    def __post_init__(self) -> None:
        amounts = [self.subtotal_minor, self.tax_minor, self.total_minor, self.paid_minor, self.balance_minor]
        amounts += [line.amount_minor for line in self.lines]
        for amount in amounts:
            if isinstance(amount, bool) or not isinstance(amount, int):
                raise TypeError(f"document amounts are int minor units, not {type(amount).__name__}")
        if self.kind == DocumentKind.INVOICE:
            if sum(line.amount_minor for line in self.lines) != self.subtotal_minor:
                raise ValueError("the lines of an invoice add up to its subtotal")
            if self.subtotal_minor + self.tax_minor != self.total_minor:
                raise ValueError("an invoice's total is its subtotal plus tax")


# --- Writing amounts and dates ------------------------------------------------------------------


@cache
def _home_locale(currency: str) -> Locale | None:
    """The locale of the country a national currency belongs to (NGN → en_NG, GTQ → es_GT):
    ISO 4217 codes start with the country's code."""
    territory = currency[:2]
    if currency not in get_territory_currencies(territory):
        return None
    for language in get_official_languages(territory, de_facto=True):
        try:
            return Locale.parse(f"{language}_{territory}")
        except (UnknownLocaleError, ValueError):
            continue
    return None


def format_money(amount_minor: int, currency: str, language: str) -> str:
    """An amount as the reader writes numbers, with the currency's own symbol:
    en NGN → "₦5,000.00", es NGN → "5.000,00 ₦", es GTQ → "Q5,000.00", en GTQ → "Q5,000.00".

    The reader's language in the currency's country when CLDR knows that locale (en_NG,
    es_GT), else the reader's language alone, with the symbol the currency's country uses
    where the reader's language would only write the ISO code."""
    currency = currency.upper()
    amount = to_decimal(amount_minor, currency)
    home = _home_locale(currency)
    reader = _locale(language)
    if home is not None and home.language == reader.language:
        return format_currency(amount, currency, locale=home)
    text = format_currency(amount, currency, locale=reader)
    if home is not None:
        own_symbol = get_currency_symbol(currency, reader)
        home_symbol = get_currency_symbol(currency, home)
        if own_symbol == currency and home_symbol != currency:
            text = text.replace(currency, home_symbol)
    return text


def format_day(day: date, language: str) -> str:
    """A date in the reader's language: "1 May 2026" / "1 may 2026"."""
    return format_date(day, format="medium", locale=_locale(language))


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language or "en")
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")
