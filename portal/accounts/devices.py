"""Guard device binding: a guard account works on one gate device.

The first gate request that carries a device id binds it to the guard's membership;
the same id is then accepted, another id is refused (403) until an admin resets the
binding (or approves the device change the refused guard asked for), and an id already
bound to another guard is refused (409). A request without
a device id is accepted while the account is unbound, and refused once it is bound (so
turning JavaScript and cookies off does not get round the binding). The gate pages (portal/gate/device.py) and the kiosk API
share `check_device`.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit, links, notifications
from portal.accounts.members import require_admin
from portal.accounts.sessions import end_kiosk_tokens
from portal.errors import Conflict, Forbidden, NotFound
from portal.extensions import db
from portal.models import Estate, Membership, Role, User, UserStatus, utcnow

DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,99}$")


class DeviceMismatch(Forbidden):
    code = "DEVICE_MISMATCH"
    http_status = 403

    def __init__(self):
        super().__init__(_l("This guard account is assigned to a different device. Ask an admin to reset it."))


class DeviceInUse(Conflict):
    code = "DEVICE_IN_USE"
    http_status = 409

    def __init__(self):
        super().__init__(_l("This device is assigned to another guard account. Ask an admin to reset that "
                            "guard's device, or use another device."))


def short_device(device_id: str | None) -> str:
    return (device_id or "")[:8]


def clean_device_id(raw: str | None) -> str | None:
    """The device id sent by a gate client, or None when absent or malformed."""
    value = (raw or "").strip()
    return value if DEVICE_ID.match(value) else None


def check_device(membership: Membership, device_id: str | None) -> bool:
    """Accept, bind or refuse `device_id` for this guard membership.
    Returns True when the device was bound just now; raises DeviceMismatch (403) or
    DeviceInUse (409). A missing or malformed id binds nothing: accepted while
    unbound, refused (DeviceMismatch) once bound."""
    device_id = clean_device_id(device_id)
    if membership.bound_device_id == device_id or (device_id is None and membership.bound_device_id is None):
        return False
    if membership.bound_device_id is not None:
        raise DeviceMismatch()
    taken = db.session.scalar(
        sa.select(Membership.id).where(Membership.bound_device_id == device_id, Membership.id != membership.id)
    )
    if taken:
        raise DeviceInUse()
    try:
        bound = db.session.execute(
            sa.update(Membership)
            .where(Membership.id == membership.id, Membership.bound_device_id.is_(None))
            .values(bound_device_id=device_id, bound_at=utcnow())
        ).rowcount
    except IntegrityError as exc:  # the same device bound to another guard at the same moment
        db.session.rollback()
        raise DeviceInUse() from exc
    if not bound:  # another request bound a device first: is it this one?
        db.session.rollback()
        db.session.refresh(membership)
        if membership.bound_device_id == device_id:
            return False
        raise DeviceMismatch()
    audit.record("guard.device_bound", membership, actor_id=membership.user_id,
                 after={"device": short_device(device_id)})
    db.session.commit()
    return True


def guard_membership(estate: Estate, user_id: int) -> Membership:
    membership = db.session.scalar(
        sa.select(Membership).where(
            Membership.estate_id == estate.id, Membership.user_id == user_id, Membership.role == Role.GUARD
        )
    )
    if membership is None:
        raise NotFound()
    return membership


def _free(membership: Membership, actor: User, action: str) -> None:
    """Unbind the guard's device (and settle a pending change request), audited as `action`."""
    before = {"device": short_device(membership.bound_device_id),
              "bound_at": membership.bound_at.isoformat() if membership.bound_at else None}
    if membership.device_change_requested_at is not None:
        before["change_requested_at"] = membership.device_change_requested_at.isoformat()
    membership.bound_device_id = None
    membership.bound_at = None
    membership.device_contact_at = None
    membership.device_change_requested_at = None
    end_kiosk_tokens([membership.id])  # even if the same device is bound again later
    audit.record(action, membership, actor_id=actor.id, before=before, after={"device": None})


def reset_device(actor: User, estate: Estate, user_id: int) -> Membership:
    """Free the guard's device binding: the next device the guard uses is bound. A pending
    device change request is settled with it."""
    require_admin(actor, estate)
    membership = guard_membership(estate, user_id)
    if membership.bound_device_id is None:
        return membership
    _free(membership, actor, "guard.device_reset")
    db.session.commit()
    return membership


# --- a guard on another device asks for the binding to move ---------------------------------

NOTHING_TO_MOVE = _l("Your guard account is not assigned to a device: open the gate page on this device.")
NOT_PENDING = _l("%(name)s has no device change waiting: it was approved or their device was reset already.")


def request_device_change(membership: Membership, now: datetime) -> bool:
    """The guard, refused on another device, asks the estate's admins to move the binding
    to the device they hold (an admin approves with `approve_device_change`). Returns True
    when this call asked, False when a request was pending already; each admin of the
    estate gets a notification once."""
    if membership.role != Role.GUARD or membership.bound_device_id is None:
        raise Conflict(NOTHING_TO_MOVE)
    asked = db.session.execute(
        sa.update(Membership)
        .where(Membership.id == membership.id, Membership.bound_device_id.is_not(None),
               Membership.device_change_requested_at.is_(None))
        .values(device_change_requested_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not asked:
        db.session.rollback()
        return False
    membership.device_change_requested_at = now
    audit.record("guard.device_change_requested", membership, actor_id=membership.user_id,
                 after={"device": short_device(membership.bound_device_id), "requested_at": now.isoformat()})
    guard = db.session.get(User, membership.user_id)
    estate = db.session.get(Estate, membership.estate_id)
    link = links.member_for_admin(estate, membership.user_id)
    for admin in _estate_admins(estate):
        notifications.notify(admin, estate, "device_change_requested", {"guard": guard.display_name}, link, now)
    db.session.commit()
    return True


def approve_device_change(actor: User, estate: Estate, user_id: int) -> Membership:
    """An admin approves a guard's pending device change: the binding is freed as by a
    reset, and the next device the guard uses (the one they asked from) is bound."""
    require_admin(actor, estate)
    membership = guard_membership(estate, user_id)
    if membership.device_change_requested_at is None:
        raise Conflict(NOT_PENDING % {"name": membership.user.display_name})
    _free(membership, actor, "guard.device_change_approved")
    db.session.commit()
    return membership


def pending_device_changes(estate: Estate, limit: int = 20) -> list[Membership]:
    """The estate's guards waiting for a device change, oldest request first (one query)."""
    return list(db.session.scalars(
        sa.select(Membership)
        .where(Membership.estate_id == estate.id, Membership.role == Role.GUARD,
               Membership.device_change_requested_at.is_not(None))
        .options(joinedload(Membership.user))
        .order_by(Membership.device_change_requested_at, Membership.id)
        .limit(limit)
    ))


def _estate_admins(estate: Estate) -> list[User]:
    return list(db.session.scalars(
        sa.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.estate_id == estate.id, Membership.role == Role.ESTATE_ADMIN,
               User.status == UserStatus.ACTIVE)
        .order_by(User.full_name, User.id)
    ))


def admin_contacts(estate: Estate, limit: int = 3) -> list[User]:
    """Whom a refused guard can call: the estate's active admins with a phone or an email."""
    return [u for u in _estate_admins(estate) if u.phone or u.email][:limit]
