"""An estate's dues follow-up settings: payment reminders (on by default) and dues-linked
restrictions (off by default: after how many days overdue, and the grace period)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask_babel import lazy_gettext as _l

from portal import audit
from portal.billing import settings as billing_settings
from portal.errors import FieldErrors
from portal.extensions import db
from portal.models import BillingSettings, Estate, User

AFTER_DAYS_RANGE = (1, 365)
GRACE_DAYS_RANGE = (0, 90)


@dataclass(frozen=True)
class DuesSettings:
    reminders_enabled: bool = True
    restrict_enabled: bool = False
    restrict_after_days: int = 60
    restrict_grace_days: int = 7


def get(estate: Estate) -> DuesSettings:
    row = db.session.get(BillingSettings, estate.id)
    if row is None:
        return DuesSettings()
    return DuesSettings(row.reminders_enabled, row.restrict_enabled, row.restrict_after_days, row.restrict_grace_days)


def update(actor: User, estate: Estate, wanted: DuesSettings) -> DuesSettings:
    """Save the estate's choices (audited when something changed). Days out of range get a
    message next to their field and nothing changes."""
    errors = {}
    low, high = AFTER_DAYS_RANGE
    if wanted.restrict_after_days is None or not low <= wanted.restrict_after_days <= high:
        errors["restrict_after_days"] = _l("Enter a number of days from %(low)d to %(high)d.", low=low, high=high)
    low, high = GRACE_DAYS_RANGE
    if wanted.restrict_grace_days is None or not low <= wanted.restrict_grace_days <= high:
        errors["restrict_grace_days"] = _l("Enter a number of days from %(low)d to %(high)d.", low=low, high=high)
    if errors:
        raise FieldErrors(errors)
    before = get(estate)
    row = db.session.get(BillingSettings, estate.id)
    if row is None:
        current = billing_settings.get(estate)
        row = BillingSettings(estate_id=estate.id, invoice_prefix=current.invoice_prefix,
                              tax_rate_bp=current.tax_rate_bp, due_days=current.due_days)
        db.session.add(row)
    row.reminders_enabled, row.restrict_enabled = bool(wanted.reminders_enabled), bool(wanted.restrict_enabled)
    row.restrict_after_days, row.restrict_grace_days = wanted.restrict_after_days, wanted.restrict_grace_days
    after = DuesSettings(row.reminders_enabled, row.restrict_enabled, row.restrict_after_days,
                         row.restrict_grace_days)
    if after != before:
        audit.record("billing.dues_settings_updated", estate, actor_id=actor.id, estate_id=estate.id,
                     before=asdict(before), after=asdict(after))
    db.session.commit()
    return after
