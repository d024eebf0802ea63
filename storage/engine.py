"""The database engine: SQLite (WAL, foreign keys) by default, PostgreSQL through the URL."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session, create_engine

from dangol.core.errors import ConfigError


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`; for SQLite the file's folder is created and WAL switched on. A URL that
    cannot be parsed or names no installed database is a ConfigError (the password never shown)."""
    try:
        return _make_engine(url, echo)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(
            f"database URL {_shown(url)} is not usable ({type(exc).__name__}: {_shown(str(exc))}); "
            "give sqlite:///path/to/dangol.db or postgresql://user@host:5432/dbname"
        ) from None


def _shown(text: str) -> str:
    """`text` with any URL password replaced by ***."""
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def _make_engine(url: str, echo: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver we install; plain postgresql:// would ask for psycopg2.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def dialect_insert(session: Session, table: Any) -> Any:
    """INSERT into `table` in the session's dialect, which is what gives it ON CONFLICT (SQLite and
    PostgreSQL spell it alike, but each through its own `insert`)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}; use SQLite or PostgreSQL")


@contextmanager
def driver_cursor(session: Session, statement: str, *, numbered: bool = False) -> Iterator[Any]:
    """A cursor of the session's driver connection, in its transaction, for the caller to run
    `statement` on (the fast paths that bypass SQLAlchemy's statement handling: `storage.bulk`,
    `fetch_planned_each_time`). A driver error comes out wrapped as SQLAlchemy's DBAPIError subclass,
    as its own execution would wrap it (a lost connection invalidated), so callers tell an outage
    from a refused statement alike on every path.

    `numbered`: on PostgreSQL a psycopg `RawCursor`, which takes the server's own $1, $2…
    placeholders and sends the text as written (a plain cursor parses it for %s on every run)."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor: Any = psycopg.RawCursor(raw) if numbered and isinstance(raw, psycopg.Connection) else raw.cursor()
    try:
        yield cursor
    except Exception as exc:
        connection._handle_dbapi_exception(exc, statement, None, cursor, None)
        raise  # not reached: the handler raises
    finally:
        cursor.close()


@dataclass(frozen=True, slots=True)
class DriverResult:
    rows: list[tuple[Any, ...]]
    rowcount: int


class DriverStatement:
    """A Core statement compiled once per dialect and run on the session's driver cursor, in its
    transaction, each value converted by its bind parameter's own type as SQLAlchemy would convert
    it (a time to SQLite's text, JSON serialized): the same statement and the same stored values.

    Why: for the short statements a collected page runs once each (renewing the lease, advancing
    the cursor), SQLAlchemy's execution around them (context, events, result) cost ~0.2 ms, ten
    times the statement itself (BENCHMARKS.md, Storage, 2026-12-07). Expanding IN lists are not
    supported (their text depends on the values)."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        compiled = self._compiled.get(key)
        if compiled is None:
            sql = cast(SQLCompiler, self._statement.compile(dialect=dialect))
            binds = dict(sql.binds)
            processors = {
                name: process
                for name, bind in binds.items()
                if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
            }
            # A literal in the statement is a bind parameter SQLAlchemy named itself, with its value.
            defaults = {name: bind.value for name, bind in binds.items() if not bind.required}
            order = tuple(sql.positiontup) if sql.positional and sql.positiontup else None
            compiled = self._compiled[key] = _Compiled(sql.string, order, tuple(binds), defaults, processors)
        return compiled

    def run(self, session: Session, values: dict[str, Any]) -> DriverResult:
        compiled = self._compile(session.connection().dialect)
        missing = [name for name in compiled.names if name not in values and name not in compiled.defaults]
        if missing:
            raise KeyError(f"no value for the bind parameter(s) {missing}")
        bound = {name: values[name] if name in values else compiled.defaults[name] for name in compiled.names}
        for name, process in compiled.processors.items():
            bound[name] = process(bound[name])
        params: Any = [bound[name] for name in compiled.order] if compiled.order is not None else bound
        with driver_cursor(session, compiled.sql) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall() if cursor.description else []
            return DriverResult([tuple(row) for row in rows], cursor.rowcount)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # the parameters' order for a positional driver (SQLite's ?)
    names: tuple[str, ...]
    defaults: dict[str, Any]
    processors: dict[str, Any]


def fetch_planned_each_time(session: Session, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql` (psycopg's %s placeholders) on the session's PostgreSQL connection, in its
    transaction, planned by the server with these values every time it runs.

    Why: psycopg prepares a statement it has run five times, and the server then keeps one generic
    plan for it on that connection. A plan made while a table is nearly empty (a fresh database, the
    first pages of a backfill) can stay wrong as the table grows: `storage.privacy.skip_erased`
    read every stored post of the platform through the thread index on each page, 0.7 ms a page at
    first and 12 ms after 10,000 posts (BENCHMARKS.md, Storage, 2026-12-06). Planning a short
    query each time costs ~0.1 ms."""
    with driver_cursor(session, sql) as cursor:
        cursor.execute(sql, params, prepare=False)
        return cursor.fetchall()


# PostgreSQL's "deadlock detected" and "could not serialize access": this transaction was rolled
# back so that another could go on; run again, it normally succeeds.
TRANSACTION_CONFLICTS = frozenset({"40P01", "40001"})


def transaction_conflict(exc: BaseException) -> bool:
    """True when the database rolled the transaction back for another one (worth running again at once)."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in TRANSACTION_CONFLICTS


def database_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the database could not be reached", worth a retry."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
