from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import ColorInput

from portal.estates.platform import EstateData, all_timezones
from portal.web.i18n import LANGUAGE_NAMES

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")


class InviteAdminForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=160, message=TOO_LONG)])
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Length(max=254, message=TOO_LONG),
                                               Email(_l("Enter a valid email address."))])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=30, message=TOO_LONG)])


class EstateForm(FlaskForm):
    name = StringField(_l("Estate name"), validators=[DataRequired(REQUIRED), Length(max=160, message=TOO_LONG)])
    slug = StringField(_l("Web address (slug)"), validators=[DataRequired(REQUIRED), Length(max=60, message=TOO_LONG)],
                       description=_l("Lower-case letters, digits and hyphens, suggested from the name. The estate's "
                                      "pages will live at this address:"))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300, message=TOO_LONG)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120, message=TOO_LONG)])
    country = SelectField(_l("Country"), validators=[DataRequired(REQUIRED)], validate_choice=False)
    timezone = SelectField(_l("Time zone"), choices=[SelectChoice(z, z.replace("_", " ")) for z in all_timezones()],
                           default="Africa/Lagos", validate_choice=False)  # the service checks it with zoneinfo
    currency = StringField(_l("Currency (ISO 4217 code)"), default="NGN",
                           validators=[DataRequired(REQUIRED), Length(max=3, message=TOO_LONG)])
    default_language = SelectField(_l("Default language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
                                   default="en")
    brand_color = StringField(_l("Brand colour"), default="#1e6b52", validators=[DataRequired(REQUIRED)],
                              widget=ColorInput())
    admin_name = StringField(_l("Admin's full name"),
                             validators=[DataRequired(REQUIRED), Length(max=160, message=TOO_LONG)])
    admin_email = EmailField(_l("Admin's email"), validators=[DataRequired(REQUIRED), Length(max=254, message=TOO_LONG),
                                                             Email(_l("Enter a valid email address."))])
    admin_phone = StringField(_l("Admin's phone (optional)"), validators=[Optional(), Length(max=30, message=TOO_LONG)])

    def data_for_service(self) -> EstateData:
        return EstateData(
            slug=self.slug.data or "", name=self.name.data or "", address=self.address.data or "",
            city=self.city.data or "", country=self.country.data or "", timezone=self.timezone.data or "",
            currency=self.currency.data or "", default_language=self.default_language.data or "",
            brand_color=self.brand_color.data or "", admin_name=self.admin_name.data or "",
            admin_email=self.admin_email.data or "", admin_phone=self.admin_phone.data or None,
        )
