"""the sign-in codes' outbox indexes cover sign-in codes only (issue 14)

The two indexes that find sign-in codes (the latest tried, and one number's) become partial
indexes over `reason = 'sign_in_code'`: every other message, a gate scan's notices among
them, no longer adds an entry to either.

Revision ID: 0024_sign_in_code_indexes
Revises: 0023_lean_gate_indexes
Create Date: 2026-12-01 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0024_sign_in_code_indexes'
down_revision = '0023_lean_gate_indexes'
branch_labels = None
depends_on = None

SIGN_IN = sa.text("reason = 'sign_in_code'")


def upgrade():
    op.drop_index('ix_outbox_message_reason_created_at', table_name='outbox_message')
    op.drop_index('ix_outbox_message_recipient', table_name='outbox_message')
    op.create_index('ix_outbox_message_sign_in_created', 'outbox_message', ['created_at'],
                    postgresql_where=SIGN_IN, sqlite_where=SIGN_IN)
    op.create_index('ix_outbox_message_sign_in_recipient', 'outbox_message', ['recipient'],
                    postgresql_where=SIGN_IN, sqlite_where=SIGN_IN)


def downgrade():
    op.drop_index('ix_outbox_message_sign_in_recipient', table_name='outbox_message')
    op.drop_index('ix_outbox_message_sign_in_created', table_name='outbox_message')
    op.create_index('ix_outbox_message_recipient', 'outbox_message', ['recipient'])
    op.create_index('ix_outbox_message_reason_created_at', 'outbox_message', ['reason', 'created_at'])
