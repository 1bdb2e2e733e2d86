"""plates normalised, lower(email) and lower(unit number) unique, list indexes, import previews

- Stored plates (visit guests, vehicles, walk-ins, frequent visitors) become what
  portal/text.py normalise_plate makes of them: upper-case letters and digits only. A
  vehicle whose normalised plate another vehicle of its estate already has keeps its plate.
- Stored emails become lower-case; a unique index on lower(email) backs sign-in's lookup.
- Unit numbers are unique per estate whatever their case: (estate_id, lower(number)).
- Indexes for the filters of the list pages; the import_preview table (CSV previews in
  the database instead of instance/ files).

Expression indexes are not reflected on SQLite: a later batch_alter_table on user_account
or unit (which rebuilds the table there) must create uq_user_email_lower or
uq_unit_estate_number_lower again.

Revision ID: 0006_db_fixes
Revises: 0005_gate_extras
Create Date: 2026-12-01 04:26:34.241714

"""
from alembic import op
import sqlalchemy as sa

PLATE_COLUMNS = [("visit_guest", True), ("walk_in", True), ("frequent_visitor", True), ("vehicle", False)]


def _plate(raw):
    """portal/text.py normalise_plate as of this migration."""
    return "".join(ch for ch in (raw or "") if ch.isalnum()).upper()


def _normalise_plates(conn):
    for table, nullable in PLATE_COLUMNS:
        rows = conn.execute(sa.text(f"SELECT id, estate_id, plate FROM {table} WHERE plate IS NOT NULL")).all()
        taken = {(estate_id, plate) for _id, estate_id, plate in rows}
        changes = []
        for row_id, estate_id, plate in rows:
            clean = _plate(plate)
            if clean == plate:
                continue
            if not clean:
                if nullable:
                    changes.append({"id": row_id, "plate": None})
                continue
            if not nullable:  # vehicle: (estate_id, plate) is unique
                if (estate_id, clean) in taken:
                    continue
                taken.add((estate_id, clean))
            changes.append({"id": row_id, "plate": clean})
        if changes:
            conn.execute(sa.text(f"UPDATE {table} SET plate = :plate WHERE id = :id"), changes)


def _refuse_duplicates(conn, sql, what):
    clashes = conn.execute(sa.text(sql)).all()
    if clashes:
        listed = ", ".join(str(tuple(c)) for c in clashes[:20])
        raise RuntimeError(f"Cannot add the unique index: {what} differ only in case: {listed}. "
                           "Merge or rename them, then upgrade again.")


# revision identifiers, used by Alembic.
revision = '0006_db_fixes'
down_revision = '0005_gate_extras'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    _normalise_plates(conn)
    _refuse_duplicates(conn, "SELECT lower(email), count(*) FROM user_account WHERE email IS NOT NULL "
                             "GROUP BY lower(email) HAVING count(*) > 1", "these emails")
    conn.execute(sa.text("UPDATE user_account SET email = lower(email) WHERE email <> lower(email)"))
    _refuse_duplicates(conn, "SELECT estate_id, lower(number), count(*) FROM unit "
                             "GROUP BY estate_id, lower(number) HAVING count(*) > 1", "these unit numbers")

    op.create_table('import_preview',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_import_preview_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_import_preview_estate_id_estate')),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_import_preview'))
    )
    with op.batch_alter_table('import_preview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_preview_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_preview_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_preview_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_estate_action_created', ['estate_id', 'action', 'created_at'], unique=False)

    with op.batch_alter_table('gate_event', schema=None) as batch_op:
        batch_op.create_index('ix_gate_event_guard_occurred', ['guard_user_id', 'occurred_at'], unique=False)

    # The table is rebuilt on SQLite: drop the old constraint first, then add the expression indexes.
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_unit_estate_id_number'), type_='unique')
    op.create_index('uq_unit_estate_number_lower', 'unit', ['estate_id', sa.text('lower(number)')], unique=True)
    op.create_index('uq_user_email_lower', 'user_account', [sa.text('lower(email)')], unique=True)

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_estate_inside', ['estate_id', 'people_inside'], unique=False)

    with op.batch_alter_table('walk_in', schema=None) as batch_op:
        batch_op.create_index('ix_walk_in_estate_created', ['estate_id', 'created_at'], unique=False)

    # ### end Alembic commands ###


def downgrade():
    # Plates and emails stay normalised (nothing to undo): only the schema goes back.
    op.drop_index('uq_user_email_lower', table_name='user_account')
    op.drop_index('uq_unit_estate_number_lower', table_name='unit')
    with op.batch_alter_table('walk_in', schema=None) as batch_op:
        batch_op.drop_index('ix_walk_in_estate_created')

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_estate_inside')

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_unit_estate_id_number'), ['estate_id', 'number'])

    with op.batch_alter_table('gate_event', schema=None) as batch_op:
        batch_op.drop_index('ix_gate_event_guard_occurred')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_estate_action_created')

    with op.batch_alter_table('import_preview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_preview_expires_at'))
        batch_op.drop_index(batch_op.f('ix_import_preview_estate_id'))
        batch_op.drop_index(batch_op.f('ix_import_preview_created_by_id'))

    op.drop_table('import_preview')
    # ### end Alembic commands ###
