"""partial indexes for the gate scan (issue 14)

- gate_event: the unique (estate_id, client_event_id) becomes a partial unique index over
  rows with a client id (offline replays); a live scan's event (no client id, never a
  duplicate: NULLs are distinct) no longer adds an entry.
- outbox_message: the provider_setting_id index covers only test messages (the column is
  NULL for every other message, a gate scan's notices among them).

Revision ID: 0023_lean_gate_indexes
Revises: 0022_amenity_photos
Create Date: 2026-12-01 15:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0023_lean_gate_indexes'
down_revision = '0022_amenity_photos'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('gate_event') as batch_op:
        batch_op.drop_constraint('uq_gate_event_estate_id_client_event_id', type_='unique')
    op.create_index('uq_gate_event_estate_id_client_event_id', 'gate_event', ['estate_id', 'client_event_id'],
                    unique=True, postgresql_where=sa.text('client_event_id IS NOT NULL'),
                    sqlite_where=sa.text('client_event_id IS NOT NULL'))
    op.drop_index('ix_outbox_message_provider_setting_id', table_name='outbox_message')
    op.create_index('ix_outbox_message_provider_setting_id', 'outbox_message', ['provider_setting_id'],
                    postgresql_where=sa.text('provider_setting_id IS NOT NULL'),
                    sqlite_where=sa.text('provider_setting_id IS NOT NULL'))


def downgrade():
    op.drop_index('ix_outbox_message_provider_setting_id', table_name='outbox_message')
    op.create_index('ix_outbox_message_provider_setting_id', 'outbox_message', ['provider_setting_id'])
    op.drop_index('uq_gate_event_estate_id_client_event_id', table_name='gate_event')
    with op.batch_alter_table('gate_event') as batch_op:
        batch_op.create_unique_constraint('uq_gate_event_estate_id_client_event_id', ['estate_id', 'client_event_id'])
