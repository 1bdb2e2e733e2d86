"""The answer that serves an amenity's photo, shared by the admin and resident areas."""

from __future__ import annotations

from flask import Response


def photo_response(content: bytes, mime: str) -> Response:
    """A stored photo as an image. A photo's id never gets other bytes, so the browser may
    keep it (privately: it is behind the sign-in); sandboxed and not sniffed, like a proof."""
    return Response(content, mimetype=mime, headers={
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, max-age=86400"})
