"""Forms of the residents directory, household pages and CSV imports."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, HiddenField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from portal.labels import RESIDENT_TYPE_LABELS
from portal.models import ResidentType
from portal.phones import InvalidPhone, normalise_phone
from portal.web.admin.forms import REQUIRED, TOO_LONG
from portal.web.inputs import BoundedDateField

BAD_PHONE = _l("Enter a valid phone number.")


class _PhoneRegionForm(FlaskForm):
    """A form whose phone fields are normalised to E.164 in the estate's country."""

    def __init__(self, *args, region: str = "NG", **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region

    def _phone(self, field) -> None:
        try:
            field.data = normalise_phone(field.data, self.region)
        except InvalidPhone as exc:
            raise ValidationError(BAD_PHONE) from exc


class MemberForm(_PhoneRegionForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=160, message=TOO_LONG)])
    resident_type = SelectField(
        _l("Type"), choices=[SelectChoice(t.value, label) for t, label in RESIDENT_TYPE_LABELS.items()],
        default=ResidentType.OWNER.value,
    )
    phone = TelField(_l("Phone number"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    email = EmailField(_l("Email"), validators=[
        Optional(), Length(max=254, message=TOO_LONG), Email(_l("Enter a valid email address."))])
    move_in_date = BoundedDateField(_l("Move-in date"), validators=[Optional()])
    emergency_contact_name = StringField(
        _l("Emergency contact name"), validators=[Optional(), Length(max=160, message=TOO_LONG)])
    emergency_contact_phone = TelField(
        _l("Emergency contact phone"), validators=[Optional(), Length(max=30, message=TOO_LONG)])

    def validate_phone(self, field):
        self._phone(field)

    def validate_emergency_contact_phone(self, field):
        self._phone(field)

    def data_for_service(self):
        from portal.households.service import MemberData

        return MemberData(
            full_name=self.full_name.data.strip(), resident_type=ResidentType(self.resident_type.data),
            phone=self.phone.data or None, email=(self.email.data or "").strip() or None,
            move_in_date=self.move_in_date.data,
            emergency_contact_name=(self.emergency_contact_name.data or "").strip(),
            emergency_contact_phone=self.emergency_contact_phone.data or None,
        )


class MoveOutForm(FlaskForm):
    move_out_date = BoundedDateField(_l("Move-out date"), validators=[InputRequired(REQUIRED)])


class VehicleForm(FlaskForm):
    plate = StringField(_l("Plate"), validators=[DataRequired(REQUIRED), Length(max=30, message=TOO_LONG)])
    make = StringField(_l("Make"), validators=[Optional(), Length(max=60, message=TOO_LONG)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=60, message=TOO_LONG)])
    colour = StringField(_l("Colour"), validators=[Optional(), Length(max=40, message=TOO_LONG)])

    def data_for_service(self):
        from portal.households.service import VehicleData

        return VehicleData(plate=self.plate.data, make=self.make.data or "", model=self.model.data or "",
                           colour=self.colour.data or "")


class CardRequestForm(FlaskForm):
    holder = SelectField(_l("Card holder"), choices=[], validate_choice=True)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.holder.choices = [SelectChoice("", _l("The household (no named holder)"))] + [
            SelectChoice(str(m.id), m.full_name) for m in members]


class CardIssueForm(FlaskForm):
    card_number = StringField(_l("Card number"), validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file to upload."))])


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
