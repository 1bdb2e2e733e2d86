"""payment.proof_path dropped: never written or read (a proof is a payment_proof row)

Revision ID: 0025_drop_payment_proof_path
Revises: 0024_sign_in_code_indexes
Create Date: 2026-12-01 18:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0025_drop_payment_proof_path'
down_revision = '0024_sign_in_code_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment') as batch_op:
        batch_op.drop_column('proof_path')


def downgrade():
    with op.batch_alter_table('payment') as batch_op:
        batch_op.add_column(sa.Column('proof_path', sa.String(length=255), nullable=True))
