"""Incidents a guard logs at the gate (a suspicious person, a forced entry, a fire…),
with an optional photo kept in the row (re-encoded upright without its metadata:
portal.images); listed for the gate and for estate admins."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from PIL import Image, ImageOps
from sqlalchemy.orm import joinedload

from portal import audit
from portal.errors import InvalidValue, NotFound
from portal.extensions import db
from portal.images import IMAGE_TYPES, CleanImage, NotAnImage, clean_image
from portal.models import Estate, Incident, IncidentType, User

DESCRIPTION_RANGE = (5, 2000)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = IMAGE_TYPES  # JPEG, PNG, WebP
CLOCK_SKEW = timedelta(minutes=5)  # a device clock a little ahead is not "the future"
THUMB_SIDE = 240


@dataclass(frozen=True)
class IncidentData:
    incident_type: str
    description: str
    occurred_at: datetime | None = None  # aware; None means now
    photo: bytes | None = None
    gate: str = ""


def clean_photo(photo: bytes) -> CleanImage:
    """A JPEG, PNG or WebP photo, judged by Pillow from its bytes (not its name), as it is
    kept: re-encoded, upright, without metadata. Anything else raises InvalidValue."""
    if len(photo) > MAX_PHOTO_BYTES:
        raise InvalidValue("photo", _l("The photo is too large: the limit is %(mb)d MB.",
                                       mb=MAX_PHOTO_BYTES // (1024 * 1024)))
    try:
        return clean_image(photo)
    except NotAnImage:
        raise InvalidValue("photo", _l("The photo must be a JPEG, PNG or WebP image.")) from None


def create_incident(actor: User, estate: Estate, data: IncidentData, now: datetime) -> Incident:
    """Log an incident (audited). Bad input raises InvalidValue and writes nothing."""
    try:
        kind = IncidentType(data.incident_type)
    except ValueError:
        raise InvalidValue("incident_type", _l("Choose the type of incident.")) from None
    description = (data.description or "").strip()
    low, high = DESCRIPTION_RANGE
    if len(description) < low:
        raise InvalidValue("description", _l("Describe what happened in at least %(min)d characters.", min=low))
    if len(description) > high:
        raise InvalidValue("description", _l("Use at most %(max)d characters.", max=high))
    occurred_at = data.occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidValue("occurred_at", _l("The time of the incident cannot be in the future."))
    photo = clean_photo(data.photo) if data.photo else None
    incident = Incident(
        estate_id=estate.id, reported_by_id=actor.id, gate=(data.gate or "")[:60], incident_type=kind,
        description=description, occurred_at=occurred_at, photo=photo.content if photo else None,
        photo_type=photo.mime if photo else None,
    )
    db.session.add(incident)
    db.session.flush()
    audit.record("incident.logged", incident, actor_id=actor.id,
                 after={"incident_type": kind.value, "gate": incident.gate, "occurred_at": occurred_at.isoformat(),
                        "photo_bytes": len(photo.content) if photo else 0})
    db.session.commit()
    return incident


@dataclass(frozen=True)
class IncidentFilters:
    incident_type: str = ""
    date_from: date | None = None  # estate-local dates, both inclusive
    date_to: date | None = None


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(ZoneInfo("UTC"))


def list_incidents(estate: Estate, filters: IncidentFilters | None = None, page: int = 1,
                   per_page: int = 20) -> Pagination:
    """The estate's incidents, latest first, without their photos (constant queries)."""
    filters = filters or IncidentFilters()
    stmt = (
        sa.select(Incident)
        .options(joinedload(Incident.reported_by))
        .where(Incident.estate_id == estate.id)
    )
    if filters.incident_type in IncidentType.__members__:
        stmt = stmt.where(Incident.incident_type == IncidentType(filters.incident_type))
    if filters.date_from:
        stmt = stmt.where(Incident.occurred_at >= _day_start(filters.date_from, estate.timezone))
    if filters.date_to:
        stmt = stmt.where(Incident.occurred_at < _day_start(filters.date_to + timedelta(days=1), estate.timezone))
    stmt = stmt.order_by(Incident.occurred_at.desc(), Incident.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


def get_photo(estate: Estate, incident_id: int, thumb: bool = False) -> tuple[bytes, str]:
    """An incident's photo (or a small JPEG thumbnail of it) and its MIME type; 404 when
    the incident is another estate's or has no photo."""
    row = db.session.execute(
        sa.select(Incident.photo, Incident.photo_type)
        .where(Incident.id == incident_id, Incident.estate_id == estate.id)
    ).first()
    if row is None or not row.photo or row.photo_type not in PHOTO_TYPES.values():
        raise NotFound()
    if not thumb:
        return row.photo, row.photo_type
    with Image.open(io.BytesIO(row.photo)) as original:
        image = ImageOps.exif_transpose(original) or original  # a photo kept before portal.images
        image.thumbnail((THUMB_SIDE, THUMB_SIDE))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue(), "image/jpeg"
