from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.accounts.profile import NOTIFICATION_CHANNELS, NOTIFICATION_EVENTS, ProfileData
from portal.web.i18n import LANGUAGE_NAMES

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")


class ProfileForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=160, message=TOO_LONG)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254, message=TOO_LONG),
                                                Email(_l("Enter a valid email address."))])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    preferred_language = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])

    def data_for_service(self) -> ProfileData:
        return ProfileData(full_name=self.full_name.data or "", email=self.email.data or None,
                           phone=self.phone.data or None, preferred_language=self.preferred_language.data)


class NotificationsForm(FlaskForm):
    """One switch per event and channel, named <event>_<channel>."""

    def chosen(self) -> dict[str, dict[str, bool]]:
        return {event: {channel: bool(self[f"{event}_{channel}"].data) for channel in NOTIFICATION_CHANNELS}
                for event in NOTIFICATION_EVENTS}

    @classmethod
    def for_prefs(cls, prefs: dict[str, dict[str, bool]]) -> "NotificationsForm":
        return cls(data={f"{event}_{channel}": value for event, channels in prefs.items()
                         for channel, value in channels.items()})


for _event, _label in NOTIFICATION_EVENTS.items():
    for _channel, _channel_label in NOTIFICATION_CHANNELS.items():
        setattr(NotificationsForm, f"{_event}_{_channel}", BooleanField(_channel_label))
