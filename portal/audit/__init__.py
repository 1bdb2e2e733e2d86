"""The audit trail: every state change adds one AuditLog row in the same transaction.

Each row notes the client's address. Services do not read the request: the web layer
says who is calling with `client_address.set(...)` at the start of each request (and
clears it at the end, portal/web/request_meta.py); outside a request it is None.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditLog

# The address of the client whose request is being served, if any.
client_address: ContextVar[str | None] = ContextVar("audit_client_address", default=None)


def _fields(action: str, target: Any, actor_id: int | None, estate_id: int | None, before: dict | None,
            after: dict | None) -> dict:
    # A proxy (flask-login's current_user) names the object it stands for, not itself.
    unwrap = getattr(target, "_get_current_object", None)
    if callable(unwrap):
        target = unwrap()
    return {
        "action": action,
        "target_type": type(target).__name__,
        "target_id": getattr(target, "id", None),
        "actor_user_id": actor_id,
        "estate_id": estate_id if estate_id is not None else getattr(target, "estate_id", None),
        "before": before,
        "after": after,
        "ip_address": client_address.get(),
    }


def record(
    action: str,
    target: Any,
    *,
    actor_id: int | None,
    estate_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditLog:
    entry = AuditLog(**_fields(action, target, actor_id, estate_id, before, after))
    db.session.add(entry)
    return entry


_INSERT = sa.insert(AuditLog.__table__)


def write(
    action: str,
    target: Any,
    *,
    actor_id: int | None,
    estate_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Like `record`, for the hottest paths (a gate scan): the row is inserted now, in the
    caller's transaction, with a plain INSERT (no ORM object, no unit-of-work flush).
    Like the ORM, it leaves an absent before/after SQL NULL (a None given to a JSON column
    in a plain INSERT would be stored as JSON null)."""
    fields = _fields(action, target, actor_id, estate_id, before, after)
    for key in ("before", "after"):
        if fields[key] is None:
            del fields[key]
    db.session.execute(_INSERT, fields)
