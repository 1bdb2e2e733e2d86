"""Domain errors raised by services; views turn them into messages or JSON envelopes."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `code` is stable (JSON), `message` is translated (lazy)."""

    code = "CONFLICT"
    http_status = 409

    def __init__(self, message, code: str | None = None, http_status: int | None = None):
        super().__init__(str(code or self.code))
        self.message = message
        if code:
            self.code = code
        if http_status:
            self.http_status = http_status
