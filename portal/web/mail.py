"""How an outbox email looks: an HTML and a plain-text part from templates/email/, with
the estate's name and colour and a footer saying why the person got it, in the
message's language. Registered at app start for the SMTP provider
(portal.integrations.email), which the worker calls outside any request."""

from __future__ import annotations

import re

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from portal.integrations import email
from portal.models import Estate, OutboxMessage
from portal.web.links import absolute

DEFAULT_COLOUR = "#1e6b52"
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_URL = re.compile(r"https?://[^\s<>\"']+")
NOTIFICATION_REASONS = ("visitor_arrived", "walk_in_request", "walk_in_decided")


def _footer(reason: str, estate: Estate | None) -> str:
    name = estate.name if estate is not None else "Gatehouse"
    if reason == "password_reset":
        return str(_l("You received this email because someone asked to reset the password of the Gatehouse "
                      "account with this address. If it was not you, ignore it: your password stays the same."))
    if reason == "invitation":
        return str(_l("You received this email because you were invited to %(estate)s on Gatehouse.", estate=name))
    if reason == "join_request":
        return str(_l("You received this email because you asked to join %(estate)s on Gatehouse.", estate=name))
    if reason == "integration_test":
        return str(_l("You received this email because an administrator of %(estate)s sent a test message to "
                      "this address.", estate=name))
    if reason in NOTIFICATION_REASONS:
        return str(_l("You received this email because you live at %(estate)s and chose to be told of this by "
                      "email. You can change that on your profile page: %(link)s", estate=name,
                      link=absolute("account.profile")))
    return str(_l("You received this email because you have an account on Gatehouse."))


def _paragraphs(text: str) -> list[Markup]:
    """The body's paragraphs as HTML: escaped, line breaks kept, links clickable."""
    result = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        html = Markup("")
        position = 0
        for match in _URL.finditer(paragraph):
            url = match.group(0)
            html += escape(paragraph[position:match.start()])
            html += Markup('<a href="{0}" style="color:inherit">{0}</a>').format(url)
            position = match.end()
        html += escape(paragraph[position:])
        result.append(Markup("<br>\n").join(html.split("\n")))
    return result


def render_email(message: OutboxMessage, estate: Estate | None) -> tuple[str, str]:
    """(html, text) of an outbox email."""
    colour = estate.brand_color if estate is not None and _COLOUR.fullmatch(estate.brand_color or "") else None
    language = message.language or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    with force_locale(language):
        context = {
            "language": language, "subject": message.subject, "body": message.body.strip(),
            "paragraphs": _paragraphs(message.body), "estate_name": estate.name if estate is not None else "Gatehouse",
            "colour": colour or DEFAULT_COLOUR, "footer": _footer(message.reason, estate),
        }
        env = current_app.jinja_env  # no context processors: they may want a request
        return (env.get_template("email/message.html").render(context),
                env.get_template("email/message.txt").render(context))


def init_app(app: Flask) -> None:
    email.register_renderer(app, render_email)
