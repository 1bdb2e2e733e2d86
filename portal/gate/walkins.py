"""Walk-ins: an unannounced visitor at the gate. The guard types who they are and which
unit they want; every resident with a login in that unit is notified and may approve
or decline. An approval makes a SINGLE_USE pass (through the visits service, so bans
and codes apply) that the guard then records at the gate like any other pass.

The first answer wins: it is decided by one conditional UPDATE (status = PENDING).
A PENDING walk-in older than WALK_IN_TTL counts as EXPIRED when read (`effective_status`)
and can no longer be answered or withdrawn; it is written EXPIRED (audited) only by
`expire_due`, the `expire-walkins` job. Pages never write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload

from portal import audit, links, notifications
from portal.errors import Conflict, DomainError, InvalidValue, NotFound
from portal.extensions import db
from portal.models import (
    Estate,
    Membership,
    Notification,
    PassType,
    Resident,
    Role,
    Unit,
    User,
    UserStatus,
    Visit,
    WalkIn,
    WalkInStatus,
)
from portal.phones import InvalidPhone, normalise_phone
from portal.text import strip_bidi_controls
from portal.visits import service as visits
from portal.visits.bans import active_ban

WALK_IN_TTL = timedelta(minutes=30)
PASS_LENGTH = timedelta(hours=2)
PEOPLE_RANGE = (1, 20)
RECENT = timedelta(minutes=15)  # how long a decided walk-in stays on the resident's home card

REQUIRED = _l("This field is required.")


class WalkInBanned(Conflict):
    """The visitor's phone has an active estate-wide ban."""

    code = "VISITOR_BANNED"
    http_status = 409


class AlreadyAnswered(Conflict):
    """Someone answered (or the guard withdrew, or it expired) first."""

    code = "CONFLICT"
    http_status = 409


@dataclass
class WalkInData:
    """A walk-in as the guard typed it."""

    visitor_name: str = ""
    unit_number: str = ""
    phone: str = ""
    plate: str = ""
    purpose: str = ""
    people_count: int | None = 1
    gate: str = ""


# --- reading -------------------------------------------------------------------------


def _query():
    return sa.select(WalkIn).options(joinedload(WalkIn.unit), joinedload(WalkIn.guard),
                                     joinedload(WalkIn.decided_by), joinedload(WalkIn.visit))


def _snapshot(walk_in: WalkIn) -> dict:
    return {
        "status": walk_in.status.value, "unit_id": walk_in.unit_id, "visitor_name": walk_in.visitor_name,
        "phone": walk_in.phone, "plate": walk_in.plate, "purpose": walk_in.purpose,
        "people_count": walk_in.people_count, "gate": walk_in.gate, "decided_by_id": walk_in.decided_by_id,
        "decline_reason": walk_in.decline_reason, "visit_id": walk_in.visit_id,
    }


def _due(now: datetime):
    return sa.and_(WalkIn.status == WalkInStatus.PENDING, WalkIn.created_at <= now - WALK_IN_TTL)


def _live(now: datetime):
    """Still PENDING and within WALK_IN_TTL: can be answered or withdrawn."""
    return sa.and_(WalkIn.status == WalkInStatus.PENDING, WalkIn.created_at > now - WALK_IN_TTL)


def expire_due(now: datetime, estate: Estate | None = None) -> int:
    """Mark the PENDING walk-ins older than WALK_IN_TTL (of every estate, or of one) as
    EXPIRED, each audited. Run by the `expire-walkins` job, never by a page. One query
    when none is due; commits when it changed something."""
    stmt = sa.select(WalkIn).where(_due(now))
    if estate is not None:
        stmt = stmt.where(WalkIn.estate_id == estate.id)
    due = list(db.session.scalars(stmt))
    if not due:
        return 0
    expired = set(db.session.scalars(
        sa.update(WalkIn)
        .where(WalkIn.id.in_([w.id for w in due]), WalkIn.status == WalkInStatus.PENDING)
        .values(status=WalkInStatus.EXPIRED, decided_at=now)
        .returning(WalkIn.id)
        .execution_options(synchronize_session=False)
    ))
    for walk_in in due:
        if walk_in.id in expired:
            audit.record("walk_in.expired", walk_in, actor_id=None, before={"status": WalkInStatus.PENDING.value},
                         after={"status": WalkInStatus.EXPIRED.value})
    db.session.commit()
    return len(expired)


def get_walk_in(estate: Estate, walk_in_id: int, now: datetime) -> WalkIn:
    """A walk-in of this estate, or 404."""
    walk_in = db.session.scalar(_query().where(WalkIn.id == walk_in_id, WalkIn.estate_id == estate.id))
    if walk_in is None:
        raise NotFound()
    return walk_in


def _today_bounds(estate: Estate, now: datetime) -> tuple[datetime, datetime]:
    local = now.astimezone(ZoneInfo(estate.timezone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(ZoneInfo("UTC")), (start + timedelta(days=1)).astimezone(ZoneInfo("UTC"))


def list_today(estate: Estate, now: datetime, page: int = 1, per_page: int = 20) -> Pagination:
    """Today's walk-ins at the estate's gates (estate time), newest first, with unit,
    guard, who answered and the pass (a constant number of queries)."""
    start, end = _today_bounds(estate, now)
    stmt = (_query().where(WalkIn.estate_id == estate.id, WalkIn.created_at >= start, WalkIn.created_at < end)
            .order_by(WalkIn.created_at.desc(), WalkIn.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


def _unit_ids(user: User, estate: Estate):
    return sa.select(Resident.unit_id).where(Resident.estate_id == estate.id, Resident.user_id == user.id,
                                             Resident.move_out_date.is_(None))


def for_resident(user: User, estate: Estate, now: datetime) -> list[WalkIn]:
    """The walk-ins of the user's units to show on their home: every PENDING one, and
    those answered (or expired, written so or not yet) in the last few minutes, so the
    outcome stays in view. Oldest pending first. A constant number of queries."""
    stmt = (_query().where(WalkIn.estate_id == estate.id, WalkIn.unit_id.in_(_unit_ids(user, estate)),
                           sa.or_(_live(now),
                                  sa.and_(WalkIn.decided_at.is_not(None), WalkIn.decided_at > now - RECENT),
                                  sa.and_(_due(now), WalkIn.created_at > now - WALK_IN_TTL - RECENT)))
            .order_by(sa.case((_live(now), 0), else_=1), WalkIn.created_at.desc(), WalkIn.id.desc())
            .limit(20))
    return list(db.session.scalars(stmt).unique())


def get_for_resident(user: User, estate: Estate, walk_in_id: int, now: datetime) -> WalkIn:
    """A walk-in of one of the user's current units in this estate, or 404."""
    walk_in = db.session.scalar(_query().where(WalkIn.id == walk_in_id, WalkIn.estate_id == estate.id,
                                               WalkIn.unit_id.in_(_unit_ids(user, estate))))
    if walk_in is None:
        raise NotFound()
    return walk_in


def responders(estate: Estate, unit: Unit) -> list[User]:
    """The people who can answer for a unit: its current residents with an active login
    and a resident membership in this estate (one query)."""
    living = sa.select(Resident.user_id).where(Resident.estate_id == estate.id, Resident.unit_id == unit.id,
                                               Resident.move_out_date.is_(None), Resident.user_id.is_not(None))
    members = sa.select(Membership.user_id).where(Membership.estate_id == estate.id, Membership.role == Role.RESIDENT)
    return list(db.session.scalars(
        sa.select(User).where(User.id.in_(living), User.id.in_(members), User.status == UserStatus.ACTIVE)
        .order_by(User.id)
    ))


# --- the guard asks -------------------------------------------------------------------


def _clean(estate: Estate, data: WalkInData) -> WalkInData:
    name = " ".join(strip_bidi_controls(data.visitor_name).split())
    if not name:
        raise InvalidValue("visitor_name", _l("Enter the visitor's name."))
    if len(name) > 160:
        raise InvalidValue("visitor_name", _l("Use at most %(max)d characters.", max=160))
    unit_number = (data.unit_number or "").strip()
    if not unit_number:
        raise InvalidValue("unit_number", _l("Enter the unit number."))
    phone = ""
    if (data.phone or "").strip():
        try:
            phone = normalise_phone(data.phone, estate.country)
        except InvalidPhone:
            raise InvalidValue("phone", visits.BAD_PHONE) from None
    plate = visits.normalise_plate(data.plate or "")
    if len(plate) > 20:
        raise InvalidValue("plate", _l("Use at most %(max)d characters.", max=20))
    purpose = " ".join((data.purpose or "").split())
    if len(purpose) > 200:
        raise InvalidValue("purpose", _l("Use at most %(max)d characters.", max=200))
    low, high = PEOPLE_RANGE
    if data.people_count is None or not low <= data.people_count <= high:
        raise InvalidValue("people_count", _l("Enter a number from %(min)s to %(max)s.", min=low, max=high))
    gate = " ".join((data.gate or "").split())[:60]
    return WalkInData(name, unit_number, phone, plate, purpose, data.people_count, gate)


def create_walk_in(guard: User, estate: Estate, data: WalkInData, now: datetime) -> WalkIn:
    """Ask the unit's residents whether to let a visitor in. Refused, with nothing
    written: bad input or an unknown unit (InvalidValue), a phone with an estate-wide
    ban (WalkInBanned, with the reason), or a unit nobody can answer for."""
    clean = _clean(estate, data)
    unit = db.session.scalar(sa.select(Unit).where(
        Unit.estate_id == estate.id, sa.func.lower(Unit.number) == clean.unit_number.lower(),
        Unit.archived_at.is_(None)))
    if unit is None:
        raise InvalidValue("unit_number", _l("There is no unit %(unit)s in this estate.", unit=clean.unit_number))
    if clean.phone:
        ban = active_ban(estate, [clean.phone], None, now)
        if ban is not None:
            raise WalkInBanned(_l("Refused: %(phone)s is banned from the estate. Reason: %(reason)s",
                                  phone=ban.phone, reason=ban.reason or "—"))
    people = responders(estate, unit)
    if not people:
        raise InvalidValue("unit_number", _l("No one in unit %(unit)s can answer; call the unit.", unit=unit.number))
    walk_in = WalkIn(
        estate_id=estate.id, unit_id=unit.id, guard_user_id=guard.id, gate=clean.gate, visitor_name=clean.visitor_name,
        phone=clean.phone or None, plate=clean.plate or None, purpose=clean.purpose, people_count=clean.people_count,
        status=WalkInStatus.PENDING, created_at=now,
    )
    db.session.add(walk_in)
    db.session.flush()
    audit.record("walk_in.created", walk_in, actor_id=guard.id, after=_snapshot(walk_in))
    params = {"walk_in_id": walk_in.id, "visitor": walk_in.visitor_name, "unit": unit.number,
              "gate": walk_in.gate, "people": walk_in.people_count, "estate": estate.name}
    for person in people:
        notifications.notify(person, estate, "walk_in_request", params,
                             links.walk_in_for_resident(estate, walk_in.id), now)
    db.session.commit()
    return walk_in


def cancel(guard: User, estate: Estate, walk_in_id: int, now: datetime) -> WalkIn:
    """The guard withdraws a PENDING walk-in (the visitor left); not one past its time."""
    walk_in = get_walk_in(estate, walk_in_id, now)
    done = db.session.execute(
        sa.update(WalkIn)
        .where(WalkIn.id == walk_in.id, WalkIn.estate_id == estate.id, _live(now))
        .values(status=WalkInStatus.CANCELLED, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        db.session.rollback()
        if effective_status(walk_in, now) == WalkInStatus.EXPIRED:
            raise _answered_error(walk_in)
        raise AlreadyAnswered(_l("This walk-in was already answered."))
    db.session.refresh(walk_in)
    audit.record("walk_in.cancelled", walk_in, actor_id=guard.id, before={"status": WalkInStatus.PENDING.value},
                 after={"status": walk_in.status.value})
    db.session.commit()
    return walk_in


# --- the resident answers -------------------------------------------------------------


def _answered_error(walk_in: WalkIn):
    db.session.refresh(walk_in)
    if walk_in.status in (WalkInStatus.APPROVED, WalkInStatus.DECLINED):
        who = walk_in.decided_by.display_name if walk_in.decided_by else "—"
        if walk_in.status == WalkInStatus.APPROVED:
            return AlreadyAnswered(_l("Already answered by %(name)s: approved.", name=who))
        return AlreadyAnswered(_l("Already answered by %(name)s: declined.", name=who))
    if walk_in.status == WalkInStatus.CANCELLED:
        return AlreadyAnswered(_l("The guard withdrew this request: the visitor left."))
    return AlreadyAnswered(_l("This request expired: nobody answered within %(minutes)d minutes.",
                              minutes=int(WALK_IN_TTL.total_seconds() // 60)))


def _visit_data(walk_in: WalkIn, estate: Estate, now: datetime) -> visits.VisitData:
    zone = ZoneInfo(estate.timezone)
    start = now.astimezone(zone).replace(microsecond=0)
    end = (now + PASS_LENGTH).astimezone(zone).replace(microsecond=0)
    return visits.VisitData(
        pass_type=PassType.SINGLE_USE,
        guests=[visits.GuestData(walk_in.visitor_name, walk_in.phone or "", walk_in.plate or "")],
        purpose=walk_in.purpose, start_date=start.date(), start_time=start.timetz().replace(tzinfo=None),
        end_date=end.date(), end_time=end.timetz().replace(tzinfo=None),
    )


def _notify_guard(walk_in: WalkIn, estate: Estate, resident: User, now: datetime) -> None:
    if walk_in.guard is None:
        return
    params = {"walk_in_id": walk_in.id, "visitor": walk_in.visitor_name, "unit": walk_in.unit.number,
              "resident": resident.display_name, "approved": walk_in.status == WalkInStatus.APPROVED,
              "estate": estate.name}
    notifications.notify(walk_in.guard, estate, "walk_in_decided", params, links.gate_home(estate), now,
                         send=False, push=True)  # the gate screen updates itself; a push if the guard asked


def decide(resident: User, estate: Estate, walk_in_id: int, approve: bool, reason: str, now: datetime) -> WalkIn:
    """A resident of the walk-in's unit lets the visitor in (a SINGLE_USE pass from now
    for two hours, hosted by them) or declines (with an optional reason). The first
    answer wins; a later one raises AlreadyAnswered saying who answered. Another
    estate's walk-in, or another unit's, is a 404."""
    walk_in = get_for_resident(resident, estate, walk_in_id, now)
    reason = " ".join((reason or "").split())
    if len(reason) > 200:
        raise InvalidValue("reason", _l("Use at most %(max)d characters.", max=200))
    status = WalkInStatus.APPROVED if approve else WalkInStatus.DECLINED
    before = _snapshot(walk_in)
    taken = db.session.execute(
        sa.update(WalkIn)
        .where(WalkIn.id == walk_in.id, WalkIn.estate_id == estate.id, _live(now))
        .values(status=status, decided_by_id=resident.id, decided_at=now,
                decline_reason="" if approve else reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        db.session.rollback()
        raise _answered_error(walk_in)
    if approve:
        def link(visit: Visit) -> None:
            # In the pass's own transaction, so the walk-in is never APPROVED without its pass.
            # Should a retried flush inside create_visit have dropped the claim above, take it
            # again unless someone else answered meanwhile.
            linked = db.session.execute(
                sa.update(WalkIn)
                .where(WalkIn.id == walk_in.id, WalkIn.estate_id == estate.id, WalkIn.visit_id.is_(None),
                       sa.or_(WalkIn.status == WalkInStatus.PENDING,
                              sa.and_(WalkIn.status == WalkInStatus.APPROVED, WalkIn.decided_by_id == resident.id)))
                .values(status=WalkInStatus.APPROVED, decided_by_id=resident.id, decided_at=now, visit_id=visit.id)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not linked:
                raise _answered_error(walk_in)

        try:
            visits.create_visit(resident, estate, walk_in.unit_id, _visit_data(walk_in, estate, now),
                                phone_optional=True, on_created=link)
        except DomainError:
            db.session.rollback()
            raise
    db.session.refresh(walk_in)
    audit.record("walk_in.approved" if approve else "walk_in.declined", walk_in, actor_id=resident.id,
                 before=before, after=_snapshot(walk_in))
    _notify_guard(walk_in, estate, resident, now)
    db.session.execute(  # the answerer's own bell: answered is read
        sa.update(Notification)
        .where(Notification.user_id == resident.id, Notification.link == links.walk_in_for_resident(estate, walk_in.id),
               Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return walk_in


def effective_status(walk_in: WalkIn, now: datetime) -> WalkInStatus:
    """The status to show: a PENDING walk-in past its time is EXPIRED."""
    if walk_in.status == WalkInStatus.PENDING and walk_in.created_at <= now - WALK_IN_TTL:
        return WalkInStatus.EXPIRED
    return walk_in.status
