"""The guard's walk-in form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.gate.walkins import PEOPLE_RANGE, WalkInData

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")


class WalkInForm(FlaskForm):
    visitor_name = StringField(_l("Visitor's name"), validators=[DataRequired(REQUIRED),
                                                                 Length(max=160, message=TOO_LONG)])
    unit_number = StringField(_l("Unit"), validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    plate = StringField(_l("Vehicle plate (optional)"), validators=[Optional(), Length(max=20, message=TOO_LONG)])
    purpose = StringField(_l("Purpose (optional)"), validators=[Optional(), Length(max=200, message=TOO_LONG)])
    people_count = IntegerField(
        _l("People"), default=1,
        validators=[DataRequired(REQUIRED), NumberRange(*PEOPLE_RANGE, message=_l("Enter a number from %(min)s to %(max)s."))],
    )

    def data_for_service(self, gate: str) -> WalkInData:
        return WalkInData(visitor_name=self.visitor_name.data or "", unit_number=self.unit_number.data or "",
                          phone=self.phone.data or "", plate=self.plate.data or "", purpose=self.purpose.data or "",
                          people_count=self.people_count.data, gate=gate)
