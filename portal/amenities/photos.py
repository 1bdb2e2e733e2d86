"""Photos of an amenity: an admin adds up to five (JPEG, PNG or WebP, at most 5 MB each,
judged by their bytes with Pillow, not by their name) and removes them; residents see them
on the amenity's page. A photo is kept re-encoded upright without its metadata (a phone's
GPS position, camera serial, time: portal.images), in the database (amenity_photo) like
payment proofs; every lookup is scoped to the estate, so another estate's photo is a 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal import audit
from portal.amenities.catalogue import get_amenity
from portal.errors import InvalidValue, NotFound
from portal.extensions import db
from portal.images import IMAGE_TYPES, CleanImage, NotAnImage, clean_image
from portal.models import Amenity, AmenityPhoto, Estate, User

MAX_PHOTOS = 5
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = IMAGE_TYPES  # JPEG, PNG, WebP
PHOTO_ACCEPT = ",".join(PHOTO_TYPES.values())


def clean_photo(content: bytes) -> CleanImage:
    """An uploaded photo as it is kept (re-encoded, upright, no metadata), or InvalidValue
    with the reason."""
    if not content:
        raise InvalidValue("photo", _l("Choose a photo to upload."))
    if len(content) > PHOTO_MAX_BYTES:
        raise InvalidValue("photo", _l("The photo is too large: the limit is %(mb)d MB.",
                                       mb=PHOTO_MAX_BYTES // (1024 * 1024)))
    try:
        return clean_image(content)
    except NotAnImage:
        raise InvalidValue("photo", _l("The photo must be a JPEG, PNG or WebP image.")) from None


def photos_of(amenity: Amenity) -> list[AmenityPhoto]:
    """The amenity's photos, oldest first, without their bytes (one query)."""
    return list(db.session.scalars(sa.select(AmenityPhoto).where(
        AmenityPhoto.amenity_id == amenity.id, AmenityPhoto.estate_id == amenity.estate_id)
        .order_by(AmenityPhoto.id)))


def add_photo(actor: User, estate: Estate, amenity_id: int, content: bytes) -> AmenityPhoto:
    """Keep one more photo; a bad file or a sixth photo is refused and nothing changes. Two
    admins adding the last place at once: the amenity's row lock lets one through."""
    amenity = get_amenity(estate, amenity_id)
    clean = clean_photo(content)
    # Lock the amenity (as a booking does) so that the count below holds until the commit.
    db.session.execute(sa.update(Amenity).where(Amenity.id == amenity.id)
                       .values(lock_seq=Amenity.lock_seq + 1).execution_options(synchronize_session=False))
    count = db.session.scalar(sa.select(sa.func.count(AmenityPhoto.id)).where(AmenityPhoto.amenity_id == amenity.id))
    if count >= MAX_PHOTOS:
        db.session.rollback()
        raise InvalidValue("photo", _l("An amenity can have at most %(max)d photos. Remove one first.",
                                       max=MAX_PHOTOS))
    photo = AmenityPhoto(estate_id=estate.id, amenity_id=amenity.id, content=clean.content, content_type=clean.mime,
                         size=len(clean.content), width=clean.width, height=clean.height, created_by_id=actor.id)
    db.session.add(photo)
    db.session.flush()
    audit.record("amenity.photo_added", photo, actor_id=actor.id,
                 after={"name": amenity.name, "type": clean.mime, "size": photo.size, "width": clean.width,
                        "height": clean.height})
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
