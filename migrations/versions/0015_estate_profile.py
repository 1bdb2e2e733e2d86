"""estate profile and natural unit order

- estate: contact_email, contact_phone, logo (a small PNG, deferred) and logo_version, the
  profile an estate admin edits (issue 13, item 7).
- unit.sort_key: the unit's number as people sort it (digit runs compared as numbers:
  A2 before A10, "Casa 2" before "Casa 10"), kept by the model on every save; backfilled
  here; indexed with estate_id for the lists that order by it (issue 13, item 15).
- audit_log rows whose target was recorded as "LocalProxy" (flask-login's current_user
  given as the target) name their real type, "User".

Revision ID: 0015_estate_profile
Revises: 0008_message_delivery
Create Date: 2026-12-01 12:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_estate_profile'
down_revision = '0012_billing'
branch_labels = None
depends_on = None

_DIGITS = re.compile(r"\d+")


def _natural_key(label):
    # A copy of portal.models.people.natural_key as it was when this migration was written.
    text = " ".join((label or "").casefold().split())
    return _DIGITS.sub(lambda m: m.group(0).lstrip("0").rjust(10, "0"), text)[:255]


def upgrade():
    with op.batch_alter_table('estate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), server_default='', nullable=False))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=30), server_default='', nullable=False))
        batch_op.add_column(sa.Column('logo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_key', sa.String(length=255), server_default='', nullable=False))

    conn = op.get_bind()
    unit = sa.table('unit', sa.column('id', sa.Integer), sa.column('number', sa.String), sa.column('sort_key', sa.String))
    rows = conn.execute(sa.select(unit.c.id, unit.c.number)).all()
    if rows:
        conn.execute(unit.update().where(unit.c.id == sa.bindparam('uid')).values(sort_key=sa.bindparam('key')),
                     [{'uid': row.id, 'key': _natural_key(row.number)} for row in rows])

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index('ix_unit_estate_sort_key', ['estate_id', 'sort_key'], unique=False)

    op.execute("UPDATE audit_log SET target_type = 'User' WHERE target_type = 'LocalProxy'")


def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_estate_sort_key')
        batch_op.drop_column('sort_key')

    with op.batch_alter_table('estate', schema=None) as batch_op:
        batch_op.drop_column('logo_version')
        batch_op.drop_column('logo')
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_email')
