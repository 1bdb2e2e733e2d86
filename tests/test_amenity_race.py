"""20 residents' browsers confirm the last free place of an amenity at the same instant,
against a real gunicorn (4 workers) on PostgreSQL: exactly one booking is made, the 19
others are told the time was just taken and offered the next free times, and the database
agrees. Once for an exclusive amenity (the row lock, backed by the exclusion constraint),
once for a shared one (the row lock, then counting the places).

Needs PostgreSQL: run with `make test-pg` (TEST_DATABASE_URL set)."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.gunicorn_support import seeded_gunicorn

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                       reason="needs PostgreSQL: `make test-pg` sets TEST_DATABASE_URL and runs it"),
]

RACERS = 20
WORKERS = 4
LAGOS = ZoneInfo("Africa/Lagos")
START_TIMEOUT = 120  # a shared CI machine can take a while to boot four workers


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory):
    """(base URL, database URL) of the app under gunicorn with 4 workers on a fresh, seeded database."""
    with seeded_gunicorn("amenity-race", tmp_path_factory.mktemp("amenity-race-db"), workers=WORKERS,
                         start_timeout=START_TIMEOUT) as server:
        yield server


def _signed_in(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    """The demo resident of greenpark (unit A12), signed in, and a CSRF token."""
    import http.cookiejar
    import re

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) \
        or re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = urllib.parse.urlencode({"csrf_token": token.group(1), "login": "resident@greenpark.test",
                                   "password": "demo1234"}).encode()
    opener.open(f"{base}/login", data=data, timeout=10).read()
    home = opener.open(f"{base}/e/greenpark/home/", timeout=10).read().decode()
    return opener, re.search(r'data-csrf="([^"]+)"', home).group(1)


def _last_place(db_url: str, exclusive: bool) -> tuple[int, datetime]:
    """A fresh amenity open 10:00–12:00 tomorrow (Lagos) whose 10:00 slot has one place left."""
    engine = sa.create_engine(db_url)
    tomorrow = (datetime.now(UTC).astimezone(LAGOS) + timedelta(days=1)).date()
    start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, tzinfo=LAGOS)
    hours = json.dumps({str(d): [["10:00", "12:00"]] for d in range(7)})
    capacity = 1 if exclusive else 3
    try:
        with engine.begin() as conn:
            estate_id, other_unit = conn.execute(sa.text(
                "SELECT e.id, u.id FROM estate e JOIN unit u ON u.estate_id = e.id "
                "WHERE e.slug = 'greenpark' AND u.number = 'B1'")).one()
            amenity_id = conn.execute(sa.text(
                "INSERT INTO amenity (estate_id, name, amenity_type, description, rules, capacity, exclusive, "
                "opening_hours, slot_minutes, min_minutes, max_minutes, advance_days, cancel_cutoff_hours, "
                "late_cancel_keeps_fee, fee_mode, fee_minor, deposit_minor, currency, requires_approval, max_guests, "
                "status, lock_seq, created_at) VALUES (:estate, :name, 'COURT', '', '', :capacity, :exclusive, "
                ":hours, 60, 60, 60, 30, 0, false, 'FREE', 0, 0, 'NGN', false, 0, 'AVAILABLE', 0, now()) "
                "RETURNING id"),
                dict(estate=estate_id, name=f"Race {'court' if exclusive else 'pool'}", capacity=capacity,
                     exclusive=exclusive, hours=hours)).scalar_one()
            if not exclusive:  # two of the three places taken
                conn.execute(sa.text(
                    "INSERT INTO booking (estate_id, amenity_id, unit_id, starts_at, ends_at, guests, places, "
                    "exclusive, notes, status, fee_minor, deposit_minor, currency, reason, created_at) VALUES "
                    "(:estate, :amenity, :unit, :start, :end, 1, 2, false, '', 'CONFIRMED', 0, 0, 'NGN', '', now())"),
                    dict(estate=estate_id, amenity=amenity_id, unit=other_unit, start=start,
                         end=start + timedelta(hours=1)))
    finally:
        engine.dispose()
    return amenity_id, start


@pytest.mark.parametrize("exclusive", [True, False], ids=["exclusive", "shared"])
def test_twenty_concurrent_bookings_of_the_last_place_make_exactly_one(pg_server, exclusive):
    base, db_url = pg_server
    amenity_id, start = _last_place(db_url, exclusive)
    racers = [_signed_in(base) for _ in range(RACERS)]
    body_for = {csrf: urllib.parse.urlencode({"csrf_token": csrf, "slot": start.isoformat(), "confirm": "1"}).encode()
                for _, csrf in racers}
    barrier = threading.Barrier(RACERS)
    results: list = [None] * RACERS

    def book(n: int) -> None:
        opener, csrf = racers[n]
        request = urllib.request.Request(
            f"{base}/e/greenpark/home/amenities/{amenity_id}/book?date={start.date()}", data=body_for[csrf])
        barrier.wait(timeout=30)
        try:
            with opener.open(request, timeout=60) as response:
                results[n] = (response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            results[n] = (exc.code, exc.read().decode())
        except Exception as exc:  # noqa: BLE001 - reported below
            results[n] = exc

    threads = [threading.Thread(target=book, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    errors = [r for r in results if not isinstance(r, tuple)]
    assert not errors, errors[:3]
    # The winner is sent on to their booking's page (the redirect is followed).
    booked = [r for r in results if r[0] == 200 and 'id="booking-when"' in r[1]]
    taken = [r for r in results if r[0] == 409]
    assert (len(booked), len(taken)) == (1, RACERS - 1), sorted({r[0] for r in results})
    assert all("Sorry, that time was just taken by someone else. Nothing was booked." in html for _, html in taken)
    assert all('id="alternatives"' in html for _, html in taken)  # the next free times: the same hour next day

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            holding = conn.execute(sa.text(
                "SELECT count(*), coalesce(sum(places), 0) FROM booking WHERE amenity_id = :id "
                "AND status IN ('PENDING', 'CONFIRMED')"), {"id": amenity_id}).one()
    finally:
        engine.dispose()
    assert tuple(holding) == ((1, 1) if exclusive else (2, 3))
