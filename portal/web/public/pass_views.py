"""The public visitor pass: no login, found by its unguessable QR token (≥128 bits).

GET /p/<qr_token> shows the QR (SVG), the 8-character code, the visitors, the window in
the estate's timezone and language, the estate's name and address and the status;
GET /p/<qr_token>.pdf is the printable version. Deliberately outside /e/<slug>/: the
visitor is no member of the estate."""

from __future__ import annotations

from io import BytesIO

from flask import Response, current_app, g, make_response

from portal.extensions import limiter
from portal.models import Visit, utcnow
from portal.web.public import pass_bp as bp
from portal.web.ui import qr_png_data_uri, qr_svg

PUBLIC_LIMIT = "60/minute"  # per client address; PASS_RATE_LIMIT in the config overrides it


def _public_limit() -> str:
    return current_app.config.get("PASS_RATE_LIMIT") or PUBLIC_LIMIT












def _load(qr_token: str) -> Visit:
    from portal.visits import service

    visit = service.get_pass(qr_token)
    g.estate = visit.estate  # the estate's language (unless the visitor chose one) and timezone
    return visit


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _context(visit: Visit) -> dict:
    from portal.visits import service

    return dict(visit=visit, estate=visit.estate, state=service.pass_state(visit, utcnow(), visit.estate.timezone))


@bp.get("/p/<qr_token>")
@limiter.limit(_public_limit)
def pass_page(qr_token: str):
    from portal.web.ui import render

    visit = _load(qr_token)
    return _private(make_response(render("public/pass.html", qr=qr_svg(visit.qr_token), **_context(visit))))


@bp.get("/p/<qr_token>.pdf")
@limiter.limit(_public_limit)
def pass_pdf(qr_token: str):
    from flask import render_template
    from xhtml2pdf import pisa

    visit = _load(qr_token)
    html = render_template("public/pass_pdf.html", qr_png=qr_png_data_uri(visit.qr_token), **_context(visit))
    out = BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:  # pragma: no cover - a template bug, not the visitor's
        raise RuntimeError("pass PDF failed")
    response = make_response(out.getvalue())
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="pass-{visit.visitor_code}.pdf"'
    return _private(response)
