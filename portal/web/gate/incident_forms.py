"""The gate's "Log incident" form, the admins' incident filters and estate settings form."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.incidents.service import MAX_PHOTO_BYTES, IncidentData
from portal.labels import INCIDENT_TYPE_LABELS
from portal.web.inputs import BoundedDateTimeLocalField

BAD_TIME = _l("Give a date and time, e.g. 2025-03-01 14:30.")


class LocalDateTimeField(BoundedDateTimeLocalField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(BAD_TIME)) from None




class IncidentForm(FlaskForm):
    """Checked by portal.incidents.service.create_incident; the form only collects."""

    incident_type = SelectField(
        _l("Type"), choices=[SelectChoice("", _l("Choose…"))] + [SelectChoice(value, label) for value, label
                                                                 in INCIDENT_TYPE_LABELS.items()],
        validate_choice=False, default="",
    )
    description = TextAreaField(_l("What happened"))
    occurred_at = LocalDateTimeField(_l("When (leave empty for now)"), validators=[Optional()],
                                     format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    photo = FileField(_l("Photo (optional, JPEG, PNG or WebP, up to 5 MB)"),
                      render_kw={"accept": "image/jpeg,image/png,image/webp"})

    def data_for_service(self, timezone: str, gate: str) -> IncidentData:
        when = self.occurred_at.data
        if when is not None:
            when = when.replace(tzinfo=ZoneInfo(timezone)).astimezone(ZoneInfo("UTC"))
        upload = self.photo.data
        photo = upload.read(MAX_PHOTO_BYTES + 1) if upload and getattr(upload, "filename", "") else None
        return IncidentData(incident_type=self.incident_type.data or "", description=self.description.data or "",
                            occurred_at=when, photo=photo or None, gate=gate)




def local_now_input(timezone: str) -> str:
    """Now in the estate's time, as a datetime-local input's max value."""
    return datetime.now(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")
