"""Security headers on every response: HTML pages, fragments, JSON, errors and static files.

A strict Content-Security-Policy: scripts only from this origin (no inline scripts, no
inline event handlers, no eval: htmx runs with allowEval off, see templates/base.html),
images also from data: and blob: URLs (QR codes, photo previews), the camera stream
and the gate's service worker from this origin. Inline styles stay allowed (the
estate's brand colour in base.html, the printable roll, htmx's indicator styles).

A response that already carries one of these headers keeps it (the pass page sends the
stricter `Referrer-Policy: no-referrer`).
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "media-src 'self' blob: mediastream:",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
