"""An estate's own settings, edited by its admins: the names of its gates (one a line
in Estate.gate_names), how many access cards a household may hold, and its profile
(name, address, contact, colour, logo)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import email_validator
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal import audit
from portal.errors import FieldErrors, InvalidValue, NotFound
from portal.extensions import db
from portal.images import NotAnImage, clean_image
from portal.models import Estate, User
from portal.phones import InvalidPhone, normalise_phone

DEFAULT_GATE = "Main gate"
MAX_GATES = 10
MAX_GATE_NAME = 60
CARD_LIMIT_RANGE = (0, 20)


def gate_names(estate: Estate) -> list[str]:
    """The estate's gates, in the admin's order (never empty)."""
    names = [line.strip() for line in (estate.gate_names or "").splitlines() if line.strip()]
    return names or [DEFAULT_GATE]


def current_gate(estate: Estate, chosen: str | None) -> str:
    """`chosen` when it is one of the estate's gates, else the estate's first gate."""
    names = gate_names(estate)
    chosen = (chosen or "").strip()
    return chosen if chosen in names else names[0]


def choose_gate(estate: Estate, chosen: str | None) -> str:
    """Validate a guard's pick of gate: the name, or InvalidValue."""
    chosen = (chosen or "").strip()
    if chosen not in gate_names(estate):
        raise InvalidValue("gate", _l("Choose one of the estate's gates."))
    return chosen


def parse_gate_names(text: str) -> list[str]:
    """One gate a line: 1 to 10 names of 1–60 characters, no two alike (ignoring case)."""
    names = [" ".join(line.split()) for line in (text or "").splitlines()]
    names = [n for n in names if n]
    if not names:
        raise InvalidValue("gate_names", _l("Give the estate at least one gate."))
    if len(names) > MAX_GATES:
        raise InvalidValue("gate_names", _l("An estate can have at most %(max)d gates.", max=MAX_GATES))
    for name in names:
        if len(name) > MAX_GATE_NAME:
            raise InvalidValue("gate_names", _l("“%(name)s” is too long: use at most %(max)d characters.",
                                                name=name[:20] + "…", max=MAX_GATE_NAME))
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise InvalidValue("gate_names", _l("“%(name)s” is listed twice.", name=name))
        seen.add(name.casefold())
    return names


@dataclass(frozen=True)
class SettingsData:
    gate_names: str
    access_card_limit: int | None


def update_settings(actor: User, estate: Estate, data: SettingsData) -> Estate:
    """Save the gate names and access card limit; audited. Bad input raises InvalidValue
    and changes nothing."""
    names = parse_gate_names(data.gate_names)
    limit = data.access_card_limit
    low, high = CARD_LIMIT_RANGE
    if limit is None or not low <= limit <= high:
        raise InvalidValue("access_card_limit", _l("Give a number from %(low)d to %(high)d.", low=low, high=high))
    text = "\n".join(names)
    before = {"gate_names": gate_names(estate), "access_card_limit": estate.access_card_limit}
    after = {"gate_names": names, "access_card_limit": limit}
    if before != after:
        estate.gate_names = text
        estate.access_card_limit = limit
        audit.record("estate.settings_changed", estate, actor_id=actor.id, estate_id=estate.id,
                     before=before, after=after)
    db.session.commit()
    return estate


# --- the estate's profile (name, address, contact, colour, logo) ----------------------

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_SIZE = 256  # the stored logo fits in LOGO_SIZE × LOGO_SIZE pixels
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class ProfileData:
    name: str
    address: str
    city: str
    contact_email: str
    contact_phone: str
    brand_color: str
    logo: bytes | None = None  # a new logo (JPEG, PNG or WebP)
    remove_logo: bool = False


def logo_png(data: bytes) -> bytes:
    """A logo upload as a small PNG (at most LOGO_SIZE px a side), judged by Pillow from
    its bytes, turned upright and without the upload's metadata (portal.images);
    InvalidValue for anything else."""
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidValue("logo", _l("The logo is too large: the limit is %(mb)d MB.", mb=2))
    try:
        return clean_image(data, max_side=LOGO_SIZE, save_as="PNG").content
    except NotAnImage:
        raise InvalidValue("logo", _l("The logo must be a JPEG, PNG or WebP image.")) from None


def _profile(estate: Estate) -> dict:
    return {"name": estate.name, "address": estate.address, "city": estate.city,
            "contact_email": estate.contact_email, "contact_phone": estate.contact_phone,
            "brand_color": estate.brand_color}


def update_profile(actor: User, estate: Estate, data: ProfileData) -> Estate:
    """Save the estate's name, address, contact, colour and logo; audited. Bad input
    raises FieldErrors (every field's message at once) and changes nothing."""
    errors: dict = {}
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = _l("This field is required.")
    elif len(name) > 160:
        errors["name"] = _l("Use at most %(max)d characters.", max=160)
    email = (data.contact_email or "").strip()
    if email:
        try:
            email = email_validator.validate_email(email, check_deliverability=False).normalized
        except email_validator.EmailNotValidError:
            errors["contact_email"] = _l("Enter a valid email address.")
    phone = (data.contact_phone or "").strip()
    if phone:
        try:
            phone = normalise_phone(phone, estate.country)
        except InvalidPhone:
            errors["contact_phone"] = _l("Enter a valid phone number, for example +234 800 000 0201.")
    colour = (data.brand_color or "").strip().lower()
    if not COLOUR.match(colour):
        errors["brand_color"] = _l("Enter a colour as #rrggbb, for example #1e6b52.")
    logo = None
    if data.logo:
        try:
            logo = logo_png(data.logo)
        except InvalidValue as exc:
            errors["logo"] = exc.message
    if errors:
        raise FieldErrors(errors)
    before = _profile(estate)
    after = {"name": name, "address": " ".join((data.address or "").split())[:300],
             "city": " ".join((data.city or "").split())[:120], "contact_email": email, "contact_phone": phone,
             "brand_color": colour}
    changes_logo = logo is not None or (data.remove_logo and estate.logo_version)
    if after == before and not changes_logo:
        return estate
    for key, value in after.items():
        setattr(estate, key, value)
    if logo is not None:
        estate.logo = logo
        estate.logo_version = (estate.logo_version or 0) + 1
        after["logo"] = "new"
    elif changes_logo:
        estate.logo = None
        estate.logo_version = 0
        after["logo"] = "removed"
    audit.record("estate.profile_changed", estate, actor_id=actor.id, estate_id=estate.id, before=before,
                 after=after)
    db.session.commit()
    return estate


def estate_logo(slug: str, version: int) -> bytes:
    """The PNG logo of the estate with this address (NotFound when it has none)."""
    row = db.session.execute(sa.select(Estate.logo, Estate.logo_version).where(Estate.slug == slug)).first()
    if row is None or not row.logo or not row.logo_version:
        raise NotFound()
    return row.logo
