"""The proof of a manual payment (a photo of a bank slip, a transfer's PDF), kept in the
database like the estate's logo and incident photos: every app server sees it, and it goes
with the payment's backups."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, utcnow


class PaymentProof(Base):
    __tablename__ = "payment_proof"

    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id", ondelete="CASCADE"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))  # image/jpeg, image/png, image/webp, application/pdf
    filename: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")  # as uploaded, for the download
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
