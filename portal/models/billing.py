"""Billing: the charge catalogue, invoices with their lines and numbers, generation runs,
payments and what each payment paid. Money is integer minor units (kobo, centavos) with
the ISO 4217 code beside it; never a float."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, UTCDateTime, str_enum, utcnow
from portal.models.people import Resident, Unit

Money = sa.BigInteger  # minor units: 10¹⁸ kobo is far beyond any estate's bill


class ChargeFrequency(enum.StrEnum):
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"  # billed in the month it starts, then every third month
    ANNUAL = "ANNUAL"  # billed in the month it starts, then every twelfth
    ONE_OFF = "ONE_OFF"  # billed once, in the period that holds its start date


class ChargeScope(enum.StrEnum):
    """Which units a charge is for."""

    ALL = "ALL"
    UNIT_TYPES = "UNIT_TYPES"
    BLOCKS = "BLOCKS"
    UNITS = "UNITS"  # a list of units (ChargeUnit)


class InvoiceStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    ISSUED = "ISSUED"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    OVERDUE = "OVERDUE"
    VOID = "VOID"  # keeps its number; no longer owed


OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OVERDUE)


class InvoiceKind(enum.StrEnum):
    PERIODIC = "PERIODIC"  # made by a generation run: one per unit and period
    ONE_OFF = "ONE_OFF"  # a one-off charge invoiced at once


class GenerationStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"  # stopped half-way; what it committed stays, a resume goes on from there


class PaymentMethod(enum.StrEnum):
    FLUTTERWAVE = "FLUTTERWAVE"
    BANK_TRANSFER = "BANK_TRANSFER"
    CASH = "CASH"
    CHEQUE = "CHEQUE"
    OTHER = "OTHER"


class PaymentStatus(enum.StrEnum):
    PENDING = "PENDING"
    SUCCESSFUL = "SUCCESSFUL"  # applied to invoices (PaymentAllocation rows)
    FAILED = "FAILED"
    REJECTED = "REJECTED"  # a reported manual payment an admin turned down


class BillingSettings(Base):
    """An estate's billing choices (one row; absent means the defaults)."""

    __tablename__ = "billing_settings"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), primary_key=True)
    invoice_prefix: Mapped[str] = mapped_column(sa.String(12))  # GP in GP-2026-000123
    tax_rate_bp: Mapped[int] = mapped_column(default=0, server_default="0")  # basis points: 750 = 7.5 %
    due_days: Mapped[int] = mapped_column(default=14, server_default="14")  # due date after the period starts
    # Payment reminders (portal.billing.reminders): on unless the admin turns them off.
    reminders_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Dues-linked restrictions (portal.billing.restrictions): off unless the admin turns them on.
    # A unit whose oldest unpaid invoice is more than `restrict_after_days` overdue is warned;
    # `restrict_grace_days` later it is restricted.
    restrict_enabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    restrict_after_days: Mapped[int] = mapped_column(default=60, server_default="60")
    restrict_grace_days: Mapped[int] = mapped_column(default=7, server_default="7")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("tax_rate_bp >= 0 AND tax_rate_bp <= 10000", name="tax_rate_range"),
        sa.CheckConstraint("due_days >= 0 AND due_days <= 365", name="due_days_range"),
        sa.CheckConstraint("restrict_after_days >= 1 AND restrict_after_days <= 365", name="restrict_after_range"),
        sa.CheckConstraint("restrict_grace_days >= 0 AND restrict_grace_days <= 90", name="restrict_grace_range"),
    )


class Charge(TimestampMixin, Base):
    """A billable service of the estate's catalogue (service charge, security levy…)."""

    __tablename__ = "charge"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    amount_minor: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    frequency: Mapped[ChargeFrequency] = mapped_column(str_enum(ChargeFrequency))
    mandatory: Mapped[bool] = mapped_column(default=True, server_default=sa.true())  # else opt-in (ChargeOptIn)
    applies_to: Mapped[ChargeScope] = mapped_column(str_enum(ChargeScope), default=ChargeScope.ALL)
    unit_types: Mapped[list] = mapped_column(sa.JSON, default=list)  # UnitType values, for UNIT_TYPES
    blocks: Mapped[list] = mapped_column(sa.JSON, default=list)  # block names, for BLOCKS
    starts_on: Mapped[date] = mapped_column(sa.Date())
    ends_on: Mapped[date | None] = mapped_column(sa.Date())
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    __table_args__ = (
        sa.Index("ix_charge_estate_active", "estate_id", "active"),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    )


class ChargeUnit(Base):
    """A unit a charge is listed for (scope UNITS)."""

    __tablename__ = "charge_unit"

    charge_id: Mapped[int] = mapped_column(sa.ForeignKey("charge.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True, index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)


class ChargeOptIn(Base):
    """A unit that opted in to an opt-in charge (billed only if also in the charge's scope)."""

    __tablename__ = "charge_opt_in"

    charge_id: Mapped[int] = mapped_column(sa.ForeignKey("charge.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True, index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UnitCharge(TimestampMixin, Base):
    """A one-off charge to one unit (a fine, a repair, an amenity fee): a line of the
    unit's next generated invoice, or an invoice of its own at once (`invoice_id`)."""

    __tablename__ = "unit_charge"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    description: Mapped[str] = mapped_column(sa.String(200))
    amount_minor: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    charge_date: Mapped[date] = mapped_column(sa.Date())
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoice.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship()

    __table_args__ = (
        # Waiting for an invoice: the generation's look-up and the admin's list.
        sa.Index("ix_unit_charge_estate_pending", "estate_id", "invoice_id", "cancelled_at", "unit_id"),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    )


class InvoiceCounter(Base):
    """The last invoice number given in an estate for a year: a batch takes its numbers by
    updating this row, which holds a row lock to the end of its transaction (gapless, and
    never one number twice)."""

    __tablename__ = "invoice_counter"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0, server_default="0")


class GenerationRun(Base):
    """One press of "Generate": the period, its progress (the admin's page polls it) and
    the summary. `last_unit_id` is the resume point: units are done in id order, each
    batch committed with its invoices."""

    __tablename__ = "generation_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    period_start: Mapped[date] = mapped_column(sa.Date())
    period_end: Mapped[date] = mapped_column(sa.Date())
    issue_date: Mapped[date] = mapped_column(sa.Date())
    due_date: Mapped[date] = mapped_column(sa.Date())
    status: Mapped[GenerationStatus] = mapped_column(str_enum(GenerationStatus), default=GenerationStatus.QUEUED)
    total_units: Mapped[int] = mapped_column(default=0, server_default="0")
    done_units: Mapped[int] = mapped_column(default=0, server_default="0")
    invoices_created: Mapped[int] = mapped_column(default=0, server_default="0")
    already_invoiced: Mapped[int] = mapped_column(default=0, server_default="0")
    no_charges: Mapped[int] = mapped_column(default=0, server_default="0")
    total_minor: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(sa.String(3))
    last_unit_id: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.Index("ix_generation_run_estate_created", "estate_id", "created_at"),
        sa.Index("ix_generation_run_estate_period", "estate_id", "period_start", "status"),
    )

    @property
    def percent(self) -> int:
        if self.status == GenerationStatus.DONE:
            return 100
        if not self.total_units:
            return 0
        return min(100, self.done_units * 100 // self.total_units)


class Invoice(Base):
    """A bill to one unit. `number` is the estate's own (GP-2026-000123): sequential per
    estate and year, gapless, never reused (a void invoice keeps it)."""

    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resident.id"), index=True)  # billed to
    billed_to_name: Mapped[str] = mapped_column(sa.String(160), default="", server_default="")
    number: Mapped[str] = mapped_column(sa.String(40))
    year: Mapped[int]
    sequence: Mapped[int]
    kind: Mapped[InvoiceKind] = mapped_column(str_enum(InvoiceKind), default=InvoiceKind.PERIODIC)
    period_start: Mapped[date] = mapped_column(sa.Date())
    period_end: Mapped[date] = mapped_column(sa.Date())
    issue_date: Mapped[date] = mapped_column(sa.Date())
    due_date: Mapped[date] = mapped_column(sa.Date())
    subtotal_minor: Mapped[int] = mapped_column(Money)
    tax_rate_bp: Mapped[int] = mapped_column(default=0, server_default="0")
    tax_minor: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    total_minor: Mapped[int] = mapped_column(Money)
    amount_paid_minor: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    balance_minor: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[InvoiceStatus] = mapped_column(str_enum(InvoiceStatus), default=InvoiceStatus.ISSUED)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("generation_run.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    void_reason: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")

    unit: Mapped[Unit] = relationship()
    resident: Mapped[Resident | None] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.position")

    __table_args__ = (
        sa.UniqueConstraint("estate_id", "number"),
        sa.UniqueConstraint("estate_id", "year", "sequence"),
        # One generated invoice per unit and period (a second run finds it and skips the unit);
        # a void one no longer counts, so the period can be billed again for that unit.
        sa.Index("uq_invoice_periodic_unit_period", "estate_id", "unit_id", "period_start", unique=True,
                 postgresql_where=sa.text("kind = 'PERIODIC' AND status <> 'VOID'"),
                 sqlite_where=sa.text("kind = 'PERIODIC' AND status <> 'VOID'")),
        sa.Index("ix_invoice_estate_status_due", "estate_id", "status", "due_date"),
        sa.Index("ix_invoice_estate_period", "estate_id", "period_start"),
        sa.Index("ix_invoice_unit_due", "unit_id", "due_date"),
        sa.CheckConstraint("subtotal_minor >= 0 AND tax_minor >= 0 AND total_minor = subtotal_minor + tax_minor",
                           name="total_adds_up"),
        sa.CheckConstraint("amount_paid_minor >= 0 AND balance_minor >= 0", name="amounts_not_negative"),
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lines are read through their invoice; charge_id is looked up when a charge is deleted.
    # (No other index: each one costs every generated line an insertion.)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    position: Mapped[int] = mapped_column(default=0)
    charge_id: Mapped[int | None] = mapped_column(sa.ForeignKey("charge.id"), index=True)
    unit_charge_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit_charge.id"))
    description: Mapped[str] = mapped_column(sa.String(200))
    frequency: Mapped[ChargeFrequency | None] = mapped_column(str_enum(ChargeFrequency))
    # What a quarterly or annual line pays for (its months), shown in the reader's language.
    covers_start: Mapped[date | None] = mapped_column(sa.Date())
    covers_end: Mapped[date | None] = mapped_column(sa.Date())
    quantity: Mapped[int] = mapped_column(default=1)
    unit_amount_minor: Mapped[int] = mapped_column(Money)
    amount_minor: Mapped[int] = mapped_column(Money)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


_MANUAL_REFERENCE_COUNTS = "method <> 'FLUTTERWAVE' AND reference <> '' AND status IN ('PENDING', 'SUCCESSFUL')"


class Payment(Base):
    """Money received (or expected: PENDING) for a unit. `tx_ref` is ours and unique (the
    checkout's reference); a SUCCESSFUL payment has been applied to invoices once."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    payer_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus), default=PaymentStatus.PENDING)
    tx_ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    provider_transaction_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    reference: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")  # bank ref, cheque no.
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # Online payments: the invoices the payer chose (paid first, in this order), what the
    # provider said when it was verified (its JSON, Decimals as strings), and why a checkout
    # failed ("cancelled", "failed", "amount", "currency", "gateway"…).
    invoice_ids: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    provider_response: Mapped[str | None] = mapped_column(sa.Text)
    failure_reason: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A manual payment a resident reported from a bill ("I paid by transfer"), and an admin's
    # answer to it: confirmed (applied, SUCCESSFUL) or REJECTED with `review_note` as the reason.
    reported_invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoice.id"), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")

    allocations: Mapped[list[PaymentAllocation]] = relationship(back_populates="payment")

    __table_args__ = (
        sa.Index("ix_payment_estate_status_created", "estate_id", "status", "created_at"),
        sa.Index("ix_payment_estate_paid", "estate_id", "paid_at"),
        sa.Index("ix_payment_estate_method_paid", "estate_id", "method", "paid_at"),
        # A bank reference or cheque number is recorded once in an estate while it counts
        # (waiting to be confirmed, or applied); a rejected report frees it.
        sa.Index("uq_payment_manual_reference", "estate_id", "reference", unique=True,
                 postgresql_where=sa.text(_MANUAL_REFERENCE_COUNTS), sqlite_where=sa.text(_MANUAL_REFERENCE_COUNTS)),
        sa.Index("ix_payment_unit_status_paid", "unit_id", "status", "paid_at"),  # a resident's receipts
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    )


class PaymentAllocation(Base):
    """The part of a payment that went to one invoice."""

    __tablename__ = "payment_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id"))
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="allocations")

    __table_args__ = (
        sa.UniqueConstraint("payment_id", "invoice_id"),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    )
