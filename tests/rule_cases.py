"""The gate's validity rules as a table of cases, each answered by the Python rules.

The gate decides in two places: on the server (portal/visits/rules.py `entry_refusal`,
the ban lookup of portal/visits/bans.py, both applied by portal/gate/service.py
`check`) and, when the network is down, in the browser (static/js/gate-offline.js
`decide`). This table keeps them from drifting: `build_cases` writes every case to the
database, asks `check` for the answer (nothing here is typed by hand) and gives the
browser's input as the offline bootstrap (portal/gate/offline.py `bootstrap`) builds it.
tests/browser/test_rule_parity.py feeds each input to the JavaScript and compares.

All clocks are whole milliseconds: a JavaScript Date holds no finer time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from portal.extensions import db
from portal.gate.offline import bootstrap
from portal.gate.service import check
from portal.models import (
    Ban,
    BanScope,
    Estate,
    EstateStatus,
    PassType,
    Unit,
    User,
    Visit,
    VisitGuest,
    VisitStatus,
)

ADMIT = "ADMIT"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday: 13:00 in Lagos, 06:00 in Guatemala
SECOND = timedelta(seconds=1)
MS = timedelta(milliseconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PHONE = "+2348090000001"
OTHER_PHONE = "+2348090000002"
GUEST = ("Ada Visitor", PHONE, "LAG123AB")


@dataclass(frozen=True)
class BanSpec:
    phone: str = PHONE
    scope: str = "ESTATE"
    severity: str = "MEDIUM"
    expires_at: datetime | None = None
    lifted_at: datetime | None = None
    owner: str | None = None  # PERSONAL: "host" or "neighbour"
    elsewhere: bool = False  # a ban of another estate


@dataclass
class Case:
    name: str
    now: datetime = T0
    timezone: str = "Africa/Lagos"
    guests: tuple = (GUEST,)
    bans: tuple[BanSpec, ...] = ()
    host: bool = True
    fetched: timedelta = timedelta(0)  # the saved pass list was fetched this long before `now`
    visit: dict = field(default_factory=dict)


def _case(name: str, **kw) -> Case:
    spec = {k: kw.pop(k) for k in ("now", "timezone", "guests", "bans", "host", "fetched") if k in kw}
    return Case(name, visit=kw, **spec)


def _recurring(name: str, now: datetime, timezone: str, weekdays: str, start: time | None, end: time | None,
               **kw) -> Case:
    fields = dict(pass_type=PassType.RECURRING, weekdays=weekdays, daily_start=start, daily_end=end,
                  max_entries=None, valid_from=now - 30 * DAY, valid_until=now + 30 * DAY)
    return _case(name, now=now, timezone=timezone, **{**fields, **kw})


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


FROM, UNTIL = T0 - HOUR, T0 + 6 * HOUR  # the default window
LAGOS, GUATEMALA = "Africa/Lagos", "America/Guatemala"
SHIFT = dict(start=time(6, 0), end=time(20, 0))  # a driver's hours

CASES: list[Case] = [
    # --- the validity window -----------------------------------------------------------
    _case("single: inside its window"),
    _case("single: 1 s before the start", now=FROM - SECOND),
    _case("single: 1 ms before the start", now=FROM - MS),
    _case("single: at the start", now=FROM),
    _case("single: 1 ms before the end", now=UNTIL - MS),
    _case("single: at the end", now=UNTIL),
    _case("single: 1 ms after the end", now=UNTIL + MS),
    _case("single: ended 20 h ago (still in the saved list)", now=UNTIL + 20 * HOUR),
    _case("single: starts tomorrow", valid_from=T0 + DAY, valid_until=T0 + DAY + 4 * HOUR),
    _case("single: end with microseconds, 1 ms before", now=_utc(2026, 11, 23, 18, 0, 0, 122000),
          valid_until=_utc(2026, 11, 23, 18, 0, 0, 123456)),
    _case("single: end with microseconds, 1 ms after", now=_utc(2026, 11, 23, 18, 0, 0, 124000),
          valid_until=_utc(2026, 11, 23, 18, 0, 0, 123456)),
    _case("single: window in Guatemala, judged in UTC instants", timezone=GUATEMALA, now=UNTIL - SECOND),
    # --- entries -------------------------------------------------------------------------
    _case("single: its one entry used", entries_used=1),
    _case("multi-entry: 2 of 3 used", pass_type=PassType.MULTI_ENTRY, max_entries=3, entries_used=2),
    _case("multi-entry: 3 of 3 used", pass_type=PassType.MULTI_ENTRY, max_entries=3, entries_used=3),
    _case("multi-entry: inside, 1 of 3 used", pass_type=PassType.MULTI_ENTRY, max_entries=3, entries_used=1,
          people_inside=True),
    _case("multi-entry: inside and all used", pass_type=PassType.MULTI_ENTRY, max_entries=3, entries_used=3,
          people_inside=True),
    _case("multi-entry: no limit, 7 used", pass_type=PassType.MULTI_ENTRY, max_entries=None, entries_used=7),
    _case("single: a limit of 0 entries", max_entries=0),
    # --- status and the order of the checks ----------------------------------------------
    _case("single: revoked", status=VisitStatus.REVOKED),
    _case("single: cancelled by the host", status=VisitStatus.CANCELLED),
    _case("revoked and ended", status=VisitStatus.REVOKED, now=UNTIL + HOUR),
    _case("revoked and banned", status=VisitStatus.REVOKED, bans=(BanSpec(),)),
    _case("ended while inside", now=UNTIL, people_inside=True),
    _case("not yet valid and used up", now=FROM - SECOND, entries_used=1),
    _case("used up and banned", entries_used=1, bans=(BanSpec(),)),
    _case("single: weekdays set but ignored (Sunday only, on a Monday)", weekdays="7"),
    # --- deliveries ------------------------------------------------------------------------
    _case("delivery: unnamed, no phone, other numbers banned", pass_type=PassType.DELIVERY,
          guests=(("", None, None),), bans=(BanSpec(phone=OTHER_PHONE),)),
    _case("delivery: 30-minute window just ended", pass_type=PassType.DELIVERY, valid_from=T0 - 30 * timedelta(
        minutes=1), valid_until=T0, guests=(("", None, None),)),
    _case("delivery: the rider's number is banned", pass_type=PassType.DELIVERY,
          guests=(("Rider", PHONE, None),), bans=(BanSpec(severity="HIGH"),)),
    # --- recurring: weekdays and daily hours in the estate's timezone ----------------------
    _recurring("recurring Lagos: Monday 13:00", T0, LAGOS, "123456", **SHIFT),
    _recurring("recurring Lagos: Monday 05:59 (before hours)", _utc(2026, 11, 23, 4, 59), LAGOS, "123456", **SHIFT),
    _recurring("recurring Lagos: Monday 05:59:59.999", _utc(2026, 11, 23, 4, 59, 59, 999000), LAGOS, "123456",
               **SHIFT),
    _recurring("recurring Lagos: Monday 06:00 (opening)", _utc(2026, 11, 23, 5, 0), LAGOS, "123456", **SHIFT),
    _recurring("recurring Lagos: Monday 19:59:59", _utc(2026, 11, 23, 18, 59, 59), LAGOS, "123456", **SHIFT),
    _recurring("recurring Lagos: Monday 20:00 (closing)", _utc(2026, 11, 23, 19, 0), LAGOS, "123456", **SHIFT),
    _recurring("recurring Lagos: Sunday 13:00 (day off)", _utc(2026, 11, 22, 12, 0), LAGOS, "123456", **SHIFT),
    _recurring("recurring Lagos: Sunday 23:30 UTC is Monday 00:30 there", _utc(2026, 11, 22, 23, 30), LAGOS, "1",
               None, None),
    _recurring("recurring Lagos: Saturday 23:30 UTC is Sunday 00:30 there", _utc(2026, 11, 28, 23, 30), LAGOS,
               "123456", None, None),
    _recurring("recurring Guatemala: Tuesday 02:00 UTC is Monday 20:00 there", _utc(2026, 11, 24, 2, 0), GUATEMALA,
               "1", time(18, 0), time(22, 0)),
    _recurring("recurring Guatemala: Monday 06:00 there, opens 07:00", T0, GUATEMALA, "12345", time(7, 0),
               time(18, 0)),
    _recurring("recurring Guatemala: Monday 17:59 there", _utc(2026, 11, 23, 23, 59), GUATEMALA, "12345",
               time(7, 0), time(18, 0)),
    _recurring("recurring Guatemala: Tuesday 00:00 UTC is Monday 18:00 there (closing)", _utc(2026, 11, 24, 0, 0),
               GUATEMALA, "12345", time(7, 0), time(18, 0)),
    _recurring("recurring Guatemala: Saturday 03:00 UTC is Friday 21:00 there", _utc(2026, 11, 28, 3, 0),
               GUATEMALA, "67", None, None),
    _recurring("recurring Kolkata (+05:30): 08:59:59 there", _utc(2026, 11, 23, 3, 29, 59), "Asia/Kolkata", "1",
               time(9, 0), time(17, 0)),
    _recurring("recurring Kolkata (+05:30): 09:00 there", _utc(2026, 11, 23, 3, 30), "Asia/Kolkata", "1",
               time(9, 0), time(17, 0)),
    _recurring("recurring Kathmandu (+05:45): 17:00 there (closing)", _utc(2026, 11, 23, 11, 15), "Asia/Kathmandu",
               "1", time(9, 0), time(17, 0)),
    _recurring("recurring New York: 01:59 EST, the night clocks go forward", _utc(2026, 3, 8, 6, 59),
               "America/New_York", "7", time(2, 30), None),
    _recurring("recurring New York: 03:00 EDT, the night clocks go forward", _utc(2026, 3, 8, 7, 0),
               "America/New_York", "7", time(2, 30), None),
    _recurring("recurring: no weekdays at all", T0, LAGOS, "", None, None),
    _recurring("recurring: every day, no hours", T0, LAGOS, "1234567", None, None),
    _recurring("recurring: only an opening time, before it", _utc(2026, 11, 23, 7, 0), LAGOS, "1", time(9, 0), None),
    _recurring("recurring: only a closing time, after it", _utc(2026, 11, 23, 20, 0), LAGOS, "1", None, time(18, 0)),
    _recurring("recurring: night hours 22:00-06:00, at 23:00", _utc(2026, 11, 23, 22, 0), LAGOS, "1234567",
               time(22, 0), time(6, 0)),
    _recurring("recurring: inside already", T0, LAGOS, "123456", people_inside=True, **SHIFT),
    _recurring("recurring: on its day but past valid_until", T0, LAGOS, "123456", **{**SHIFT, "valid_until": T0}),
    _recurring("recurring: allowed now, number banned", T0, LAGOS, "123456", bans=(BanSpec(),), **SHIFT),
    # --- bans -------------------------------------------------------------------------------
    _case("ban: estate-wide, no expiry", bans=(BanSpec(),)),
    _case("ban: estate-wide, expires 1 ms from now", bans=(BanSpec(expires_at=T0 + MS),)),
    _case("ban: estate-wide, expires right now", fetched=HOUR, bans=(BanSpec(expires_at=T0),)),
    _case("ban: expired an hour ago, list saved before that", fetched=2 * HOUR,
          bans=(BanSpec(expires_at=T0 - HOUR),)),
    _case("ban: lifted", bans=(BanSpec(lifted_at=T0 - HOUR),)),
    _case("ban: on another number", bans=(BanSpec(phone=OTHER_PHONE),)),
    _case("ban: on the second visitor's number", guests=(("Ada Visitor", OTHER_PHONE, None), GUEST),
          bans=(BanSpec(),)),
    _case("ban: the host's own", bans=(BanSpec(scope="PERSONAL", owner="host"),)),
    _case("ban: a neighbour's own", bans=(BanSpec(scope="PERSONAL", owner="neighbour"),)),
    _case("ban: a resident's own, pass without a host", host=False,
          bans=(BanSpec(scope="PERSONAL", owner="neighbour"),)),
    _case("ban: in another estate", bans=(BanSpec(elsewhere=True),)),
    _case("ban: estate-wide LOW and HIGH", bans=(BanSpec(severity="LOW"), BanSpec(severity="HIGH"))),
    _case("ban: estate-wide LOW and the host's HIGH",
          bans=(BanSpec(severity="LOW"), BanSpec(scope="PERSONAL", owner="host", severity="HIGH"))),
    _case("ban: the host's first, then estate-wide", bans=(BanSpec(scope="PERSONAL", owner="host", severity="HIGH"),
                                                           BanSpec(severity="MEDIUM"))),
]


def _estate(n: int, timezone: str) -> Estate:
    estate = Estate(slug=f"rules-{n}", name=f"Rules {n}", country="NG", timezone=timezone, currency="NGN",
                    default_language="en", status=EstateStatus.ACTIVE, address="1 Rule Road", city="Lagos")
    db.session.add(estate)
    db.session.flush()
    return estate


def _visit(case: Case, estate: Estate, unit: Unit, host: User | None) -> Visit:
    fields = dict(pass_type=PassType.SINGLE_USE, status=VisitStatus.ACTIVE, valid_from=FROM, valid_until=UNTIL,
                  weekdays="", max_entries=1, entries_used=0, people_inside=False)
    fields.update(case.visit)
    visit = Visit(estate_id=estate.id, unit_id=unit.id, host_user_id=host.id if host else None,
                  qr_token=secrets.token_urlsafe(24), visitor_code=secrets.token_hex(4).upper(), **fields)
    visit.visitors = [VisitGuest(estate_id=estate.id, full_name=name, phone=phone, plate=plate)
                      for name, phone, plate in case.guests]
    db.session.add(visit)
    return visit


def _bans(case: Case, estate: Estate, other: Estate, host: User, neighbour: User) -> None:
    owners = {"host": host, "neighbour": neighbour}
    for i, spec in enumerate(case.bans):
        owner = owners[spec.owner] if spec.owner else None
        db.session.add(Ban(estate_id=(other if spec.elsewhere else estate).id, phone=spec.phone,
                           scope=BanScope(spec.scope), owner_user_id=owner.id if owner else None,
                           severity=spec.severity, reason=f"ban {i + 1} ({spec.scope} {spec.severity})",
                           expires_at=spec.expires_at, lifted_at=spec.lifted_at))


def build_cases(cases: list[Case] = CASES) -> list[dict]:
    """Write each case to the database (an estate of its own) and answer it in Python.
    Needs an app context. Returns, per case, its name, the browser's input (`pass` and
    `bans` from offline/bootstrap's data, `timezone`, `now`) and Python's answer:
    `verdict` (ADMIT or the refusal code) and `ban` (the reason of the ban shown)."""
    other = _estate(0, "UTC")
    built = []
    for n, case in enumerate(cases, start=1):
        estate = _estate(n, case.timezone)
        unit = Unit(estate_id=estate.id, number="A1")
        host = User(full_name=f"Host {n}", email=f"host{n}@rules.test", password_hash="-")
        neighbour = User(full_name=f"Neighbour {n}", email=f"neighbour{n}@rules.test", password_hash="-")
        db.session.add_all([unit, host, neighbour])
        db.session.flush()
        visit = _visit(case, estate, unit, host if case.host else None)
        _bans(case, estate, other, host, neighbour)
        db.session.commit()

        decision = check(estate, visit, case.now)
        data = bootstrap(estate, case.now - case.fetched)
        saved = [p for p in data["passes"] if p["id"] == visit.id]
        assert saved, f"{case.name}: the pass is not in the saved list (outside the bootstrap's days)"
        built.append({
            "name": case.name,
            "input": {"pass": saved[0], "bans": data["bans"], "timezone": data["estate"]["timezone"],
                      "now": case.now.isoformat(timespec="milliseconds").replace("+00:00", "Z")},
            "verdict": decision.refusal.value if decision.refusal else ADMIT,
            "ban": decision.ban.reason if decision.ban is not None else None,
        })
    return built
