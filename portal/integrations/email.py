"""Email by SMTP, through Flask-Mailman (its SMTP backend and multipart messages).

The SMTP servers are the "smtp" providers of the EMAIL channel
(portal.integrations.settings.providers): the estate's own, else the platform's (both
set in the portal's pages, stored encrypted), else configuration: MAIL_SERVER,
MAIL_PORT, MAIL_USE_TLS (STARTTLS), MAIL_USE_SSL (SMTPS), MAIL_USERNAME, MAIL_PASSWORD
and MAIL_FROM (the sender). MAIL_TIMEOUT (seconds) applies to all. They are tried in
order until one takes the mail; each try's outcome is recorded for the integration
status page. The worker calls `SmtpProvider.send` for an outbox email
(portal.integrations.outbox); it sends a plain-text part and an HTML part, both made by
the renderer the web layer registers (portal/web/mail.py: the estate's name and colour,
a footer saying why the person got it, in the message's language), and returns the
Message-ID it gave the mail as the provider's id.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.utils import make_msgid, parseaddr

from flask import Flask, current_app
from flask_mailman import EmailMultiAlternatives
from flask_mailman.backends.smtp import EmailBackend

from portal.extensions import mail
from portal.integrations import settings
from portal.integrations.kinds import flag
from portal.integrations.outbox import ProviderError
from portal.models import Estate, OutboxMessage

RENDERER = "portal.email_renderer"
Renderer = Callable[[OutboxMessage, Estate | None], tuple[str, str]]  # (html, text)


def init_app(app: Flask) -> None:
    app.config.setdefault("MAIL_FROM", "Gatehouse <no-reply@gatehouse.test>")
    app.config.setdefault("MAIL_DEFAULT_SENDER", app.config["MAIL_FROM"])
    app.config.setdefault("MAIL_BACKEND", "smtp")  # Flask-Mailman would pick "locmem" under TESTING
    mail.init_app(app)


def register_renderer(app: Flask, renderer: Renderer) -> None:
    """How an outbox email becomes (html, text): the web layer says, at app start."""
    app.extensions[RENDERER] = renderer


class SmtpProvider:
    """Sends through the given "smtp" providers in order (by default the message's
    estate's, see the module's docstring). `name` names the last one tried: "SMTP" for
    configuration, "SMTP#<id>" for a stored provider."""

    name = "SMTP"

    def __init__(self, providers: list[settings.ProviderSettings] | None = None):
        self.providers = providers

    def send(self, message: OutboxMessage, estate: Estate | None) -> str:
        found = self.providers if self.providers is not None else settings.providers("EMAIL", message.estate_id)
        candidates = [p for p in found if p.kind == "smtp"]
        if not candidates:
            raise ProviderError("No EMAIL provider is configured (set MAIL_SERVER, or add an SMTP provider).",
                                permanent=True)
        failure: Exception | None = None
        for setting in candidates:
            self.name = "SMTP" if setting.id is None else f"SMTP#{setting.id}"
            try:
                message_id = _send(setting, message, estate)
            except Exception as exc:  # recorded for the status page, then the next server
                settings.record_outcome(setting, message.estate_id, ok=False, error=str(exc) or type(exc).__name__)
                if getattr(exc, "permanent", False):
                    raise
                failure = exc
                continue
            settings.record_outcome(setting, message.estate_id, ok=True)
            return message_id
        raise failure  # type: ignore[misc] - every candidate failed


def _send(setting: settings.ProviderSettings, message: OutboxMessage, estate: Estate | None) -> str:
    config, values = current_app.config, setting.values
    renderer = current_app.extensions.get(RENDERER)
    html, text = renderer(message, estate) if renderer else ("", message.body)
    sender = values.get("from_address") or config.get("MAIL_FROM") or config.get("MAIL_DEFAULT_SENDER")
    domain = parseaddr(sender)[1].rpartition("@")[2] or "gatehouse"
    message_id = make_msgid(domain=domain)
    try:
        port = int(values.get("port") or 25)
    except ValueError as exc:
        raise ProviderError(f"The SMTP port {values.get('port')!r} is not a number.", permanent=True) from exc
    connection = EmailBackend(
        host=values.get("host", ""), port=port, username=values.get("username") or "",
        password=values.get("password") or "", use_tls=flag(values.get("use_tls")),
        use_ssl=flag(values.get("use_ssl")), timeout=config.get("MAIL_TIMEOUT") or 20,
    )
    email = EmailMultiAlternatives(subject=message.subject, body=text, from_email=sender,
                                   to=[message.recipient], headers={"Message-ID": message_id},
                                   connection=connection)
    if html:
        email.attach_alternative(html, "text/html")
    try:
        accepted = email.send()
    except smtplib.SMTPRecipientsRefused as exc:  # a 5xx for the address: retrying cannot help
        raise ProviderError(f"The SMTP server refused {message.recipient}: {exc.recipients}",
                            permanent=True) from exc
    if not accepted:
        raise ProviderError("The SMTP server accepted no recipient.")
    return message_id
