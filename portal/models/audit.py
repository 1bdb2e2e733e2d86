from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, utcnow


class AuditLog(Base):
    """One row for every state change: who, where, what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estate.id"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(sa.String(60))
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.Index("ix_audit_log_estate_created", "estate_id", "created_at"),
        sa.Index("ix_audit_log_actor_created", "actor_user_id", "created_at"),
        sa.Index("ix_audit_log_estate_action_created", "estate_id", "action", "created_at"),  # action filter
    )
