from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin, str_enum


class EstateStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class Estate(TimestampMixin, Base):
    __tablename__ = "estate"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    country: Mapped[str] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2
    timezone: Mapped[str] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3))  # ISO 4217
    default_language: Mapped[str] = mapped_column(sa.String(8), default="en")
    status: Mapped[EstateStatus] = mapped_column(
        str_enum(EstateStatus), default=EstateStatus.ACTIVE, index=True
    )
    brand_color: Mapped[str] = mapped_column(sa.String(7), default="#1e6b52")
    # The estate's profile, edited by its admins: how residents reach the management office,
    # and a logo (a small PNG made on upload, kept in the row; logo_version names its URL).
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(30), default="", server_default="")
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    logo_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Short code residents type on the public join page (e.g. GRNPRK).
    join_code: Mapped[str | None] = mapped_column(sa.String(12), unique=True)
    access_card_limit: Mapped[int] = mapped_column(default=4)
    # The estate's gates, one name a line; the guard picks one at the gate page.
    gate_names: Mapped[str] = mapped_column(sa.String(700), default="Main gate")

    @property
    def is_open(self) -> bool:
        return self.status == EstateStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Estate {self.slug}>"
