"""Forms of the members pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice

from portal.labels import ROLE_LABELS
from portal.models import Role


class RolesForm(FlaskForm):
    roles = SelectMultipleField(
        _l("Roles in this estate"),
        choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
    supervisor = BooleanField(_l("Guard supervisor (may add guards and residents)"))

    def chosen_roles(self) -> set[Role]:
        return {Role(value) for value in self.roles.data or []}
