"""People with accounts: an estate's members (list, suspend, reactivate, soft-delete,
roles, remove from the estate), and the rules for changing them (for enterprise admins too).

Who may change a user's status. A user's status is global (User.status), so:
- nobody may suspend or delete themself;
- an estate admin may suspend, reactivate or delete only users whose every membership
  is in their estate (and never an enterprise admin); for anyone else they may only
  remove the person's memberships from their estate;
- an enterprise admin may do all of it, in any estate or from the enterprise console,
  and may restore a deleted account.
An estate keeps at least one active admin: removing the admin role (or the membership)
of its last active admin is refused, and nobody may remove their own admin role."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.accounts.sessions import end_sessions
from portal.accounts.users import _role_sorted, _status_filter, user_search
from portal.errors import DomainError, Forbidden, InvalidValue, NotFound
from portal.extensions import db
from portal.models import Estate, Membership, Role, User, UserStatus

# --- estate members --------------------------------------------------------------


@dataclass(frozen=True)
class MemberFilters:
    q: str = ""
    role: str = ""
    status: str = ""  # "" = every status but DELETED; or one UserStatus value

    @property
    def any(self) -> bool:
        return bool(self.q.strip() or self.role or self.status)


@dataclass
class MemberRow:
    user: User
    memberships: list[Membership]  # in this estate, admin first
    other_estates: int  # how many other estates the user belongs to

    @property
    def roles(self) -> list[Role]:
        return [m.role for m in self.memberships]

    @property
    def guard(self) -> Membership | None:
        return next((m for m in self.memberships if m.role == Role.GUARD), None)

    @property
    def is_supervisor(self) -> bool:
        return bool(self.guard and self.guard.is_supervisor)

    @property
    def only_here(self) -> bool:
        """Every membership is in this estate: an estate admin may change the account."""
        return self.other_estates == 0 and not self.user.is_enterprise_admin


def list_members(estate: Estate, filters: MemberFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """One page of the estate's members (three queries whatever the page size)."""
    member_ids = sa.select(Membership.user_id).where(Membership.estate_id == estate.id)
    if filters.role in Role.__members__:
        member_ids = member_ids.where(Membership.role == Role(filters.role))
    stmt = _status_filter(sa.select(User).where(User.id.in_(member_ids)), filters.status)
    stmt = user_search(stmt, filters.q).order_by(sa.func.lower(User.full_name), User.id)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    pagination.items = _member_rows(estate, list(pagination.items))
    return pagination


def _member_rows(estate: Estate, users: list[User]) -> list[MemberRow]:
    here: dict[int, list[Membership]] = {u.id: [] for u in users}
    elsewhere: dict[int, set[int]] = {u.id: set() for u in users}
    if users:
        for m in db.session.scalars(sa.select(Membership).where(Membership.user_id.in_(list(here)))):
            if m.estate_id == estate.id:
                here[m.user_id].append(m)
            else:
                elsewhere[m.user_id].add(m.estate_id)
    return [MemberRow(u, _role_sorted(here[u.id]), len(elsewhere[u.id])) for u in users]


def get_member(estate: Estate, user_id: int) -> MemberRow:
    """A member of this estate, or 404 (someone who is not a member is not found)."""
    user = db.session.get(User, user_id)
    rows = _member_rows(estate, [user]) if user is not None else []
    if not rows or not rows[0].memberships:
        raise NotFound()
    return rows[0]



# --- rules shared by the member actions -----------------------------------------


def require_admin(actor: User, estate: Estate | None) -> None:
    if actor.is_enterprise_admin:
        return
    is_admin = estate is not None and db.session.scalar(
        sa.select(Membership.id).where(
            Membership.user_id == actor.id, Membership.estate_id == estate.id, Membership.role == Role.ESTATE_ADMIN
        )
    )
    if not is_admin:
        raise Forbidden(_l("Only the estate's admins may manage its members."))


def _target(actor: User, estate: Estate | None, user_id: int) -> MemberRow:
    """The user acted on: a member of `estate`, or (enterprise console) any user."""
    require_admin(actor, estate)
    if estate is not None:
        return get_member(estate, user_id)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    memberships = db.session.scalars(sa.select(Membership).where(Membership.user_id == user_id)).all()
    return MemberRow(user, _role_sorted(memberships), 0)


def _check_status_change_allowed(actor: User, row: MemberRow) -> None:
    if actor.is_enterprise_admin:
        return
    if not row.only_here:
        raise Forbidden(
            _l("%(name)s also belongs to another estate, so only an enterprise admin may change their account. "
               "You can remove them from this estate instead.", name=row.user.display_name)
        )


def _keep_an_admin(estate_id: int, losing_user_id: int) -> None:
    """Refuse if the estate would be left without an active admin. The estate row is
    locked first, so two admins demoting each other at once cannot both succeed."""
    db.session.execute(sa.select(Estate.id).where(Estate.id == estate_id).with_for_update())
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.estate_id == estate_id,
            Membership.role == Role.ESTATE_ADMIN,
            Membership.user_id != losing_user_id,
            User.status == UserStatus.ACTIVE,
        )
    )
    if not others:
        raise DomainError(
            _l("The estate must keep at least one active admin. Make someone else an admin first."),
            code="LAST_ADMIN",
        )


def _roles_snapshot(memberships) -> dict:
    memberships = _role_sorted(memberships)
    return {
        "roles": [m.role.value for m in memberships],
        "supervisor": any(m.is_supervisor for m in memberships if m.role == Role.GUARD),
    }


def _set_status(actor: User, estate: Estate | None, row: MemberRow, status: UserStatus, action: str) -> User:
    user = row.user
    before = user.status
    user.status = status
    if status != UserStatus.ACTIVE:
        # Signed-in browsers and remember-me cookies stop working at once.
        user.session_version += 1
        end_sessions(user.id)
    if status == UserStatus.DELETED:
        # A deleted guard's gate device is free for another guard.
        db.session.execute(
            sa.update(Membership).where(Membership.user_id == user.id).values(bound_device_id=None, bound_at=None,
                                                                                device_contact_at=None)
        )
    audit.record(
        action, user, actor_id=actor.id, estate_id=estate.id if estate else None,
        before={"status": before.value}, after={"status": status.value},
    )
    db.session.commit()
    return user


def suspend_user(actor: User, user_id: int, estate: Estate | None = None) -> User:
    row = _target(actor, estate, user_id)
    if row.user.id == actor.id:
        raise DomainError(_l("You cannot suspend your own account."), code="SELF")
    _check_status_change_allowed(actor, row)
    if row.user.status != UserStatus.ACTIVE:
        raise DomainError(_l("Only active accounts can be suspended."))
    return _set_status(actor, estate, row, UserStatus.SUSPENDED, "user.suspended")


def reactivate_user(actor: User, user_id: int, estate: Estate | None = None) -> User:
    row = _target(actor, estate, user_id)
    _check_status_change_allowed(actor, row)
    allowed = {UserStatus.SUSPENDED, UserStatus.DISABLED}
    if actor.is_enterprise_admin:
        allowed.add(UserStatus.DELETED)
    if row.user.status not in allowed:
        if row.user.status == UserStatus.DELETED:
            raise DomainError(_l("A deleted account can only be restored by an enterprise admin."))
        raise DomainError(_l("Only suspended or disabled accounts can be reactivated."))
    action = "user.restored" if row.user.status == UserStatus.DELETED else "user.reactivated"
    return _set_status(actor, estate, row, UserStatus.ACTIVE, action)


def delete_user(actor: User, user_id: int, estate: Estate | None = None) -> User:
    """Soft delete: the account keeps its history and memberships but can never sign in."""
    row = _target(actor, estate, user_id)
    if row.user.id == actor.id:
        raise DomainError(_l("You cannot delete your own account."), code="SELF")
    _check_status_change_allowed(actor, row)
    if row.user.status == UserStatus.DELETED:
        raise DomainError(_l("This account is already deleted."))
    return _set_status(actor, estate, row, UserStatus.DELETED, "user.deleted")


def set_roles(actor: User, estate: Estate, user_id: int, roles: set[Role], supervisor: bool = False) -> MemberRow:
    """Give a member exactly `roles` in this estate (`supervisor` applies to the guard role)."""
    row = _target(actor, estate, user_id)
    user = row.user
    if user.status == UserStatus.DELETED:
        raise DomainError(_l("This account is deleted; its roles cannot change."))
    roles = {Role(r) for r in roles}
    if not roles:
        raise InvalidValue(
            "roles", _l("Choose at least one role. To take this person out of the estate, use “Remove from estate”.")
        )
    current = {m.role: m for m in row.memberships}
    before = _roles_snapshot(row.memberships)
    if Role.ESTATE_ADMIN in current and Role.ESTATE_ADMIN not in roles:
        if user.id == actor.id:
            raise DomainError(_l("You cannot remove your own admin role."), code="SELF")
        _keep_an_admin(estate.id, user.id)
    supervisor = bool(supervisor and Role.GUARD in roles)
    kept = []
    for role, membership in current.items():
        if role in roles:
            if role == Role.GUARD:
                membership.is_supervisor = supervisor
            kept.append(membership)
        else:
            db.session.delete(membership)
    for role in roles - current.keys():
        membership = Membership(user_id=user.id, estate_id=estate.id, role=role,
                                is_supervisor=supervisor if role == Role.GUARD else False)
        db.session.add(membership)
        kept.append(membership)
    after = _roles_snapshot(kept)
    if after == before:
        db.session.rollback()
        return row
    audit.record("membership.roles_changed", user, actor_id=actor.id, estate_id=estate.id, before=before, after=after)
    try:
        db.session.commit()
    except IntegrityError as exc:  # another admin changed the same roles at the same moment
        db.session.rollback()
        raise DomainError(_l("Someone else changed these roles at the same time. Check them and try again.")) from exc
    return get_member(estate, user.id)


def remove_from_estate(actor: User, estate: Estate, user_id: int) -> User:
    """End every membership of the user in this estate (the account itself stays)."""
    row = _target(actor, estate, user_id)
    user = row.user
    if user.id == actor.id:
        raise DomainError(_l("You cannot remove yourself from the estate."), code="SELF")
    if Role.ESTATE_ADMIN in row.roles:
        _keep_an_admin(estate.id, user.id)
    before = _roles_snapshot(row.memberships)
    for membership in row.memberships:
        db.session.delete(membership)
    audit.record("membership.removed", user, actor_id=actor.id, estate_id=estate.id, before=before,
                 after={"roles": [], "supervisor": False})
    db.session.commit()
    return user
