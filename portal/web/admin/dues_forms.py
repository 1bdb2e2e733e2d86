"""Forms of the dues follow-up: the estate's reminders and restrictions, a unit's override."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.billing import dues_settings
from portal.billing.dues_settings import DuesSettings
from portal.billing.restrictions import REASON_MAX
from portal.models import Estate
from portal.web.forms import WholeNumberField
from portal.web.inputs import BoundedDateField

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")


class DuesSettingsForm(FlaskForm):
    reminders_enabled = BooleanField(_l("Send payment reminders (3 days before the due date, then 1, 7 and 30 days "
                                        "overdue)"))
    restrict_enabled = BooleanField(_l("Restrict units that are far behind with their dues"))
    restrict_after_days = WholeNumberField(_l("Warn a unit when its oldest unpaid bill is this many days overdue"),
                                           validators=[Optional()],
                                           render_kw={"min": 1, "max": 365, "inputmode": "numeric"})
    restrict_grace_days = WholeNumberField(_l("Grace period: days from the warning to the restriction"),
                                           validators=[Optional()],
                                           render_kw={"min": 0, "max": 90, "inputmode": "numeric"})

    def fill(self, current: DuesSettings) -> None:
        self.reminders_enabled.data, self.restrict_enabled.data = current.reminders_enabled, current.restrict_enabled
        self.restrict_after_days.data = current.restrict_after_days
        self.restrict_grace_days.data = current.restrict_grace_days

    def data_for_service(self) -> DuesSettings:
        return DuesSettings(bool(self.reminders_enabled.data), bool(self.restrict_enabled.data),
                            self.restrict_after_days.data, self.restrict_grace_days.data)


class DuesOverrideForm(FlaskForm):
    reason = TextAreaField(_l("Why lift it"), validators=[DataRequired(REQUIRED),
                                                          Length(max=REASON_MAX, message=TOO_LONG)],
                           render_kw={"rows": 2})
    until = BoundedDateField(_l("Until (optional; empty: until you end it)"), validators=[Optional()])


def dues_settings_form(estate: Estate) -> DuesSettingsForm:
    """The form as the estate's settings are now (for the billing settings page)."""
    form = DuesSettingsForm(formdata=None)
    form.fill(dues_settings.get(estate))
    return form
