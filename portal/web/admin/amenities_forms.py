"""The admin's amenity form (hours as one line a weekday), closures and booking decisions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.amenities.catalogue import AmenityData, ClosureData
from portal.amenities.photos import PHOTO_ACCEPT
from portal.amenities.schedule import ranges_text
from portal.labels import AMENITY_STATUS_LABELS, AMENITY_TYPE_LABELS, FEE_MODE_LABELS
from portal.models import Amenity, AmenityStatus, AmenityType, FeeMode
from portal.web.forms import WholeNumberField
from portal.web.inputs import BoundedDateField

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")
WHOLE = _l("Enter a whole number between %(min)s and %(max)s.")


def _number(label, default: int, low: int, high: int, optional: bool = False):
    validators = [Optional()] if optional else [DataRequired(REQUIRED)] if low > 0 else [Optional()]
    return WholeNumberField(label, default=default, validators=[*validators, NumberRange(low, high, message=WHOLE)])


class AmenityForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120, message=TOO_LONG)])
    amenity_type = SelectField(_l("Type"), choices=[SelectChoice(k, v) for k, v in AMENITY_TYPE_LABELS.items()],
                               default=AmenityType.OTHER.value)
    status = SelectField(_l("Status"), choices=[SelectChoice(k, v) for k, v in AMENITY_STATUS_LABELS.items()],
                         default=AmenityStatus.AVAILABLE.value)
    description = TextAreaField(_l("Description (optional)"), validators=[Optional(), Length(max=4000, message=TOO_LONG)],
                                render_kw={"rows": 2})
    rules = TextAreaField(_l("Rules residents must follow (optional)"),
                          validators=[Optional(), Length(max=4000, message=TOO_LONG)], render_kw={"rows": 3})
    exclusive = SelectField(_l("Booking"), choices=[SelectChoice("1", _l("Exclusive: one booking at a time")),
                                                    SelectChoice("0", _l("Shared: several bookings up to the capacity"))],
                            default="1")
    capacity = _number(_l("Capacity (people at once)"), 1, 1, 100_000)
    hours_0 = StringField(_l("Monday"), validators=[Length(max=200, message=TOO_LONG)])
    hours_1 = StringField(_l("Tuesday"), validators=[Length(max=200, message=TOO_LONG)])
    hours_2 = StringField(_l("Wednesday"), validators=[Length(max=200, message=TOO_LONG)])
    hours_3 = StringField(_l("Thursday"), validators=[Length(max=200, message=TOO_LONG)])
    hours_4 = StringField(_l("Friday"), validators=[Length(max=200, message=TOO_LONG)])
    hours_5 = StringField(_l("Saturday"), validators=[Length(max=200, message=TOO_LONG)])
    hours_6 = StringField(_l("Sunday"), validators=[Length(max=200, message=TOO_LONG)])
    slot_minutes = _number(_l("Slot length (minutes)"), 60, 5, 1440)
    min_minutes = _number(_l("Shortest booking (minutes)"), 60, 5, 1440)
    max_minutes = _number(_l("Longest booking (minutes)"), 120, 5, 1440)
    advance_days = _number(_l("Bookable up to (days ahead)"), 30, 0, 730)
    cancel_cutoff_hours = _number(_l("Residents cancel up to (hours before the start)"), 0, 0, 1440)
    late_cancel_keeps_fee = BooleanField(_l("After that, residents may still cancel, but the fee is kept"))
    fee_mode = SelectField(_l("Fee"), choices=[SelectChoice(k, v) for k, v in FEE_MODE_LABELS.items()],
                           default=FeeMode.FREE.value)
    fee = StringField(_l("Fee amount"), validators=[Optional(), Length(max=40, message=TOO_LONG)])
    deposit = StringField(_l("Deposit (optional)"), validators=[Optional(), Length(max=40, message=TOO_LONG)])
    requires_approval = BooleanField(_l("An admin approves each booking"))
    max_bookings_week = _number(_l("Bookings per unit a week (empty: no limit)"), None, 1, 1000, optional=True)
    max_bookings_month = _number(_l("Bookings per unit a month (empty: no limit)"), None, 1, 1000, optional=True)
    max_hours_week = _number(_l("Hours per unit a week (empty: no limit)"), None, 1, 168, optional=True)
    max_guests = _number(_l("Guests a resident may bring"), 0, 0, 100_000)

    def hour_fields(self):
        return [getattr(self, f"hours_{d}") for d in range(7)]

    def fill(self, amenity: Amenity, fee_text: str, deposit_text: str) -> None:
        for key in ("name", "description", "rules", "capacity", "slot_minutes", "min_minutes", "max_minutes",
                    "advance_days", "cancel_cutoff_hours", "late_cancel_keeps_fee", "requires_approval",
                    "max_bookings_week", "max_bookings_month", "max_hours_week", "max_guests"):
            getattr(self, key).data = getattr(amenity, key)
        self.amenity_type.data = amenity.amenity_type.value
        self.status.data = amenity.status.value
        self.exclusive.data = "1" if amenity.exclusive else "0"
        self.fee_mode.data = amenity.fee_mode.value
        self.fee.data, self.deposit.data = fee_text, deposit_text
        for day in range(7):
            getattr(self, f"hours_{day}").data = ranges_text((amenity.opening_hours or {}).get(str(day), []))

    def data_for_service(self, fee_minor: int, deposit_minor: int) -> AmenityData:
        return AmenityData(
            name=self.name.data or "", amenity_type=AmenityType(self.amenity_type.data),
            description=self.description.data or "", rules=self.rules.data or "", capacity=self.capacity.data or 1,
            exclusive=self.exclusive.data == "1",
            hours={str(d): (getattr(self, f"hours_{d}").data or "").replace("–", "-") for d in range(7)},
            slot_minutes=self.slot_minutes.data, min_minutes=self.min_minutes.data, max_minutes=self.max_minutes.data,
            advance_days=self.advance_days.data or 0, cancel_cutoff_hours=self.cancel_cutoff_hours.data or 0,
            late_cancel_keeps_fee=bool(self.late_cancel_keeps_fee.data), fee_mode=FeeMode(self.fee_mode.data),
            fee_minor=fee_minor, deposit_minor=deposit_minor, requires_approval=bool(self.requires_approval.data),
            max_bookings_week=self.max_bookings_week.data, max_bookings_month=self.max_bookings_month.data,
            max_hours_week=self.max_hours_week.data, max_guests=self.max_guests.data or 0,
            status=AmenityStatus(self.status.data))


class ClosureForm(FlaskForm):
    start_day = BoundedDateField(_l("From"), validators=[DataRequired(REQUIRED)])
    start_time = StringField(_l("At (empty: the whole day)"), validators=[Optional(), Length(max=5, message=TOO_LONG)])
    end_day = BoundedDateField(_l("To (empty: the same day)"), validators=[Optional()])
    end_time = StringField(_l("Until (empty: the end of the day)"), validators=[Optional(), Length(max=5, message=TOO_LONG)])
    reason = StringField(_l("Reason, shown to residents"), validators=[DataRequired(REQUIRED),
                                                                       Length(max=200, message=TOO_LONG)])

    def data_for_service(self) -> ClosureData:
        return ClosureData(self.start_day.data, self.end_day.data, self.start_time.data or "",
                           self.end_time.data or "", self.reason.data or "")


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason, shown to the resident"), validators=[Length(max=300, message=TOO_LONG)])


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo (JPEG, PNG or WebP, up to 5 MB)"), render_kw={"accept": PHOTO_ACCEPT})
