"""The approval queue: an estate admin approves a join request (the user becomes ACTIVE, with
a RESIDENT membership and a Resident row) or rejects it with a reason (the user becomes
DISABLED); undecided requests EXPIRE after 30 days. The applicant is told by email and/or SMS.

A PENDING request past its `expires_at` already counts as EXPIRED when read (lists,
filters, the detail page: `effective_status`) and cannot be decided; it is written
EXPIRED (audited, the applicant told) only by `expire_due`, the `expire-approvals` job.
Pages never write."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal import audit, links
from portal.errors import Conflict, FieldErrors, Forbidden, NotFound
from portal.estates.access import EstateAccess
from portal.extensions import db
from portal.integrations import messaging
from portal.labels import APPROVAL_STATUS_LABELS
from portal.models import (
    Approval,
    ApprovalStatus,
    Estate,
    Membership,
    Resident,
    Role,
    Unit,
    User,
    UserStatus,
    utcnow,
)
from portal.onboarding.contact import REASON_MAX, estate_today, message_language_in
from portal.phones import phone_digits
from portal.text import like_pattern

# --- the approval queue ----------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalFilters:
    q: str = ""
    status: str = ApprovalStatus.PENDING.value  # or APPROVED, REJECTED, EXPIRED, ALL


def _notify(user: User, estate: Estate, subject, email_body, sms_body) -> None:
    """Email and/or SMS to the user in their language. Arguments are lazy strings."""
    language = message_language_in(user, estate)
    about = {"estate": estate, "language": language, "reason": "join_request"}
    with force_locale(language):
        if user.email:
            messaging.send_email(user.email, str(subject), str(email_body), **about)
        if user.phone:
            messaging.send_sms(user.phone, str(sms_body), **about)


def _notify_expired(approval: Approval) -> None:
    user, estate = approval.user, approval.estate
    _notify(
        user, estate,
        _l("Your request to join %(estate)s has expired", estate=estate.name),
        _l("Hello %(name)s,\n\nYour request to join %(estate)s was not decided within 30 days, so it has expired. "
           "Please contact the estate's admin.", name=user.display_name, estate=estate.name),
        _l("Gatehouse: your request to join %(estate)s was not decided within 30 days and has expired. "
           "Please contact the estate's admin.", estate=estate.name),
    )


def expire_due(estate: Estate | None = None) -> int:
    """Undecided requests older than 30 days become EXPIRED, all in one UPDATE; their
    users are disabled and told. Returns how many expired. Run by the `expire-approvals`
    job (never by a page); when nothing is due it costs one read and takes no write lock."""
    now = utcnow()
    due = [Approval.status == ApprovalStatus.PENDING, Approval.expires_at <= now]
    if estate is not None:
        due.append(Approval.estate_id == estate.id)
    if db.session.scalar(sa.select(Approval.id).where(*due).limit(1)) is None:
        return 0
    expired_ids = list(db.session.scalars(
        sa.update(Approval).where(*due)
        .values(status=ApprovalStatus.EXPIRED, decided_at=now)
        .returning(Approval.id)
        .execution_options(synchronize_session=False)
    ))
    if not expired_ids:  # another request expired them a moment ago
        db.session.commit()
        return 0
    approvals = db.session.scalars(
        sa.select(Approval).where(Approval.id.in_(expired_ids))
        .options(joinedload(Approval.user), joinedload(Approval.estate))
    ).all()
    db.session.execute(
        sa.update(User).where(User.id.in_([a.user_id for a in approvals]), User.status == UserStatus.PENDING)
        .values(status=UserStatus.DISABLED).execution_options(synchronize_session="fetch")
    )
    for approval in approvals:
        audit.record("approval.expired", approval, actor_id=None,
                     before={"status": "PENDING"}, after={"status": "EXPIRED"})
        _notify_expired(approval)
    db.session.commit()
    return len(approvals)


def effective_status(approval: Approval, now: datetime | None = None) -> ApprovalStatus:
    """The status to show: a PENDING request past its time is EXPIRED."""
    if approval.status == ApprovalStatus.PENDING and approval.expires_at <= (now or utcnow()):
        return ApprovalStatus.EXPIRED
    return approval.status


def pending_count(estate: Estate) -> int:
    """Requests waiting for a decision (not yet due to expire): the admin nav's badge."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Approval).where(
            Approval.estate_id == estate.id, Approval.status == ApprovalStatus.PENDING,
            Approval.expires_at > utcnow())
    ) or 0


def list_approvals(estate: Estate, filters: ApprovalFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the estate's requests with their users and units (two queries)."""
    stmt = (
        sa.select(Approval)
        .join(User, User.id == Approval.user_id)
        .join(Unit, Unit.id == Approval.unit_id)
        .where(Approval.estate_id == estate.id)
        .options(joinedload(Approval.user), joinedload(Approval.unit))
    )
    if filters.status in ApprovalStatus.__members__:
        now = utcnow()  # filtered by effective status: a PENDING request past its time is EXPIRED
        due = sa.and_(Approval.status == ApprovalStatus.PENDING, Approval.expires_at <= now)
        if filters.status == ApprovalStatus.PENDING.value:
            stmt = stmt.where(Approval.status == ApprovalStatus.PENDING, Approval.expires_at > now)
        elif filters.status == ApprovalStatus.EXPIRED.value:
            stmt = stmt.where(sa.or_(Approval.status == ApprovalStatus.EXPIRED, due))
        else:
            stmt = stmt.where(Approval.status == ApprovalStatus(filters.status))
    q = filters.q.strip().lower()
    if q:
        like = like_pattern(q)
        digits = phone_digits(q)
        stmt = stmt.where(sa.or_(
            sa.func.lower(User.full_name).like(like, escape="\\"),
            sa.func.lower(User.email).like(like, escape="\\"),
            sa.func.lower(Unit.number).like(like, escape="\\"),
            *([User.phone.like(like_pattern(digits), escape="\\")] if digits else []),
        ))
    if filters.status == ApprovalStatus.PENDING.value:
        stmt = stmt.order_by(Approval.created_at, Approval.id)  # oldest first: it expires first
    else:
        stmt = stmt.order_by(Approval.created_at.desc(), Approval.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


def get_approval(estate: Estate, approval_id: int) -> Approval:
    """A request of this estate with its user and unit, or 404 (never another estate's)."""
    approval = db.session.scalar(
        sa.select(Approval).where(Approval.id == approval_id, Approval.estate_id == estate.id)
        .options(joinedload(Approval.user), joinedload(Approval.unit))
    )
    if approval is None:
        raise NotFound()
    return approval


def decider_of(approval: Approval) -> User | None:
    return db.session.get(User, approval.decided_by_id) if approval.decided_by_id else None


@dataclass
class Decision:
    decided: list[Approval] = field(default_factory=list)
    skipped: list[Approval] = field(default_factory=list)  # already decided or expired


def _activate(approval: Approval, estate: Estate) -> Resident:
    user = approval.user
    user.status = UserStatus.ACTIVE
    exists = db.session.scalar(sa.select(Membership.id).where(
        Membership.user_id == user.id, Membership.estate_id == estate.id, Membership.role == Role.RESIDENT))
    if exists is None:
        db.session.add(Membership(user_id=user.id, estate_id=estate.id, role=Role.RESIDENT))
    resident = Resident(
        estate_id=estate.id, unit_id=approval.unit_id, user_id=user.id, full_name=user.full_name,
        phone=user.phone, email=user.email, resident_type=approval.resident_type,
        move_in_date=estate_today(estate), emergency_contact_name=approval.emergency_contact_name,
        emergency_contact_phone=approval.emergency_contact_phone,
    )
    db.session.add(resident)
    db.session.flush()
    return resident


def _notify_decision(approval: Approval, estate: Estate) -> None:
    user = approval.user
    if approval.status == ApprovalStatus.APPROVED:
        login_link = links.sign_in()
        _notify(
            user, estate,
            _l("Welcome to %(estate)s: your request was approved", estate=estate.name),
            _l("Hello %(name)s,\n\nThe admin of %(estate)s approved your request. You can sign in now:\n%(link)s",
               name=user.display_name, estate=estate.name, link=login_link),
            _l("Gatehouse: your request to join %(estate)s was approved. You can sign in now: %(link)s",
               estate=estate.name, link=login_link),
        )
    else:
        _notify(
            user, estate,
            _l("Your request to join %(estate)s was not approved", estate=estate.name),
            _l("Hello %(name)s,\n\nThe admin of %(estate)s did not approve your request to join.\n"
               "Reason: %(reason)s", name=user.display_name, estate=estate.name, reason=approval.reason),
            _l("Gatehouse: your request to join %(estate)s was not approved. Reason: %(reason)s",
               estate=estate.name, reason=approval.reason),
        )


def decide(access: EstateAccess, approval_ids: Iterable[int], approve: bool, reason: str) -> Decision:
    """Approve or reject requests of the estate in one transaction; only its admins (and
    enterprise admins) may. Each is decided at most once: the database's conditional UPDATE
    picks the requests still PENDING (and not due to expire); the others are skipped. An id
    of another estate is a 404, and nothing changes."""
    if not access.administers:
        raise Forbidden(_l("Only the estate's admins may decide join requests."))
    estate, actor_id = access.estate, access.actor_id
    reason = " ".join((reason or "").split())
    if not approve and not reason:
        raise FieldErrors({"reason": _l("Give a reason; the applicant will read it.")})
    if len(reason) > REASON_MAX:
        raise FieldErrors({"reason": _l("Use at most %(max)d characters.", max=REASON_MAX)})
    ids = sorted(set(approval_ids))
    if not ids:
        raise FieldErrors({"ids": _l("Select at least one request.")})
    approvals = db.session.scalars(
        sa.select(Approval).where(Approval.id.in_(ids), Approval.estate_id == estate.id)
        .options(joinedload(Approval.user), joinedload(Approval.unit))
    ).all()
    if len(approvals) != len(ids):
        raise NotFound()
    now = utcnow()
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    won = set(db.session.scalars(
        sa.update(Approval)
        .where(Approval.id.in_(ids), Approval.estate_id == estate.id,
               Approval.status == ApprovalStatus.PENDING, Approval.expires_at > now)
        .values(status=status, decided_by_id=actor_id, decided_at=now, reason=reason)
        .returning(Approval.id)
        .execution_options(synchronize_session=False)
    ))
    result = Decision()
    for approval in sorted(approvals, key=lambda a: a.id):
        if approval.id not in won:
            result.skipped.append(approval)
            continue
        for key, value in {"status": status, "decided_by_id": actor_id, "decided_at": now, "reason": reason}.items():
            set_committed_value(approval, key, value)  # what the UPDATE wrote; nothing to flush
        after = {"status": status.value, "reason": reason, "user_id": approval.user_id}
        if approve:
            resident = _activate(approval, estate)
            after.update(resident_id=resident.id, unit=approval.unit.number, user_status="ACTIVE")
        elif approval.user.status == UserStatus.PENDING:
            approval.user.status = UserStatus.DISABLED
            after["user_status"] = "DISABLED"
        audit.record(f"approval.{status.value.lower()}", approval, actor_id=actor_id,
                     before={"status": "PENDING"}, after=after)
        _notify_decision(approval, estate)
        result.decided.append(approval)
    if result.skipped:
        # The skipped ones keep whatever another admin (or the clock) made of them.
        for approval in result.skipped:
            db.session.expire(approval)
    db.session.commit()
    return result


def decide_one(access: EstateAccess, approval_id: int, approve: bool, reason: str) -> Approval:
    """One request; an already decided (or expired) one is refused with a clear message."""
    result = decide(access, [approval_id], approve, reason)
    if result.skipped:
        approval = result.skipped[0]
        raise Conflict(_l("This request has already been decided (%(status)s). Nothing was changed.",
                          status=APPROVAL_STATUS_LABELS[effective_status(approval)]))
    return result.decided[0]
