"""What a PostgreSQL connection really sends: libpq's protocol trace (psycopg's
`PGconn.trace`), read back as the statements and round trips of a block of code. It sees
everything that crosses the wire, whoever sends it: SQLAlchemy, the lean gate path's raw
psycopg, a pool's pre-ping, BEGIN and COMMIT."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import sqlalchemy as sa
from psycopg import pq

_QUERY = re.compile(r'^F\t\d+\tQuery\t "(.*)"$')
_PARSE = re.compile(r'^F\t\d+\tParse\t "([^"]*)" "(.*)" \d+', re.DOTALL)
_BIND = re.compile(r'^F\t\d+\tBind\t "[^"]*" "([^"]*)"')


@dataclass
class Wire:
    """Statements sent (the SQL of each Query or Execute, in order) and round trips (each
    ReadyForQuery the server sends ends one)."""

    statements: list[str] = field(default_factory=list)
    round_trips: int = 0

    def sql(self) -> list[str]:
        """The statements without the transaction framing (BEGIN, COMMIT, SAVEPOINTs)."""
        framing = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
        return [s for s in self.statements if not s.upper().startswith(framing)]


def read_trace(text: str, prepared: dict[str, str] | None = None) -> Wire:
    """The Wire of a trace; `prepared`: the SQL of statements prepared before it began, by name."""
    wire = Wire()
    prepared = dict(prepared or {})
    unnamed = ""
    pending = None
    messages: list[str] = []
    for line in text.splitlines():  # a statement's newlines are printed as they are: rejoin
        if line.startswith(("F\t", "B\t")) or not messages:
            messages.append(line)
        else:
            messages[-1] += " " + line
    for line in messages:
        if m := _QUERY.match(line):
            wire.statements.append(" ".join(m.group(1).split()))
        elif m := _PARSE.match(line):
            name, sql = m.group(1), " ".join(m.group(2).split())
            if name:
                prepared[name] = sql
            else:
                unnamed = sql
        elif m := _BIND.match(line):
            pending = prepared.get(m.group(1), f"(prepared earlier: {m.group(1)})") if m.group(1) else unnamed
        elif line.startswith("F\t") and "\tExecute\t" in line:
            wire.statements.append(pending or "?")
        elif line.startswith("B\t") and "\tReadyForQuery\t" in line:
            wire.round_trips += 1
    return wire


@contextmanager
def traced(connections: list[psycopg.Connection] | None = None) -> Iterator[Wire]:
    """Trace `connections` and every connection any SQLAlchemy pool hands out meanwhile;
    the Wire is filled in when the block ends."""
    wire = Wire()
    handle, path = tempfile.mkstemp(prefix="pgtrace-", suffix=".txt")
    traced_now: list[psycopg.Connection] = []

    def start(conn: psycopg.Connection) -> None:
        if conn in traced_now:
            return
        conn.pgconn.trace(handle)
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        traced_now.append(conn)

    def on_checkout(dbapi_connection, _record, _proxy) -> None:
        if isinstance(dbapi_connection, psycopg.Connection):
            if dbapi_connection.autocommit:  # (a query here would open a transaction otherwise)
                learn(dbapi_connection)
            start(dbapi_connection)

    def learn(conn: psycopg.Connection) -> None:
        known.update({name: " ".join(sql.split()) for name, sql in conn.execute(
            "SELECT name, statement FROM pg_prepared_statements")})

    known: dict[str, str] = {}
    for conn in connections or []:
        learn(conn)
        start(conn)
    sa.event.listen(sa.pool.Pool, "checkout", on_checkout)
    try:
        yield wire
    finally:
        sa.event.remove(sa.pool.Pool, "checkout", on_checkout)
        for conn in traced_now:
            if not conn.closed:
                conn.pgconn.untrace()
        os.close(handle)
        with open(path, encoding="utf-8", errors="replace") as f:
            found = read_trace(f.read(), known)
        os.unlink(path)
        wire.statements, wire.round_trips = found.statements, found.round_trips
