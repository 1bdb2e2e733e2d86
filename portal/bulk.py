"""Many rows at once, in the session's transaction (invoice generation and its notices).

On PostgreSQL the rows travel by COPY on the session's own connection: the cheapest way
in, with no statement to parse per row or per value (a multi-row VALUES list, or arrays
for unnest, cost the driver seconds for 10,000 invoices). COPY returns nothing, so when
the caller needs the new rows' ids they are taken from the table's sequence first (one
query) and written with the rows. Elsewhere (SQLite) it is SQLAlchemy's executemany
(INSERT … RETURNING, in the rows' order). Values are given as the database stores them:
ints, strings, dates, aware datetimes, None; enums become their values. No ORM object is
made, so nothing here fires ORM events: the caller does what they would have done.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import Enum

import sqlalchemy as sa

from portal.extensions import db

_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _text(value) -> str:
    if value is None:
        return "\\N"
    return (value.value if isinstance(value, Enum) else str(value)).translate(_ESCAPES)


def _number(value) -> str:
    return "\\N" if value is None else str(value)


def _when(value) -> str:
    return "\\N" if value is None else value.isoformat()


def _flag(value) -> str:
    return "\\N" if value is None else ("t" if value else "f")


def _json(value) -> str:
    return "\\N" if value is None else json.dumps(value).translate(_ESCAPES)


def _writer(column: sa.Column):
    """How a value of `column` is written in COPY's text format (chosen once per column)."""
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl if isinstance(kind.impl, sa.types.TypeEngine) else kind.impl()
    if isinstance(kind, sa.Boolean):
        return _flag
    if isinstance(kind, sa.Integer | sa.Numeric):
        return _number
    if isinstance(kind, sa.Date | sa.DateTime):
        return _when
    if isinstance(kind, sa.JSON):
        return _json
    return _text


def _next_ids(table: sa.Table, count: int) -> list[int]:
    result = db.session.connection().exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) FROM generate_series(1, %(count)s)",
        {"table": table.name, "count": count})
    return [row[0] for row in result]


def insert(table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence], *, ids: bool = False) -> list[int]:
    """Insert `rows` (tuples in the order of `columns`) into `table`; with `ids`, the new
    rows' ids in the same order (the table's primary key must be a serial `id`)."""
    if not rows:
        return []
    if not _is_postgresql():
        stmt = sa.insert(table)
        data = [dict(zip(columns, row, strict=True)) for row in rows]
        if ids:
            return list(db.session.execute(stmt.returning(table.c.id, sort_by_parameter_order=True), data).scalars())
        db.session.execute(stmt, data)
        return []
    new_ids = _next_ids(table, len(rows)) if ids else []
    names = (["id"] if ids else []) + list(columns)
    if ids:
        rows = [(new_id, *row) for new_id, row in zip(new_ids, rows, strict=True)]
    writers = [_writer(table.c[name]) for name in names]
    text = "".join("\t".join([write(value) for write, value in zip(writers, row, strict=True)]) + "\n"
                   for row in rows)
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        copy.write(text)
    return new_ids


def set_where_null(table: sa.Table, column: str, pairs: Sequence[tuple[int, int]]) -> int:
    """For each (id, value): `UPDATE table SET column = value WHERE id = … AND column IS NULL`,
    as one statement on PostgreSQL. How many rows changed."""
    if not pairs:
        return 0
    if _is_postgresql():
        sql = (f"UPDATE {table.name} SET {column} = v.value FROM unnest(%(ids)s::integer[], %(values)s::integer[])"
               f" AS v(id, value) WHERE {table.name}.id = v.id AND {table.name}.{column} IS NULL")
        return db.session.connection().exec_driver_sql(
            sql, {"ids": [p[0] for p in pairs], "values": [p[1] for p in pairs]}).rowcount
    stmt = (sa.update(table).where(table.c.id == sa.bindparam("row_id"), table.c[column].is_(None))
            .values({column: sa.bindparam("new_value")}))
    return db.session.execute(stmt, [{"row_id": i, "new_value": v} for i, v in pairs]).rowcount
