"""integration settings: SMS and SMTP provider settings kept in the database, encrypted

A table integration_setting: one provider of a channel (SMS, EMAIL), of a kind (termii,
africastalking, twilio, http, smtp), platform-wide (estate_id NULL) or an estate's own,
in `position` order, enabled or not, its values one Fernet token (INTEGRATION_KEYS), and
how its last deliveries went. An index on (estate_id, channel, position) serves the
worker's look-up of a channel's providers and the settings pages.

outbox_message.provider_setting_id: a test message sent from the integration status
page goes through that one provider (indexed: a deleted provider's test messages are
found and unpinned).

Revision ID: 0010_integrations
Revises: 0008_message_delivery
Create Date: 2026-12-01 08:41:06.594219

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_integrations'
down_revision = '0014_sms'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('integration_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('SMS', 'EMAIL', name='integrationchannel', native_enum=False, length=10), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=80), server_default='', nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('values_encrypted', sa.Text(), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_failure_estate_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_integration_setting_estate_id_estate'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['last_failure_estate_id'], ['estate.id'], name=op.f('fk_integration_setting_last_failure_estate_id_estate'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_setting'))
    )
    with op.batch_alter_table('integration_setting', schema=None) as batch_op:
        batch_op.create_index('ix_integration_setting_scope', ['estate_id', 'channel', 'position'], unique=False)

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_setting_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_provider_setting_id'), ['provider_setting_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_provider_setting_id_integration_setting'), 'integration_setting', ['provider_setting_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_provider_setting_id_integration_setting'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_provider_setting_id'))
        batch_op.drop_column('provider_setting_id')

    with op.batch_alter_table('integration_setting', schema=None) as batch_op:
        batch_op.drop_index('ix_integration_setting_scope')

    op.drop_table('integration_setting')
