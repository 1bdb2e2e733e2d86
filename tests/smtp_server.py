"""A real SMTP server on a free local port (aiosmtpd, in a thread) that keeps what it
receives: `with local_smtp() as smtp:` … `smtp.wait_for(1)` → parsed email messages.
`local_smtp(delay=2)` answers each message's DATA only after 2 s (a slow provider)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.browser.conftest import _free_port


class Inbox:
    def __init__(self, refuse: tuple[str, ...] = (), delay: float = 0.0):
        self.refuse = refuse
        self.delay = delay
        self.data_started: list[float] = []  # time.monotonic() when each message's DATA came in
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_started.append(time.monotonic())
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 15) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count and time.monotonic() < deadline:
                self._arrived.wait(deadline - time.monotonic())
            return list(self.messages)


@contextmanager
def local_smtp(refuse: tuple[str, ...] = (), delay: float = 0.0):
    inbox = Inbox(refuse, delay)
    inbox.port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def parts(message: EmailMessage) -> tuple[str, str]:
    """(plain text, html) of a multipart/alternative message, with plain line ends."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")
