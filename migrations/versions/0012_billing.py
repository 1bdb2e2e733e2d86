"""billing: charges, invoices with gapless numbers, generation runs, payments

Tables for portal/billing: billing_settings (an estate's invoice prefix, tax rate in
basis points, due days), charge (the catalogue) with charge_unit (units a charge lists)
and charge_opt_in (units that opted in), unit_charge (one-off charges to a unit),
invoice_counter (the last number per estate and year, locked by each generation batch),
generation_run (progress and summary of one generation), invoice and invoice_line,
payment and payment_allocation. Money is BIGINT minor units everywhere. The partial
unique index uq_invoice_periodic_unit_period keeps one generated, not void invoice per
unit and period.

Revision ID: 0012_billing
Revises: 0008_message_delivery
Create Date: 2026-12-01 08:47:02.898618

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_billing'
down_revision = '0009_push'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('billing_settings',
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('invoice_prefix', sa.String(length=12), nullable=False),
    sa.Column('tax_rate_bp', sa.Integer(), server_default='0', nullable=False),
    sa.Column('due_days', sa.Integer(), server_default='14', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('due_days >= 0 AND due_days <= 365', name=op.f('ck_billing_settings_due_days_range')),
    sa.CheckConstraint('tax_rate_bp >= 0 AND tax_rate_bp <= 10000', name=op.f('ck_billing_settings_tax_rate_range')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_billing_settings_estate_id_estate')),
    sa.PrimaryKeyConstraint('estate_id', name=op.f('pk_billing_settings'))
    )
    op.create_table('charge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=300), server_default='', nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('frequency', sa.Enum('MONTHLY', 'QUARTERLY', 'ANNUAL', 'ONE_OFF', name='chargefrequency', native_enum=False, length=20), nullable=False),
    sa.Column('mandatory', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('applies_to', sa.Enum('ALL', 'UNIT_TYPES', 'BLOCKS', 'UNITS', name='chargescope', native_enum=False, length=20), nullable=False),
    sa.Column('unit_types', sa.JSON(), nullable=False),
    sa.Column('blocks', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_charge_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_charge_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_charge_estate_id_estate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charge'))
    )
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.create_index('ix_charge_estate_active', ['estate_id', 'active'], unique=False)

    op.create_table('generation_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('QUEUED', 'RUNNING', 'DONE', 'FAILED', name='generationstatus', native_enum=False, length=20), nullable=False),
    sa.Column('total_units', sa.Integer(), server_default='0', nullable=False),
    sa.Column('done_units', sa.Integer(), server_default='0', nullable=False),
    sa.Column('invoices_created', sa.Integer(), server_default='0', nullable=False),
    sa.Column('already_invoiced', sa.Integer(), server_default='0', nullable=False),
    sa.Column('no_charges', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('last_unit_id', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.String(length=500), server_default='', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_generation_run_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_generation_run_estate_id_estate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_generation_run'))
    )
    with op.batch_alter_table('generation_run', schema=None) as batch_op:
        batch_op.create_index('ix_generation_run_estate_created', ['estate_id', 'created_at'], unique=False)
        batch_op.create_index('ix_generation_run_estate_period', ['estate_id', 'period_start', 'status'], unique=False)

    op.create_table('invoice_counter',
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_invoice_counter_estate_id_estate')),
    sa.PrimaryKeyConstraint('estate_id', 'year', name=op.f('pk_invoice_counter'))
    )
    op.create_table('charge_opt_in',
    sa.Column('charge_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_charge_opt_in_charge_id_charge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_charge_opt_in_estate_id_estate')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_charge_opt_in_unit_id_unit')),
    sa.PrimaryKeyConstraint('charge_id', 'unit_id', name=op.f('pk_charge_opt_in'))
    )
    with op.batch_alter_table('charge_opt_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charge_opt_in_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_charge_opt_in_unit_id'), ['unit_id'], unique=False)

    op.create_table('charge_unit',
    sa.Column('charge_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_charge_unit_charge_id_charge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_charge_unit_estate_id_estate')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_charge_unit_unit_id_unit')),
    sa.PrimaryKeyConstraint('charge_id', 'unit_id', name=op.f('pk_charge_unit'))
    )
    with op.batch_alter_table('charge_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charge_unit_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_charge_unit_unit_id'), ['unit_id'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('payer_user_id', sa.Integer(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.Enum('FLUTTERWAVE', 'BANK_TRANSFER', 'CASH', 'CHEQUE', 'OTHER', name='paymentmethod', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'SUCCESSFUL', 'FAILED', 'REJECTED', name='paymentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('tx_ref', sa.String(length=64), nullable=False),
    sa.Column('provider_transaction_id', sa.String(length=64), nullable=True),
    sa.Column('reference', sa.String(length=120), server_default='', nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('proof_path', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_payment_amount_positive')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_payment_estate_id_estate')),
    sa.ForeignKeyConstraint(['payer_user_id'], ['user_account.id'], name=op.f('fk_payment_payer_user_id_user_account')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_payment_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_payment_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    sa.UniqueConstraint('provider_transaction_id', name=op.f('uq_payment_provider_transaction_id')),
    sa.UniqueConstraint('tx_ref', name=op.f('uq_payment_tx_ref'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_estate_paid', ['estate_id', 'paid_at'], unique=False)
        batch_op.create_index('ix_payment_estate_status_created', ['estate_id', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_payer_user_id'), ['payer_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_unit_id'), ['unit_id'], unique=False)

    op.create_table('invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('billed_to_name', sa.String(length=160), server_default='', nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('PERIODIC', 'ONE_OFF', name='invoicekind', native_enum=False, length=20), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('subtotal_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_rate_bp', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('balance_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'ISSUED', 'PARTIALLY_PAID', 'PAID', 'OVERDUE', 'VOID', name='invoicestatus', native_enum=False, length=20), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('void_reason', sa.String(length=300), server_default='', nullable=False),
    sa.CheckConstraint('amount_paid_minor >= 0 AND balance_minor >= 0', name=op.f('ck_invoice_amounts_not_negative')),
    sa.CheckConstraint('subtotal_minor >= 0 AND tax_minor >= 0 AND total_minor = subtotal_minor + tax_minor', name=op.f('ck_invoice_total_adds_up')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_invoice_estate_id_estate')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_invoice_resident_id_resident')),
    sa.ForeignKeyConstraint(['run_id'], ['generation_run.id'], name=op.f('fk_invoice_run_id_generation_run')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_invoice_unit_id_unit')),
    sa.ForeignKeyConstraint(['voided_by_id'], ['user_account.id'], name=op.f('fk_invoice_voided_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('estate_id', 'number', name=op.f('uq_invoice_estate_id_number')),
    sa.UniqueConstraint('estate_id', 'year', 'sequence', name=op.f('uq_invoice_estate_id_year_sequence'))
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_estate_period', ['estate_id', 'period_start'], unique=False)
        batch_op.create_index('ix_invoice_estate_status_due', ['estate_id', 'status', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index('ix_invoice_unit_due', ['unit_id', 'due_date'], unique=False)
        batch_op.create_index('uq_invoice_periodic_unit_period', ['estate_id', 'unit_id', 'period_start'], unique=True, postgresql_where=sa.text("kind = 'PERIODIC' AND status <> 'VOID'"), sqlite_where=sa.text("kind = 'PERIODIC' AND status <> 'VOID'"))

    op.create_table('payment_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_payment_allocation_amount_positive')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_payment_allocation_estate_id_estate')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_payment_allocation_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_allocation_payment_id_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocation')),
    sa.UniqueConstraint('payment_id', 'invoice_id', name=op.f('uq_payment_allocation_payment_id_invoice_id'))
    )
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_allocation_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_allocation_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('unit_charge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('charge_date', sa.Date(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_unit_charge_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_unit_charge_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_unit_charge_estate_id_estate')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_unit_charge_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unit_charge_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_charge'))
    )
    with op.batch_alter_table('unit_charge', schema=None) as batch_op:
        batch_op.create_index('ix_unit_charge_estate_pending', ['estate_id', 'invoice_id', 'cancelled_at', 'unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_charge_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_charge_unit_id'), ['unit_id'], unique=False)

    op.create_table('invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('charge_id', sa.Integer(), nullable=True),
    sa.Column('unit_charge_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('frequency', sa.Enum('MONTHLY', 'QUARTERLY', 'ANNUAL', 'ONE_OFF', name='chargefrequency', native_enum=False, length=20), nullable=True),
    sa.Column('covers_start', sa.Date(), nullable=True),
    sa.Column('covers_end', sa.Date(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_invoice_line_charge_id_charge')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_invoice_line_estate_id_estate')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_charge_id'], ['unit_charge.id'], name=op.f('fk_invoice_line_unit_charge_id_unit_charge')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line'))
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_charge_id'), ['charge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_line_invoice_id'), ['invoice_id'], unique=False)



def downgrade():
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_line_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_line_charge_id'))

    op.drop_table('invoice_line')
    with op.batch_alter_table('unit_charge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_charge_unit_id'))
        batch_op.drop_index(batch_op.f('ix_unit_charge_invoice_id'))
        batch_op.drop_index('ix_unit_charge_estate_pending')

    op.drop_table('unit_charge')
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_allocation_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_payment_allocation_estate_id'))

    op.drop_table('payment_allocation')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('uq_invoice_periodic_unit_period', postgresql_where=sa.text("kind = 'PERIODIC' AND status <> 'VOID'"), sqlite_where=sa.text("kind = 'PERIODIC' AND status <> 'VOID'"))
        batch_op.drop_index('ix_invoice_unit_due')
        batch_op.drop_index(batch_op.f('ix_invoice_resident_id'))
        batch_op.drop_index('ix_invoice_estate_status_due')
        batch_op.drop_index('ix_invoice_estate_period')

    op.drop_table('invoice')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_unit_id'))
        batch_op.drop_index(batch_op.f('ix_payment_payer_user_id'))
        batch_op.drop_index('ix_payment_estate_status_created')
        batch_op.drop_index('ix_payment_estate_paid')

    op.drop_table('payment')
    with op.batch_alter_table('charge_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charge_unit_unit_id'))
        batch_op.drop_index(batch_op.f('ix_charge_unit_estate_id'))

    op.drop_table('charge_unit')
    with op.batch_alter_table('charge_opt_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charge_opt_in_unit_id'))
        batch_op.drop_index(batch_op.f('ix_charge_opt_in_estate_id'))

    op.drop_table('charge_opt_in')
    op.drop_table('invoice_counter')
    with op.batch_alter_table('generation_run', schema=None) as batch_op:
        batch_op.drop_index('ix_generation_run_estate_period')
        batch_op.drop_index('ix_generation_run_estate_created')

    op.drop_table('generation_run')
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.drop_index('ix_charge_estate_active')

    op.drop_table('charge')
    op.drop_table('billing_settings')
