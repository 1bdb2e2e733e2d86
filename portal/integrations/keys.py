"""The encryption of provider settings at rest (cryptography's Fernet, through MultiFernet).

`INTEGRATION_KEYS` is a comma-separated list of Fernet keys: the first encrypts, every
one of them decrypts, so a key is rotated by putting a new key first, keeping the old
one after it, running `flask --app wsgi integrations rotate-keys` (which re-encrypts
every row with the first key), and then dropping the old key. Production refuses to
start without it (portal.config.check); elsewhere, when it is unset, a key derived from
SECRET_KEY (HKDF-SHA256) stands in, so development data survives restarts.

A setting's values are one JSON object of strings, encrypted as a whole: the database
never holds a secret in the clear, and a value cannot be told from its length alone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

__all__ = ["InvalidToken", "UnreadableValues", "decrypt", "encrypt", "rotate"]

_INFO = b"gatehouse integration settings v1"


class UnreadableValues(Exception):
    """A stored token that none of INTEGRATION_KEYS opens (its key was dropped)."""


def derived_key(secret_key: str) -> bytes:
    """The stand-in Fernet key when INTEGRATION_KEYS is unset (never in production)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


def configured_keys(config: Mapping) -> list[bytes]:
    keys = [key.strip().encode() for key in str(config.get("INTEGRATION_KEYS") or "").split(",") if key.strip()]
    return keys or [derived_key(str(config.get("SECRET_KEY") or ""))]


_CACHE: dict[tuple[bytes, ...], MultiFernet] = {}


def _fernet() -> MultiFernet:
    keys = tuple(configured_keys(current_app.config))
    fernet = _CACHE.get(keys)
    if fernet is None:
        fernet = _CACHE[keys] = MultiFernet([Fernet(key) for key in keys])
    return fernet


def encrypt(values: Mapping[str, str]) -> str:
    """The values as one token (with the first key)."""
    return _fernet().encrypt(json.dumps(dict(values), sort_keys=True).encode()).decode("ascii")


def decrypt(token: str) -> dict[str, str]:
    """The values of a token, or UnreadableValues."""
    try:
        data = _fernet().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise UnreadableValues() from exc
    values = json.loads(data)
    return {str(key): str(value) for key, value in values.items()} if isinstance(values, dict) else {}


def rotate(token: str) -> str:
    """The same values, encrypted again with the first key (MultiFernet.rotate)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise UnreadableValues() from exc
