"""invitations keep what the inviter typed; gate devices' last contact

- invitation.full_name / email / phone: what the inviter typed (the invitation shows
  only that); invitation.user_id is set when the person accepts, so it may be NULL.
  Existing invitations get their account's name, email and phone.
- membership.device_contact_at: the bound gate device's last contact with the server
  (the start of its believable offline window).

Downgrade: invitations not yet tied to an account (user_id NULL) cannot be kept and are
deleted.

Revision ID: 0007_access
Revises: 0006_db_fixes
Create Date: 2026-12-01 05:12:01.138822

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_access'
down_revision = '0006_db_fixes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('full_name', sa.String(length=160), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch_op.alter_column('user_id', existing_type=sa.INTEGER(), nullable=True)
    op.execute(sa.text(
        "UPDATE invitation SET "
        "full_name = (SELECT u.full_name FROM user_account u WHERE u.id = invitation.user_id), "
        "email = (SELECT u.email FROM user_account u WHERE u.id = invitation.user_id), "
        "phone = (SELECT u.phone FROM user_account u WHERE u.id = invitation.user_id)"
    ))
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.alter_column('full_name', existing_type=sa.String(length=160), existing_nullable=False,
                              server_default=None)

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_contact_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('device_contact_at')

    op.execute(sa.text("DELETE FROM invitation WHERE user_id IS NULL"))
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('phone')
        batch_op.drop_column('email')
        batch_op.drop_column('full_name')
