"""The message-provider pages the enterprise console (the platform's providers) and the
estate admin's area (the estate's own) share: the list of each channel's providers, the
form of one (its fields come from the kind, portal.integrations.kinds), reorder, turn on
or off, delete; the integration status page and its test message.

Each area's views are one line: they hand their scope (portal.integrations.manage.Scope)
and their blueprint's name (`area`, for url_for) to the functions here. Secrets never
reach a page: the form's secret fields are password inputs, always empty, with the
stored value's last four characters beside them; left empty, the stored value stays.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.errors import DomainError, FieldErrors, InvalidValue, NotFound
from portal.integrations import manage
from portal.integrations.kinds import (
    CHOICE,
    FLAG,
    LONG_TEXT,
    NUMBER,
    KindSpec,
    flag,
    get_kind,
    kinds_for,
)
from portal.models import IntegrationChannel, MessageStatus
from portal.web.inputs import page_arg
from portal.web.ui import render

RESERVED = {"name", "enabled", "csrf_token", "recipient"}  # the form's own fields: no kind may use them


class _SettingForm(FlaskForm):
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=manage.MAX_NAME,
                                                                              message=_l("Use at most %(max)d characters."))],
                       description=_l("To tell two providers of the same kind apart, for example “Termii backup”."))
    enabled = BooleanField(_l("In use"), default=True)


def setting_form(kind: KindSpec, masked: dict[str, str] | None = None) -> FlaskForm:
    """A form for `kind`'s fields; `masked` (editing): the stored values as pages may show
    them, the secrets masked (shown beside their empty inputs)."""
    masked = masked or {}

    class Form(_SettingForm):
        pass

    for spec in kind.fields:
        assert spec.name not in RESERVED and not spec.name.startswith("clear_"), spec.name
        description = spec.help or ""
        if spec.secret:
            stored = masked.get(spec.name)
            field = PasswordField(spec.label, description=description,
                                  render_kw={"autocomplete": "new-password", "placeholder": stored or ""})
            if stored and not spec.required:
                setattr(Form, f"clear_{spec.name}", BooleanField(_l("Remove the stored value")))
        elif spec.type == FLAG:
            field = BooleanField(spec.label, default=flag(spec.default), description=description)
        elif spec.type == CHOICE:
            field = SelectField(spec.label, choices=list(spec.choices), default=spec.default, validate_choice=False,
                                description=description)
        elif spec.type == LONG_TEXT:
            field = TextAreaField(spec.label, description=description, render_kw={"rows": 4})
        else:
            render_kw = {"inputmode": "numeric"} if spec.type == NUMBER else {}
            field = StringField(spec.label, default=spec.default, description=description, render_kw=render_kw)
        setattr(Form, spec.name, field)
    form = Form()
    form.kind_spec = kind
    form.masked = masked
    return form


def _data(form, kind: KindSpec) -> manage.SettingData:
    values = {}
    for spec in kind.fields:
        value = form[spec.name].data
        values[spec.name] = ("true" if value else "false") if spec.type == FLAG else (value or "")
    clear = frozenset(spec.name for spec in kind.fields if f"clear_{spec.name}" in form and form[f"clear_{spec.name}"].data)
    return manage.SettingData(kind=kind.key, name=form.name.data or "", enabled=bool(form.enabled.data),
                              values=values, clear=clear)


def _show_errors(form, exc: DomainError) -> None:
    errors = exc.errors if isinstance(exc, FieldErrors) else {getattr(exc, "field", ""): exc.message}
    for name, message in errors.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            flash(str(message), "error")
            form.form_errors.append(message)


# --- the lists ----------------------------------------------------------------------------------------


def settings_page(scope: manage.Scope, area: str):
    return render("integrations/settings.html", area=area, scope=scope, lists=manage.overview(scope))


def setting_new(scope: manage.Scope, area: str):
    kind = get_kind(request.args.get("kind"))
    if kind is None:  # which kind first
        return render("integrations/choose_kind.html", area=area, scope=scope,
                      channels=[(channel, kinds_for(channel)) for channel in manage.CHANNELS])
    form = setting_form(kind)
    if form.validate_on_submit():
        try:
            setting = manage.create_setting(scope, _data(form, kind))
        except (FieldErrors, InvalidValue) as exc:
            _show_errors(form, exc)
        else:
            flash(_("%(provider)s was added.", provider=manage.shown(setting).title), "success")
            return redirect(url_for(f"{area}.integrations_list"))
    return render("integrations/setting_form.html", area=area, scope=scope, form=form, kind=kind,
                  setting=None), 422 if form.errors or form.form_errors else 200


def setting_edit(scope: manage.Scope, area: str, setting_id: int):
    setting = manage.get_setting(scope, setting_id)
    kind = get_kind(setting.kind)
    if kind is None:
        raise NotFound()
    shown = manage.shown(setting)
    form = setting_form(kind, shown.values)
    if request.method == "GET":
        form.name.data = setting.name
        form.enabled.data = setting.enabled
        for spec in kind.fields:
            if not spec.secret:
                value = shown.values.get(spec.name, "")
                form[spec.name].data = flag(value) if spec.type == FLAG else value
    elif form.validate_on_submit():
        try:
            setting = manage.update_setting(scope, setting_id, _data(form, kind))
        except (FieldErrors, InvalidValue) as exc:
            _show_errors(form, exc)
        else:
            flash(_("%(provider)s was saved.", provider=manage.shown(setting).title), "success")
            return redirect(url_for(f"{area}.integrations_list"))
    return render("integrations/setting_form.html", area=area, scope=scope, form=form, kind=kind,
                  setting=shown), 422 if form.errors or form.form_errors else 200


def setting_enabled(scope: manage.Scope, area: str, setting_id: int):
    enabled = request.form.get("enabled") == "1"
    setting = manage.set_enabled(scope, setting_id, enabled)
    title = manage.shown(setting).title
    flash(_("%(provider)s is in use.", provider=title) if enabled else
          _("%(provider)s is turned off: messages no longer go through it.", provider=title), "success")
    return redirect(url_for(f"{area}.integrations_list"))


def setting_move(scope: manage.Scope, area: str, setting_id: int):
    manage.move_setting(scope, setting_id, up=request.form.get("direction") != "down")
    return redirect(url_for(f"{area}.integrations_list"))


def setting_delete(scope: manage.Scope, area: str, setting_id: int):
    setting = manage.delete_setting(scope, setting_id)
    flash(_("%(provider)s was deleted.", provider=manage.shown(setting).title), "success")
    return redirect(url_for(f"{area}.integrations_list"))


# --- status and test messages ----------------------------------------------------------------------------


def status_page(scope: manage.Scope, area: str):
    if scope.is_platform:
        return render("integrations/status.html", block="status_table", area=area, scope=scope,
                      rows=manage.platform_status(scope, page=page_arg()), configured=manage.configured_rows())
    return render("integrations/status.html", area=area, scope=scope, channels=manage.estate_status(scope))


class TestForm(FlaskForm):
    recipient = StringField(_l("Send to"), validators=[Length(max=254, message=_l("Use at most %(max)d characters."))])


def test_new(scope: manage.Scope, area: str, setting_id: int):
    setting = manage.testable_setting(scope, setting_id)
    form = TestForm()
    email = setting.channel == IntegrationChannel.EMAIL
    if request.method == "GET":
        form.recipient.data = (current_user.email if email else current_user.phone) or ""
    elif form.validate_on_submit():
        try:
            message = manage.send_test(scope, setting_id, form.recipient.data or "")
        except InvalidValue as exc:
            form.recipient.errors = [*form.recipient.errors, exc.message]
        else:
            return redirect(url_for(f"{area}.integrations_test_message", message_id=message.id))
    return render("integrations/test.html", area=area, scope=scope, form=form, setting=manage.shown(setting),
                  email=email), 422 if form.errors else 200


FINAL = (MessageStatus.SENT, MessageStatus.FAILED)


def test_message(scope: manage.Scope, area: str, message_id: int):
    """The test message's outcome: the page, or (htmx, every 2 s until it is final) its block."""
    message = manage.get_test_message(scope, message_id)
    return render("integrations/test_message.html", block="outcome", area=area, scope=scope, message=message,
                  final=message.status in FINAL)
