"""guards ask for a device change

- membership.device_change_requested_at: when a guard refused on another device asked the
  estate's admins to move their gate-device binding; NULL when nothing is pending. An
  admin's approval (or a device reset) clears it.
- ix_membership_estate_device_change (estate_id, device_change_requested_at): the admin's
  list of pending requests in one estate.

Revision ID: 0013_device_change
Revises: 0008_message_delivery
Create Date: 2026-12-01 08:49:41.761722

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_device_change'
down_revision = '0011_msglog'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_change_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_membership_estate_device_change', ['estate_id', 'device_change_requested_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_estate_device_change')
        batch_op.drop_column('device_change_requested_at')
