"""The gate: find a pass, judge it, record entries and exits, inside-now, and the
supervisor's list of active passes with revoke.

Validity rules live in portal/visits/rules.py and bans in portal/visits/bans.py; this
module only applies them. Entries are decided in the database: one conditional UPDATE
inside the transaction admits (rowcount 1) or not (rowcount 0), backed by the
visit's CHECK constraint (entries_used <= max_entries). Every scan, admitted or
denied, writes a GateEvent; entries and exits also write an audit record."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal import audit, links, notifications
from portal.accounts.profile import event_channels
from portal.errors import Forbidden, NotFound
from portal.estates.access import EstateAccess
from portal.extensions import db
from portal.gate import contact
from portal.integrations import delivery, messaging
from portal.integrations import push as web_push
from portal.integrations.push import PushNotice
from portal.models import (
    AuditLog,
    Ban,
    Estate,
    GateEvent,
    GateEventType,
    GateMethod,
    Membership,
    Notification,
    OutboxMessage,
    PushSubscription,
    Unit,
    User,
    Visit,
    VisitGuest,
    VisitStatus,
    utcnow,
)
from portal.models.auth import SWEEP_AFTER
from portal.phones import phone_digits
from portal.text import like_pattern, plate_pattern
from portal.visits.bans import active_ban, visit_ban_column
from portal.visits.rules import REFUSAL_MESSAGES, Refusal, entry_refusal, exit_refusal

DEFAULT_GATE = "Main gate"


def normalise_code(raw: str | None) -> str:
    """A typed visitor code: case-insensitive, spaces and dashes ignored."""
    return re.sub(r"[\s\-_.]", "", raw or "").upper()


# What a typed code must look like (portal/visits/service.py makes them: 8 characters of
# A-Z and 2-9 without O and I). Checked before any lookup, so a typo gets a hint about
# its shape instead of "no pass matches"; nothing here touches the database.
CODE_LENGTH = 8
_LETTERS_AND_DIGITS = re.compile(r"^[A-Z0-9]+$")
_NEVER_IN_CODES = frozenset("01OI")
CODE_EMPTY = _l("Type the visitor's 8-character code.")
CODE_CHARACTERS = _l("A visitor code has only letters and digits; “%(code)s” has other signs. "
                     "Check it on the visitor's pass.")
CODE_LENGTH_HINT = _l("A visitor code has 8 characters; “%(code)s” has %(count)d. Check it on the visitor's pass.")
CODE_CONFUSABLE = _l("Visitor codes never use 0, O, 1 or I, so “%(code)s” is not one. "
                     "Check it on the visitor's pass.")


def _shown(code: str) -> str:
    return code if len(code) <= 20 else code[:20] + "…"


def code_format_hint(raw: str | None) -> str | None:
    """Why a typed code cannot be a visitor code (empty, other signs, wrong length), or None."""
    code = normalise_code(raw)
    if not code:
        return str(CODE_EMPTY)
    if not _LETTERS_AND_DIGITS.match(code):
        return str(CODE_CHARACTERS % {"code": _shown(code)})
    if len(code) != CODE_LENGTH:
        return str(CODE_LENGTH_HINT % {"code": _shown(code), "count": len(code)})
    return None


def code_not_found_hint(raw: str | None) -> str | None:
    """For a well-formed code that matched no pass: a hint when it holds a character codes
    never use (0, O, 1, I — usually a misread), else None ("no pass matches")."""
    code = normalise_code(raw)
    if set(code) & _NEVER_IN_CODES:
        return str(CODE_CONFUSABLE % {"code": _shown(code)})
    return None


class Actor(Protocol):
    """Who records a scan: a guard's User, or the kiosk API's lighter reference (its id)."""

    id: int


@dataclass
class Decision:
    """The answer shown to the guard (and given to the kiosk API)."""

    visit: Visit | None
    refusal: Refusal | None = None
    ban: Ban | None = None
    event: GateEvent | None = None
    duplicate: bool = False  # the same client_event_id was recorded before
    action: str = "ENTRY"  # what was asked: ENTRY or EXIT
    bans_known: bool = False  # `ban` was looked up with the pass (find_pass with `now`)

    @property
    def admitted(self) -> bool:
        return self.refusal is None

    @property
    def message(self):
        return REFUSAL_MESSAGES[self.refusal] if self.refusal else None


@dataclass
class GateContext:
    """Where and how a scan happened."""

    gate: str = DEFAULT_GATE
    device_id: str | None = None
    method: GateMethod = GateMethod.CODE
    client_event_id: str | None = None
    extra: dict = field(default_factory=dict)


def _visit_query():
    return sa.select(Visit).options(
        selectinload(Visit.visitors), joinedload(Visit.unit), joinedload(Visit.host)
    )


# A scan's lookup, built once (it runs on every scan): one visit with its visitors, unit
# and host in a single query, by QR token, visitor code or id, within the estate; and the
# same lookup answering the ban question too (the strongest active ban's id at `ban_now`,
# or None): what a scan about to admit needs, in one statement.
_VISIT_WITH_ALL = sa.select(Visit).options(joinedload(Visit.visitors), joinedload(Visit.unit),
                                           joinedload(Visit.host))
_VISIT_AND_BAN = sa.select(Visit, visit_ban_column()).options(
    joinedload(Visit.visitors), joinedload(Visit.unit), joinedload(Visit.host))
_KEYS = {"qr": Visit.qr_token, "code": Visit.visitor_code, "id": Visit.id}
_LOOKUPS = {(kind, with_ban): (_VISIT_AND_BAN if with_ban else _VISIT_WITH_ALL).where(
    column == sa.bindparam("key"), Visit.estate_id == sa.bindparam("estate_id"))
    for kind, column in _KEYS.items() for with_ban in (False, True)}
_VISIT_ID_BY_QR = sa.select(Visit.id).where(Visit.qr_token == sa.bindparam("key"))


def _one_visit(kind: str, key: str | int, estate: Estate, now: datetime | None) -> Decision | None:
    """The visit with this key (`kind`: qr, code or id) in this estate (None if there is
    none); with `now`, its strongest active ban at `now` from the same statement."""
    if now is None:
        visit = db.session.execute(_LOOKUPS[kind, False], {"key": key, "estate_id": estate.id}
                                   ).unique().scalar_one_or_none()
        return Decision(visit) if visit is not None else None
    row = db.session.execute(_LOOKUPS[kind, True], {"key": key, "estate_id": estate.id, "ban_now": now}
                             ).unique().first()
    if row is None:
        return None
    visit, ban_id = row
    return Decision(visit, ban=db.session.get(Ban, ban_id) if ban_id is not None else None, bans_known=True)


def find_for_entry(estate: Estate, visit_id: int, now: datetime) -> Decision:
    """A visit of this estate by id with its visitors, unit, host and strongest active ban
    at `now` (one statement, for `admit`), or 404."""
    found = _one_visit("id", visit_id, estate, now)
    if found is None:
        raise NotFound()
    return found


def find_pass(estate: Estate, qr_token: str | None = None, code: str | None = None,
              now: datetime | None = None) -> Decision:
    """The pass of this estate with this QR token or visitor code. A QR token of another
    estate is WRONG_ESTATE; anything else unknown is NOT_FOUND (codes are per estate,
    so another estate's code is simply not found). Given `now`, the same statement also
    finds the visitors' strongest active ban at `now` (for `check`/`admit`)."""
    if qr_token:
        found = _one_visit("qr", qr_token, estate, now)
        if found is not None:
            return found
        elsewhere = db.session.scalar(_VISIT_ID_BY_QR, {"key": qr_token})
        return Decision(None, Refusal.WRONG_ESTATE if elsewhere is not None else Refusal.NOT_FOUND)
    normalised = normalise_code(code)
    if len(normalised) == 8:
        found = _one_visit("code", normalised, estate, now)
        if found is not None:
            return found
    return Decision(None, Refusal.NOT_FOUND)


def find_visit(estate: Estate, visit_id: int) -> Visit | None:
    """A visit of this estate with its visitors, unit and host (one statement), or None."""
    found = _one_visit("id", visit_id, estate, None)
    return found.visit if found is not None else None


def get_visit(estate: Estate, visit_id: int) -> Visit:
    """A visit of this estate with its visitors, unit and host, or 404."""
    visit = find_visit(estate, visit_id)
    if visit is None:
        raise NotFound()
    return visit


def last_entry_and_exit(estate: Estate, visit: Visit) -> tuple[datetime | None, datetime | None]:
    """When the visit last entered and last left (aware UTC), in one query."""
    entry, exit_ = db.session.execute(
        sa.select(
            sa.func.max(sa.case((GateEvent.event_type == GateEventType.ENTRY, GateEvent.occurred_at))),
            sa.func.max(sa.case((GateEvent.event_type == GateEventType.EXIT, GateEvent.occurred_at))),
        ).where(GateEvent.estate_id == estate.id, GateEvent.visit_id == visit.id)
    ).one()
    return _aware(entry), _aware(exit_)


def _aware(value) -> datetime | None:
    """An aggregate over a UTC column comes back naive (SQLite) or as a string; make it aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def check(estate: Estate, visit: Visit, now: datetime, found: Decision | None = None) -> Decision:
    """Whether `visit` may enter at `now`: the pass rules, then the bans on its visitors'
    phones (estate-wide, and the host's personal bans). Writes nothing. `found`: the
    lookup of this visit at this `now` by `find_pass`, whose ban answer is used as is."""
    refusal = entry_refusal(visit, now, estate.timezone)
    if refusal is not None:
        return Decision(visit, refusal)
    if found is not None and found.bans_known and found.visit is visit:
        ban = found.ban
    else:
        ban = active_ban(estate, [g.phone for g in visit.visitors], visit.host_user_id, now)
    if ban is not None:
        return Decision(visit, Refusal.VISITOR_BANNED, ban=ban)
    return Decision(visit)


def _event_object(actor: Actor | None, estate: Estate, visit: Visit | None, event_type: GateEventType,
                  ctx: GateContext, now: datetime, reason: Refusal | None = None) -> GateEvent:
    return GateEvent(
        estate_id=estate.id, visit_id=visit.id if visit is not None else None,
        guard_user_id=actor.id if actor is not None else None, event_type=event_type, method=ctx.method,
        reason=reason.value if reason else None, gate=(ctx.gate or DEFAULT_GATE)[:60],
        device_id=(ctx.device_id or None) and ctx.device_id[:100], occurred_at=now,
        client_event_id=ctx.client_event_id,
    )


def _event(actor: Actor | None, estate: Estate, visit: Visit | None, event_type: GateEventType,
           ctx: GateContext, now: datetime, reason: Refusal | None = None, *, add: bool = True) -> GateEvent:
    event = _event_object(actor, estate, visit, event_type, ctx, now, reason)
    if ctx.method != GateMethod.OFFLINE:
        contact.record(estate.id, ctx.device_id, now)  # a live scan: the device reached the server
    if add:
        db.session.add(event)
    return event


_INSERT_EVENT = sa.insert(GateEvent.__table__).returning(GateEvent.__table__.c.id)
_EVENT_COLUMNS = tuple((column.name, sa.inspect(GateEvent).get_property_by_column(column).key)
                       for column in GateEvent.__table__.columns if not column.primary_key)


def _written_event(actor: Actor | None, estate: Estate, visit: Visit, event_type: GateEventType,
                   ctx: GateContext, now: datetime) -> GateEvent:
    """Add a GateEvent and write it now, its id read back (the audit record names it):
    a Core INSERT … RETURNING, one round trip without a unit-of-work flush. The object
    then joins the session as a persistent row."""
    event = _event(actor, estate, visit, event_type, ctx, now, add=False)
    values = {name: getattr(event, key) for name, key in _EVENT_COLUMNS}
    event.id = db.session.execute(_INSERT_EVENT, values).scalar_one()
    make_transient_to_detached(event)
    db.session.add(event)
    return event


# What a conditional UPDATE of a scan returns: the columns it writes and the ones the
# answer and the audit record read (the rest were loaded by the lookup just before).
_VISIT = Visit.__table__
_RETURNED = (_VISIT.c.status, _VISIT.c.entries_used, _VISIT.c.max_entries, _VISIT.c.people_inside)
_RETURNED_KEYS = tuple(column.key for column in _RETURNED)

# The two conditional UPDATEs, built once (one per scan or checkout), in Core: they run
# alone (SQLite) or as the first part of one statement that also records (PostgreSQL,
# below). Their parameters are b_*: an UPDATE's parameter named like a column would be
# taken as a SET value.
_NOW = sa.bindparam("b_now", type_=_VISIT.c.valid_from.type)
# What the conditional UPDATE of an entry checks (the pass rules a database can decide on
# its own row; a recurring pass's weekdays and hours and the bans are checked before).
ENTRY_CONDITIONS = (
    _VISIT.c.status == VisitStatus.ACTIVE, _VISIT.c.people_inside.is_(False),
    sa.or_(_VISIT.c.max_entries.is_(None), _VISIT.c.entries_used < _VISIT.c.max_entries),
    _VISIT.c.valid_from <= _NOW, _VISIT.c.valid_until > _NOW,
)
ENTRY_VALUES = {"entries_used": _VISIT.c.entries_used + 1, "people_inside": True}
_TAKE_ENTRY = (
    sa.update(_VISIT)
    .where(_VISIT.c.id == sa.bindparam("b_visit_id"), _VISIT.c.estate_id == sa.bindparam("b_estate_id"),
           *ENTRY_CONDITIONS)
    .values(**ENTRY_VALUES)
    .returning(*_RETURNED)
)
_TAKE_EXIT = (
    sa.update(_VISIT)
    .where(_VISIT.c.id == sa.bindparam("b_visit_id"), _VISIT.c.estate_id == sa.bindparam("b_estate_id"),
           _VISIT.c.people_inside.is_(True))
    .values(people_inside=False)
    .returning(*_RETURNED)
)


def _take_and_record(take: sa.Update, audit_keys: tuple[str, ...],
                     from_taken: bool = False) -> tuple[sa.Select, sa.CTE]:
    """PostgreSQL: the conditional UPDATE, the gate event, the device's last contact and
    the audit record as ONE statement (data-modifying WITH): the UPDATE's RETURNING feeds
    the INSERTs, so when it takes nothing (another gate was first), nothing is written and
    no row comes back. The same rows SQLite writes one statement at a time. Also returns
    the UPDATE's CTE, for statements that write more on the same condition. `from_taken`:
    the estate, visit and guard come from the UPDATE's RETURNING (its columns `id`,
    `estate_id` and `guard`) rather than from parameters (portal/gate/lean.py)."""
    events, audits, members = GateEvent.__table__, AuditLog.__table__, Membership.__table__
    taken = take.cte("taken")

    def param(name: str, column: sa.Column):
        return sa.bindparam(name, type_=column.type)

    if from_taken:
        estate, visit, guard = taken.c.estate_id, taken.c.id, taken.c.guard
    else:
        estate = param("b_estate_id", events.c.estate_id)
        visit, guard = param("b_visit_id", events.c.visit_id), param("e_guard", events.c.guard_user_id)
    event_values = {
        "estate_id": estate, "visit_id": visit, "guard_user_id": guard,
        "event_type": param("e_type", events.c.event_type), "method": param("e_method", events.c.method),
        "gate": param("e_gate", events.c.gate), "device_id": param("e_device", events.c.device_id),
        "occurred_at": _NOW, "client_event_id": param("e_client", events.c.client_event_id),
    }
    event = (sa.insert(events)
             .from_select(list(event_values), sa.select(*event_values.values()).select_from(taken))
             .returning(events.c.id).cte("event"))
    contact_ = (sa.update(members)
                .where(members.c.estate_id == (taken.c.estate_id if from_taken else sa.bindparam("b_estate_id")),
                       members.c.bound_device_id == param("c_device", members.c.bound_device_id),
                       sa.exists(sa.select(1).select_from(taken)))
                .values(device_contact_at=sa.bindparam("b_now", type_=members.c.device_contact_at.type))
                .cte("contact"))
    both = taken.join(event, sa.true())  # one row each (or none)
    after = {"entries_used": taken.c.entries_used, "gate": event_values["gate"],
             "method": event_values["method"], "event_id": event.c.id}
    pairs = [item for key in audit_keys for item in (sa.literal(key, sa.String), after[key])]
    audit_values = {
        "estate_id": event_values["estate_id"], "actor_user_id": event_values["guard_user_id"],
        "action": param("a_action", audits.c.action), "target_type": param("a_target", audits.c.target_type),
        "target_id": event_values["visit_id"], "after": sa.func.json_build_object(*pairs, type_=sa.JSON),
        "ip_address": param("a_ip", audits.c.ip_address), "created_at": param("a_created", audits.c.created_at),
    }
    audit_ = (sa.insert(audits)
              .from_select(list(audit_values), sa.select(*audit_values.values()).select_from(both))
              .cte("audit"))
    return (sa.select(*(taken.c[key] for key in _RETURNED_KEYS), event.c.id).select_from(both)
            .add_cte(contact_, audit_)), taken


# (the statement, and its "taken" CTE: portal/gate/lean.py adds the host's notices to the entry)
_TAKE_ENTRY_AND_RECORD, _TAKEN_ENTRY = _take_and_record(_TAKE_ENTRY, ("entries_used", "gate", "method", "event_id"))
_TAKE_EXIT_AND_RECORD, _ = _take_and_record(_TAKE_EXIT, ("gate", "method", "event_id"))


_BOX, _BELL = OutboxMessage.__table__, Notification.__table__
_BOX_COLUMNS = ("channel", "recipient", "subject", "body", "estate_id", "language", "reason", "created_at",
                "next_attempt_at")


def _with_notices(take_and_record: sa.Select, taken: sa.CTE) -> sa.Select:
    """PostgreSQL: `_take_and_record` for an entry plus the host's notices, written only if
    the entry was taken: the email/SMS rows, one PUSH row per device of the host (`INSERT …
    SELECT … FROM push_subscription`, as messaging does) and the bell. The notice travels as
    one JSON parameter `n` (`_notice_document`): {"language", "messages": [{channel,
    recipient, subject, body}], "push_user", "push_title", "push_body", "bell_user",
    "bell_params", "bell_link"}. Returns the outbox ids after the take's columns."""
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
    bell_user = field("bell_user", _BELL.c.user_id.type)
    bell = {"estate_id": sa.bindparam("b_estate_id", type_=_BELL.c.estate_id.type), "user_id": bell_user,
            "kind": sa.literal("visitor_arrived", _BELL.c.kind.type),
            "params": sa.type_coerce(notice["bell_params"], _BELL.c.params.type),
            "link": field("bell_link", _BELL.c.link.type),
            "created_at": sa.bindparam("b_now", type_=_BELL.c.created_at.type)}
    note = (sa.insert(_BELL).from_select(list(bell), sa.select(*bell.values()).select_from(taken)
                                         .where(bell_user.is_not(None)))
            .cte("bell"))
    ids = sa.select(sa.func.array_agg(sa.func.distinct(sent.c.id))).scalar_subquery()
    return take_and_record.add_columns(ids).add_cte(sent, note)


_TAKE_ENTRY_RECORD_AND_NOTIFY = _with_notices(_TAKE_ENTRY_AND_RECORD, _TAKEN_ENTRY)


def _notice_document(estate: Estate, visit: Visit, now: datetime) -> dict:
    """`_with_notices`' parameter: the host's arrival notice (`arrival_notice`), or none."""
    host = visit.host
    if host is None:
        return {"language": "", "messages": []}
    names = ", ".join(g.full_name for g in visit.visitors if g.full_name)
    notice = arrival_notice(estate, host, visit.id, visit.unit.number, names, now)
    document = {"language": notice.language,
                "messages": [{"channel": channel, "recipient": recipient, "subject": subject, "body": body}
                             for channel, recipient, subject, body in notice.messages],
                "bell_user": host.id, "bell_params": notice.params, "bell_link": notice.link[:300]}
    if notice.push is not None and web_push.enabled(current_app.config):
        document.update(push_user=host.id, push_title=notice.push.title[:200],
                        push_body=web_push.payload(notice.push, notice.language))
    return document


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _take(actor: Actor | None, estate: Estate, visit: Visit, event_type: GateEventType, ctx: GateContext,
          now: datetime, after: dict, notice: dict | None = None) -> GateEvent | None:
    """Take the entry or exit (the conditional UPDATE) and, if it was taken, write the gate
    event, the device's last contact and the audit record (visit.entered or visit.exited:
    `after`, with the entries used as the UPDATE left them, plus the event's id) in the
    caller's transaction: one statement on PostgreSQL, four on SQLite. None (nothing
    written) when the UPDATE took nothing."""
    entry = event_type == GateEventType.ENTRY
    action = "visit.entered" if entry else "visit.exited"
    take = _TAKE_ENTRY if entry else _TAKE_EXIT
    params = {"b_visit_id": visit.id, "b_estate_id": estate.id, "b_now": now}
    if not _postgresql():
        if not _update_visit(visit, take, params):
            return None
        event = _written_event(actor, estate, visit, event_type, ctx, now)
        if "entries_used" in after:  # as the UPDATE left it
            after = {**after, "entries_used": visit.entries_used}
        audit.write(action, visit, actor_id=actor.id if actor else None, after={**after, "event_id": event.id})
        return event
    event = _event_object(actor, estate, visit, event_type, ctx, now)
    stmt = _TAKE_ENTRY_AND_RECORD if entry else _TAKE_EXIT_AND_RECORD
    extra = {}
    if entry and notice is not None:  # the host's notices in the same statement
        stmt, extra = _TAKE_ENTRY_RECORD_AND_NOTIFY, {"n": notice, "n_deadline": now + SWEEP_AFTER}
    row = db.session.execute(stmt, {**extra,
        **params, "e_guard": event.guard_user_id, "e_type": event.event_type, "e_method": event.method,
        "e_gate": event.gate, "e_device": event.device_id, "e_client": event.client_event_id,
        "c_device": ctx.device_id if ctx.method != GateMethod.OFFLINE else None,
        "a_action": action, "a_target": type(visit).__name__, "a_ip": audit.client_address.get(),
        "a_created": utcnow(),
    }).first()
    if row is None:
        return None
    for key, value in zip(_RETURNED_KEYS, row, strict=False):
        set_committed_value(visit, key, value)
    event.id = row[len(_RETURNED_KEYS)]
    if extra and row[-1]:
        delivery.note(db.session, sorted(row[-1]))  # handed to the delivery hook after the commit
    make_transient_to_detached(event)
    db.session.add(event)
    return event


def _update_visit(visit: Visit, stmt: sa.Update, params: dict) -> bool:
    """Run a conditional UPDATE of `visit` with RETURNING and load what it wrote into
    `visit`: one round trip instead of UPDATE + refresh. False (nothing loaded) if no row matched."""
    row = db.session.execute(stmt, params).first()
    if row is None:
        return False
    for key, value in zip(_RETURNED_KEYS, row, strict=True):
        set_committed_value(visit, key, value)
    return True


def _duplicate(estate: Estate, ctx: GateContext, action: str) -> Decision | None:
    if not ctx.client_event_id:
        return None
    event = db.session.scalar(
        sa.select(GateEvent).where(GateEvent.estate_id == estate.id,
                                   GateEvent.client_event_id == ctx.client_event_id)
    )
    if event is None:
        return None
    visit = get_visit(estate, event.visit_id) if event.visit_id else None
    refusal = Refusal(event.reason) if event.reason in Refusal.__members__ else None
    return Decision(visit, refusal, event=event, duplicate=True, action=action)


@contextmanager
def answer_from_memory() -> Iterator[None]:
    """Scans, entries and exits answer with the rows they have just written: the commit
    does not expire them (reloading would cost a second connection checkout and a few
    queries on the hottest endpoints); everything is expired once the answer is built, as
    a commit would have done."""
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before
        session.expire_all()


def _commit(estate: Estate, ctx: GateContext, action: str) -> Decision | None:
    """Commit; a duplicate client_event_id (two syncs at once) returns the first one's decision."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        duplicate = _duplicate(estate, ctx, action)
        if duplicate is None:
            raise
        return duplicate
    return None


def deny(actor: Actor | None, estate: Estate, decision: Decision, ctx: GateContext, now: datetime) -> Decision:
    """Record a refused scan (a DENIED GateEvent) and return the decision. NOT_FOUND
    writes nothing: there is no pass to speak of."""
    if decision.refusal is None or decision.refusal == Refusal.NOT_FOUND:
        return decision
    decision.event = _event(actor, estate, decision.visit, GateEventType.DENIED, ctx, now, decision.refusal)
    return _commit(estate, ctx, decision.action) or decision


def scan(actor: Actor | None, estate: Estate, ctx: GateContext, now: datetime, *, qr_token: str | None = None,
         code: str | None = None, visit_id: int | None = None) -> Decision:
    """A guard looks a pass up (QR, typed code, or a search result): the decision to
    show. A refusal is recorded at once as a DENIED event; an admissible pass is only
    recorded when the guard taps "Record entry" (admit)."""
    if visit_id is not None:
        decision = Decision(get_visit(estate, visit_id))
    else:
        decision = find_pass(estate, qr_token=qr_token, code=code, now=now)
    if decision.visit is None:
        return deny(actor, estate, decision, ctx, now)
    decision = check(estate, decision.visit, now, decision)
    if decision.refusal is not None:
        return deny(actor, estate, decision, ctx, now)
    return decision


@dataclass
class ArrivalNotice:
    """What the host of an arriving visit is told, in their language: the email/SMS rows,
    the push (if they want one), and the bell's notification (its params and link)."""

    messages: list[tuple[str, str, str, str]]
    push: PushNotice | None
    language: str
    params: dict
    link: str


def N_(text: str) -> str:  # noqa: N802 - Babel's keyword for a text to translate later
    return text


# The host's arrival notice: its title and its two sentences (with and without the
# visitors' names), as templates (the source texts; translated by `_arrival_texts`).
ARRIVAL_TEXTS = (N_("Your visitor has arrived"),
                 N_("%(visitor)s has arrived at %(estate)s (unit %(unit)s) at %(time)s."),
                 N_("Your visitor has arrived at %(estate)s (unit %(unit)s) at %(time)s."))


@functools.lru_cache(maxsize=16)
def _arrival_texts(language: str) -> tuple[str, str, str]:
    """`ARRIVAL_TEXTS` in `language`: translated once per process (the catalogues do not
    change while it runs), then filled in per scan."""
    with force_locale(language):
        return tuple(gettext(text) for text in ARRIVAL_TEXTS)


def arrival_notice(estate: Estate, host: User, visit_id: int, unit_number: str, names: str,
                   now: datetime) -> ArrivalNotice:
    """The host's "your visitor has arrived" notice (`names`: the visitors' names, joined),
    by email/SMS/push as they chose, in their language. Writes nothing: `_host_notice` and
    the lean scan path (portal/gate/lean.py) write it their own way."""
    local = now.astimezone(ZoneInfo(estate.timezone)).strftime("%H:%M")
    messages = []
    push = None
    link = links.visit_for_resident(estate, visit_id)
    language = host.preferred_language or estate.default_language
    title, named, anonymous = _arrival_texts(language)
    values = {"estate": estate.name, "unit": unit_number, "time": local}
    body = named % {"visitor": names, **values} if names else anonymous % values
    wanted = event_channels(host, "visitor_arrived")
    if host.email and wanted["email"]:
        messages.append(("EMAIL", host.email, title, body))
    if host.phone and wanted["sms"]:
        messages.append(("SMS", host.phone, "", body))
    if wanted["push"]:  # to each of the host's devices, if any
        push = PushNotice(host.id, title, body, link, tag=f"visit-{visit_id}")
    params = {"visit_id": visit_id, "visitor": names, "unit": unit_number, "time": local, "estate": estate.name}
    return ArrivalNotice(messages, push, language, params, link)


def _host_notice(estate: Estate, visit: Visit, now: datetime) -> None:
    """Tell the host their visitor arrived, by email/SMS as they chose, in their language,
    and in the app (the bell). Written at once with plain INSERTs: the email and SMS in
    one, the notification in another (no unit-of-work flush on the scan's path)."""
    host = visit.host
    if host is None:
        return
    names = ", ".join(g.full_name for g in visit.visitors if g.full_name)
    notice = arrival_notice(estate, host, visit.id, visit.unit.number, names, now)
    messaging.send_many(notice.messages, push=notice.push, estate=estate, language=notice.language,
                        reason="visitor_arrived")
    notifications.write(host, estate, "visitor_arrived", notice.params, notice.link, now)  # the bell


def _taken(actor: Actor | None, estate: Estate, visit: Visit, event_type: GateEventType, ctx: GateContext,
           now: datetime, after: dict, notice: dict | None = None) -> GateEvent | Decision | None:
    """`_take`, where a duplicate client_event_id written meanwhile by another sync (the
    unique constraint refuses the INSERT) answers with that one's decision."""
    try:
        return _take(actor, estate, visit, event_type, ctx, now, after, notice)
    except IntegrityError:
        db.session.rollback()
        duplicate = _duplicate(estate, ctx, event_type.value)
        if duplicate is None:
            raise
        return duplicate


def admit(actor: Actor | None, estate: Estate, visit: Visit, ctx: GateContext, now: datetime,
          found: Decision | None = None) -> Decision:
    """Record an entry, race-safe: the rules and bans are checked, then ONE conditional
    UPDATE takes the entry; if another gate took it first, rowcount is 0 and this scan
    is denied with the reason the pass now gives. Returns the decision with its event.
    `found`: `find_pass`'s lookup of this visit at `now` (its ban answer is reused)."""
    duplicate = _duplicate(estate, ctx, "ENTRY")
    if duplicate is not None:
        return duplicate
    decision = check(estate, visit, now, found)
    if decision.refusal is not None:
        return deny(actor, estate, decision, ctx, now)
    gate = (ctx.gate or DEFAULT_GATE)[:60]
    postgresql = _postgresql()  # (the notices ride on the take's statement there)
    event = _taken(actor, estate, visit, GateEventType.ENTRY, ctx, now,
                   {"entries_used": None, "gate": gate, "method": ctx.method.value},
                   _notice_document(estate, visit, now) if postgresql else None)
    if isinstance(event, Decision):
        return event
    if event is None:
        db.session.refresh(visit)
        refusal = entry_refusal(visit, now, estate.timezone) or Refusal.ALREADY_INSIDE
        return deny(actor, estate, Decision(visit, refusal), ctx, now)
    if not postgresql:
        _host_notice(estate, visit, now)
    return _commit(estate, ctx, "ENTRY") or Decision(visit, event=event)


def let_out(actor: Actor | None, estate: Estate, visit: Visit, ctx: GateContext, now: datetime) -> Decision:
    """Record an exit: needs an open entry (people_inside true → false, decided in the database)."""
    duplicate = _duplicate(estate, ctx, "EXIT")
    if duplicate is not None:
        return duplicate
    event = None
    if exit_refusal(visit) is None:
        event = _taken(actor, estate, visit, GateEventType.EXIT, ctx, now,
                       {"gate": (ctx.gate or DEFAULT_GATE)[:60], "method": ctx.method.value})
        if isinstance(event, Decision):
            return event
    if event is None:
        return deny(actor, estate, Decision(visit, Refusal.NOT_INSIDE, action="EXIT"), ctx, now)
    return _commit(estate, ctx, "EXIT") or Decision(visit, event=event, action="EXIT")


# --- search among today's passes --------------------------------------------------------


def _today_bounds(estate: Estate, now: datetime) -> tuple[datetime, datetime]:
    zone = ZoneInfo(estate.timezone)
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(ZoneInfo("UTC")), (start + timedelta(days=1)).astimezone(ZoneInfo("UTC"))


def search_passes(estate: Estate, query: str, now: datetime, page: int = 1, per_page: int = 10) -> Pagination:
    """Active passes whose window touches today (estate time), or whose visitors are
    inside, matching a visitor's name, phone or plate, or the host's unit."""
    start, end = _today_bounds(estate, now)
    stmt = (
        _visit_query()
        .where(Visit.estate_id == estate.id)
        .where(sa.or_(Visit.people_inside.is_(True),
                      sa.and_(Visit.status == VisitStatus.ACTIVE, Visit.valid_from < end, Visit.valid_until > start)))
    )
    query = query.strip()
    if query:
        digits = phone_digits(query)
        plate = plate_pattern(query)
        guest = [sa.func.lower(VisitGuest.full_name).like(like_pattern(query), escape="\\")]
        if plate:
            guest.append(VisitGuest.plate.like(plate, escape="\\"))
        if digits:
            guest.append(VisitGuest.phone.like(like_pattern(digits), escape="\\"))
        matches = sa.select(VisitGuest.visit_id).where(VisitGuest.estate_id == estate.id, sa.or_(*guest))
        units = sa.select(Unit.id).where(Unit.estate_id == estate.id, sa.func.lower(Unit.number) == query.lower())
        stmt = stmt.where(sa.or_(Visit.id.in_(matches), Visit.unit_id.in_(units)))
    stmt = stmt.order_by(Visit.valid_from, Visit.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=50)


# --- inside now (the evacuation roll) ----------------------------------------------------


@dataclass
class InsideRow:
    visit: Visit
    entered_at: datetime | None


def inside_now(estate: Estate, page: int = 1, per_page: int = 25) -> Pagination:
    """Everyone inside, longest-inside first, with the time of their latest entry, host
    and unit (a constant number of queries)."""
    entered = (
        sa.select(sa.func.max(GateEvent.occurred_at))
        .where(GateEvent.visit_id == Visit.id, GateEvent.estate_id == estate.id,
               GateEvent.event_type == GateEventType.ENTRY)
        .correlate(Visit)
        .scalar_subquery()
    )
    stmt = (
        sa.select(Visit, entered.label("entered_at"))
        .options(selectinload(Visit.visitors), joinedload(Visit.unit), joinedload(Visit.host))
        .where(Visit.estate_id == estate.id, Visit.people_inside.is_(True))
        .order_by(entered.asc().nulls_first(), Visit.id)
    )
    total = db.session.scalar(
        sa.select(sa.func.count(Visit.id)).where(Visit.estate_id == estate.id, Visit.people_inside.is_(True))
    ) or 0
    per_page = max(1, min(per_page, 500))
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return _Page([InsideRow(visit, when) for visit, when in rows], page, per_page, total)


class _Page:
    """The bits of Pagination the pager macro reads, for a hand-made page."""

    def __init__(self, items: list, page: int, per_page: int, total: int):
        self.items, self.page, self.per_page, self.total = items, page, per_page, total
        self.pages = max(1, -(-total // per_page))
        self.has_prev, self.has_next = page > 1, page < self.pages
        self.prev_num, self.next_num = page - 1, page + 1


# --- active passes and revoke (admins and guard supervisors) ---------------------------------


@dataclass(frozen=True)
class PassFilters:
    q: str = ""


def list_active_passes(estate: Estate, filters: PassFilters, now: datetime, page: int = 1,
                       per_page: int = 25) -> Pagination:
    """The estate's active passes not yet expired, soonest first (constant queries). A pass
    with no entries left is over once its visitors are out (a single-use pass used and
    exited), so it is not listed."""
    stmt = _visit_query().where(Visit.estate_id == estate.id, Visit.status == VisitStatus.ACTIVE,
                                Visit.valid_until > now,
                                sa.or_(Visit.max_entries.is_(None), Visit.entries_used < Visit.max_entries,
                                       Visit.people_inside.is_(True)))
    q = filters.q.strip()
    if q:
        code = normalise_code(q)
        match = [sa.func.lower(VisitGuest.full_name).like(like_pattern(q), escape="\\"),
                 VisitGuest.phone.like(like_pattern(q.replace(" ", "")), escape="\\")]
        plate = plate_pattern(q)
        if plate:
            match.append(VisitGuest.plate.like(plate, escape="\\"))
        guest = sa.select(VisitGuest.visit_id).where(VisitGuest.estate_id == estate.id, sa.or_(*match))
        units = sa.select(Unit.id).where(Unit.estate_id == estate.id, sa.func.lower(Unit.number) == q.lower())
        stmt = stmt.where(sa.or_(Visit.visitor_code == code, Visit.id.in_(guest), Visit.unit_id.in_(units)))
    stmt = stmt.order_by(Visit.valid_from, Visit.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


ALREADY_ENDED = _l("This pass is no longer active.")


def revoke_visit(access: EstateAccess, visit_id: int) -> tuple[Visit, bool]:
    """Revoke an active pass (status REVOKED, effective at the next scan): its resident host,
    guard supervisors and admins may. Returns the visit and whether this call revoked it
    (False: it was not active any more)."""
    estate, actor_id = access.estate, access.actor_id
    visit = get_visit(estate, visit_id)
    if not (access.manages_gate or (visit.host_user_id is not None and visit.host_user_id == actor_id)):
        raise Forbidden(_l("Only the host of a pass, guard supervisors and admins may revoke it."))
    now = utcnow()
    done = db.session.execute(
        sa.update(Visit)
        .where(Visit.id == visit.id, Visit.estate_id == estate.id, Visit.status == VisitStatus.ACTIVE)
        .values(status=VisitStatus.REVOKED, revoked_at=now, revoked_by_id=actor_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        db.session.refresh(visit)
        audit.record("visit.revoked", visit, actor_id=actor_id, before={"status": VisitStatus.ACTIVE.value},
                     after={"status": VisitStatus.REVOKED.value, "revoked_at": now.isoformat()})
    db.session.commit()
    return visit, bool(done)
