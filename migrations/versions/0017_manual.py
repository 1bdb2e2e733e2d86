"""manual payments

- payment: reported_invoice_id (the bill a resident reported a transfer from),
  reviewed_by_id / reviewed_at / review_note (an admin's confirmation or rejection, and
  its reason); an index for the payments list's method filter; one manual payment per
  bank reference or cheque number in an estate while it counts (pending or applied).
- payment_proof: the uploaded proof of a manual payment (image or PDF), in the database.

Revision ID: 0017_manual
Revises: 0019_dues
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_manual'
down_revision = "0019_dues"
branch_labels = None
depends_on = None


_COUNTS = "method <> 'FLUTTERWAVE' AND reference <> '' AND status IN ('PENDING', 'SUCCESSFUL')"


def upgrade():
    op.create_table('payment_proof',
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=120), server_default='', nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_payment_proof_estate_id_estate')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_proof_payment_id_payment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('payment_id', name=op.f('pk_payment_proof'))
    )
    with op.batch_alter_table('payment_proof', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_proof_estate_id'), ['estate_id'], unique=False)

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_invoice_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_note', sa.String(length=300), server_default='', nullable=False))
        batch_op.create_index('ix_payment_estate_method_paid', ['estate_id', 'method', 'paid_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_reported_invoice_id'), ['reported_invoice_id'], unique=False)
        batch_op.create_index('uq_payment_manual_reference', ['estate_id', 'reference'], unique=True, postgresql_where=sa.text(_COUNTS), sqlite_where=sa.text(_COUNTS))
        batch_op.create_foreign_key(batch_op.f('fk_payment_reported_invoice_id_invoice'), 'invoice', ['reported_invoice_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_payment_reviewed_by_id_user_account'), 'user_account', ['reviewed_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_reviewed_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_payment_reported_invoice_id_invoice'), type_='foreignkey')
        batch_op.drop_index('uq_payment_manual_reference', postgresql_where=sa.text(_COUNTS), sqlite_where=sa.text(_COUNTS))
        batch_op.drop_index(batch_op.f('ix_payment_reported_invoice_id'))
        batch_op.drop_index('ix_payment_estate_method_paid')
        batch_op.drop_column('review_note')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('reported_invoice_id')

    with op.batch_alter_table('payment_proof', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_proof_estate_id'))

    op.drop_table('payment_proof')
