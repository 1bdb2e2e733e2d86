"""Text helpers shared by the domains: search patterns."""

from __future__ import annotations


def like_pattern(text: str) -> str:
    """`%text%` for a case-insensitive LIKE (lower-cased), with `%`, `_` and `\\` in `text`
    taken literally; use it with `.like(pattern, escape="\\\\")`."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): in a name or a plate
# they make the text display backwards ("‮ABC" shows as "CBA").
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def strip_bidi_controls(text: str | None) -> str:
    """`text` without bidirectional embedding, override and isolate characters; for the
    names and plates people type (the stored text then displays as typed, never reversed)."""
    return (text or "").translate(_BIDI_CONTROLS)
