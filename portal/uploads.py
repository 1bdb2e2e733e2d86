"""The images the portal keeps, all in the database: amenity photos (amenity_photo.content),
payment proofs (payment_proof.content, an image or a PDF), incident photos (incident.photo)
and each estate's logo (estate.logo, a PNG). Since portal.images, every upload is kept
re-encoded without its metadata; `clean_stored_images` does the same, once, for the ones
kept before (the command `flask --app wsgi clean-uploads`).

Each image is re-encoded through clean_image in its recorded format (so its content type,
and a proof's file name, stay right) and written back in a transaction of its own: a
crash leaves every row either as it was or cleaned. An image without metadata is left as
it is (a JPEG encoded again loses a little each time), so running it again changes
nothing. A PDF proof is kept byte for byte; bytes no decoder reads are left as they are."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from portal import audit
from portal.estates.settings import LOGO_SIZE
from portal.extensions import db
from portal.images import IMAGE_TYPES, CleanImage, NotAnImage, carries_metadata, clean_image
from portal.models import AmenityPhoto, Estate, Incident, PaymentProof

_FORMATS = {mime: kind for kind, mime in IMAGE_TYPES.items()}  # image/jpeg → JPEG


class Outcome(enum.StrEnum):
    CLEANED = "cleaned"  # (or, in a dry run, would be)
    ALREADY_CLEAN = "already clean"
    NOT_AN_IMAGE = "not an image"  # a PDF proof: kept as it is
    UNREADABLE = "unreadable"  # recorded as an image, but no decoder reads it: left as it is
    MISSING = "missing"  # the row says there is an upload, but its bytes are empty or gone


@dataclass(frozen=True)
class _Kind:
    """Where one kind of upload is kept, and what else to write with cleaned bytes."""

    name: str  # in the command's output: "amenity photo 12"
    key: sa.orm.InstrumentedAttribute
    content: sa.orm.InstrumentedAttribute
    mime: sa.orm.InstrumentedAttribute | None  # None: always PNG (the logo)
    has_upload: sa.ColumnElement[bool]
    extra: Callable[[CleanImage], dict]
    max_side: int | None = None


KINDS = (
    _Kind("amenity photo", AmenityPhoto.id, AmenityPhoto.content, AmenityPhoto.content_type, sa.true(),
          lambda image: {"size": len(image.content), "width": image.width, "height": image.height}),
    _Kind("payment proof", PaymentProof.payment_id, PaymentProof.content, PaymentProof.content_type, sa.true(),
          lambda image: {"size": len(image.content)}),
    _Kind("incident photo", Incident.id, Incident.photo, Incident.photo_type,
          sa.or_(Incident.photo_type.is_not(None), Incident.photo.is_not(None)), lambda image: {}),
    # A new logo_version gives the cleaned logo a new URL (the old one may be cached for a year).
    _Kind("estate logo", Estate.id, Estate.logo, None, Estate.logo.is_not(None),
          lambda image: {"logo_version": Estate.logo_version + 1}, max_side=LOGO_SIZE),
)


@dataclass(frozen=True)
class Item:
    kind: str
    key: int

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


@dataclass
class CleanupReport:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    cleaned: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class StoredImages:
    """The audit record's target: every stored image at once (no row of its own)."""

    id = None


def clean_stored_images(*, dry_run: bool = False,
                        progress: Callable[[Item, Outcome], None] | None = None) -> CleanupReport:
    """Clean every stored image that still carries metadata; `progress` hears of each one.
    A dry run reads all of them and writes nothing. A run that cleaned any is audited once
    (platform-wide: "uploads.metadata_removed", with the counts)."""
    report = CleanupReport()
    for kind in KINDS:
        keys = db.session.scalars(sa.select(kind.key).where(kind.has_upload).order_by(kind.key)).all()
        db.session.rollback()  # nothing held between rows
        for key in keys:
            outcome = _clean_one(kind, key, dry_run)
            report.counts[outcome] += 1
            if outcome is Outcome.CLEANED:
                report.cleaned.append(str(Item(kind.name, key)))
            if progress is not None:
                progress(Item(kind.name, key), outcome)
    if report.counts[Outcome.CLEANED] and not dry_run:
        audit.record("uploads.metadata_removed", StoredImages(), actor_id=None,
                     after={"count": report.counts[Outcome.CLEANED],
                            **{outcome.name.lower(): n for outcome, n in report.counts.items()},
                            "images": report.cleaned[:50]})
        db.session.commit()
    return report


def _clean_one(kind: _Kind, key: int, dry_run: bool) -> Outcome:
    """One row, in a transaction of its own (its row locked while it is read and written)."""
    columns = [kind.content] + ([kind.mime] if kind.mime is not None else [])
    query = sa.select(*columns).where(kind.key == key)
    row = db.session.execute(query if dry_run else query.with_for_update()).first()
    try:
        if row is None or not row[0]:
            return Outcome.MISSING
        content, mime = row[0], (row[1] if kind.mime is not None else IMAGE_TYPES["PNG"])
        if mime not in _FORMATS:
            return Outcome.NOT_AN_IMAGE
        if not carries_metadata(content):
            return Outcome.ALREADY_CLEAN
        try:
            image = clean_image(content, max_side=kind.max_side, save_as=_FORMATS[mime])
        except NotAnImage:
            return Outcome.UNREADABLE
        if not dry_run:
            db.session.execute(sa.update(kind.key.class_).where(kind.key == key)
                               .values({kind.content.key: image.content, **kind.extra(image)})
                               .execution_options(synchronize_session=False))
            db.session.commit()
        return Outcome.CLEANED
    finally:
        db.session.rollback()
