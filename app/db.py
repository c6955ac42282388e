"""Database engine, session factory and the request-scoped session.

The engine is built by the app's lifespan (never at import), so tests and the CLI can point the
same code at SQLite or PostgreSQL.
"""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.errors import UnprocessableError
from app.types import has_nul

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose constraints get stable names, so migrations can drop them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_transactional(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, own transactions, so rollbacks (and DDL) are real.

    This is the recipe from SQLAlchemy's SQLite dialect docs; it also turns on foreign keys,
    which SQLite leaves off by default.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


class UnstorableText(UnprocessableError):
    """Text with a NUL character: PostgreSQL can neither store nor compare it (SQLite can), so
    both refuse it, with a 422 instead of PostgreSQL's DataError (a 500)."""


def _parameters(parameters: Any) -> Iterator[Any]:
    """Every bound value of a statement: one row's (a mapping or a tuple) or many rows'."""
    values = parameters.values() if isinstance(parameters, Mapping) else parameters or ()
    for value in values:
        if isinstance(value, Mapping | list | tuple):
            yield from _parameters(value)
        else:
            yield getattr(value, "obj", value)  # `obj`: what psycopg's Json/Jsonb wrap


def _refuse_nul(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """Every statement's parameters are checked, so pages, API and CLI all get the same answer
    (request models refuse NUL first, with the field's place; this catches the rest, such as
    a slug or a username in a URL)."""
    if any(has_nul(value) for value in _parameters(parameters)):
        raise UnstorableText("Text cannot contain a NUL character (\\x00).")


def make_engine(url: str, echo: bool = False, **pool: Any) -> Engine:
    """Create an engine for SQLite or PostgreSQL, creating the SQLite file's folder.

    PostgreSQL connections are checked before use (pre-ping), so a restarted database costs
    one failed check, not a failed request; `pool` passes pool_size, max_overflow,
    pool_timeout and pool_recycle through."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo)
        _sqlite_transactional(engine)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True, **pool)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed before the response is sent.

    Services only flush; the commit happens here. The dependency is declared with
    scope="function" so a failing commit turns into an error response, not a silent 200.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
