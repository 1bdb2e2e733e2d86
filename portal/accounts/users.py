"""Accounts across the platform: the enterprise console's user list and the search
shared by every list of people."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Estate, Membership, Role, User, UserStatus
from portal.phones import phone_digits
from portal.text import like_pattern

ROLE_ORDER = (Role.ESTATE_ADMIN, Role.GUARD, Role.RESIDENT)




def user_search(stmt, q: str):
    """Narrow a select of users to those whose name, email or phone contains `q`."""
    q = q.strip()
    if not q:
        return stmt
    like = like_pattern(q)
    conditions = [
        sa.func.lower(User.full_name).like(like, escape="\\"),
        sa.func.lower(User.email).like(like, escape="\\"),
    ]
    digits = phone_digits(q)
    if digits:
        conditions.append(User.phone.like(like_pattern(digits), escape="\\"))
    return stmt.where(sa.or_(*conditions))


def _status_filter(stmt, status: str):
    if status in UserStatus.__members__:
        return stmt.where(User.status == UserStatus(status))
    return stmt.where(User.status != UserStatus.DELETED)  # deleted accounts only on request


def _role_sorted(memberships) -> list[Membership]:
    return sorted(memberships, key=lambda m: ROLE_ORDER.index(m.role))



# --- enterprise-wide users -------------------------------------------------------


@dataclass(frozen=True)
class UserFilters:
    q: str = ""
    status: str = ""
    estate_id: int | None = None
    role: str = ""  # a Role value, or ENTERPRISE_ADMIN

    @property
    def any(self) -> bool:
        return bool(self.q.strip() or self.status or self.estate_id or self.role)


@dataclass
class UserRow:
    user: User
    memberships: list[Membership]  # every estate, with .estate loaded


def list_users(filters: UserFilters, page: int = 1, per_page: int = 25) -> Pagination:
    """All users of the platform (enterprise console), three queries per page."""
    stmt = _status_filter(sa.select(User), filters.status)
    if filters.role == "ENTERPRISE_ADMIN":
        stmt = stmt.where(User.platform_role.is_not(None))
    member_ids = None
    if filters.role in Role.__members__:
        member_ids = sa.select(Membership.user_id).where(Membership.role == Role(filters.role))
    if filters.estate_id:
        member_ids = (member_ids if member_ids is not None else sa.select(Membership.user_id)).where(
            Membership.estate_id == filters.estate_id
        )
    if member_ids is not None:
        stmt = stmt.where(User.id.in_(member_ids))
    stmt = user_search(stmt, filters.q).order_by(sa.func.lower(User.full_name), User.id)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    users = list(pagination.items)
    by_user: dict[int, list[Membership]] = {u.id: [] for u in users}
    if users:
        memberships = db.session.scalars(
            sa.select(Membership).options(joinedload(Membership.estate)).where(Membership.user_id.in_(list(by_user)))
        )
        for m in memberships:
            by_user[m.user_id].append(m)
    pagination.items = [
        UserRow(u, sorted(by_user[u.id], key=lambda m: (m.estate.name, ROLE_ORDER.index(m.role)))) for u in users
    ]
    return pagination


def estate_choices() -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(sa.select(Estate.id, Estate.name).order_by(Estate.name))]
