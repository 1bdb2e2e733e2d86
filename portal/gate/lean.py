"""The kiosk's scan path on PostgreSQL, lean: an admitted entry or exit in two statements.

1. One SELECT checks the bearer token (the rules of `kiosk_tokens.authenticate`: the row
   unrevoked and unexpired, still a guard of that estate on the token's device, user and
   estate ACTIVE) and reads the pass with what the answer shows and the rules need: its
   state, unit, host (and the host's notification choices), visitors, and whether an
   active ban holds against them (`bans.visit_ban_column`). Only columns, no ORM objects.
2. One data-modifying WITH takes the entry or exit (the conditional UPDATE that decides a
   race) and, only if it was taken, writes the gate event, the device's last contact, the
   audit record and, for an entry, the host's "your visitor has arrived" email/SMS/push
   rows and bell notification (`service._take_and_record` plus the notices). Then COMMIT;
   the outbox rows go to the delivery hook after it, as every message does.

Everything else is not lean: a missing or bad token, a device that is not the token's, a
refusal (expired, used up, inside, banned, …), an unknown code, a pass of another estate,
a lost race, an offline replay (`offline_event_id`). For those `enter`/`leave` answer
None, having changed nothing, and the kiosk view takes the general path (portal/gate/
service.py), which has the one implementation of every refusal and its answer. So the
rules stay where they are (`rules.entry_refusal`, `bans`, the conditional UPDATEs), and
the two paths give the same answers: the kiosk tests run on both databases, and SQLite
always takes the general path."""

from __future__ import annotations

import contextlib
import enum
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import current_app
from psycopg.types.json import Json
from sqlalchemy.dialects.postgresql import aggregate_order_by

from portal import audit
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
    Notification,
    OutboxMessage,
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
from portal.visits.rules import entry_refusal, exit_refusal


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

    _compiled: dict[int, str] = {}  # by statement (they are module constants)

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
        sql = self._compile(statement)
        self.wrote = self.wrote or writes
        return self._psycopg.execute(sql, params, prepare=True).fetchone()

    @classmethod
    def _compile(cls, statement: sa.Executable) -> str:
        """The statement's SQL for psycopg, its constants (the enum values, numbers and
        labels the statement was built with) written into it as literals: only what
        changes per scan is sent as a parameter (fewer to convert on every call)."""
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
            found = cls._compiled[id(statement)] = sql
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
    without a pre-ping (one that died is thrown away on the error: `_attempt`), kept for the
    thread's life (a gunicorn worker's thread serves request after request). Made on first
    use, after gunicorn has forked."""
    engine = db.engine
    dsn = _DSNS.get(engine)
    if dsn is None:
        dsn = _DSNS.setdefault(engine, engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    connections = _local.__dict__.setdefault("connections", {})
    key = (os.getpid(), dsn)
    conn = connections.get(key)
    if conn is None or conn.closed:
        conn = connections[key] = psycopg.connect(dsn, autocommit=True)
    return conn


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


def _lookup(kind: str, with_ban: bool) -> sa.Select:
    """The token check of `kiosk_tokens._AUTH_QUERY` joined to the pass with this key in the
    token's estate (no pass: NULLs), its unit, host, visitors and (for an entry) ban."""
    columns = [_TOKEN.c.device_id, _TOKEN.c.membership_id, _MEMBER.c.user_id, _ESTATE.c.id, _ESTATE.c.slug,
               _ESTATE.c.name, _ESTATE.c.timezone, _ESTATE.c.default_language, *_PASS_COLUMNS, _UNIT.c.number,
               *_HOST_COLUMNS, _VISITORS]
    if with_ban:
        columns.append(visit_ban_column())
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
            _TOKEN.c.revoked_at.is_(None), _TOKEN.c.expires_at > sa.bindparam("now", type_=_TOKEN.c.expires_at.type),
            _MEMBER.c.estate_id == _TOKEN.c.estate_id, _MEMBER.c.role == Role.GUARD,
            _MEMBER.c.bound_device_id == _TOKEN.c.device_id,
            _GUARD.c.status == UserStatus.ACTIVE, _ESTATE.c.status == EstateStatus.ACTIVE,
        )
    )


_LOOKUPS = {(kind, with_ban): _lookup(kind, with_ban) for kind in _KEYS for with_ban in (False, True)}


@dataclass(frozen=True, slots=True)
class Found:
    """The lookup's answer: who scans (the token was good), where, and the pass."""

    guard_id: int
    estate: EstateRef
    visit: PassRow
    banned: bool


def _find(run: _Run, claims: dict, device_id: str, kind: str, key: str | int, now: datetime, *,
          with_ban: bool) -> Found | None:
    """The token's guard and estate and the pass, or None: a bad token, another device, no
    such pass (the general path says which)."""
    row = run(_LOOKUPS[kind, with_ban], {"jti": str(claims.get("jti")), "now": now, "key": key, "ban_now": now})
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
    return Found(guard_id, estate, visit, banned=with_ban and row[27] is not None)


# --- 2. the take and everything it writes, one statement ---------------------------------------

_BOX = OutboxMessage.__table__
_NOTE = Notification.__table__
_BOX_COLUMNS = ("channel", "recipient", "subject", "body", "estate_id", "language", "reason", "created_at",
                "next_attempt_at")


def _with_notices(take_and_record: sa.Select, taken: sa.CTE) -> sa.Select:
    """`service._take_and_record` for an entry, plus the host's notices, written only if the
    entry was taken: the email/SMS rows, one PUSH row per device of the host (`INSERT …
    SELECT … FROM push_subscription`, as messaging does) and the bell's notification. The
    notice travels as one JSON parameter (`n`, made by `_notice`; one value to send instead
    of a dozen): {"language", "messages": [{channel, recipient, subject, body}], "push_user",
    "push_title", "push_body", "bell_user", "bell_params", "bell_link"}. Returns the outbox
    ids after the take's columns."""
    subscriptions = PushSubscription.__table__
    notice = sa.bindparam("n", type_=sa.JSON)

    def field(name: str, kind):
        return sa.cast(notice[name].as_string(), kind)

    messages = sa.func.json_to_recordset(notice["messages"]).table_valued(
        sa.column("channel", sa.String), sa.column("recipient", sa.String), sa.column("subject", sa.String),
        sa.column("body", sa.Text)).render_derived(name="m", with_types=True)
    shared = {"estate_id": sa.bindparam("b_estate_id", type_=_BOX.c.estate_id.type),
              "language": field("language", _BOX.c.language.type),
              "reason": sa.literal("visitor_arrived", _BOX.c.reason.type),
              "created_at": sa.bindparam("b_now", type_=_BOX.c.created_at.type),
              "next_attempt_at": sa.bindparam("n_deadline", type_=_BOX.c.next_attempt_at.type)}
    mail = sa.select(*({"channel": messages.c.channel, "recipient": messages.c.recipient,
                        "subject": messages.c.subject, "body": messages.c.body, **shared}[name]
                       for name in _BOX_COLUMNS)).select_from(taken.join(messages, sa.true()))
    pushed = sa.select(*({"channel": sa.literal("PUSH", _BOX.c.channel.type),
                          "recipient": sa.cast(subscriptions.c.id, _BOX.c.recipient.type),
                          "subject": field("push_title", _BOX.c.subject.type),
                          "body": field("push_body", _BOX.c.body.type), **shared}[name]
                         for name in _BOX_COLUMNS)).select_from(taken.join(subscriptions, sa.true())).where(
        subscriptions.c.user_id == field("push_user", subscriptions.c.user_id.type))
    sent = (sa.insert(_BOX).from_select(list(_BOX_COLUMNS), sa.union_all(mail, pushed), include_defaults=False)
            .returning(_BOX.c.id).cte("sent"))
    bell_user = field("bell_user", _NOTE.c.user_id.type)
    bell = {"estate_id": sa.bindparam("b_estate_id", type_=_NOTE.c.estate_id.type), "user_id": bell_user,
            "kind": sa.literal("visitor_arrived", _NOTE.c.kind.type),
            "params": sa.type_coerce(notice["bell_params"], _NOTE.c.params.type),
            "link": field("bell_link", _NOTE.c.link.type),
            "created_at": sa.bindparam("b_now", type_=_NOTE.c.created_at.type)}
    note = (sa.insert(_NOTE).from_select(list(bell), sa.select(*bell.values()).select_from(taken)
                                         .where(bell_user.is_not(None)))
            .cte("bell"))
    ids = sa.select(sa.func.array_agg(aggregate_order_by(sent.c.id, sent.c.id))).scalar_subquery()
    return take_and_record.add_columns(ids).add_cte(sent, note)


_ENTRY = _with_notices(service._TAKE_ENTRY_AND_RECORD, service._TAKEN_ENTRY)
_EXIT = service._TAKE_EXIT_AND_RECORD


def _record(run: _Run, take: sa.Select, found: Found, event_type: GateEventType, ctx: GateContext,
            now: datetime, extra: dict) -> tuple | None:
    entry = event_type == GateEventType.ENTRY
    return run(take, writes=True, params={
        "b_visit_id": found.visit.id, "b_estate_id": found.estate.id, "b_now": now,
        "e_guard": found.guard_id, "e_type": event_type.value, "e_method": ctx.method.value,
        "e_gate": (ctx.gate or service.DEFAULT_GATE)[:60], "e_device": (ctx.device_id or None) and ctx.device_id[:100],
        "e_client": None, "c_device": ctx.device_id,
        "a_action": "visit.entered" if entry else "visit.exited", "a_target": Visit.__name__,
        "a_ip": audit.client_address.get(), "a_created": utcnow(), **extra,
    })


def _notice_params(found: Found, now: datetime) -> dict[str, Any]:
    """The notice parameters of `_ENTRY`: what `service.arrival_notice` says to the host."""
    visit, host = found.visit, found.visit.host
    if host is None:
        return {"n": Json({"language": "", "messages": []}), "n_deadline": now + SWEEP_AFTER}
    names = ", ".join(name for name, _phone, _plate in visit.visitors if name)
    notice = service.arrival_notice(found.estate, host, visit.id, visit.unit_number, names, now)
    document = {"language": notice.language,
                "messages": [{"channel": channel, "recipient": recipient, "subject": subject, "body": body}
                             for channel, recipient, subject, body in notice.messages],
                "bell_user": host.id, "bell_params": notice.params, "bell_link": notice.link[:300]}
    if notice.push is not None and web_push.enabled(current_app.config):
        document.update(push_user=host.id, push_title=notice.push.title[:200],
                        push_body=web_push.payload(notice.push, notice.language))
    return {"n": Json(document), "n_deadline": now + SWEEP_AFTER}


def _taken(found: Found, row: tuple, ctx: GateContext, now: datetime, action: str) -> Taken:
    visit = found.visit
    visit.status, visit.entries_used, visit.max_entries, visit.people_inside = row[0], row[1], row[2], row[3]
    return Taken(visit, row[4], now, (ctx.gate or service.DEFAULT_GATE)[:60], ctx.method.value, action)


def enter(claims: dict, kind: str, key: str, ctx: GateContext, now: datetime) -> Taken | None:
    """Admit the pass with this QR token (`kind` "qr") or normalised code ("code") if the
    token is good and the pass may enter: the entry recorded and committed. None (nothing
    written) for anything else: the general path answers it."""

    def work(run: _Run) -> Taken | None:
        found = _find(run, claims, ctx.device_id or "", kind, key, now, with_ban=True)
        if found is None or found.banned or entry_refusal(found.visit, now, found.estate.timezone) is not None:
            return None
        row = _record(run, _ENTRY, found, GateEventType.ENTRY, ctx, now, _notice_params(found, now))
        if row is None:  # another gate took it first: the general path says why not
            return None
        run.commit(row[5] or [])
        return _taken(found, row, ctx, now, "ENTRY")

    return _attempt(work)


def leave(claims: dict, kind: str, key: str | int, ctx: GateContext, now: datetime) -> Taken | None:
    """Record the exit of the pass with this QR token, code or id, if the token is good and
    its visitors are inside; None (nothing written) for anything else."""

    def work(run: _Run) -> Taken | None:
        found = _find(run, claims, ctx.device_id or "", kind, key, now, with_ban=False)
        if found is None or exit_refusal(found.visit) is not None:
            return None
        row = _record(run, _EXIT, found, GateEventType.EXIT, ctx, now, {})
        if row is None:
            return None
        run.commit([])
        return _taken(found, row, ctx, now, "EXIT")

    return _attempt(work)
