"""Forms of the gate area: the estate-wide ban form (also used by admins)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.labels import BAN_SEVERITY_LABELS

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")
SEVERITY_LABELS = BAN_SEVERITY_LABELS


class BanForm(FlaskForm):
    phone = StringField(_l("Phone number"), validators=[DataRequired(REQUIRED), Length(max=30, message=TOO_LONG)])
    severity = SelectField(_l("Severity"), choices=[SelectChoice(value, label) for value, label in
                                                   SEVERITY_LABELS.items()], default="MEDIUM")
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=300, message=TOO_LONG)])
    expires_on = DateField(_l("Banned until (optional)"), validators=[Optional()],
                           format="%Y-%m-%d")

    def data_for_service(self, timezone: str):
        from portal.visits.bans import BanData

        expires_at = None
        if self.expires_on.data:
            # The ban holds through the whole chosen day, in the estate's time.
            end = datetime.combine(self.expires_on.data + timedelta(days=1), time(0), ZoneInfo(timezone))
            expires_at = end.astimezone(ZoneInfo("UTC"))
        return BanData(phone=self.phone.data or "", severity=self.severity.data, reason=self.reason.data or "",
                       expires_at=expires_at)
