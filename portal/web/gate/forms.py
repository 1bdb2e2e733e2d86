"""Forms of the gate area: the estate-wide ban form (also used by admins)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")


