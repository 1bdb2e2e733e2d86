"""Rendering helpers shared by every blueprint (HTMX fragments, flashes, navigation)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import segno
from babel import dates
from flask import (
    Flask,
    Response,
    g,
    get_flashed_messages,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from jinja2_fragments.flask import render_block

from portal import labels
from portal.amenities.bookings import duration_text
from portal.models import PassType, Role, Visit
from portal.web import audit_sentences, tenancy


def fragment_request() -> bool:
    """An HTMX request that gets a block, not the full page (see `render`)."""
    return bool(request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
                and not request.headers.get("HX-History-Restore-Request"))


def render(template: str, block: str | None = None, **context) -> str:
    """The full page, or only `block` for an HTMX request that targets it.
    Boosted navigations and history restores get the full page."""
    if block and fragment_request():
        return render_block(template, block, **context)
    return render_template(template, **context)


def is_safe_next(target: str | None) -> bool:
    """A path on this site: no scheme or host, no control characters (a CR/LF would split
    the Location header) and no backslash (browsers read `/\\host` as `//host`)."""
    if not target or any(ch < " " or ch in "\x7f\\" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")


def home_url_for(user) -> str:
    """Where a user lands after signing in: their role's home, or the chooser."""
    if user.is_enterprise_admin:
        return url_for("enterprise.home")
    memberships = [m for m in tenancy.user_memberships(user) if m.estate.is_open]
    if len(memberships) == 1:
        return area_url(memberships[0].role, memberships[0].estate.slug)
    return url_for("public.choose")


def area_url(role: Role, slug: str) -> str:
    endpoint = {
        Role.ESTATE_ADMIN: "admin.home",
        Role.GUARD: "gate.home",
        Role.RESIDENT: "resident.home",
    }[role]
    return url_for(endpoint, estate_slug=slug)


def _flashes_html() -> str:
    return render_template("_flashes.html", oob=True)


def init_app(app: Flask) -> None:
    tenancy.init_app(app)
    app.jinja_env.globals.update(labels.JINJA_GLOBALS)
    app.jinja_env.globals.update(
        area_url=area_url, Role=Role, weekday_names=weekday_names, clock=clock, pass_last_day=pass_last_day,
        unit_title=unit_title, duration=duration_text,
        audit_sentence=audit_sentences.sentence, audit_action_name=audit_sentences.action_name,
        audit_field_name=audit_sentences.field_name, audit_value=audit_sentences.value_text,
    )

    app.jinja_env.filters["unit_label"] = unit_title

    @app.context_processor
    def shell_context() -> dict:
        switcher = []
        if current_user.is_authenticated and request.endpoint and request.endpoint != "static":
            switcher = g.get("_switcher")
            if switcher is None:
                switcher = g._switcher = tenancy.user_memberships(current_user)
        return {"switcher_memberships": switcher}

    @app.after_request
    def htmx_extras(response: Response) -> Response:
        if request.headers.get("HX-Request"):
            response.vary.add("HX-Request")
            # Flashes made during an HTMX request travel with its response as an
            # out-of-band swap, unless the response sends the browser elsewhere.
            is_html = response.mimetype == "text/html"
            leaving = response.status_code in (301, 302, 303) or "HX-Redirect" in response.headers \
                or "HX-Location" in response.headers
            if is_html and not leaving and not response.direct_passthrough and _has_flashes():
                response.set_data(response.get_data(as_text=True) + _flashes_html())
        return response


def _has_flashes() -> bool:
    from flask import session

    return bool(session.get("_flashes"))


__all__ = ["render", "is_safe_next", "home_url_for", "area_url", "get_flashed_messages"]


def qr_svg(qr_token: str, scale: int = 6) -> str:
    """The QR of a pass as inline SVG; it encodes just the token."""
    return segno.make(qr_token, error="m").svg_inline(scale=scale, border=4, omitsize=True, light="#fff")


def qr_png_data_uri(qr_token: str, scale: int = 8) -> str:
    return segno.make(qr_token, error="m").png_data_uri(scale=scale, border=4)


def weekday_names(weekdays: str) -> str:
    """"135" → "Monday, Wednesday, Friday" in the current language."""
    names = get_locale().days["format"]["wide"]
    return ", ".join(names[int(d) - 1] for d in sorted(weekdays or "") if d in "1234567")


def clock(value: time | datetime | None) -> str:
    """A time of day in the current language (a datetime: in the estate's timezone)."""
    if value is None:
        return ""
    from portal.web.i18n import formatting_locale

    if isinstance(value, datetime):
        value = value.astimezone(get_timezone()).time()
    return dates.format_time(value, "short", locale=formatting_locale())


_NAMED_UNIT = re.compile(r"^[^\W\d_]{2,}[\s.-]")


def unit_title(number: str) -> str:
    """A unit as a heading: "Unit A12", but "Casa 7" or "House 2" as they are (a label
    that starts with a word needs no "Unit" before it: not "Unidad Casa 7")."""
    from flask_babel import gettext

    number = number or ""
    return number if _NAMED_UNIT.match(number) else gettext("Unit %(number)s", number=number)


def pass_last_day(visit: Visit):
    """The last day of a RECURRING pass (its end is midnight after that day)."""
    return visit.valid_until - timedelta(minutes=1) if visit.pass_type == PassType.RECURRING else visit.valid_until
