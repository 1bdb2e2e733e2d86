"""Photos of an amenity: an admin adds up to five (JPEG, PNG or WebP, at most 5 MB each,
judged by their bytes with Pillow, not by their name) and removes them; residents see them
on the amenity's page. The bytes are kept in the database (amenity_photo), like payment
proofs; every lookup is scoped to the estate, so another estate's photo is a 404."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from portal import audit
from portal.amenities.catalogue import get_amenity
from portal.errors import InvalidValue, NotFound
from portal.extensions import db
from portal.models import Amenity, AmenityPhoto, Estate, User

MAX_PHOTOS = 5
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
PHOTO_ACCEPT = ",".join(PHOTO_TYPES.values())


def photo_type(content: bytes) -> tuple[str, int, int]:
    """(MIME type, width, height) of an uploaded photo, or InvalidValue with the reason."""
    if not content:
        raise InvalidValue("photo", _l("Choose a photo to upload."))
    if len(content) > PHOTO_MAX_BYTES:
        raise InvalidValue("photo", _l("The photo is too large: the limit is %(mb)d MB.",
                                       mb=PHOTO_MAX_BYTES // (1024 * 1024)))
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = "JPEG" if image.format == "MPO" else image.format  # MPO: a phone camera's JPEG
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = None
    if kind not in PHOTO_TYPES:
        raise InvalidValue("photo", _l("The photo must be a JPEG, PNG or WebP image."))
    return PHOTO_TYPES[kind], width, height


def photos_of(amenity: Amenity) -> list[AmenityPhoto]:
    """The amenity's photos, oldest first, without their bytes (one query)."""
    return list(db.session.scalars(sa.select(AmenityPhoto).where(
        AmenityPhoto.amenity_id == amenity.id, AmenityPhoto.estate_id == amenity.estate_id)
        .order_by(AmenityPhoto.id)))


def add_photo(actor: User, estate: Estate, amenity_id: int, content: bytes) -> AmenityPhoto:
    """Keep one more photo; a bad file or a sixth photo is refused and nothing changes. Two
    admins adding the last place at once: the amenity's row lock lets one through."""
    amenity = get_amenity(estate, amenity_id)
    mime, width, height = photo_type(content)
    # Lock the amenity (as a booking does) so that the count below holds until the commit.
    db.session.execute(sa.update(Amenity).where(Amenity.id == amenity.id)
                       .values(lock_seq=Amenity.lock_seq + 1).execution_options(synchronize_session=False))
    count = db.session.scalar(sa.select(sa.func.count(AmenityPhoto.id)).where(AmenityPhoto.amenity_id == amenity.id))
    if count >= MAX_PHOTOS:
        db.session.rollback()
        raise InvalidValue("photo", _l("An amenity can have at most %(max)d photos. Remove one first.",
                                       max=MAX_PHOTOS))
    photo = AmenityPhoto(estate_id=estate.id, amenity_id=amenity.id, content=content, content_type=mime,
                         size=len(content), width=width, height=height, created_by_id=actor.id)
    db.session.add(photo)
    db.session.flush()
    audit.record("amenity.photo_added", photo, actor_id=actor.id,
                 after={"name": amenity.name, "type": mime, "size": len(content), "width": width, "height": height})
    db.session.commit()
    return photo


def remove_photo(actor: User, estate: Estate, amenity_id: int, photo_id: int) -> None:
    amenity = get_amenity(estate, amenity_id)
    photo = db.session.scalar(sa.select(AmenityPhoto).where(
        AmenityPhoto.id == photo_id, AmenityPhoto.amenity_id == amenity.id, AmenityPhoto.estate_id == estate.id))
    if photo is None:
        raise NotFound()
    audit.record("amenity.photo_removed", photo, actor_id=actor.id,
                 before={"name": amenity.name, "type": photo.content_type, "size": photo.size})
    db.session.delete(photo)
    db.session.commit()


def get_photo(estate: Estate, amenity_id: int, photo_id: int) -> tuple[bytes, str]:
    """A photo's bytes and MIME type, if it is of this amenity of this estate; else a 404."""
    row = db.session.execute(sa.select(AmenityPhoto.content, AmenityPhoto.content_type).where(
        AmenityPhoto.id == photo_id, AmenityPhoto.amenity_id == amenity_id,
        AmenityPhoto.estate_id == estate.id)).first()
    if row is None or row.content_type not in PHOTO_TYPES.values():
        raise NotFound()
    return row.content, row.content_type
