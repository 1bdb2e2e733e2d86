"""dues follow-up: payment reminders and dues-linked restrictions (issue 11, item 7)

- billing_settings: reminders_enabled (on by default), restrict_enabled (off by default),
  restrict_after_days and restrict_grace_days.
- payment_reminder: one row per invoice and reminder step sent (unique), so a reminder
  is sent once however often the job runs.
- dues_override: an admin lifting a unit's restriction (reason, optional last day); at
  most one in force per unit (partial unique index on unit_id WHERE ended_at IS NULL).

Revision ID: 0019_dues
Revises: 0015_estate_profile
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_dues'
down_revision = '0015_estate_profile'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dues_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_dues_override_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['user_account.id'], name=op.f('fk_dues_override_ended_by_id_user_account')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_dues_override_estate_id_estate')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_dues_override_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dues_override'))
    )
    with op.batch_alter_table('dues_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dues_override_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index('ix_dues_override_unit_created', ['unit_id', 'created_at'], unique=False)
        batch_op.create_index('uq_dues_override_unit_open', ['unit_id'], unique=True, postgresql_where=sa.text('ended_at IS NULL'), sqlite_where=sa.text('ended_at IS NULL'))

    op.create_table('payment_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('messages', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_payment_reminder_estate_id_estate')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_payment_reminder_invoice_id_invoice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_reminder')),
    sa.UniqueConstraint('invoice_id', 'step', name=op.f('uq_payment_reminder_invoice_id_step'))
    )
    with op.batch_alter_table('payment_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_reminder_estate_id'), ['estate_id'], unique=False)

    with op.batch_alter_table('billing_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_enabled', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('restrict_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('restrict_after_days', sa.Integer(), server_default='60', nullable=False))
        batch_op.add_column(sa.Column('restrict_grace_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.create_check_constraint(op.f('ck_billing_settings_restrict_after_range'),
                                         'restrict_after_days >= 1 AND restrict_after_days <= 365')
        batch_op.create_check_constraint(op.f('ck_billing_settings_restrict_grace_range'),
                                         'restrict_grace_days >= 0 AND restrict_grace_days <= 90')



def downgrade():
    with op.batch_alter_table('billing_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_billing_settings_restrict_grace_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_billing_settings_restrict_after_range'), type_='check')
        batch_op.drop_column('restrict_grace_days')
        batch_op.drop_column('restrict_after_days')
        batch_op.drop_column('restrict_enabled')
        batch_op.drop_column('reminders_enabled')

    with op.batch_alter_table('payment_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_reminder_estate_id'))

    op.drop_table('payment_reminder')
    with op.batch_alter_table('dues_override', schema=None) as batch_op:
        batch_op.drop_index('uq_dues_override_unit_open', postgresql_where=sa.text('ended_at IS NULL'), sqlite_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index('ix_dues_override_unit_created')
        batch_op.drop_index(batch_op.f('ix_dues_override_estate_id'))

    op.drop_table('dues_override')
