"""Billing forms: a charge of the catalogue, a one-off charge, a generation, voiding, settings.

Amounts arrive as the text the admin typed ("1,500.00") and are read by
portal.billing.money.parse_amount in the admin's locale; the services check the rest."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.billing.charges import ChargeData, UnitChargeData, split_numbers
from portal.labels import CHARGE_FREQUENCY_LABELS, CHARGE_SCOPE_LABELS, UNIT_TYPE_LABELS
from portal.models import ChargeFrequency, ChargeScope
from portal.web.forms import MultiCheckboxField, WholeNumberField
from portal.web.inputs import BoundedDateField

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")
BAD_DATE = _l("Enter a date as YYYY-MM-DD.")


class ChargeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120, message=TOO_LONG)])
    description = StringField(_l("Description (optional)"), validators=[Optional(), Length(max=300, message=TOO_LONG)])
    amount = StringField(_l("Amount"), validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])
    frequency = SelectField(_l("Billed"), choices=[SelectChoice(k, v) for k, v in CHARGE_FREQUENCY_LABELS.items()],
                            default=ChargeFrequency.MONTHLY.value)
    mandatory = SelectField(_l("Who pays"), choices=[SelectChoice("1", _l("Every unit it applies to")),
                                                     SelectChoice("0", _l("Only the units that opted in"))],
                            default="1")
    applies_to = SelectField(_l("Applies to"), choices=[SelectChoice(k, v) for k, v in CHARGE_SCOPE_LABELS.items()],
                             default=ChargeScope.ALL.value)
    unit_types = MultiCheckboxField(_l("Unit types"), validate_choice=False,
                                    choices=[SelectChoice(t.value, label) for t, label in UNIT_TYPE_LABELS.items()])
    blocks = MultiCheckboxField(_l("Blocks"), validate_choice=False, choices=[])
    unit_numbers = TextAreaField(_l("Units (their numbers, separated by commas)"),
                                 validators=[Optional(), Length(max=20000, message=TOO_LONG)], render_kw={"rows": 2})
    opt_in_numbers = TextAreaField(_l("Units that opted in (their numbers, separated by commas)"),
                                   validators=[Optional(), Length(max=20000, message=TOO_LONG)], render_kw={"rows": 2})
    starts_on = BoundedDateField(_l("Starts on"), validators=[DataRequired(BAD_DATE)])
    ends_on = BoundedDateField(_l("Ends on (optional)"), validators=[Optional()])

    def set_blocks(self, blocks: list[str]) -> None:
        self.blocks.choices = [SelectChoice(b, _l("Block %(block)s", block=b)) for b in blocks]

    def data_for_service(self, amount_minor: int) -> ChargeData:
        return ChargeData(
            name=self.name.data or "", description=self.description.data or "", amount_minor=amount_minor,
            frequency=ChargeFrequency(self.frequency.data), starts_on=self.starts_on.data, ends_on=self.ends_on.data,
            mandatory=self.mandatory.data == "1", applies_to=ChargeScope(self.applies_to.data),
            unit_types=list(self.unit_types.data or []), blocks=list(self.blocks.data or []),
            unit_numbers=split_numbers(self.unit_numbers.data or ""),
            opt_in_numbers=split_numbers(self.opt_in_numbers.data or ""),
        )


class UnitChargeForm(FlaskForm):
    unit_number = StringField(_l("Unit number"), validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])
    description = StringField(_l("What it is for"), validators=[DataRequired(REQUIRED),
                                                                 Length(max=200, message=TOO_LONG)])
    amount = StringField(_l("Amount"), validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])
    charge_date = BoundedDateField(_l("Date"), validators=[DataRequired(BAD_DATE)])
    invoice_now = BooleanField(_l("Invoice it now, on its own (otherwise it goes on the unit's next monthly invoice)"))

    def data_for_service(self, amount_minor: int) -> UnitChargeData:
        return UnitChargeData(unit_number=self.unit_number.data or "", description=self.description.data or "",
                              amount_minor=amount_minor, charge_date=self.charge_date.data,
                              invoice_now=bool(self.invoice_now.data))


class GenerateForm(FlaskForm):
    """The month and due date (the preview reads the same two from the query string)."""

    period = StringField(_l("Month"), validators=[DataRequired(_l("Choose a month.")), Length(max=7)])
    due_date = BoundedDateField(_l("Due date"), validators=[Optional()])


class VoidForm(FlaskForm):
    reason = TextAreaField(_l("Why is it void? (the resident will see it)"),
                           validators=[DataRequired(_l("Say why the invoice is void (the resident will see it).")),
                                       Length(max=300, message=TOO_LONG)], render_kw={"rows": 2})


class BillingSettingsForm(FlaskForm):
    invoice_prefix = StringField(_l("Invoice number prefix"),
                                 validators=[DataRequired(REQUIRED), Length(max=12, message=TOO_LONG)])
    tax_rate = StringField(_l("Tax rate, in percent"), validators=[Optional(), Length(max=10, message=TOO_LONG)])
    due_days = WholeNumberField(_l("Days to pay after the period starts"), validators=[Optional()],
                                render_kw={"min": 0, "max": 365, "inputmode": "numeric"})
