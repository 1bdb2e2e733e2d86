"""Forms of the resident area: invite visitors, edit and extend a visit, personal bans.
The visit form is shared with the estate admin's "new visit" page."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.labels import PASS_TYPE_LABELS
from portal.models import PassType
from portal.visits.service import MAX_GUESTS, GuestData, VisitData

TOO_LONG = _l("Use at most %(max)d characters.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def weekday_choices() -> list[SelectChoice]:
    """ISO weekday numbers with the day names of the current language (Monday first)."""
    names = get_locale().days["format"]["wide"]
    return [SelectChoice(str(i + 1), names[i]) for i in range(7)]


class GuestForm(Form):
    full_name = StringField(_l("Visitor's name"), validators=[Optional(), Length(max=160, message=TOO_LONG)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    plate = StringField(_l("Vehicle plate (optional)"), validators=[Optional(), Length(max=20, message=TOO_LONG)])

    def data_for_service(self) -> GuestData:
        return GuestData(self.full_name.data or "", self.phone.data or "", self.plate.data or "")


class VisitorsMixin:
    guests = FieldList(FormField(GuestForm), min_entries=1, max_entries=MAX_GUESTS)
    purpose = StringField(_l("Purpose (optional)"), validators=[Optional(), Length(max=200, message=TOO_LONG)])

    def guest_data(self) -> list[GuestData]:
        return [entry.form.data_for_service() for entry in self.guests]


class VisitForm(VisitorsMixin, FlaskForm):
    unit_id = SelectField(_l("Unit"), coerce=int, validate_choice=True)
    pass_type = SelectField(
        _l("Pass type"), choices=[SelectChoice(t.value, label) for t, label in PASS_TYPE_LABELS.items()],
        default=PassType.SINGLE_USE.value,
    )
    start_date = DateField(_l("Starts on"), validators=[Optional()])
    start_time = TimeField(_l("At"), validators=[Optional()])
    end_date = DateField(_l("Ends on"), validators=[Optional()])
    end_time = TimeField(_l("At"), validators=[Optional()], render_kw={"aria-label": _l("End time")})
    max_entries = IntegerField(_l("Number of entries"), validators=[Optional()], default=2)
    weekdays = MultiCheckboxField(_l("Days of the week"), validators=[Optional()])
    daily_start = TimeField(_l("Each day from"), validators=[Optional()])
    daily_end = TimeField(_l("Each day until"), validators=[Optional()])

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [SelectChoice(u.id, u.number) for u in units]
        self.weekdays.choices = weekday_choices()

    def data_for_service(self) -> VisitData:
        return VisitData(
            pass_type=PassType(self.pass_type.data), guests=self.guest_data(), purpose=self.purpose.data or "",
            start_date=self.start_date.data, start_time=self.start_time.data,
            end_date=self.end_date.data, end_time=self.end_time.data, max_entries=self.max_entries.data,
            weekdays="".join(self.weekdays.data or []), daily_start=self.daily_start.data,
            daily_end=self.daily_end.data,
        )


class VisitEditForm(VisitorsMixin, FlaskForm):
    pass


class ExtendForm(FlaskForm):
    end_date = DateField(_l("New end date"), validators=[Optional()])
    end_time = TimeField(_l("New end time"), validators=[Optional()])


class PersonalBanForm(FlaskForm):
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    reason = StringField(_l("Reason (only you see it)"), validators=[Optional(), Length(max=300, message=TOO_LONG)])
    expires_on = DateField(_l("Until (optional)"), validators=[Optional()])


def attach_error(form, exc) -> None:
    """A refusal shown next to the field it is about ("guests-1-phone" is a visitor's
    phone); anything else goes to the first visitor's name."""
    name = getattr(exc, "field", "") or ""
    target = None
    if name.startswith("guests-"):
        _, index, sub = name.split("-", 2)
        if hasattr(form, "guests") and int(index) < len(form.guests.entries):
            target = form.guests.entries[int(index)].form[sub]
    elif name in form:
        target = form[name]
    if target is None:
        target = form.guests.entries[0].form["full_name"] if hasattr(form, "guests") else next(iter(form))
    target.errors = [*target.errors, exc.message]


def prefill_window(form: VisitForm, timezone: str) -> None:
    """Start now (estate time, to the minute: a visitor invited on the spot gets in at
    once), until two hours later rounded up to the quarter hour."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    start = datetime.now(ZoneInfo(timezone)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=2)
    end += timedelta(minutes=(15 - end.minute % 15) % 15)
    form.start_date.data, form.start_time.data = start.date(), start.time()
    form.end_date.data, form.end_time.data = end.date(), end.time()
    form.daily_start.data = start.replace(hour=8, minute=0).time()
    form.daily_end.data = start.replace(hour=18, minute=0).time()
