"""What onboarding shares: its time limits, and the contact details people type (phone
and email checks, digests of secret links)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from portal.models import (
    Estate,
    User,
)
from portal.phones import InvalidPhone, normalise_phone
from portal.text import strip_bidi_controls

APPROVAL_TTL = timedelta(days=30)
INVITATION_TTL = timedelta(days=7)
JOIN_CODE_LENGTH = 6
# Upper-case letters without I, L and O, which read like 1 and 0.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ"
JOIN_CODE_ATTEMPTS = 10
REASON_MAX = 500


BAD_PHONE = _l("Enter a valid phone number, for example +234 800 000 0201.")
NEED_CONTACT = _l("Give an email address or a phone number (or both).")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _phone(raw: str, estate: Estate, errors: dict, name: str) -> str | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return normalise_phone(raw, estate.country)
    except InvalidPhone:
        errors[name] = BAD_PHONE
        return None


def _email(raw: str) -> str | None:
    return (raw or "").strip().lower() or None


def estate_today(estate: Estate) -> date:
    return datetime.now(ZoneInfo(estate.timezone)).date()


def message_language_in(user: User, estate: Estate) -> str:
    """Like auth's message_language, for mail about this estate: the user's language,
    else this estate's default."""
    return user.preferred_language or estate.default_language


def name_and_contact(raw_name: str, raw_email: str, raw_phone: str, estate: Estate,
                     errors: dict) -> tuple[str, str | None, str | None]:
    """A person's name (bidi controls stripped, spaces collapsed) and contact as typed on a
    join or invitation form; what is wrong goes into `errors` by field name."""
    full_name = " ".join(strip_bidi_controls(raw_name).split())
    if not full_name:
        errors["full_name"] = _l("This field is required.")
    email = _email(raw_email)
    phone = _phone(raw_phone, estate, errors, "phone")
    if not email and not phone and "phone" not in errors:
        errors["email"] = NEED_CONTACT
    return full_name, email, phone
