from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum
from portal.models.estate import Estate


class UserStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    SUSPENDED = "SUSPENDED"
    DISABLED = "DISABLED"
    DELETED = "DELETED"  # soft-deleted: keeps its history, can never sign in


class PlatformRole(enum.StrEnum):
    ENTERPRISE_ADMIN = "ENTERPRISE_ADMIN"


class Role(enum.StrEnum):
    ESTATE_ADMIN = "ESTATE_ADMIN"
    GUARD = "GUARD"
    RESIDENT = "RESIDENT"


class User(TimestampMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)  # E.164
    full_name: Mapped[str] = mapped_column(sa.String(160))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    preferred_language: Mapped[str | None] = mapped_column(sa.String(8))
    status: Mapped[UserStatus] = mapped_column(str_enum(UserStatus), default=UserStatus.ACTIVE)
    platform_role: Mapped[PlatformRole | None] = mapped_column(str_enum(PlatformRole, 30))
    # Bumped by "sign out everywhere" and password changes: every older session
    # and remember-me cookie carries the old value and stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # {"visitor_arrived": {"email": true, "sms": false}, ...}
    notification_prefs: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="contact"),
        # Sign-in and password resets look up lower(email); this also refuses two accounts
        # whose addresses differ only in case, whatever writes them.
        sa.Index("uq_user_email_lower", sa.func.lower(email), unique=True),
    )

    @validates("email")
    def _lower_email(self, _key, value: str | None) -> str | None:
        """Emails are stored lower-case (and looked up as lower(email))."""
        if value is None:
            return None
        return value.strip().lower() or None

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_enterprise_admin(self) -> bool:
        return self.platform_role == PlatformRole.ENTERPRISE_ADMIN

    @property
    def display_name(self) -> str:
        return self.full_name or self.email or self.phone or ""

    def __repr__(self) -> str:
        return f"<User {self.email or self.phone}>"


class Membership(TimestampMixin, Base):
    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    is_supervisor: Mapped[bool] = mapped_column(default=False)
    # Guards: the gate device bound on first use (another device is refused).
    bound_device_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The bound device's last contact with the server (bootstrap, sync, live scan): its
    # offline scans cannot have happened before it (portal/gate/contact.py).
    device_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Guards: when the guard, refused on another device, asked the admins to move the
    # binding; pending until an admin approves (or resets) it (portal/accounts/devices.py).
    device_change_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="memberships")
    estate: Mapped[Estate] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "estate_id", "role"),
        # The admin's pending device change requests of one estate.
        sa.Index("ix_membership_estate_device_change", "estate_id", "device_change_requested_at"),
    )

    def __repr__(self) -> str:
        return f"<Membership {self.user_id}@{self.estate_id} {self.role}>"
