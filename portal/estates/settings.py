"""An estate's own settings, edited by its admins: the names of its gates (one a line
in Estate.gate_names) and how many access cards a household may hold."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal import audit
from portal.errors import InvalidValue
from portal.extensions import db
from portal.models import Estate, User

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
