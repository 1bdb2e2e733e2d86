"""Forms more than one area uses: a visit (resident and admin), an invitation (admin and
guard supervisors), a rejection reason, a ban (supervisors at the gate and admins)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import email_validator
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.labels import BAN_SEVERITY_LABELS, PASS_TYPE_LABELS, RESIDENT_TYPE_LABELS, ROLE_LABELS
from portal.models import PassType, ResidentType, Role
from portal.onboarding.contact import REASON_MAX
from portal.onboarding.invitations import InviteData
from portal.visits.service import MAX_GUESTS, GuestData, VisitData
from portal.web.inputs import BoundedDateField

# The demo accounts live under the reserved ".test" domain; accept it like any other.
if "test" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("test")

REQUIRED = _l("This field is required.")
BAD_EMAIL = _l("Enter a valid email address.")
TOO_LONG = _l("Use at most %(max)d characters.")
BAD_NUMBER = _l("Give a whole number.")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _resident_type_choices():
    return [SelectChoice(t.value, label) for t, label in RESIDENT_TYPE_LABELS.items()]


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(BAD_NUMBER)) from None


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
    start_date = BoundedDateField(_l("Starts on"), validators=[Optional()])
    start_time = TimeField(_l("At"), validators=[Optional()])
    end_date = BoundedDateField(_l("Ends on"), validators=[Optional()])
    end_time = TimeField(_l("At"), validators=[Optional()], render_kw={"aria-label": _l("End time")})
    # A recurring pass's last day: a field of its own, so that its default can be months
    # away (RECURRING_MONTHS) while a one-off visit ends the same day.
    last_day = BoundedDateField(_l("Last day"), validators=[Optional()])
    max_entries = IntegerField(_l("Number of entries"), validators=[Optional()], default=2)
    weekdays = MultiCheckboxField(_l("Days of the week"), validators=[Optional()])
    daily_start = TimeField(_l("Each day from"), validators=[Optional()])
    daily_end = TimeField(_l("Each day until"), validators=[Optional()])

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [SelectChoice(u.id, u.number) for u in units]
        self.weekdays.choices = weekday_choices()

    def _recurring_last_day(self) -> bool:
        """A recurring pass whose last day came in `last_day` (the page); a client that
        posts only `end_date` (as before there was `last_day`) still works."""
        return self.pass_type.data == PassType.RECURRING.value and bool(self.last_day.raw_data)

    def field_for_error(self, name: str) -> str:
        """The field a service error about `name` is shown next to."""
        return "last_day" if name == "end_date" and self._recurring_last_day() else name

    def data_for_service(self) -> VisitData:
        return VisitData(
            pass_type=PassType(self.pass_type.data), guests=self.guest_data(), purpose=self.purpose.data or "",
            start_date=self.start_date.data, start_time=self.start_time.data,
            end_date=self.last_day.data if self._recurring_last_day() else self.end_date.data,
            end_time=self.end_time.data, max_entries=self.max_entries.data,
            weekdays="".join(self.weekdays.data or []), daily_start=self.daily_start.data,
            daily_end=self.daily_end.data,
        )


def attach_error(form, exc) -> None:
    """A refusal shown next to the field it is about ("guests-1-phone" is a visitor's
    phone); anything else goes to the first visitor's name."""
    name = getattr(exc, "field", "") or ""
    if hasattr(form, "field_for_error"):
        name = form.field_for_error(name)
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


RECURRING_MONTHS = 3  # a recurring pass (a cleaner, a nanny) lasts this long unless changed


def months_later(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter: 30 Nov → 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def prefill_window(form: VisitForm, timezone: str) -> None:
    """Start now (estate time, to the minute: a visitor invited on the spot gets in at
    once), until two hours later rounded up to the quarter hour; a recurring pass runs
    from today for RECURRING_MONTHS months, 08:00 to 18:00 on the days chosen."""
    start = datetime.now(ZoneInfo(timezone)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=2)
    end += timedelta(minutes=(15 - end.minute % 15) % 15)
    form.start_date.data, form.start_time.data = start.date(), start.time()
    form.end_date.data, form.end_time.data = end.date(), end.time()
    form.last_day.data = months_later(start.date(), RECURRING_MONTHS)
    form.daily_start.data = start.replace(hour=8, minute=0).time()
    form.daily_end.data = start.replace(hour=18, minute=0).time()


def apply_field_errors(form, exc) -> None:
    """Put a service refusal (a DomainError, or FieldErrors naming fields) next to its fields."""
    errors = getattr(exc, "errors", None) or {"email": exc.message}
    for name, message in errors.items():
        target = getattr(form, name, None) or form.email
        target.errors = [*target.errors, message]


class InviteForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=160, message=TOO_LONG)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(BAD_EMAIL), Length(max=254, message=TOO_LONG)])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    is_supervisor = BooleanField(_l("Guard supervisor (may invite guards and residents)"))
    unit_id = SelectField(_l("Unit"), choices=[])
    resident_type = SelectField(_l("Resident type"), choices=_resident_type_choices(),
                                default=ResidentType.OWNER.value)

    def set_choices(self, powers, units) -> None:
        self.role.choices = [SelectChoice(r.value, ROLE_LABELS[r]) for r in powers.roles]
        if not self.is_submitted():
            self.role.data = Role.RESIDENT.value
        self.unit_id.choices = [SelectChoice("", _l("Choose the unit (residents only)"))] + [
            SelectChoice(str(u.id), u.number) for u in units]
        self.may_make_supervisor = powers.may_make_supervisor

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.email.data or "").strip() and not (self.phone.data or "").strip():
            self.email.errors = [*self.email.errors, _l("Give an email address or a phone number (or both).")]
            ok = False
        if self.role.data == Role.RESIDENT.value and not self.unit_id.data:
            self.unit_id.errors = [*self.unit_id.errors, _l("Choose the unit from the list.")]
            ok = False
        return ok

    def data_for_service(self) -> InviteData:
        role = Role(self.role.data)
        return InviteData(
            role=role, full_name=self.full_name.data or "", email=self.email.data or "",
            phone=self.phone.data or "", is_supervisor=role == Role.GUARD and bool(self.is_supervisor.data),
            unit_id=_int_or_none(self.unit_id.data) if role == Role.RESIDENT else None,
            resident_type=ResidentType(self.resident_type.data) if role == Role.RESIDENT else None,
        )


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the rejection (the applicant will read it)"), validators=[
        DataRequired(_l("Give a reason; the applicant will read it.")),
        Length(max=REASON_MAX, message=TOO_LONG)])


SEVERITY_LABELS = BAN_SEVERITY_LABELS


class BanForm(FlaskForm):
    phone = StringField(_l("Phone number"), validators=[DataRequired(REQUIRED), Length(max=30, message=TOO_LONG)])
    severity = SelectField(_l("Severity"), choices=[SelectChoice(value, label) for value, label in
                                                   SEVERITY_LABELS.items()], default="MEDIUM")
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=300, message=TOO_LONG)])
    expires_on = BoundedDateField(_l("Banned until (optional)"), validators=[Optional()],
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


