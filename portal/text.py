"""Text helpers shared by the domains: search patterns."""

from __future__ import annotations


def like_pattern(text: str) -> str:
    """`%text%` for a case-insensitive LIKE (lower-cased), with `%`, `_` and `\\` in `text`
    taken literally; use it with `.like(pattern, escape="\\\\")`."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
