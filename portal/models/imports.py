"""CSV import previews waiting for the admin's confirmation (kept in the database, so any
app server can confirm a preview another one made)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, utcnow


class ImportPreview(Base):
    """A checked, valid file: its parsed rows, until confirmed (then deleted) or expired.
    `token` is the random value the confirm form carries."""

    __tablename__ = "import_preview"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # ImportKind: units | residents
    filename: Mapped[str] = mapped_column(sa.String(255), default="")
    row_count: Mapped[int]
    rows: Mapped[list] = mapped_column(sa.JSON)  # the checked values of every row
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
