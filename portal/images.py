"""Uploaded images as the portal keeps them: decoded and encoded again, turned upright by
their EXIF orientation first, without any of the upload's metadata (EXIF with a phone's
GPS position, camera serial and time; XMP; comments; PNG text chunks). The colour profile
(ICC) stays, so a phone photo's colours look as taken; it says nothing about who took it.
The format stays the one uploaded: JPEG (a phone camera's MPO too), PNG or WebP."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
QUALITY = 85  # JPEG and WebP
_MODES = {"JPEG": ("L", "RGB", "CMYK"), "PNG": ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"),
          "WEBP": ("RGB", "RGBA")}


class NotAnImage(ValueError):
    """Not a JPEG, PNG or WebP image that decodes whole, or more pixels than Pillow's
    decompression-bomb limit (Image.MAX_IMAGE_PIXELS)."""


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    mime: str
    width: int
    height: int


def clean_image(data: bytes, *, max_side: int | None = None, save_as: str | None = None) -> CleanImage:
    """`data` re-encoded upright and without metadata, in its own format (or `save_as`:
    "JPEG", "PNG" or "WEBP"), shrunk to fit `max_side` pixels a side when given;
    NotAnImage for anything else."""
    try:
        with Image.open(io.BytesIO(data)) as original:
            kind = "JPEG" if original.format == "MPO" else original.format
            if kind not in IMAGE_TYPES:
                raise NotAnImage(f"format {kind}")
            if Image.MAX_IMAGE_PIXELS and original.width * original.height > Image.MAX_IMAGE_PIXELS:
                raise NotAnImage("too many pixels")  # a decompression bomb, refused before decoding
            original.load()
            image = _upright(original)
        if max_side:
            image.thumbnail((max_side, max_side))
        return _encode(image, save_as or kind)
    except NotAnImage:
        raise
    except Exception as exc:  # Pillow's decoders raise many kinds of error on a crafted or cut-short file
        raise NotAnImage(str(exc)) from exc


def _upright(image: Image.Image) -> Image.Image:
    """A copy turned as its EXIF orientation says (as it is when that EXIF is unreadable)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block: the pixels are still good
        return image.copy()


def _encode(image: Image.Image, kind: str) -> CleanImage:
    """Save with only what the pixels need: the colour profile and a palette's transparent
    colour. Everything else in `info` (exif, xmp, comment, text chunks…) is left behind."""
    options: dict = {"icc_profile": image.info.get("icc_profile")}
    transparency = image.info.get("transparency")
    if image.mode not in _MODES[kind]:
        see_through = "A" in image.mode or transparency is not None
        image = image.convert("RGBA" if see_through and "RGBA" in _MODES[kind] else "RGB")
    elif kind == "PNG" and transparency is not None:
        options["transparency"] = transparency
    image.info = {}
    if kind != "PNG":
        options["quality"] = QUALITY
    out = io.BytesIO()
    image.save(out, kind, **{key: value for key, value in options.items() if value is not None})
    return CleanImage(out.getvalue(), IMAGE_TYPES[kind], image.width, image.height)
