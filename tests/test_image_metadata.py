"""Uploaded images are kept without their metadata: a resident's phone photo carries its GPS
position, the camera's serial number and the time it was taken in its EXIF block. Every
upload page (amenity photos, payment proofs from a resident and from an admin, incident
photos at the gate, the estate's logo) keeps a re-encoded copy instead, turned upright by
the EXIF orientation first, in the format uploaded; a PNG loses its text chunks; a PDF
proof is kept byte for byte; a decompression bomb is refused like any other bad file."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image, PngImagePlugin
from sqlalchemy.orm import undefer

from portal.billing.periods import month
from portal.models import AmenityPhoto, Estate, Incident, PaymentProof
from tests.amenity_support import add_amenity
from tests.billing_support import add_charge, generate, invoices_of, set_billing

GATE = {"X-Gate-Device": "tablet-0123456789abcdef"}
SERIAL = "SN-4417-PRIVATE"
RED, BLUE = (220, 20, 20), (20, 20, 220)


def phone_exif() -> Image.Exif:
    """What a phone writes about a portrait shot: orientation 6 ("turn 90° clockwise to
    show"), the GPS position, the camera's make and serial number, the time."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneCo"  # Make
    exif[0x0132] = "2026:11:30 07:45:12"  # DateTime
    exif.get_ifd(0x8769)[0xA431] = SERIAL  # BodySerialNumber
    exif.get_ifd(0x8825).update({1: "N", 2: (6.0, 27.0, 3.5), 3: "E", 4: (3.0, 24.0, 12.25)})  # GPS
    return exif


def phone_photo(fmt: str = "JPEG") -> bytes:
    """A 60×20 photo as a phone stores a portrait shot: the sensor's landscape pixels (red
    left half, blue right half) with phone_exif()."""
    image = Image.new("RGB", (60, 20), BLUE)
    image.paste(RED, (0, 0, 30, 20))
    out = io.BytesIO()
    image.save(out, fmt, exif=phone_exif())
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Taken at 12 Palm Road")
    out = io.BytesIO()
    Image.new("RGB", (30, 40), (10, 150, 90)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def assert_clean_and_upright(content: bytes, fmt: str = "JPEG") -> None:
    """No EXIF left, and the portrait shows upright: 20 wide, 60 tall, red on top."""
    image = Image.open(io.BytesIO(content))
    assert image.format == fmt
    assert not image.getexif() and not {"exif", "xmp", "comment"} & set(image.info)
    assert SERIAL.encode() not in content and b"PhoneCo" not in content
    assert image.size == (20, 60)
    top, bottom = image.convert("RGB").getpixel((10, 5)), image.convert("RGB").getpixel((10, 55))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


def assert_no_text(content: bytes) -> None:
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG" and image.size == (30, 40)
    assert not getattr(image, "text", {}) and b"Palm Road" not in content


def _upload(fileobj: bytes, name: str) -> tuple:
    return (io.BytesIO(fileobj), name)


# --- amenity photos ------------------------------------------------------------------------------


@pytest.fixture
def pool(app, estate_pair, login):
    login("admin@alpha.test")
    return add_amenity(app, estate_pair.alpha.estate, "Swimming pool")


def _add_photo(client, amenity_id: int, content: bytes, name: str):
    return client.post(f"/e/alpha/admin/amenities/{amenity_id}/photos", data={"photo": _upload(content, name)},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)


def _stored(dbs, model, order) -> list:
    """The rows of `model`, their (deferred) bytes loaded."""
    with dbs() as s:
        rows = s.scalars(sa.select(model).options(undefer(model.content)).order_by(order)).all()
        s.expunge_all()
        return rows


def _amenity_photos(dbs) -> list[AmenityPhoto]:
    return _stored(dbs, AmenityPhoto, AmenityPhoto.id)


def test_an_amenity_photo_is_kept_upright_without_its_metadata(client, pool, dbs):
    assert "The photo was added" in _add_photo(client, pool, phone_photo(), "pool.jpg")
    assert "The photo was added" in _add_photo(client, pool, phone_photo("WEBP"), "pool.webp")
    assert "The photo was added" in _add_photo(client, pool, png_with_text(), "pool.png")
    jpeg, webp, png = _amenity_photos(dbs)
    assert_clean_and_upright(jpeg.content)
    assert (jpeg.content_type, jpeg.width, jpeg.height, jpeg.size) == ("image/jpeg", 20, 60, len(jpeg.content))
    assert_clean_and_upright(webp.content, "WEBP")
    assert webp.content_type == "image/webp"
    assert_no_text(png.content)
    assert png.content_type == "image/png"
    served = client.get(f"/e/alpha/admin/amenities/{pool}/photos/{jpeg.id}")
    assert served.status_code == 200 and served.data == jpeg.content


def test_a_decompression_bomb_is_refused_like_a_bad_photo(client, pool, dbs, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the 60×20 photo now counts as a bomb
    with pytest.warns(Image.DecompressionBombWarning):
        page = _add_photo(client, pool, phone_photo(), "huge.jpg")
    assert "The photo must be a JPEG, PNG or WebP image." in page
    assert _amenity_photos(dbs) == []


# --- payment proofs --------------------------------------------------------------------------------


@pytest.fixture
def bill(app, estate_pair):
    """An open December bill of Alpha's unit A1 (the resident's)."""
    estate = estate_pair.alpha.estate
    set_billing(app, estate, prefix="AL")
    add_charge(app, estate, "Service charge", 4_500_000)
    generate(app, estate, month(2026, 12))
    [invoice] = invoices_of(app, estate)
    return invoice


def _proofs(dbs) -> list[PaymentProof]:
    return _stored(dbs, PaymentProof, PaymentProof.payment_id)


def _paid_on(dbs, estate_id: int) -> str:
    from portal.billing.generation import estate_today

    with dbs() as s:
        return estate_today(s.get(Estate, estate_id)).isoformat()


def test_a_residents_photo_of_a_transfer_is_kept_without_its_metadata(app, bill, estate_pair, login, dbs):
    resident = app.test_client()
    login("resident@alpha.test", as_client=resident)
    response = resident.post(f"/e/alpha/home/bills/{bill.id}/transfer", content_type="multipart/form-data", data={
        "reference": "TRF-778812", "paid_on": _paid_on(dbs, estate_pair.alpha.estate.id), "amount": "45,000.00",
        "proof": _upload(phone_photo(), "slip.jpg")})
    assert response.status_code == 303
    [proof] = _proofs(dbs)
    assert (proof.content_type, proof.filename, proof.size) == ("image/jpeg", "slip.jpg", len(proof.content))
    assert_clean_and_upright(proof.content)
    served = resident.get(f"/e/alpha/home/payments/{proof.payment_id}/proof")
    assert served.mimetype == "image/jpeg" and served.data == proof.content


@pytest.mark.parametrize("name", ["slip.png", "receipt.pdf"])
def test_an_admins_proof_png_loses_its_text_and_a_pdf_is_kept_as_it_is(client, bill, estate_pair, login, dbs, name):
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Author (Teller 7) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    content = pdf if name.endswith(".pdf") else png_with_text()
    login("admin@alpha.test")
    response = client.post("/e/alpha/admin/billing/payments/new", content_type="multipart/form-data", data={
        "unit_number": "A1", "method": "BANK_TRANSFER", "reference": "FT 2611 0042", "amount": "45,000.00",
        "paid_on": _paid_on(dbs, estate_pair.alpha.estate.id), "proof": _upload(content, name)})
    assert response.status_code == 303
    [proof] = _proofs(dbs)
    if name.endswith(".pdf"):
        assert proof.content == pdf and proof.content_type == "application/pdf"
    else:
        assert_no_text(proof.content)
        assert proof.content_type == "image/png"


# --- incident photos at the gate -----------------------------------------------------------------


def test_a_guards_incident_photo_is_kept_upright_without_its_metadata(client, estate_pair, login, dbs):
    login("guard@alpha.test")
    response = client.post("/e/alpha/gate/incidents", headers=GATE, content_type="multipart/form-data", data={
        "incident_type": "SUSPICIOUS_PERSON", "description": "A man photographing the gate keypad.",
        "photo": _upload(phone_photo(), "keypad.jpg")})
    assert response.status_code == 302
    with dbs() as s:
        incident = s.scalars(sa.select(Incident)).one()
        content, mime = incident.photo, incident.photo_type
    assert mime == "image/jpeg"
    assert_clean_and_upright(content)
    served = client.get(f"/e/alpha/gate/incidents/{incident.id}/photo", headers=GATE)
    assert served.status_code == 200 and served.data == content


# --- the estate's logo ---------------------------------------------------------------------------


def test_the_estate_logo_is_kept_upright_without_its_metadata(client, estate_pair, login, dbs):
    login("admin@alpha.test")
    response = client.post("/e/alpha/admin/settings/profile", content_type="multipart/form-data", data={
        "name": "Alpha Court", "brand_color": "#1e6b52", "logo": _upload(phone_photo(), "logo.jpg")})
    assert response.status_code == 302
    logo = client.get("/e/alpha/logo.png?v=1")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert_clean_and_upright(logo.data, "PNG")  # a logo is always kept as a small PNG
