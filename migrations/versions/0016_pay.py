"""online payments and receipts

- payment.invoice_ids: the invoices a resident chose to pay online (paid first, in order);
  payment.provider_response: the provider's verified record (JSON text); payment.failure_reason:
  why a checkout failed (issue 11, items 3 and 5).
- ix_payment_unit_status_paid: a resident's receipts (their unit's successful payments, newest first).

Revision ID: 0016_pay
Revises: 0017_manual
Create Date: 2026-12-01 11:50:52.606102

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_pay'
down_revision = "0017_manual"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoice_ids', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('provider_response', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('failure_reason', sa.String(length=40), server_default='', nullable=False))
        batch_op.create_index('ix_payment_unit_status_paid', ['unit_id', 'status', 'paid_at'], unique=False)


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_unit_status_paid')
        batch_op.drop_column('failure_reason')
        batch_op.drop_column('provider_response')
        batch_op.drop_column('invoice_ids')
