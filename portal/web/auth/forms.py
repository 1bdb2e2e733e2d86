from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

from portal.accounts.signin import MIN_PASSWORD_LENGTH
from portal.web.forms import REQUIRED  # also accepts the reserved .test domain


class LoginForm(FlaskForm):
    login = StringField(_l("Email or phone"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class PhoneForm(FlaskForm):
    phone = StringField(_l("Phone number"), validators=[DataRequired(REQUIRED), Length(max=30)])


class CodeForm(FlaskForm):
    code = StringField(
        _l("6-digit code"),
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits.")),
        ],
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(REQUIRED), Email(_l("Enter a valid email address."))],
    )


def _new_password_fields():
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The two passwords do not match."))],
    )
    return new, confirm


class ResetPasswordForm(FlaskForm):
    password, confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    password, confirm = _new_password_fields()
