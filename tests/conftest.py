"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

Each backend gets a fresh database migrated with the real Alembic history once per run; each
test then runs inside a transaction that is rolled back, so tests never see each other's rows.
Without a PostgreSQL server the PostgreSQL leg is skipped loudly, except under CI=true, where
it fails.
"""

import asyncio
import os
import traceback
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.auth import service as auth
from app.auth.models import Role, User
from app.db import make_engine
from app.deals.models import Deal
from app.main import create_app
from app.migrate import upgrade
from app.settings import Settings
from app.web.csrf import SESSION_COOKIE, session_token

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/dealbook_test"
PASSWORD = "correct horse battery staple"
"""Every test user's password."""
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_skipped_postgres: list[str] = []


def _pg_admin_dsn(url: str) -> tuple[str, str]:
    """A libpq DSN for the server's maintenance database, and the test database's name."""
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), parsed.database or "dealbook_test"


def fresh_postgres_database(url: str) -> str:
    """Drop and create the database named in `url`; fail in CI, skip elsewhere if unreachable."""
    dsn, name = _pg_admin_dsn(url)
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL at {make_url(url).render_as_string()} is unreachable: {exc}"
        if IN_CI:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        _skipped_postgres.append(reason)
        pytest.skip(reason)
    return url


def postgres_url(suffix: str = "") -> str:
    base = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    parsed = make_url(base)
    return parsed.set(database=f"{parsed.database}{suffix}").render_as_string(hide_password=False)


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'dealbook.db'}"
    return fresh_postgres_database(postgres_url())


SQL_ON_EVENT_LOOP: list[str] = []
"""Statements run on an event loop's thread during the current test (see `_no_sql_on_loop`)."""


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def watch_event_loop(db_engine: Engine) -> None:
    """Record every statement run on an event loop's thread: a blocking database call there
    stalls every request of that worker (even /healthz), so routes must run it in a thread."""

    @event.listens_for(db_engine, "before_cursor_execute")
    def _check(_conn, _cursor, statement, _params, _context, _many) -> None:
        if _on_event_loop():
            ours = [f for f in traceback.extract_stack() if f"{os.sep}app{os.sep}" in f.filename]
            where = "".join(traceback.format_list(ours[-4:]))
            SQL_ON_EVENT_LOOP.append(f"{statement.splitlines()[0][:120]}\n{where}")


@pytest.fixture(autouse=True)
def _no_sql_on_loop() -> Iterator[None]:
    """Every test fails if a route did database work on the event loop (see above)."""
    SQL_ON_EVENT_LOOP.clear()
    yield
    found, SQL_ON_EVENT_LOOP[:] = list(SQL_ON_EVENT_LOOP), []
    assert not found, "SQL ran on the event loop thread:\n" + "\n".join(found[:3])


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """A database at the head of the real migration history."""
    upgrade(database_url)
    db_engine = make_engine(database_url)
    watch_event_loop(db_engine)
    yield db_engine
    db_engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that commit to savepoints inside the test's outer transaction."""
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as db:
        yield db


def login(client: TestClient, user: User, session_factory: sessionmaker[Session]) -> str:
    """Give the client `user`'s session cookie and an API token; return its CSRF token."""
    with session_factory() as db:
        started = auth.start_session(db, user, "testclient", timedelta(hours=1))
        token = auth.create_token(db, user, "tests")
        db.commit()
    client.cookies.set(SESSION_COOKIE, cookie_signer_for(client).dumps(started.token))
    client.headers["Authorization"] = f"Bearer {token.token}"
    return csrf_of(client)


def cookie_signer_for(client: TestClient):
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(client.app.state.secret_key, salt="dealbook.session")


def csrf_of(client: TestClient) -> str:
    """The CSRF token pages give this client (bound to its login session)."""
    return session_token(client.app.state.secret_key, client.cookies[SESSION_COOKIE])


@pytest.fixture
def make_user(session_factory: sessionmaker[Session]):
    """A factory: a user with a role, optionally on some deals' teams."""

    def make(username: str, role: Role = Role.ANALYST, *, teams: tuple[str, ...] = ()) -> User:
        with session_factory() as db:
            user = auth.create_user(db, username, PASSWORD, role, fast_hash=True)
            for slug in teams:
                deal = db.scalars(select(Deal).where(Deal.slug == slug)).one()
                auth.add_member(db, deal.id, user)
            db.commit()
            return user

    return make


def _app(engine: Engine, session_factory: sessionmaker[Session]):
    settings = Settings(
        database_url=str(engine.url), fast_password_hashing=True, log_requests=False
    )
    return create_app(settings, session_factory=session_factory)


@pytest.fixture
def anonymous(engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The real app with nobody logged in."""
    with TestClient(_app(engine, session_factory)) as test_client:
        yield test_client


@pytest.fixture
def client(
    engine: Engine, session_factory: sessionmaker[Session], make_user
) -> Iterator[TestClient]:
    """The real app, logged in as an admin (every deal visible); each request's session runs
    inside the test's transaction. Role and team tests use `make_user` and `login`."""
    with TestClient(_app(engine, session_factory)) as test_client:
        login(test_client, make_user("root", Role.ADMIN), session_factory)
        yield test_client


@pytest.fixture
def seeded(session: Session) -> Session:
    from app.seed import seed

    seed(session)
    session.commit()
    return session


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_postgres:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line(
            "POSTGRESQL LEG SKIPPED: database tests ran on SQLite only.", red=True, bold=True
        )
        terminalreporter.write_line(f"  {_skipped_postgres[0]}", red=True)
        terminalreporter.write_line(
            "  Start it (pg_ctlcluster ... main start) or set TEST_DATABASE_URL.", red=True
        )
        terminalreporter.write_line(bar, red=True, bold=True)
