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
