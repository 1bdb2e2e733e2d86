"""The audit trail: every state change adds one AuditLog row in the same transaction."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from portal.extensions import db
from portal.models import AuditLog


def record(
    action: str,
    target: Any,
    *,
    actor_id: int | None,
    estate_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditLog:
    entry = AuditLog(
        action=action,
        target_type=type(target).__name__,
        target_id=getattr(target, "id", None),
        actor_user_id=actor_id,
        estate_id=estate_id if estate_id is not None else getattr(target, "estate_id", None),
        before=before,
        after=after,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
