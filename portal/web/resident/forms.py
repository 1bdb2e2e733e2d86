"""Forms of the resident area: invite visitors, edit and extend a visit, personal bans.
The visit form is shared with the estate admin's "new visit" page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    StringField,
    TimeField,
)
from wtforms.validators import Length, Optional

from portal.web.forms import TOO_LONG, VisitorsMixin
from portal.web.inputs import BoundedDateField


class VisitEditForm(VisitorsMixin, FlaskForm):
    pass


class ExtendForm(FlaskForm):
    end_date = BoundedDateField(_l("New end date"), validators=[Optional()])
    end_time = TimeField(_l("New end time"), validators=[Optional()])


class PersonalBanForm(FlaskForm):
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    reason = StringField(_l("Reason (only you see it)"), validators=[Optional(), Length(max=300, message=TOO_LONG)])
    expires_on = BoundedDateField(_l("Until (optional)"), validators=[Optional()])




