"""Invitations (admins invite staff and residents) and sign-up approvals."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum
from portal.models.estate import Estate
from portal.models.people import ResidentType, Unit
from portal.models.user import Role, User


class Invitation(TimestampMixin, Base):
    """A single-use link (7 days) with which an invited person sets a password."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    # What the inviter typed: the invitation shows only this. The account is looked up
    # (or made) when the person accepts, having proved they own the address or phone.
    full_name: Mapped[str] = mapped_column(sa.String(160), default="")
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(20))  # E.164
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)  # once accepted
    role: Mapped[Role] = mapped_column(str_enum(Role))
    is_supervisor: Mapped[bool] = mapped_column(default=False)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    resident_type: Mapped[ResidentType | None] = mapped_column(str_enum(ResidentType))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    estate: Mapped[Estate] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    unit: Mapped[Unit | None] = relationship()

    @property
    def contact(self) -> str:
        return self.email or self.phone or ""


class ApprovalStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class Approval(TimestampMixin, Base):
    """A resident's sign-up waiting for an estate admin (expires after 30 days)."""

    __tablename__ = "approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    resident_type: Mapped[ResidentType] = mapped_column(str_enum(ResidentType))
    emergency_contact_name: Mapped[str] = mapped_column(sa.String(160), default="")
    emergency_contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    status: Mapped[ApprovalStatus] = mapped_column(str_enum(ApprovalStatus), default=ApprovalStatus.PENDING)
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    estate: Mapped[Estate] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    unit: Mapped[Unit] = relationship()

    __table_args__ = (sa.Index("ix_approval_estate_status_created", "estate_id", "status", "created_at"),)


class UserSession(TimestampMixin, Base):
    """One signed-in browser: listed on the profile page, revocable one by one."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    method: Mapped[str] = mapped_column(sa.String(20), default="password")
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
