"""Bulk INSERT … ON CONFLICT of many rows with their ids back: through COPY on PostgreSQL.

Why COPY: a multi-row `INSERT … VALUES` of a 40-post page is a statement of ~900 placeholders that
SQLAlchemy binds value by value and psycopg parses anew each time (it caches only short statements);
that was most of the client's CPU in collecting (BENCHMARKS.md "Storage"). COPY sends the rows as
data, and the INSERT is one short statement, the same text every page. SQLite keeps the multi-row
INSERT (sqlite3 binds in C and there is no round trip to save).

The staging table lives in the database session (`ON COMMIT DELETE ROWS`: emptied, not dropped, at
each commit, so it never bloats) and is emptied by the INSERT itself (`DELETE … RETURNING` feeding
it), so several pages in one transaction (`storage.ingest.store_page_record_by_record`) never see
each other's rows. A failed COPY or INSERT aborts the caller's transaction or savepoint, which takes
the staged rows with it. The guarantees are the target table's: its unique key and ON CONFLICT,
exactly as for the INSERT … VALUES.

It is created by the first page on a connection and known to exist once that transaction commits
(the connection's `info`, kept while the connection lives): creating it per page cost a round trip
(~0.5 ms) three times a page. A creation rolled back (the transaction or its savepoint) is forgotten
and made again; any error in here forgets them all, so the next page makes them again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Engine, Table, event
from sqlmodel import Session, SQLModel

from storage.engine import dialect_insert


def insert_rows(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str] = (),
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT `rows` (dicts with the same keys) into `model`'s table, ON CONFLICT (`key`) DO UPDATE
    SET the `update` columns from the new row, or DO NOTHING without them; returns the `returning`
    columns of the rows written, in the caller's transaction."""
    if not rows:
        return []
    table: Table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        return _copy_insert(session, table, rows, key=key, update=update, returning=returning)
    stmt = dialect_insert(session, table)
    if update:
        stmt = stmt.on_conflict_do_update(index_elements=key, set_={name: stmt.excluded[name] for name in update})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key or None)
    if returning:
        stmt = stmt.returning(*(table.c[name] for name in returning))
    result = session.connection().execute(stmt, list(rows))
    return [tuple(row) for row in result] if returning else []


def _copy_insert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """COPY `rows` into `table`'s staging table, then move them into `table` with one INSERT."""
    columns = list(rows[0])
    # Only the table's own identifiers go into the SQL text (COPY and CREATE cannot bind them);
    # values travel as COPY data.
    unknown = {*columns, *key, *update, *returning} - set(table.c.keys())
    if unknown:
        raise ValueError(f"not columns of {table.name}: {sorted(unknown)}")
    as_json = [isinstance(table.c[name].type, JSON) for name in columns]  # COPY takes JSON as its text
    names = ", ".join(f'"{name}"' for name in columns)
    # One staging table per table and set of columns: a table made for other columns is never reused.
    stage = f"dangol_stage_{table.name}_{hashlib.sha256(names.encode()).hexdigest()[:10]}"
    conflict = f"ON CONFLICT ({', '.join(key)})" if key else "ON CONFLICT"
    conflict += " DO UPDATE SET " + ", ".join(f'"{n}" = excluded."{n}"' for n in update) if update else " DO NOTHING"
    statements = (
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS "
        f"AS SELECT {names} FROM {table.name} WITH NO DATA",
        f"COPY {stage} ({names}) FROM STDIN",
        f"WITH staged AS (DELETE FROM {stage} RETURNING {names}) "
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM staged {conflict}"
        + (f" RETURNING {', '.join(returning)}" if returning else ""),
    )
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    info = connection.connection.info
    statement = statements[0]
    with raw.cursor() as cursor:
        try:
            if stage not in info.get(_CREATED, ()):
                cursor.execute(statement)
                info.setdefault(_PENDING, set()).add(stage)
            statement = statements[1]
            with cursor.copy(statement) as copy:
                for row in rows:
                    values = row.values()
                    copy.write_row([json.dumps(v) if j else v for v, j in zip(values, as_json, strict=True)])
            statement = statements[2]
            cursor.execute(statement)
            return cursor.fetchall() if returning else []
        except Exception as exc:
            info.pop(_CREATED, None)
            info.pop(_PENDING, None)
            # SQLAlchemy's own handling of a driver error: wrapped as its DBAPIError subclass (what the
            # pipeline catches: a refused page is stored record by record, an outage retried) and the
            # connection invalidated when it was lost.
            connection._handle_dbapi_exception(exc, statement, None, cursor, None)


# The staging tables this connection has made: in its current transaction, and committed.
_PENDING, _CREATED = "dangol_staging_pending", "dangol_staging_created"


@event.listens_for(Engine, "commit")
def _staging_committed(connection: Connection) -> None:
    # Fired just before the COMMIT: one that then fails leaves the tables believed made, until the
    # next page's COPY fails on them and forgets them (that page is then stored record by record).
    if (info := _info(connection)) is not None:
        info.setdefault(_CREATED, set()).update(info.pop(_PENDING, ()))


@event.listens_for(Engine, "begin")
@event.listens_for(Engine, "rollback")
@event.listens_for(Engine, "rollback_savepoint")
def _staging_forgotten(connection: Connection, *_savepoint: object) -> None:
    # "begin" too: a transaction the pool rolled back on return fires no "rollback".
    if (info := _info(connection)) is not None:
        info.pop(_PENDING, None)


def _info(connection: Connection) -> dict[Any, Any] | None:
    """The DBAPI connection's lasting `info`; None for a connection lost (its successor starts empty)."""
    return None if connection.closed or connection.invalidated else connection.connection.info
