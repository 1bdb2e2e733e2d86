"""The public visitor pass: no login, found by its unguessable QR token (≥128 bits).

GET /p/<qr_token> shows the QR (SVG), the 8-character code, the visitors, the window in
the estate's timezone and language, the estate's name and address and the status;
GET /p/<qr_token>.pdf is the printable version. Deliberately outside /e/<slug>/: the
visitor is no member of the estate."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import BytesIO

import segno
from babel import dates
from flask import Blueprint, Response, current_app, g, make_response
from flask_babel import get_locale, get_timezone

from portal.extensions import limiter
from portal.models import PassType, Visit, utcnow

bp = Blueprint("passes", __name__)

PUBLIC_LIMIT = "60/minute"  # per client address; PASS_RATE_LIMIT in the config overrides it


def _public_limit() -> str:
    return current_app.config.get("PASS_RATE_LIMIT") or PUBLIC_LIMIT


def qr_svg(qr_token: str, scale: int = 6) -> str:
    """The QR of a pass as inline SVG; it encodes just the token."""
    return segno.make(qr_token, error="m").svg_inline(scale=scale, border=4, omitsize=True, light="#fff")


def qr_png_data_uri(qr_token: str, scale: int = 8) -> str:
    return segno.make(qr_token, error="m").png_data_uri(scale=scale, border=4)


@bp.app_template_global()
def weekday_names(weekdays: str) -> str:
    """"135" → "Monday, Wednesday, Friday" in the current language."""
    names = get_locale().days["format"]["wide"]
    return ", ".join(names[int(d) - 1] for d in sorted(weekdays or "") if d in "1234567")


@bp.app_template_global()
def clock(value: time | datetime | None) -> str:
    """A time of day in the current language (a datetime: in the estate's timezone)."""
    if value is None:
        return ""
    from portal.web.i18n import formatting_locale

    if isinstance(value, datetime):
        value = value.astimezone(get_timezone()).time()
    return dates.format_time(value, "short", locale=formatting_locale())


@bp.app_template_global()
def pass_last_day(visit: Visit):
    """The last day of a RECURRING pass (its end is midnight after that day)."""
    return visit.valid_until - timedelta(minutes=1) if visit.pass_type == PassType.RECURRING else visit.valid_until


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
    return _private(make_response(render("passes/pass.html", qr=qr_svg(visit.qr_token), **_context(visit))))


@bp.get("/p/<qr_token>.pdf")
@limiter.limit(_public_limit)
def pass_pdf(qr_token: str):
    from flask import render_template
    from xhtml2pdf import pisa

    visit = _load(qr_token)
    html = render_template("passes/pass_pdf.html", qr_png=qr_png_data_uri(visit.qr_token), **_context(visit))
    out = BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:  # pragma: no cover - a template bug, not the visitor's
        raise RuntimeError("pass PDF failed")
    response = make_response(out.getvalue())
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="pass-{visit.visitor_code}.pdf"'
    return _private(response)
