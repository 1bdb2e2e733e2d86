"""The estate admin's dues follow-up: the reminders and restrictions settings (on the
billing settings page), and a unit's restriction override (on the unit's page)."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.billing import dues_settings, restrictions
from portal.billing import settings as billing_settings
from portal.errors import DomainError, NotFound
from portal.web.admin import bp
from portal.web.admin.billing_forms import BillingSettingsForm
from portal.web.admin.billing_views import _field_errors
from portal.web.admin.dues_forms import DuesOverrideForm, DuesSettingsForm
from portal.web.admin.people_views import _household_page
from portal.web.i18n import formatting_locale
from portal.web.ui import render


@bp.post("/billing/settings/dues")
def billing_dues_settings():
    form = DuesSettingsForm()
    if form.validate_on_submit():
        try:
            dues_settings.update(current_user, g.estate, form.data_for_service())
        except DomainError as exc:
            _field_errors(form, exc, "restrict_after_days")
        else:
            flash(_("The reminder and restriction settings were saved."), "success")
            return redirect(url_for("admin.billing_settings_edit"))
    current = billing_settings.get(g.estate)
    settings_form = BillingSettingsForm(formdata=None, data={
        "invoice_prefix": current.invoice_prefix, "due_days": current.due_days,
        "tax_rate": billing_settings.percent_text(current.tax_rate_bp, formatting_locale())})
    return render("admin/billing/settings.html", form=settings_form, dues_form=form), 422


@bp.post("/units/<int:unit_id>/dues-override")
def dues_override_new(unit_id: int):
    form = DuesOverrideForm()
    if form.validate_on_submit():
        try:
            restrictions.grant_override(current_user, g.estate, unit_id, form.reason.data or "", form.until.data)
        except NotFound:
            raise
        except DomainError as exc:
            _field_errors(form, exc, "reason")
        else:
            flash(_("The unit's dues restriction is lifted."), "success")
            return redirect(url_for("admin.household", unit_id=unit_id, _anchor="dues"), 303)
    return _household_page(unit_id, 422, override_form=form)


@bp.post("/units/<int:unit_id>/dues-override/end")
def dues_override_end(unit_id: int):
    try:
        restrictions.end_override(current_user, g.estate, unit_id)
    except NotFound:
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The override has ended: the unit's dues decide again."), "success")
    return redirect(url_for("admin.household", unit_id=unit_id, _anchor="dues"), 303)
