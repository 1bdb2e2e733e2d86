"""message delivery: the outbox rows get a status and are sent by a worker

Columns on outbox_message for portal/integrations/delivery.py: status (QUEUED, SENDING,
SENT, FAILED), attempts, next_attempt_at (a QUEUED row's retry or sweep time, a SENDING
row's claim deadline), provider, provider_message_id, last_error, sent_at; and what the
worker needs to frame an email: estate_id, language, reason. An index on
(status, next_attempt_at) serves the sweep for due retries and rows left behind.

Rows written before this revision were never delivered outside the DEV outbox page, and
their codes and links are stale: they become FAILED and are never sent.

Revision ID: 0008_message_delivery
Revises: 0007_access
Create Date: 2026-12-01 05:06:11.037881

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_message_delivery'
down_revision = '0007_access'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('estate_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='', nullable=False))
        batch_op.add_column(sa.Column('reason', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('status', sa.Enum('QUEUED', 'SENDING', 'SENT', 'FAILED', name='messagestatus', native_enum=False, length=10), server_default='QUEUED', nullable=False))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('provider', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('provider_message_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_outbox_message_status_next_attempt', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_estate_id_estate'), 'estate', ['estate_id'], ['id'])

    op.execute("UPDATE outbox_message SET status = 'FAILED', next_attempt_at = NULL, "
               "last_error = 'Written before message delivery existed; not sent.'")


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_estate_id_estate'), type_='foreignkey')
        batch_op.drop_index('ix_outbox_message_status_next_attempt')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('provider_message_id')
        batch_op.drop_column('provider')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('status')
        batch_op.drop_column('reason')
        batch_op.drop_column('language')
        batch_op.drop_column('estate_id')

