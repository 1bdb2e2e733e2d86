"""Forms of the join page, the invitations and the approval decisions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from portal.accounts.signin import MIN_PASSWORD_LENGTH
from portal.models import ResidentType
from portal.onboarding.join import JoinData
from portal.web.forms import BAD_EMAIL, REQUIRED, TOO_LONG, _int_or_none, _resident_type_choices

SHORT_PASSWORD = _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
NO_MATCH = _l("The two passwords do not match.")






class JoinForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=160, message=TOO_LONG)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(BAD_EMAIL), Length(max=254, message=TOO_LONG)])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    unit_id = SelectField(_l("Your unit"), validators=[DataRequired(REQUIRED)], choices=[])
    resident_type = SelectField(_l("You are"), choices=_resident_type_choices(), default=ResidentType.OWNER.value)
    password = PasswordField(_l("Password"), validators=[
        DataRequired(REQUIRED), Length(min=MIN_PASSWORD_LENGTH, message=SHORT_PASSWORD)])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(REQUIRED), EqualTo("password", NO_MATCH)])
    emergency_contact_name = StringField(_l("Emergency contact's name"), validators=[
        DataRequired(REQUIRED), Length(max=160, message=TOO_LONG)])
    emergency_contact_phone = StringField(_l("Emergency contact's phone"), validators=[
        DataRequired(REQUIRED), Length(max=30, message=TOO_LONG)])
    consent = BooleanField(
        _l("I agree to the estate's rules and to my details being kept to manage access to the estate."),
        validators=[DataRequired(_l("You must accept the terms to send your request."))],
    )

    def set_units(self, units) -> None:
        self.unit_id.choices = [SelectChoice("", _l("Choose your unit"))] + [
            SelectChoice(str(u.id), u.number) for u in units]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.email.data or "").strip() and not (self.phone.data or "").strip():
            self.email.errors = [*self.email.errors, _l("Give an email address or a phone number (or both).")]
            ok = False
        return ok

    def data_for_service(self, language: str | None) -> JoinData:
        return JoinData(
            full_name=self.full_name.data or "", email=self.email.data or "", phone=self.phone.data or "",
            unit_id=_int_or_none(self.unit_id.data), resident_type=ResidentType(self.resident_type.data),
            password=self.password.data or "", emergency_contact_name=self.emergency_contact_name.data or "",
            emergency_contact_phone=self.emergency_contact_phone.data or "", consent=bool(self.consent.data),
            language=language,
        )




class JoinCodeForm(FlaskForm):
    code = StringField(_l("Estate code"), validators=[DataRequired(REQUIRED), Length(max=20, message=TOO_LONG)])




class NewPasswordForm(FlaskForm):
    """A new account accepting its invitation chooses a password."""

    password = PasswordField(_l("Choose a password"), validators=[
        DataRequired(REQUIRED), Length(min=MIN_PASSWORD_LENGTH, message=SHORT_PASSWORD)])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(REQUIRED), EqualTo("password", NO_MATCH)])


class CurrentPasswordForm(FlaskForm):
    """An existing account accepting its invitation proves it is theirs."""

    password = PasswordField(_l("Your current password"), validators=[DataRequired(REQUIRED)])


