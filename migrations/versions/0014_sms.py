"""sms: an index on outbox_message (reason, created_at)

For the sign-in code page (portal.accounts.signin.code_delivery): the most recent
sign-in codes, found without reading the whole outbox.

Revision ID: 0014_sms
Revises: 0008_message_delivery
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_sms'
down_revision = '0008_message_delivery'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_reason_created_at', ['reason', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_reason_created_at')
