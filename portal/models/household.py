"""Households: vehicles and access cards of a unit."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum
from portal.models.people import Resident, Unit


class Vehicle(TimestampMixin, Base):
    __tablename__ = "vehicle"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    plate: Mapped[str] = mapped_column(sa.String(20))  # upper-case, no spaces
    make: Mapped[str] = mapped_column(sa.String(60), default="")
    model: Mapped[str] = mapped_column(sa.String(60), default="")
    colour: Mapped[str] = mapped_column(sa.String(40), default="")
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship()

    __table_args__ = (sa.UniqueConstraint("estate_id", "plate"),)


class AccessCardStatus(enum.StrEnum):
    REQUESTED = "REQUESTED"
    ISSUED = "ISSUED"
    DEACTIVATED = "DEACTIVATED"


class AccessCard(TimestampMixin, Base):
    """Request → issue → deactivate; an estate limits the live cards per unit."""

    __tablename__ = "access_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resident.id"))
    card_number: Mapped[str | None] = mapped_column(sa.String(40))
    status: Mapped[AccessCardStatus] = mapped_column(
        str_enum(AccessCardStatus), default=AccessCardStatus.REQUESTED
    )
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship()
    resident: Mapped[Resident | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("estate_id", "card_number"),)
