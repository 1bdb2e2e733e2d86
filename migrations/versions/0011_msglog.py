"""delivery log: indexes on outbox_message for the estate admin's and the platform's log

The delivery log (portal/integrations/delivery_log.py) lists an estate's messages newest
first, by date range, and filtered by status (what failed, to resend it):
(estate_id, created_at) and (estate_id, status, created_at); the enterprise's log of every
estate's and the platform's messages orders by created_at alone. The channel, reason and
recipient filters narrow the rows these indexes find (no index of their own: every message
of a gate scan pays for each index on this table).

Revision ID: 0011_msglog
Revises: 0008_message_delivery
Create Date: 2026-12-01 08:40:12.980307

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011_msglog'
down_revision = '0010_integrations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_created', ['created_at'], unique=False)
        batch_op.create_index('ix_outbox_message_estate_created', ['estate_id', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_message_estate_status_created', ['estate_id', 'status', 'created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_estate_status_created')
        batch_op.drop_index('ix_outbox_message_estate_created')
        batch_op.drop_index('ix_outbox_message_created')
