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


# --- what clean_image would leave behind ---------------------------------------------------------

# The parts of a file clean_image writes (or that say nothing but how to show the pixels);
# anything else in a stored file is metadata it would drop.
_JPEG_KEPT = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}  # APP0, APP2, APP14
_PNG_KEPT = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"sBIT", b"pHYs"}
_WEBP_KEPT = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP"}


def carries_metadata(data: bytes) -> bool:
    """Whether a stored JPEG, PNG or WebP holds anything clean_image would leave out: EXIF
    (a phone's GPS position, its orientation), XMP, comments, text chunks, a JPEG's extra
    frames or data after its end. Read from the file's structure, without decoding pixels,
    so a clean file is left as it is (a JPEG encoded again loses a little each time). True
    for a file whose structure it cannot follow (clean_image decides about those)."""
    try:
        if data.startswith(b"\xff\xd8"):
            return _jpeg_metadata(data)
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png_metadata(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_metadata(data)
    except (IndexError, ValueError):
        pass
    return True


def _jpeg_metadata(data: bytes) -> bool:
    pos = 2
    while True:
        if data[pos] != 0xFF:
            raise ValueError("no marker")
        while data[pos] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # end of image: anything after it (an MPO's second frame, a maker's trailer)
            return bool(data[pos:].strip(b"\x00\r\n "))
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # restart markers, TEM: no length
            continue
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > len(data):
            raise ValueError("bad segment")
        segment = data[pos + 2:pos + length]
        if marker == 0xFE:  # a comment
            return True
        if 0xE0 <= marker <= 0xEF and not (marker in _JPEG_KEPT and segment.startswith(_JPEG_KEPT[marker])):
            return True  # EXIF, XMP, an MPO's index, Photoshop's IPTC, a JFIF thumbnail…
        pos += length
        if marker == 0xDA:  # a scan: its coded data runs to the next marker that is not a stuffed 0xFF or a restart
            while True:
                pos = data.index(b"\xff", pos)
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos += 1
                    continue
                break


def _png_metadata(data: bytes) -> bool:
    pos = 8
    while True:
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if len(kind) < 4:
            raise ValueError("cut short")
        if kind not in _PNG_KEPT:
            return True
        pos += 12 + length
        if kind == b"IEND":
            return bool(data[pos:])


def _webp_metadata(data: bytes) -> bool:
    end = 8 + int.from_bytes(data[4:8], "little")
    pos = 12
    while pos < min(end, len(data)):
        kind = data[pos:pos + 4]
        length = int.from_bytes(data[pos + 4:pos + 8], "little")
        if len(kind) < 4 or pos + 8 + length > len(data):
            raise ValueError("cut short")
        if kind not in _WEBP_KEPT:
            return True
        pos += 8 + length + (length & 1)
    return bool(data[end:])
