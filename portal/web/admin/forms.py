"""Estate admin forms: units, and the estate's settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import ColorInput

from portal.estates.settings import LOGO_MAX_BYTES, ProfileData
from portal.labels import UNIT_TYPE_LABELS
from portal.models import UnitType
from portal.web.forms import WholeNumberField

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")


class UnitForm(FlaskForm):
    number = StringField(_l("Unit number"), validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])
    block = StringField(_l("Block"), validators=[Optional(), Length(max=40, message=TOO_LONG)])
    floor = StringField(_l("Floor"), validators=[Optional(), Length(max=20, message=TOO_LONG)])
    unit_type = SelectField(
        _l("Type"), choices=[SelectChoice(t.value, label) for t, label in UNIT_TYPE_LABELS.items()],
        default=UnitType.APARTMENT.value,
    )
    bedrooms = IntegerField(
        _l("Bedrooms"), validators=[Optional(), NumberRange(0, 50, _l("Enter a number from %(min)s to %(max)s."))],
    )
    bathrooms = IntegerField(
        _l("Bathrooms"), validators=[Optional(), NumberRange(0, 50, _l("Enter a number from %(min)s to %(max)s."))],
    )
    area_sqm = DecimalField(
        _l("Area (m²)"), places=2,
        validators=[Optional(), NumberRange(0, 100000, _l("Enter a number from %(min)s to %(max)s."))],
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000, message=TOO_LONG)])

    def data_for_service(self):
        from portal.units.service import UnitData

        return UnitData(
            number=self.number.data, block=(self.block.data or "").strip(), floor=(self.floor.data or "").strip(),
            unit_type=UnitType(self.unit_type.data), bedrooms=self.bedrooms.data, bathrooms=self.bathrooms.data,
            area_sqm=self.area_sqm.data, notes=(self.notes.data or "").strip(),
        )


class SettingsForm(FlaskForm):
    """Checked by portal.estates.settings.update_settings."""

    gate_names = TextAreaField(_l("Gates (one name a line)"), render_kw={"rows": 5})
    access_card_limit = WholeNumberField(_l("Access cards per household"), validators=[Optional()],
                                     render_kw={"min": 0, "max": 20, "inputmode": "numeric"})


class ProfileForm(FlaskForm):
    """The estate's profile; checked by portal.estates.settings.update_profile."""

    name = StringField(_l("Estate name"))
    address = StringField(_l("Address"))
    city = StringField(_l("City"))
    contact_email = EmailField(_l("Contact email (optional)"))
    contact_phone = StringField(_l("Contact phone (optional)"))
    brand_color = StringField(_l("Brand colour"), widget=ColorInput())
    logo = FileField(_l("Logo (optional, JPEG, PNG or WebP, up to 2 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))

    def data_for_service(self) -> ProfileData:
        upload = self.logo.data
        logo = upload.read(LOGO_MAX_BYTES + 1) if upload and getattr(upload, "filename", "") else None
        return ProfileData(name=self.name.data or "", address=self.address.data or "", city=self.city.data or "",
                           contact_email=self.contact_email.data or "", contact_phone=self.contact_phone.data or "",
                           brand_color=self.brand_color.data or "", logo=logo or None,
                           remove_logo=bool(self.remove_logo.data))
