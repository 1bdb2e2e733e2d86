"""When each gate device last reached the server (a bootstrap, a sync or a live scan):
the earliest time its offline scans can believably have happened. Kept on the guard's
membership whose bound device it is (`Membership.device_contact_at`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Membership

_RECORD = (
    sa.update(Membership)
    .where(Membership.estate_id == sa.bindparam("b_estate_id"), Membership.bound_device_id == sa.bindparam("b_device"))
    .values(device_contact_at=sa.bindparam("b_now"))
    .execution_options(synchronize_session=False)
)


def record(estate_id: int, device_id: str | None, now: datetime) -> None:
    """Note that `device_id` reached the server at `now`, in the caller's transaction
    (no commit). A device bound to nobody (an admin's browser) notes nothing."""
    if device_id:
        db.session.execute(_RECORD, {"b_estate_id": estate_id, "b_device": device_id, "b_now": now})


def last(estate_id: int, device_id: str | None) -> datetime | None:
    """The device's last contact before now, or None (never, or not a bound device)."""
    if not device_id:
        return None
    return db.session.scalar(sa.select(Membership.device_contact_at).where(
        Membership.estate_id == estate_id, Membership.bound_device_id == device_id))
