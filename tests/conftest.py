"""Fixtures: a migrated database per run (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set); each test runs in a transaction rolled back at its end
(tests marked `real_commits` commit for real, and the tables are emptied after them);
factories; sign-in helpers."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import flask_migrate
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db, limiter
from portal.models import (
    Estate,
    EstateStatus,
    Membership,
    PassType,
    PlatformRole,
    Resident,
    ResidentType,
    Role,
    Unit,
    User,
    Visit,
    VisitGuest,
)

PASSWORD = "secret-pass-1"
_PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@contextmanager
def fresh_database(label: str, tmp_dir):
    """The URL of a new, empty database: a SQLite file in `tmp_dir`, or, when
    TEST_DATABASE_URL is set, a PostgreSQL database created now and dropped after."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_dir / (label + '.db')}"
        return
    base = make_url(url)
    name = f"gatehouse_{label}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with fresh_database("test", tmp_path_factory.mktemp("db")) as url:
        yield url


class _BoundToConnection:
    """Flask-SQLAlchemy's session, except that a session bound to a connection (as every
    session is during a rolled-back test) uses that connection and not the app's engine.
    Mixed into the app's own session class, so the app's session events still apply."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and isinstance(self.bind, sa.Connection):
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "DEV_MODE": True,
            "PASSWORD_HASHER": "fast",
            # Messages: the hook only logs (tests/test_outbox*.py choose their dispatcher), and a
            # job runs at once in the caller (huey's immediate mode; no queue file).
            "MESSAGE_DELIVERY": "portal.integrations.delivery:dev",
            "MESSAGE_DELIVERY_COALESCE_MS": 0,  # at once, in the committing request (tests/test_delivery.py turns it on)
            "JOBS_IMMEDIATE": True,
            # Web push in DEV mode: a key pair made on first use, kept out of instance/.
            "VAPID_KEYS_FILE": str(tmp_path_factory.mktemp("push") / "vapid-keys.json"),
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            # Tests need no durability: skip the fsyncs that dominate a commit on SQLite.
            @sa.event.listens_for(db.engine, "connect")
            def _fast_sqlite(dbapi_connection, _record):
                dbapi_connection.execute("PRAGMA synchronous=OFF")

            db.engine.dispose()
        flask_migrate.upgrade()
    factory = db.session.session_factory
    factory.class_ = type("_TestSession", (_BoundToConnection, factory.class_), {})
    return app


@contextmanager
def _rolled_back(app):
    """Everything inside runs in one transaction on one connection, rolled back at the end.

    Every database session (one per app context: the test's own, and each test-client
    request's) is bound to that connection and turns its commits into the RELEASE of a
    SAVEPOINT (SQLAlchemy's join_transaction_mode="create_savepoint"), so the app's code
    commits and rolls back as usual without ending the outer transaction."""
    with app.app_context():
        engine = db.engine
    conn = engine.connect()
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        # pysqlite's legacy transaction handling begins a transaction only before DML, so a
        # SAVEPOINT could open (and its RELEASE commit) the transaction: take control instead.
        driver = conn.connection.driver_connection
        saved_isolation = driver.isolation_level
        driver.isolation_level = None
    outer = conn.begin()
    if sqlite:
        conn.exec_driver_sql("BEGIN")
    factory = db.session.session_factory
    factory.kw.update(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        del factory.kw["bind"], factory.kw["join_transaction_mode"]
        outer.rollback()
        if sqlite:
            driver.isolation_level = saved_isolation
        conn.close()


def empty_tables(app) -> None:
    """Delete every row (what the `app` fixture does after a `real_commits` test)."""
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(sa.text(f"DELETE FROM {table}"))
        db.session.commit()


@pytest.fixture
def app(_app, request):
    """The app, its configuration and rate limits restored after each test, which runs in a
    transaction rolled back at its end. A test marked `real_commits` (its own threads or
    connections must see its rows) commits for real instead, and the tables are emptied
    after it."""
    saved = dict(_app.config)
    if request.node.get_closest_marker("real_commits"):
        try:
            yield _app
        finally:
            empty_tables(_app)
    else:
        with _rolled_back(_app):
            yield _app
    _app.config.clear()
    _app.config.update(saved)
    limiter.reset()


@pytest.fixture
def client(app):
    """Overrides pytest-flask's, which keeps each request's context pushed after it
    (and so lets one client's `g` leak into another's requests)."""
    return app.test_client()


@pytest.fixture(autouse=True)
def _push_request_context():
    """Overrides pytest-flask's: each test-client request gets its own app context
    (and so its own `g` and database session), as it does in production."""
    yield


@pytest.fixture
def dbs(app):
    """`with dbs() as s:` a database session in a short app context of its own.
    (A context held for the whole test would be shared by the client's requests.)"""

    @contextmanager
    def _session():
        with app.app_context():
            yield db.session

    return _session


def _snapshot(obj) -> SimpleNamespace:
    mapper = sa.inspect(obj).mapper
    return SimpleNamespace(**{c.key: getattr(obj, c.key) for c in mapper.column_attrs})


class Factory:
    """Creates committed rows and returns plain snapshots of them."""

    def __init__(self, app):
        self.app = app
        self._n = 0

    def _seq(self) -> int:
        self._n += 1
        return self._n

    def _save(self, obj):
        with self.app.app_context():
            db.session.add(obj)
            db.session.commit()
            return _snapshot(obj)

    def estate(self, slug: str | None = None, **kw) -> SimpleNamespace:
        n = self._seq()
        fields = dict(
            slug=slug or f"estate-{n}", name=kw.pop("name", f"Estate {n}"), country="NG",
            timezone="Africa/Lagos", currency="NGN", default_language="en", status=EstateStatus.ACTIVE,
            address="1 Test Road", city="Lagos",
        )
        fields.update(kw)
        return self._save(Estate(**fields))

    def user(self, email: str | None = None, *, estate=None, role: Role | None = None,
             supervisor: bool = False, **kw) -> SimpleNamespace:
        n = self._seq()
        fields = dict(full_name=kw.pop("full_name", f"Ada Obi {n}"), password_hash=_PASSWORD_HASH)
        if email is not False:
            fields["email"] = email or f"user{n}@example.test"
        fields.update(kw)
        with self.app.app_context():
            user = User(**fields)
            db.session.add(user)
            db.session.flush()
            if estate is not None and role is not None:
                db.session.add(Membership(user_id=user.id, estate_id=estate.id, role=role, is_supervisor=supervisor))
            db.session.commit()
            return _snapshot(user)

    def enterprise_admin(self, email: str = "boss@example.test") -> SimpleNamespace:
        return self.user(email, platform_role=PlatformRole.ENTERPRISE_ADMIN)

    def member(self, user, estate, role: Role, supervisor: bool = False) -> None:
        self._save(Membership(user_id=user.id, estate_id=estate.id, role=role, is_supervisor=supervisor))

    def unit(self, estate, number: str | None = None, **kw) -> SimpleNamespace:
        return self._save(Unit(estate_id=estate.id, number=number or f"U{self._seq()}", **kw))

    def resident(self, estate, unit, full_name: str | None = None, *, user=None,
                 resident_type: ResidentType = ResidentType.OWNER, **kw) -> SimpleNamespace:
        return self._save(Resident(
            estate_id=estate.id, unit_id=unit.id, user_id=user.id if user else None,
            full_name=full_name or f"Resident {self._seq()}", resident_type=resident_type, **kw))

    def visit(self, estate, unit, host=None, *, guests=(("Visitor", "+2348090000001", None),),
              pass_type: PassType = PassType.SINGLE_USE, starts: timedelta = timedelta(hours=-1),
              ends: timedelta = timedelta(hours=6), code: str | None = None, **kw) -> SimpleNamespace:
        """A visit valid from now+starts to now+ends (aware UTC), with guests given as
        (name, phone, plate) tuples. Extra fields (status, max_entries, weekdays…) in **kw."""
        now = datetime.now(UTC)
        fields = dict(
            estate_id=estate.id, unit_id=unit.id, host_user_id=host.id if host else None,
            created_by_id=host.id if host else None, pass_type=pass_type, valid_from=now + starts,
            valid_until=now + ends, max_entries=None if pass_type == PassType.RECURRING else 1,
            qr_token=secrets.token_urlsafe(24),
            visitor_code=code or "".join(secrets.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(8)),
        )
        fields.update(kw)
        with self.app.app_context():
            visit = Visit(**fields)
            visit.visitors = [VisitGuest(estate_id=estate.id, full_name=name, phone=phone, plate=plate)
                              for name, phone, plate in guests]
            db.session.add(visit)
            db.session.commit()
            return _snapshot(visit)


@pytest.fixture
def make(app) -> Factory:
    return Factory(app)


@pytest.fixture
def login(client) -> Callable:
    """Sign `client` in (or any other test client given as `as_client`)."""

    def _login(login: str, password: str = PASSWORD, *, as_client=None, remember: bool = False):
        c = as_client or client
        data = {"login": login, "password": password}
        if remember:
            data["remember"] = "y"
        response = c.post("/login", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return _login


@pytest.fixture
def estate_pair(make):
    """Two estates, each with an admin, a guard and a resident in a unit."""
    result = {}
    for slug in ("alpha", "beta"):
        estate = make.estate(slug, name=slug.title() + " Court")
        unit = make.unit(estate, "A1")
        people = SimpleNamespace(
            estate=estate,
            unit=unit,
            admin=make.user(f"admin@{slug}.test", estate=estate, role=Role.ESTATE_ADMIN),
            guard=make.user(f"guard@{slug}.test", estate=estate, role=Role.GUARD),
            resident=make.user(f"resident@{slug}.test", estate=estate, role=Role.RESIDENT),
        )
        make.resident(estate, unit, "Resident of " + slug, user=people.resident)
        result[slug] = people
    return SimpleNamespace(**result)


_SAVEPOINT_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture
def count_queries(app):
    """Counts the SQL statements run inside the `with` block (not the SAVEPOINTs that stand
    in for transactions in a rolled-back test)."""

    class Counter:
        def __init__(self):
            self.count = 0

        def __enter__(self):
            with app.app_context():
                self.engine = db.engine
            sa.event.listen(self.engine, "before_cursor_execute", self._inc)
            return self

        def _inc(self, conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(_SAVEPOINT_STATEMENTS):
                self.count += 1

        def __exit__(self, *exc):
            sa.event.remove(self.engine, "before_cursor_execute", self._inc)

    return Counter


@pytest.fixture
def record_sql(app):
    """`with record_sql() as seen:` the SQL statements run inside the block, each on one line."""

    @contextmanager
    def _record():
        seen: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            seen.append(" ".join(statement.split()))

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return _record
