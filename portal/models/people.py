from __future__ import annotations

import enum
import re
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum
from portal.models.user import User


class ResidentType(enum.StrEnum):
    OWNER = "OWNER"
    TENANT = "TENANT"
    FAMILY = "FAMILY"
    STAFF = "STAFF"


class UnitType(enum.StrEnum):
    APARTMENT = "APARTMENT"
    HOUSE = "HOUSE"
    TERRACE = "TERRACE"
    DUPLEX = "DUPLEX"
    STUDIO = "STUDIO"
    SHOP = "SHOP"
    OTHER = "OTHER"


_DIGITS = re.compile(r"\d+")
SORT_KEY_LENGTH = 255


def natural_key(label: str) -> str:
    """A unit label as it sorts for people: case and spacing ignored, each run of digits
    compared as a number ("A2" < "A10", "Casa 2" < "Casa 10"): digits are padded to 10
    places (a longer run keeps its length, so it still sorts after shorter ones)."""
    text = " ".join((label or "").casefold().split())
    return _DIGITS.sub(lambda m: m.group(0).lstrip("0").rjust(10, "0"), text)[:SORT_KEY_LENGTH]


def _sort_key_default(context) -> str:
    return natural_key(context.get_current_parameters().get("number") or "")


class Unit(TimestampMixin, Base):
    """A residence. Its status (VACANT/OCCUPIED) is derived from its current residents."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    # natural_key(number), kept by the model (see `_keep_sort_key`; bulk inserts get it
    # from the column default), so that SQL orders units as people do and pages stay right.
    sort_key: Mapped[str] = mapped_column(sa.String(SORT_KEY_LENGTH), default=_sort_key_default, server_default="")
    block: Mapped[str] = mapped_column(sa.String(40), default="")
    floor: Mapped[str] = mapped_column(sa.String(20), default="")
    unit_type: Mapped[UnitType] = mapped_column(str_enum(UnitType, 40), default=UnitType.APARTMENT)
    bedrooms: Mapped[int | None]
    bathrooms: Mapped[int | None]
    area_sqm: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    residents: Mapped[list[Resident]] = relationship(back_populates="unit")

    __table_args__ = (
        # Numbers are unique per estate whatever their case (A12 and a12 are one unit).
        sa.Index("uq_unit_estate_number_lower", "estate_id", sa.func.lower(number), unique=True),
        sa.Index("ix_unit_estate_block", "estate_id", "block"),
        sa.Index("ix_unit_estate_sort_key", "estate_id", "sort_key"),
        sa.Index("ix_unit_estate_type", "estate_id", "unit_type"),
    )

    @validates("number")
    def _keep_sort_key(self, _key: str, value: str) -> str:
        self.sort_key = natural_key(value)
        return value

    def __repr__(self) -> str:
        return f"<Unit {self.number}>"


class Resident(TimestampMixin, Base):
    """A household member of a unit; may or may not have a login."""

    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    full_name: Mapped[str] = mapped_column(sa.String(160))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    resident_type: Mapped[ResidentType] = mapped_column(str_enum(ResidentType))
    move_in_date: Mapped[date | None] = mapped_column(sa.Date())
    move_out_date: Mapped[date | None] = mapped_column(sa.Date())
    emergency_contact_name: Mapped[str] = mapped_column(sa.String(160), default="")
    emergency_contact_phone: Mapped[str | None] = mapped_column(sa.String(20))

    unit: Mapped[Unit] = relationship(back_populates="residents")
    user: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_resident_estate_phone", "estate_id", "phone"),)

    def __repr__(self) -> str:
        return f"<Resident {self.full_name}>"
