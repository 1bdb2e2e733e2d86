"""Amenity photos: an admin adds up to five JPEG/PNG/WebP photos (judged by their bytes,
5 MB at most) and removes one; a bad file is refused with a translated reason and changes
nothing; residents see them lazily on the amenity's page; another estate's photo is 404;
both changes are audited."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.amenities.photos import PHOTO_MAX_BYTES
from portal.extensions import db
from portal.models import AmenityPhoto, AuditLog, User
from tests.amenity_support import add_amenity


def _image(kind: str = "JPEG", size=(40, 30), color=(20, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, kind)
    return out.getvalue()


def _upload(client, amenity_id: int, content: bytes, name: str = "pool.jpg", slug: str = "alpha"):
    return client.post(f"/e/{slug}/admin/amenities/{amenity_id}/photos",
                       data={"photo": (io.BytesIO(content), name)}, content_type="multipart/form-data",
                       follow_redirects=True)


def _photos(app, amenity_id: int) -> list[tuple[int, str, int]]:
    with app.app_context():
        return [(p.id, p.content_type, p.width) for p in db.session.scalars(
            sa.select(AmenityPhoto).where(AmenityPhoto.amenity_id == amenity_id).order_by(AmenityPhoto.id))]


def _as_resident(client, login) -> None:
    client.post("/logout")
    login("resident@alpha.test")


@pytest.fixture
def pool(app, estate_pair, client, login):
    login("admin@alpha.test")
    return add_amenity(app, estate_pair.alpha.estate, "Swimming pool")


def test_an_admin_adds_photos_of_each_kind_and_residents_see_them(app, client, pool, login):
    for kind, name in (("JPEG", "a.jpg"), ("PNG", "b.png"), ("WEBP", "c.webp")):
        page = _upload(client, pool, _image(kind), name).get_data(as_text=True)
        assert "The photo was added; residents see it on the amenity&#39;s page." in page
    stored = _photos(app, pool)
    assert [(mime, width) for _, mime, width in stored] == [("image/jpeg", 40), ("image/png", 40),
                                                           ("image/webp", 40)]
    edit = client.get(f"/e/alpha/admin/amenities/{pool}/edit").get_data(as_text=True)
    assert f'id="remove-photo-{stored[0][0]}"' in edit and "3 of at most 5" in edit
    _as_resident(client, login)
    page = client.get(f"/e/alpha/home/amenities/{pool}/").get_data(as_text=True)
    assert 'id="amenity-photos"' in page and page.count('loading="lazy"') == 2
    first = client.get(f"/e/alpha/home/amenities/{pool}/photos/{stored[0][0]}")
    assert first.status_code == 200 and first.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(first.data)).size == (40, 30)  # kept re-encoded (tests/test_image_metadata.py)
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_type == "AmenityPhoto")))
    assert actions == ["amenity.photo_added"] * 3


@pytest.mark.parametrize(("content", "message"), [
    (b"%PDF-1.4 not a photo %%EOF", "The photo must be a JPEG, PNG or WebP image."),
    (_image("GIF"), "The photo must be a JPEG, PNG or WebP image."),
    (_image("JPEG")[:60], "The photo must be a JPEG, PNG or WebP image."),  # cut short
    (b"\xff\xd8" + b"0" * PHOTO_MAX_BYTES, "The photo is too large: the limit is 5 MB."),
    (b"", "Choose a photo to upload."),
])
def test_a_bad_file_is_refused_and_changes_nothing(app, client, pool, content, message):
    page = _upload(client, pool, content, "photo.jpg").get_data(as_text=True)
    assert message in page
    assert _photos(app, pool) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(
            AuditLog.action == "amenity.photo_added")) == 0


def test_the_refusal_is_in_spanish_for_a_spanish_admin(app, client, pool, estate_pair):
    with app.app_context():
        db.session.get(User, estate_pair.alpha.admin.id).preferred_language = "es"
        db.session.commit()
    page = _upload(client, pool, b"GIF89a nonsense").get_data(as_text=True)
    assert "La foto debe ser una imagen JPEG, PNG o WebP." in page
    assert _photos(app, pool) == []


def test_at_most_five_photos(app, client, pool):
    for n in range(5):
        _upload(client, pool, _image(color=(n * 40, 0, 0)))
    page = _upload(client, pool, _image()).get_data(as_text=True)
    assert "An amenity can have at most 5 photos. Remove one first." in page
    assert len(_photos(app, pool)) == 5
    assert 'id="photo-form"' not in client.get(f"/e/alpha/admin/amenities/{pool}/edit").get_data(as_text=True)


def test_an_admin_removes_a_photo_audited(app, client, pool, login):
    _upload(client, pool, _image())
    _upload(client, pool, _image("PNG"))
    (first, *_), (second, *_) = _photos(app, pool)
    page = client.post(f"/e/alpha/admin/amenities/{pool}/photos/{first}/remove",
                       follow_redirects=True).get_data(as_text=True)
    assert "The photo was removed." in page
    assert [p for p, *_ in _photos(app, pool)] == [second]
    with app.app_context():
        removed = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "amenity.photo_removed"))
        assert removed.target_id == first and removed.before["name"] == "Swimming pool"
    _as_resident(client, login)
    assert client.get(f"/e/alpha/home/amenities/{pool}/photos/{first}").status_code == 404


def test_another_estates_photo_is_404(app, client, pool, estate_pair, login):
    beta_pool = add_amenity(app, estate_pair.beta.estate, "Beta pool")
    with app.app_context():
        photo = AmenityPhoto(estate_id=estate_pair.beta.estate.id, amenity_id=beta_pool, content=_image(),
                             content_type="image/jpeg", size=10, width=40, height=30)
        db.session.add(photo)
        db.session.commit()
        photo_id = photo.id
    # As alpha's admin: neither under beta's amenity id nor under one of alpha's.
    assert client.get(f"/e/alpha/admin/amenities/{beta_pool}/photos/{photo_id}").status_code == 404
    assert client.get(f"/e/alpha/admin/amenities/{pool}/photos/{photo_id}").status_code == 404
    assert client.post(f"/e/alpha/admin/amenities/{beta_pool}/photos/{photo_id}/remove").status_code == 404
    assert client.post(f"/e/alpha/admin/amenities/{pool}/photos/{photo_id}/remove").status_code == 404
    assert _upload(client, beta_pool, _image()).status_code == 404
    _as_resident(client, login)
    assert client.get(f"/e/alpha/home/amenities/{beta_pool}/photos/{photo_id}").status_code == 404
    assert client.get(f"/e/alpha/home/amenities/{pool}/photos/{photo_id}").status_code == 404
    with app.app_context():
        assert db.session.get(AmenityPhoto, photo_id) is not None
