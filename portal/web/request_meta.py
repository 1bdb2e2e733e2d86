"""What the domain needs to know about the request it serves, handed over by the web layer
(services never read `request`): the client's address for the audit trail."""

from __future__ import annotations

from flask import Flask, request

from portal import audit


def init_app(app: Flask) -> None:
    @app.before_request
    def note_client_address():
        audit.client_address.set(request.remote_addr)

    @app.teardown_request
    def forget_client_address(exc=None):
        audit.client_address.set(None)
