"""Text helpers shared by the domains: search patterns and plates."""

from __future__ import annotations


def like_pattern(text: str) -> str:
    """`%text%` for a case-insensitive LIKE (lower-cased), with `%`, `_` and `\\` in `text`
    taken literally; use it with `.like(pattern, escape="\\\\")`."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def normalise_plate(raw: str | None) -> str:
    """A vehicle plate as stored and compared: upper-case letters and digits only, every
    space, hyphen, dot or other separator dropped ('lag-123 xy' → 'LAG123XY'). The gate
    page's offline search (static/js/gate-offline.js, `plateKey`) does the same."""
    return "".join(ch for ch in (raw or "") if ch.isalnum()).upper()


def plate_pattern(text: str) -> str | None:
    """A LIKE pattern (escape "\\\\") matching stored plates that contain the plate typed in
    `text`, or None when `text` holds no letter or digit (it would match every plate)."""
    plate = normalise_plate(text)
    return like_pattern(plate).upper() if plate else None


# Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): in a name they make
# the text display backwards ("\u202eABC" shows as "CBA"). normalise_plate drops them too
# (it keeps letters and digits only).
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def strip_bidi_controls(text: str | None) -> str:
    """`text` without bidirectional embedding, override and isolate characters; for the
    names people type (the stored name then displays as typed, never reversed)."""
    return (text or "").translate(_BIDI_CONTROLS)
