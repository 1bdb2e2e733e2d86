"""`flask --app wsgi clean-uploads`: the images kept before uploads were cleaned (portal.images)
still carry their EXIF, a phone's GPS position among it. The operator runs the command once
after upgrading: every amenity photo, payment proof, incident photo and estate logo kept in
the database with metadata is re-encoded in its own format; a PDF proof, bytes no decoder
reads and an image already clean are left byte for byte; a row without its bytes is reported
and the run goes on. --dry-run changes nothing; a second run cleans nothing more."""

from __future__ import annotations

import io
import secrets
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from PIL import Image, ImageCms

from portal.extensions import db
from portal.images import carries_metadata, clean_image
from portal.models import (
    AmenityPhoto,
    AuditLog,
    Estate,
    Incident,
    IncidentType,
    Payment,
    PaymentMethod,
    PaymentProof,
)
from tests.amenity_support import add_amenity
from tests.test_image_metadata import (
    SERIAL,
    assert_clean_and_upright,
    assert_no_text,
    phone_photo,
    png_with_text,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Author (Teller 7) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
GPS_TAGS = 0x8825


def gps_only_photo() -> bytes:
    """A 40×30 landscape JPEG with a GPS position and no orientation: it keeps its size."""
    exif = Image.Exif()
    exif.get_ifd(GPS_TAGS).update({1: "N", 2: (6.0, 27.0, 3.5), 3: "E", 4: (3.0, 24.0, 12.25)})
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 180, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def old_logo(content: bytes) -> bytes:
    """A logo as the portal made it before: a 256 px RGBA PNG (Pillow wrote no EXIF into it)."""
    with Image.open(io.BytesIO(content)) as image:
        image.thumbnail((256, 256))
        out = io.BytesIO()
        image.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue()


def logo_with_exif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 107, 82)).save(out, "PNG", exif=Image.open(io.BytesIO(phone_photo())).getexif())
    return out.getvalue()


def _payment(estate, unit, reference: str) -> Payment:
    return Payment(estate_id=estate.id, unit_id=unit.id, amount_minor=4_500_000, currency="NGN",
                   method=PaymentMethod.BANK_TRANSFER, tx_ref=f"alpha-M-{secrets.token_hex(6)}", reference=reference)


@pytest.fixture
def old(app, estate_pair):
    """Rows as the upload services wrote them before today: the bytes as uploaded, an amenity
    photo's size as Pillow read it (not turned upright)."""
    alpha, beta = estate_pair.alpha, estate_pair.beta
    pool = add_amenity(app, alpha.estate, "Swimming pool")
    ids = {}
    with app.app_context():
        photos = {"jpeg": (phone_photo(), "image/jpeg", 60, 20), "webp": (phone_photo("WEBP"), "image/webp", 60, 20),
                  "png": (png_with_text(), "image/png", 30, 40), "gps": (gps_only_photo(), "image/jpeg", 40, 30)}
        for name, (content, mime, width, height) in photos.items():
            photo = AmenityPhoto(estate_id=alpha.estate.id, amenity_id=pool, content=content, content_type=mime,
                                 size=len(content), width=width, height=height)
            db.session.add(photo)
            db.session.flush()
            ids[name] = photo.id
        proofs = {"slip": (phone_photo(), "image/jpeg", "slip.jpg"), "pdf": (PDF, "application/pdf", "receipt.pdf"),
                  "broken": (phone_photo()[:300], "image/jpeg", "cut.jpg")}
        for name, (content, mime, filename) in proofs.items():
            payment = _payment(alpha.estate, alpha.unit, f"FT {name.upper()}")
            db.session.add(payment)
            db.session.flush()
            db.session.add(PaymentProof(payment_id=payment.id, estate_id=alpha.estate.id, content=content,
                                        content_type=mime, filename=filename, size=len(content)))
            ids[name] = payment.id
        for name, content in (("incident", phone_photo()), ("no_bytes", None)):
            incident = Incident(estate_id=alpha.estate.id, reported_by_id=alpha.guard.id, gate="Main gate",
                                incident_type=IncidentType.SUSPICIOUS_PERSON, description="A man photographing the gate.",
                                occurred_at=datetime.now(UTC), photo=content, photo_type="image/jpeg")
            db.session.add(incident)
            db.session.flush()
            ids[name] = incident.id
        db.session.execute(sa.update(Estate).where(Estate.id == alpha.estate.id)
                           .values(logo=logo_with_exif(), logo_version=1))
        db.session.execute(sa.update(Estate).where(Estate.id == beta.estate.id)
                           .values(logo=old_logo(phone_photo()), logo_version=3))
        db.session.commit()
    ids["alpha"], ids["beta"] = alpha.estate.id, beta.estate.id
    return ids


def stored(dbs) -> dict:
    """Every stored image's bytes (and what is recorded beside them), by kind and id."""
    with dbs() as s:
        return {
            "photo": {r.id: (r.content, r.content_type, r.size, r.width, r.height) for r in s.execute(sa.select(
                AmenityPhoto.id, AmenityPhoto.content, AmenityPhoto.content_type, AmenityPhoto.size,
                AmenityPhoto.width, AmenityPhoto.height))},
            "proof": {r.payment_id: (r.content, r.content_type, r.filename, r.size) for r in s.execute(sa.select(
                PaymentProof.payment_id, PaymentProof.content, PaymentProof.content_type, PaymentProof.filename,
                PaymentProof.size))},
            "incident": {r.id: (r.photo, r.photo_type) for r in s.execute(
                sa.select(Incident.id, Incident.photo, Incident.photo_type))},
            "logo": {r.id: (r.logo, r.logo_version) for r in s.execute(
                sa.select(Estate.id, Estate.logo, Estate.logo_version))},
        }


def run(app, *args: str):
    result = app.test_cli_runner().invoke(args=["clean-uploads", *args])
    assert result.exit_code == 0, result.output
    return result.output


def audits(dbs) -> list[AuditLog]:
    with dbs() as s:
        rows = s.scalars(sa.select(AuditLog).where(AuditLog.action == "uploads.metadata_removed")).all()
        s.expunge_all()
        return rows


def no_gps(content: bytes, fmt: str, size: tuple[int, int]) -> None:
    image = Image.open(io.BytesIO(content))
    assert (image.format, image.size) == (fmt, size)
    assert not image.getexif() and not image.getexif().get_ifd(GPS_TAGS)
    assert SERIAL.encode() not in content and b"PhoneCo" not in content


def test_the_images_kept_before_lose_their_metadata_once(app, client, old, dbs, make, login):
    output = run(app)
    assert ("11 images checked. Cleaned: 7; already clean: 1; skipped: 2 (1 PDF, 1 unreadable); missing: 1."
            in output)
    assert f"incident photo {old['no_bytes']}: missing" in output
    assert f"payment proof {old['broken']}: not a readable image: left as it is" in output

    after = stored(dbs)
    photos, proofs, incidents, logos = after["photo"], after["proof"], after["incident"], after["logo"]
    # Amenity photos: upright, no EXIF, in their own format; their recorded size follows.
    content, mime, size, width, height = photos[old["jpeg"]]
    assert_clean_and_upright(content)
    assert (mime, size, width, height) == ("image/jpeg", len(content), 20, 60)
    assert_clean_and_upright(photos[old["webp"]][0], "WEBP")
    assert photos[old["webp"]][1:] == ("image/webp", len(photos[old["webp"]][0]), 20, 60)
    assert_no_text(photos[old["png"]][0])
    no_gps(photos[old["gps"]][0], "JPEG", (40, 30))
    assert photos[old["gps"]][1:] == ("image/jpeg", len(photos[old["gps"]][0]), 40, 30)
    # Payment proofs: the photo cleaned under its name; the PDF and the broken file byte for byte.
    content, mime, filename, size = proofs[old["slip"]]
    assert_clean_and_upright(content)
    assert (mime, filename, size) == ("image/jpeg", "slip.jpg", len(content))
    assert proofs[old["pdf"]] == (PDF, "application/pdf", "receipt.pdf", len(PDF))
    assert proofs[old["broken"]][0] == phone_photo()[:300]
    # Incident photos; the row without bytes stays as it was.
    assert_clean_and_upright(incidents[old["incident"]][0])
    assert incidents[old["incident"]][1] == "image/jpeg"
    assert incidents[old["no_bytes"]] == (None, "image/jpeg")
    # Logos: Alpha's cleaned under a new URL; Beta's, made the old way without EXIF, untouched.
    content, version = logos[old["alpha"]]
    no_gps(content, "PNG", (64, 64))
    assert version == 2
    served = client.get(f"/e/alpha/logo.png?v={version}")
    assert served.status_code == 200 and served.data == content
    assert logos[old["beta"]] == (old_logo(phone_photo()), 3)
    # One audit record for the run, by no one, for no single estate.
    [entry] = audits(dbs)
    assert (entry.actor_user_id, entry.estate_id) == (None, None)
    assert entry.after["count"] == 7 and f"amenity photo {old['jpeg']}" in entry.after["images"]
    make.enterprise_admin("boss@example.test")
    login("boss@example.test")
    page = client.get("/enterprise/audit/?estate=-1").get_data(as_text=True)
    assert "The metadata (such as a phone&#39;s GPS position) was removed from 7 images kept before" in page

    again = run(app)
    assert "11 images checked. Cleaned: 0; already clean: 8; skipped: 2 (1 PDF, 1 unreadable); missing: 1." in again
    assert stored(dbs) == after
    assert len(audits(dbs)) == 1


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(app, old, dbs):
    before = stored(dbs)
    output = run(app, "--dry-run")
    assert "Dry run: nothing will be changed." in output
    assert f"amenity photo {old['jpeg']}: carries metadata, would be cleaned" in output
    assert f"estate logo {old['alpha']}: carries metadata, would be cleaned" in output
    assert f"estate logo {old['beta']}:" not in output
    assert "Would clean: 7; already clean: 1; skipped: 2 (1 PDF, 1 unreadable); missing: 1." in output
    assert stored(dbs) == before
    assert audits(dbs) == []


def test_progress_every_hundred_images_and_nothing_to_do_is_not_audited(app, estate_pair, dbs):
    estate = estate_pair.alpha.estate
    pool = add_amenity(app, estate, "Gym")
    clean = clean_image(png_with_text()).content
    with dbs() as s:
        s.add_all(AmenityPhoto(estate_id=estate.id, amenity_id=pool, content=clean, content_type="image/png",
                               size=len(clean), width=30, height=40) for _ in range(150))
        s.commit()
    output = run(app)
    assert "100 images checked…" in output and "200 images checked…" not in output
    assert "150 images checked. Cleaned: 0; already clean: 150;" in output
    assert audits(dbs) == []


def _encoded(mode: str, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (24, 16)).save(out, fmt, **options)
    return out.getvalue()


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


SAMPLES = {  # name: (bytes, whether they carry metadata)
    "jpeg-exif": (phone_photo(), True), "webp-exif": (phone_photo("WEBP"), True), "png-exif": (phone_photo("PNG"), True),
    "png-text": (png_with_text(), True),
    "jpeg-comment": (_encoded("RGB", "JPEG", progressive=True, comment=b"Palm Road"), True),
    "jpeg-trailer": (_encoded("RGB", "JPEG") + b"SEFH trailer", True),
    "webp-xmp": (_encoded("RGBA", "WEBP", xmp=b"<x:xmpmeta/>"), True),
    "mpo": (_encoded("RGB", "MPO", save_all=True, append_images=[Image.new("RGB", (24, 16))]), True),
    "jpeg-cmyk-icc": (_encoded("CMYK", "JPEG", icc_profile=SRGB), False),
    "jpeg-progressive": (_encoded("RGB", "JPEG", progressive=True), False),
    "png-palette": (_encoded("P", "PNG", transparency=0), False),
    "webp-lossless-icc": (_encoded("RGB", "WEBP", lossless=True, icc_profile=SRGB), False),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_what_clean_image_keeps_counts_as_clean(name):
    """An image with metadata is seen as such; what clean_image makes of it is not, so a
    second run leaves every cleaned image as it is (a JPEG encoded again loses a little)."""
    content, dirty = SAMPLES[name]
    assert carries_metadata(content) is dirty
    assert not carries_metadata(clean_image(content).content)
