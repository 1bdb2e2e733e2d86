"""Email by SMTP, through Flask-Mailman (its SMTP backend and multipart messages).

Configured with MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS (STARTTLS), MAIL_USE_SSL (SMTPS),
MAIL_USERNAME, MAIL_PASSWORD, MAIL_FROM (the sender) and MAIL_TIMEOUT (seconds), read
when each mail is sent. The worker calls `SmtpProvider.send` for an outbox email
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
    name = "SMTP"

    def send(self, message: OutboxMessage, estate: Estate | None) -> str:
        config = current_app.config
        renderer = current_app.extensions.get(RENDERER)
        html, text = renderer(message, estate) if renderer else ("", message.body)
        sender = config.get("MAIL_FROM") or config.get("MAIL_DEFAULT_SENDER")
        domain = parseaddr(sender)[1].rpartition("@")[2] or "gatehouse"
        message_id = make_msgid(domain=domain)
        connection = EmailBackend(
            host=config["MAIL_SERVER"], port=int(config.get("MAIL_PORT") or 25),
            username=config.get("MAIL_USERNAME") or "", password=config.get("MAIL_PASSWORD") or "",
            use_tls=bool(config.get("MAIL_USE_TLS")), use_ssl=bool(config.get("MAIL_USE_SSL")),
            timeout=config.get("MAIL_TIMEOUT") or 20,
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
