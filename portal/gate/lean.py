"""The kiosk's scan path on PostgreSQL, lean: an admitted entry in one statement, an exit in two.

An entry (`enter`, `checkin/scan` and `checkin/manual`) is ONE data-modifying WITH
(`_one_statement`): it checks the bearer token (the rules of `kiosk_tokens.authenticate`:
the row unrevoked and unexpired, still a guard of that estate on the token's device, user
and estate ACTIVE; the token's claims and the caller's device), reads the pass with its
unit, host, visitors and strongest active ban (`bans.visit_ban_column`), takes the entry
(the conditional UPDATE of `service.ENTRY_CONDITIONS`, which decides a race, plus what
`rules.entry_refusal` decides beyond it: a recurring pass's weekday and hours in the
estate's time zone; and no ban) and, only if it took it, writes the gate event, the
device's last contact and the audit record (`service._take_and_record`) and the host's
"your visitor has arrived" email, SMS, push rows and bell (`service.arrival_notice`'s
texts and choices, filled in by the database). It returns what the answer shows.

An exit (`leave`, `checkin/checkout`) is a SELECT of the token and the pass, then the
conditional UPDATE with its records in one WITH.

Each statement is its own transaction (autocommit; the write is one statement), on a
connection of the thread's own: no BEGIN, COMMIT or pre-ping. The outbox rows go to the
delivery hook after it, as every message does.

Everything else is not lean: a missing or bad token, a device that is not the token's, a
refusal (expired, used up, inside, banned, outside a recurring pass's hours…), an unknown
code, a pass of another estate, a lost race, an offline replay (`offline_event_id`). For
those `enter`/`leave` answer None, having changed nothing, and the kiosk view takes the
general path (portal/gate/service.py), which has the one implementation of every refusal
and its answer. tests/test_gate_lean.py checks that both paths answer and write the same
(notices included), and that the lean path admits exactly the passes of the rule table
(tests/rule_cases.py) that `check` admits; the kiosk tests run on both databases, and
SQLite always takes the general path."""

from __future__ import annotations

import contextlib
import enum
import os
import re
import select
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

import psycopg
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import aggregate_order_by

from portal import audit, links
from portal.accounts.profile import DEFAULT_SMS
from portal.extensions import db
from portal.gate import service
from portal.gate.service import GateContext
from portal.integrations import delivery
from portal.integrations import push as web_push
from portal.models import (
    Estate,
    EstateStatus,
    GateEventType,
    KioskToken,
    Membership,
    PassType,
    PushSubscription,
    Role,
    Unit,
    User,
    UserStatus,
    Visit,
    VisitGuest,
    utcnow,
)
from portal.models.auth import SWEEP_AFTER
from portal.visits.bans import visit_ban_column
from portal.visits.rules import exit_refusal


def available() -> bool:
    """The lean path runs on PostgreSQL (its data-modifying WITH); SQLite takes the general one."""
    return db.engine.dialect.name == "postgresql"


@dataclass(frozen=True, slots=True)
class EstateRef:
    """The estate as the answer and the notices need it (no ORM object)."""

    id: int
    slug: str
    name: str
    timezone: str
    default_language: str


@dataclass(frozen=True, slots=True)
class HostRef:
    """The pass's host as the notice needs it (`wants_notification` reads its choices)."""

    id: int
    full_name: str
    email: str | None
    phone: str | None
    preferred_language: str | None
    notification_prefs: dict | None


@dataclass(slots=True)
class PassRow:
    """A pass as the rules (`entry_refusal`, `exit_refusal`) and the answer read it."""

    id: int
    status: str
    pass_type: str
    valid_from: datetime
    valid_until: datetime
    weekdays: str
    daily_start: time | None
    daily_end: time | None
    max_entries: int | None
    entries_used: int
    people_inside: bool
    unit_number: str
    host: HostRef | None
    visitors: list[tuple[str, str | None, str | None]]


@dataclass(frozen=True, slots=True)
class Taken:
    """An entry or exit recorded: the pass as the UPDATE left it and the gate event's id."""

    visit: PassRow
    event_id: int
    occurred_at: datetime
    gate: str
    method: str
    action: str  # ENTRY or EXIT


# --- running them: psycopg, prepared, no ORM --------------------------------------------------


class _Run:
    """The lean path's statements on one psycopg connection: `run(statement, params)`
    executes a statement built below with SQLAlchemy Core, compiled once to PostgreSQL's SQL
    (its constant parameters kept aside) and sent as a prepared statement; the first row or
    None. `commit(ids)` ends the unit and hands the outbox ids to the delivery hook.

    In production the connection is the thread's own (`_connection`), in autocommit mode:
    the lookup and the write are a statement each, the write atomic on its own (a
    data-modifying WITH is one statement), and no BEGIN, COMMIT or pre-ping is sent: two
    round trips a scan. No ORM session either: its bookkeeping cost more than
    the two statements. Under a test's rolled-back transaction (the session bound to one
    connection) it is that connection, and the session commits (a SAVEPOINT's release) and
    dispatches as usual: the same statements, in the test's transaction."""

    _compiled: dict[int, tuple[bytes, tuple[str, ...]]] = {}  # by statement (module constants)

    def __init__(self):
        # (read off the session factory: no session is made for a scan in production)
        self._session_owned = isinstance(db.session.session_factory.kw.get("bind"), sa.Connection)
        if self._session_owned:
            self._psycopg = db.session.connection().connection.driver_connection
        else:
            self._psycopg = _connection()
        self._done = False
        self.wrote = False  # the write was sent (its outcome is unknown if the connection dies now)

    def __call__(self, statement: sa.Executable, params: dict, *, writes: bool = False) -> tuple | None:
        sql, names = self._compile(statement)
        self.wrote = self.wrote or writes
        cursor = psycopg.RawCursor(self._psycopg)
        return cursor.execute(sql, [params[name] for name in names], prepare=True).fetchone()

    @classmethod
    def _compile(cls, statement: sa.Executable) -> tuple[bytes, tuple[str, ...]]:
        """The statement's SQL for PostgreSQL and the names of its parameters, in order. Its
        constants (the enum values, numbers and labels the statement was built with) are
        written into it as literals: only what changes per scan is sent as a parameter. The
        parameters are PostgreSQL's own `$1, $2…`, sent by a raw cursor: psycopg converts
        nothing per call (it parses `%(name)s` on every call of a statement this long: its
        cache takes statements under 4 kB)."""
        found = cls._compiled.get(id(statement))
        if found is None:
            dialect = db.engine.dialect
            compiled = statement.compile(dialect=dialect)
            sql = str(compiled)
            for name, value in compiled.params.items():
                if value is None:
                    continue
                value = value.value if isinstance(value, enum.Enum) else value
                literal = sa.literal(value).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
                sql = sql.replace(f"%({name})s", str(literal))
            names: list[str] = []

            def numbered(match: re.Match) -> str:
                if match.group(0) == "%%":
                    return "%"
                if match.group(1) not in names:
                    names.append(match.group(1))
                return f"${names.index(match.group(1)) + 1}"

            raw = re.sub(r"%\((\w+)\)s|%%", numbered, sql)
            found = cls._compiled[id(statement)] = (raw.encode(), tuple(names))
        return found

    def commit(self, message_ids: list[int]) -> None:
        """The write is committed (autocommit) or, in a test's transaction, committed now;
        then its messages go to the delivery hook."""
        if self._session_owned:
            delivery.note(db.session, message_ids)
            db.session.commit()
        elif message_ids:
            delivery.dispatch(message_ids)
        self._done = True

    def close(self) -> None:
        """End it: in a test's transaction, rolled back unless committed (the general path
        starts afresh); this thread's connection stays open (it never holds a transaction)."""
        if self._session_owned and not self._done:
            db.session.rollback()


_DSNS: weakref.WeakKeyDictionary[sa.Engine, str] = weakref.WeakKeyDictionary()
_local = threading.local()


def _connection() -> psycopg.Connection:
    """This thread's connection of the lean path to the app's database: in autocommit mode,
    kept for the thread's life (a gunicorn worker's thread serves request after request),
    made on first use (after gunicorn has forked). No pre-ping round trip: an idle
    connection has nothing to read unless the server ended it (a restart or a terminated
    backend sends its FATAL message, then closes), so a readable socket is a dead
    connection, replaced before the scan uses it; a connection that dies otherwise is
    thrown away on the error (`_attempt`)."""
    engine = db.engine
    dsn = _DSNS.get(engine)
    if dsn is None:
        dsn = _DSNS.setdefault(engine, engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    connections = _local.__dict__.setdefault("connections", {})
    key = (os.getpid(), dsn)
    conn = connections.get(key)
    if conn is not None and (conn.closed or _ended_by_server(conn)):
        _discard(conn)
        conn = None
    if conn is None:
        conn = connections[key] = psycopg.connect(dsn, autocommit=True)
    return conn


def _ended_by_server(conn: psycopg.Connection) -> bool:
    """Whether the server has spoken to (or hung up on) this idle connection: one poll of
    its socket, no round trip."""
    try:
        poller = select.poll()  # (not select.select: no limit on the descriptor's number)
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg.Error):
        return True


def _discard(dead: psycopg.Connection) -> None:
    """Forget (and close) a connection of this thread that died."""
    connections = _local.__dict__.get("connections", {})
    for key, conn in list(connections.items()):
        if conn is dead:
            del connections[key]
    with contextlib.suppress(Exception):
        dead.close()


def _attempt(work: Callable[[_Run], Taken | None]) -> Taken | None:
    """Run `work` on a fresh `_Run` and end it. A connection that died (a database restart)
    is thrown away; if it died before the write was sent, nothing happened and the general
    path answers (its pool pre-pings); after, the outcome is unknown and the error stands."""
    run = _Run()
    try:
        return work(run)
    except psycopg.OperationalError:
        if run._session_owned:
            raise
        _discard(run._psycopg)
        if run.wrote:
            raise
        return None
    finally:
        run.close()


# --- 1. the token and the pass, one SELECT ------------------------------------------------

_TOKEN, _MEMBER, _ESTATE = KioskToken.__table__, Membership.__table__, Estate.__table__
_GUARD, _HOST = User.__table__.alias("guard"), User.__table__.alias("host")
_VISIT, _UNIT, _GUEST = Visit.__table__, Unit.__table__, VisitGuest.__table__
_PASS_COLUMNS = (_VISIT.c.id, _VISIT.c.status, _VISIT.c.pass_type, _VISIT.c.valid_from, _VISIT.c.valid_until,
                 _VISIT.c.weekdays, _VISIT.c.daily_start, _VISIT.c.daily_end, _VISIT.c.max_entries,
                 _VISIT.c.entries_used, _VISIT.c.people_inside)
_HOST_COLUMNS = (_HOST.c.id, _HOST.c.full_name, _HOST.c.email, _HOST.c.phone, _HOST.c.preferred_language,
                 _HOST.c.notification_prefs)
_VISITORS = (sa.select(sa.func.json_agg(aggregate_order_by(
    sa.func.json_build_array(_GUEST.c.full_name, _GUEST.c.phone, _GUEST.c.plate), _GUEST.c.id), type_=sa.JSON))
    .where(_GUEST.c.visit_id == _VISIT.c.id).correlate(_VISIT).scalar_subquery())
_KEYS = {"qr": _VISIT.c.qr_token, "code": _VISIT.c.visitor_code, "id": _VISIT.c.id}


def _lookup(kind: str) -> sa.Select:
    """The token check of `kiosk_tokens._AUTH_QUERY` joined to the pass with this key in the
    token's estate (no pass: NULLs), its unit, host and visitors."""
    columns = [_TOKEN.c.device_id, _TOKEN.c.membership_id, _MEMBER.c.user_id, _ESTATE.c.id, _ESTATE.c.slug,
               _ESTATE.c.name, _ESTATE.c.timezone, _ESTATE.c.default_language, *_PASS_COLUMNS, _UNIT.c.number,
               *_HOST_COLUMNS, _VISITORS]
    return (
        sa.select(*columns)
        .select_from(_TOKEN)
        .join(_MEMBER, _MEMBER.c.id == _TOKEN.c.membership_id)
        .join(_GUARD, _GUARD.c.id == _MEMBER.c.user_id)
        .join(_ESTATE, _ESTATE.c.id == _TOKEN.c.estate_id)
        .outerjoin(_VISIT, sa.and_(_VISIT.c.estate_id == _TOKEN.c.estate_id, _KEYS[kind] == sa.bindparam("key")))
        .outerjoin(_UNIT, _UNIT.c.id == _VISIT.c.unit_id)
        .outerjoin(_HOST, _HOST.c.id == _VISIT.c.host_user_id)
        .where(
            _TOKEN.c.jti == sa.bindparam("jti"),
            _TOKEN.c.revoked_at.is_(None), _TOKEN.c.expires_at > sa.bindparam("b_now", type_=_TOKEN.c.expires_at.type),
            _MEMBER.c.estate_id == _TOKEN.c.estate_id, _MEMBER.c.role == Role.GUARD,
            _MEMBER.c.bound_device_id == _TOKEN.c.device_id,
            _GUARD.c.status == UserStatus.ACTIVE, _ESTATE.c.status == EstateStatus.ACTIVE,
        )
    )


_LOOKUPS = {kind: _lookup(kind) for kind in _KEYS}


@dataclass(frozen=True, slots=True)
class Found:
    """The lookup's answer: who scans (the token was good), where, and the pass."""

    guard_id: int
    estate: EstateRef
    visit: PassRow


def _find(run: _Run, claims: dict, device_id: str, kind: str, key: str | int, now: datetime) -> Found | None:
    """The token's guard and estate and the pass, or None: a bad token, another device, no
    such pass (the general path says which)."""
    row = run(_LOOKUPS[kind], {"jti": str(claims.get("jti")), "b_now": now, "key": key})
    if row is None:
        return None
    token_device, membership_id, guard_id = row[0], row[1], row[2]
    if str(membership_id) != str(claims.get("sub")) or claims.get("device_id") != token_device:
        return None
    if device_id != token_device or row[8] is None:
        return None
    estate = EstateRef(*row[3:8])
    (visit_id, status, pass_type, valid_from, valid_until, weekdays, daily_start, daily_end, max_entries,
     entries_used, people_inside, unit_number) = row[8:20]
    host = HostRef(*row[20:26]) if row[20] is not None else None
    visitors = [tuple(v) for v in row[26] or ()]
    visit = PassRow(visit_id, status, pass_type, valid_from, valid_until, weekdays, daily_start, daily_end,
                    max_entries, entries_used, people_inside, unit_number, host, visitors)
    return Found(guard_id, estate, visit)


_BOX, _NOTE, _BOX_COLUMNS = service._BOX, service._BELL, service._BOX_COLUMNS  # the outbox rows, the bell


# --- an entry in one statement ------------------------------------------------------------------
#
# The lookup, the rules, the take, its records and the host's notices as ONE data-modifying
# WITH: "found" is the lookup (the token check, the pass, its unit, host, visitors and ban,
# the visitors' names, the host's language and the estate's local time); "taken" is the
# conditional UPDATE of `service.ENTRY_CONDITIONS` plus what `rules.entry_refusal` decides
# beyond them (a recurring pass's weekday and hours, in the estate's time zone), the token's
# claims and device, and no ban; the records are `service._take_and_record`'s; the notices
# are `service.arrival_notice`'s, written in SQL: the texts are the catalogue's (translated
# once per process, `service._arrival_texts`), filled in with the same values, and the
# channels are the host's choices with the same defaults (`profile.event_channels`).
# tests/test_gate_lean.py checks both paths write the same rows.

_GUEST2 = VisitGuest.__table__.alias("named")
_NAMES = (sa.select(sa.func.coalesce(sa.func.string_agg(_GUEST2.c.full_name, aggregate_order_by(
    sa.literal(", "), _GUEST2.c.id)), ""))
    .where(_GUEST2.c.visit_id == _VISIT.c.id, _GUEST2.c.full_name != "").correlate(_VISIT).scalar_subquery())


def _found(kind: str) -> sa.CTE:
    now = sa.bindparam("b_now", type_=_TOKEN.c.expires_at.type)
    local = sa.func.timezone(_ESTATE.c.timezone, now)  # the estate's wall-clock time (no zone)
    columns = {
        "token_device": _TOKEN.c.device_id, "membership_id": _TOKEN.c.membership_id, "guard": _MEMBER.c.user_id,
        "estate_id": _ESTATE.c.id, "slug": _ESTATE.c.slug, "estate_name": _ESTATE.c.name,
        "timezone": _ESTATE.c.timezone, "visit_id": _VISIT.c.id, "pass_type": _VISIT.c.pass_type,
        "weekdays": _VISIT.c.weekdays, "daily_start": _VISIT.c.daily_start, "daily_end": _VISIT.c.daily_end,
        "unit_number": _UNIT.c.number, "host_id": _HOST.c.id, "host_name": _HOST.c.full_name,
        "host_email": _HOST.c.email, "host_phone": _HOST.c.phone, "host_prefs": _HOST.c.notification_prefs,
        "visitors": _VISITORS, "ban_id": visit_ban_column(), "names": _NAMES,
        "language": sa.func.coalesce(sa.func.nullif(_HOST.c.preferred_language, ""), _ESTATE.c.default_language),
        "local_time": sa.func.to_char(local, "HH24:MI"), "local": local,
    }
    lookup = _lookup(kind)
    return lookup.with_only_columns(*(column.label(name) for name, column in columns.items())).cte("found")


def _recurring_ok(found: sa.CTE):
    """`rules.entry_refusal`'s recurring-pass part: today's weekday listed, inside the hours."""
    clock = sa.cast(found.c.local, sa.Time)
    weekday = sa.cast(sa.cast(sa.extract("isodow", found.c.local), sa.Integer), sa.String)
    return sa.or_(found.c.pass_type != PassType.RECURRING.value, sa.and_(
        sa.func.strpos(found.c.weekdays, weekday) > 0,
        sa.or_(found.c.daily_start.is_(None), clock >= found.c.daily_start),
        sa.or_(found.c.daily_end.is_(None), clock < found.c.daily_end)))


def _filled(template: str, values: dict) -> sa.ColumnElement:
    """A `%(name)s` template (Python's % formatting) as SQL concatenation of its parts."""
    parts, at = [], 0
    for match in re.finditer(r"%\((\w+)\)s|%%", template):
        parts.append(sa.literal(template[at:match.start()], sa.Text))
        parts.append(sa.literal("%", sa.Text) if match.group(0) == "%%" else values[match.group(1)])
        at = match.end()
    parts.append(sa.literal(template[at:], sa.Text))
    return sa.func.concat(*[p for p in parts if not (isinstance(p, sa.BindParameter) and p.value == "")])


def _in_language(found: sa.CTE, texts: dict[str, tuple[str, str, str]], index: int,
                 values: dict | None = None) -> sa.ColumnElement:
    """Text `index` of `service._arrival_texts` in the host's language (the source text for
    a language the portal does not speak, as Babel gives it)."""
    def one(language: str):
        text = texts[language][index]
        return _filled(text, values) if values is not None else sa.literal(text, sa.Text)

    known = [language for language in texts if language != ""]
    return sa.case(*((found.c.language == language, one(language)) for language in known), else_=one(""))


def _prefers(found: sa.CTE, channel: str, default: bool) -> sa.ColumnElement:
    """`profile.event_channels`: the host's choice for a visitor's arrival by `channel`."""
    chosen = found.c.host_prefs.op("->")("visitor_arrived").op("->>")(channel)
    return sa.func.coalesce(sa.cast(chosen, sa.Boolean), default)


def _one_statement(kind: str, texts: dict[str, tuple[str, str, str]], sms_default: bool) -> sa.Select:
    found = _found(kind)
    take = (sa.update(_VISIT)
            .where(_VISIT.c.id == found.c.visit_id, _VISIT.c.estate_id == found.c.estate_id,
                   sa.cast(found.c.membership_id, sa.String) == sa.bindparam("t_sub", type_=sa.String),
                   found.c.token_device == sa.bindparam("t_device", type_=sa.String),
                   found.c.token_device == sa.bindparam("c_device", type_=sa.String),
                   found.c.ban_id.is_(None), _recurring_ok(found), *service.ENTRY_CONDITIONS)
            .values(**service.ENTRY_VALUES)
            .returning(*service._RETURNED, _VISIT.c.id, _VISIT.c.estate_id, found.c.guard))
    recorded, taken = service._take_and_record(take, ("entries_used", "gate", "method", "event_id"), from_taken=True)
    done = recorded.subquery("done")  # the take and its event: one row, or none
    # The notice: texts, link and push payload, as arrival_notice makes them.
    values = {"visitor": found.c.names, "estate": found.c.estate_name, "unit": found.c.unit_number,
              "time": found.c.local_time}
    title = _in_language(found, texts, 0)
    body = sa.case((found.c.names != "", _in_language(found, texts, 1, values)),
                   else_=_in_language(found, texts, 2, values))
    link = sa.func.concat(sa.bindparam("l_head", type_=sa.Text), found.c.slug, sa.bindparam("l_mid", type_=sa.Text),
                          found.c.visit_id, sa.bindparam("l_tail", type_=sa.Text))
    payload = sa.cast(sa.func.json_build_object(
        "title", sa.func.left(title, 120), "body", sa.func.left(body, web_push.MAX_TEXT), "url", link,
        "lang", found.c.language, "tag", sa.func.concat("visit-", found.c.visit_id)), sa.Text)
    subscriptions = PushSubscription.__table__
    arrived = taken.join(found, sa.true())

    def rows(channel, recipient, subject, text, source, *where):
        shared = {"channel": channel, "recipient": recipient, "subject": subject, "body": text,
                  "estate_id": found.c.estate_id, "language": found.c.language,
                  "reason": sa.literal("visitor_arrived", sa.String), "created_at": sa.bindparam("b_now"),
                  "next_attempt_at": sa.bindparam("n_deadline", type_=_BOX.c.next_attempt_at.type)}
        return sa.select(*(sa.cast(shared[name], _BOX.c[name].type) for name in _BOX_COLUMNS)).select_from(
            source).where(found.c.host_id.is_not(None), *where)

    mail = rows(sa.literal("EMAIL"), found.c.host_email, title, body, arrived,
                sa.func.coalesce(found.c.host_email, "") != "", _prefers(found, "email", True))
    sms = rows(sa.literal("SMS"), found.c.host_phone, sa.literal(""), body, arrived,
               sa.func.coalesce(found.c.host_phone, "") != "", _prefers(found, "sms", sms_default))
    pushed = rows(sa.literal("PUSH"), sa.cast(subscriptions.c.id, sa.String), sa.func.left(title, 200), payload,
                  arrived.join(subscriptions, subscriptions.c.user_id == found.c.host_id),
                  sa.bindparam("n_push", type_=sa.Boolean), _prefers(found, "push", True))
    sent = (sa.insert(_BOX).from_select(list(_BOX_COLUMNS), sa.union_all(mail, sms, pushed), include_defaults=False)
            .returning(_BOX.c.id).cte("sent"))
    bell = {"estate_id": found.c.estate_id, "user_id": found.c.host_id,
            "kind": sa.literal("visitor_arrived", _NOTE.c.kind.type),
            "params": sa.func.json_build_object("visit_id", found.c.visit_id, "visitor", found.c.names,
                                                "unit", found.c.unit_number, "time", found.c.local_time,
                                                "estate", found.c.estate_name),
            "link": sa.func.left(link, 300), "created_at": sa.bindparam("b_now", type_=_NOTE.c.created_at.type)}
    note = (sa.insert(_NOTE).from_select(list(bell), sa.select(*bell.values()).select_from(arrived)
                                         .where(found.c.host_id.is_not(None))).cte("bell"))
    ids = sa.select(sa.func.array_agg(aggregate_order_by(sent.c.id, sent.c.id))).scalar_subquery()
    answer = (found.c.visit_id, found.c.host_id, found.c.host_name, found.c.unit_number, found.c.visitors,
              found.c.pass_type)
    return (sa.select(*answer, *done.c, ids)
            .select_from(found.outerjoin(done, sa.true()))
            .add_cte(sent, note))


# --- an exit: the lookup, then the take and its records -------------------------------------


def _exit(run: _Run, found: Found, ctx: GateContext, now: datetime) -> Taken | None:
    """The conditional UPDATE of the exit and its records (`service._TAKE_EXIT_AND_RECORD`)."""
    gate = (ctx.gate or service.DEFAULT_GATE)[:60]
    row = run(service._TAKE_EXIT_AND_RECORD, writes=True, params={
        "b_visit_id": found.visit.id, "b_estate_id": found.estate.id, "b_now": now,
        "e_guard": found.guard_id, "e_type": GateEventType.EXIT.value, "e_method": ctx.method.value,
        "e_gate": gate, "e_device": (ctx.device_id or None) and ctx.device_id[:100],
        "e_client": None, "c_device": ctx.device_id,
        "a_action": "visit.exited", "a_target": Visit.__name__,
        "a_ip": audit.client_address.get(), "a_created": utcnow(),
    })
    if row is None:  # another gate was first
        return None
    visit = found.visit
    visit.status, visit.entries_used, visit.max_entries, visit.people_inside = row[0], row[1], row[2], row[3]
    return Taken(visit, row[4], now, gate, ctx.method.value, "EXIT")


_ONE: dict[tuple[str, tuple], sa.Select] = {}


def _entry_statement(kind: str) -> sa.Select:
    """The one statement of an entry by `kind` ("qr" or "code"), built on first use (its
    texts come from the catalogues, in every language the portal speaks)."""
    languages = tuple(current_app.config.get("LANGUAGES", ["en"]))
    found = _ONE.get((kind, languages))
    if found is None:
        texts = {language: service._arrival_texts(language) for language in languages}
        texts[""] = service.ARRIVAL_TEXTS  # any other language: the source texts, as Babel gives them
        statement = _one_statement(kind, texts, "visitor_arrived" in DEFAULT_SMS).params(
            e_type=GateEventType.ENTRY.value, a_action="visit.entered", a_target=Visit.__name__)  # (written in)
        found = _ONE.setdefault((kind, languages), statement)
    return found


def _link_parts() -> tuple[str, str, str]:
    """`links.visit_for_resident` as the text around an estate's slug and a visit's id (the
    web layer keeps the link's template: this costs no URL building)."""
    slug, number = "zzslugzz", 987654321
    link = links.visit_for_resident(_Slug(slug), number)
    head, _, rest = link.partition(slug)
    mid, _, tail = rest.partition(str(number))
    return head, mid, tail


@dataclass(frozen=True)
class _Slug:
    slug: str


def enter(claims: dict, kind: str, key: str, ctx: GateContext, now: datetime) -> Taken | None:
    """Admit the pass with this QR token (`kind` "qr") or normalised code ("code") if the
    token is good and the pass may enter: the entry, its records and the host's notices
    written in one statement. None (nothing written) for anything else: the general path
    answers it."""
    head, mid, tail = _link_parts()
    device = ctx.device_id or ""
    params = {
        "jti": str(claims.get("jti")), "b_now": now, "ban_now": now, "key": key,
        "t_sub": str(claims.get("sub")), "t_device": str(claims.get("device_id")), "c_device": device,
        "e_method": ctx.method.value, "e_gate": (ctx.gate or service.DEFAULT_GATE)[:60],
        "e_device": device[:100] or None, "e_client": None, "a_ip": audit.client_address.get(),
        "a_created": utcnow(), "n_deadline": now + SWEEP_AFTER, "n_push": web_push.enabled(current_app.config),
        "l_head": head, "l_mid": mid, "l_tail": tail,
    }

    def work(run: _Run) -> Taken | None:
        row = run(_entry_statement(kind), params, writes=True)
        if row is None or row[6] is None:  # a bad token; or refused, or another gate first
            return None
        visit_id, host_id, host_name, unit_number, visitors, pass_type = row[:6]
        status, entries_used, max_entries, people_inside, event_id, message_ids = row[6:12]
        run.commit(message_ids or [])
        host = HostRef(host_id, host_name, None, None, None, None) if host_id is not None else None
        visit = PassRow(visit_id, status, pass_type, now, now, "", None, None, max_entries, entries_used,
                        people_inside, unit_number, host, [tuple(v) for v in visitors or ()])
        return Taken(visit, event_id, now, params["e_gate"], ctx.method.value, "ENTRY")

    return _attempt(work)


def leave(claims: dict, kind: str, key: str | int, ctx: GateContext, now: datetime) -> Taken | None:
    """Record the exit of the pass with this QR token, code or id, if the token is good and
    its visitors are inside; None (nothing written) for anything else."""

    def work(run: _Run) -> Taken | None:
        found = _find(run, claims, ctx.device_id or "", kind, key, now)
        if found is None or exit_refusal(found.visit) is not None:
            return None
        taken = _exit(run, found, ctx, now)
        if taken is not None:
            run.commit([])
        return taken

    return _attempt(work)
