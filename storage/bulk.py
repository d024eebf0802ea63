"""Bulk INSERT … ON CONFLICT of many rows with their ids back: in psycopg's pipeline mode on PostgreSQL.

Why: a multi-row `INSERT … VALUES` of a 40-post page is a statement of ~900 placeholders that
SQLAlchemy binds value by value and psycopg parses anew each time (it caches only short
statements); that was most of the client's CPU in collecting (BENCHMARKS.md "Storage"). Here the
statement is one row's, the same short text every time (parsed once, prepared by the server after
a few pages), and `executemany` sends all the page's rows in one pipeline: one round trip per table
and page. COPY into a staging table was measured too: 9-16 % less client CPU, but three round
trips per table, and slower in wall time on the 2-core machine in 8 of 10 runs side by side.

SQLite keeps the multi-row INSERT (sqlite3 binds in C and there is no round trip to save). Either
way the guarantees are the table's: its unique key and ON CONFLICT, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Table
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
        return _pipeline_insert(session, table, rows, key=key, update=update, returning=returning)
    stmt = dialect_insert(session, table)
    if update:
        stmt = stmt.on_conflict_do_update(index_elements=key, set_={name: stmt.excluded[name] for name in update})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key or None)
    if returning:
        stmt = stmt.returning(*(table.c[name] for name in returning))
    result = session.connection().execute(stmt, list(rows))
    return [tuple(row) for row in result] if returning else []


def _pipeline_insert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """One row's INSERT, executed for every row in one pipeline; the rows `returning` gave, in order."""
    columns = list(rows[0])
    # Only the table's own identifiers go into the SQL text; values are bound.
    unknown = {*columns, *key, *update, *returning} - set(table.c.keys())
    if unknown:
        raise ValueError(f"not columns of {table.name}: {sorted(unknown)}")
    as_json = [isinstance(table.c[name].type, JSON) for name in columns]
    conflict = f"ON CONFLICT ({', '.join(key)})" if key else "ON CONFLICT"
    conflict += " DO UPDATE SET " + ", ".join(f'"{n}" = excluded."{n}"' for n in update) if update else " DO NOTHING"
    names = ", ".join(f'"{name}"' for name in columns)
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join(['%s'] * len(columns))}) {conflict}" + (
        f" RETURNING {', '.join(returning)}" if returning else ""
    )
    params = [[Json(v) if j else v for v, j in zip(row.values(), as_json, strict=True)] for row in rows]
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    found: list[tuple[Any, ...]] = []
    with raw.cursor() as cursor:
        try:
            cursor.executemany(statement, params, returning=bool(returning))
            while returning:  # one result per row: empty for a row ON CONFLICT DO NOTHING skipped
                found.extend(cursor.fetchall())
                if not cursor.nextset():
                    break
        except Exception as exc:
            # SQLAlchemy's own handling of a driver error: wrapped as its DBAPIError subclass (what the
            # pipeline catches: a refused page is stored record by record, an outage retried) and the
            # connection invalidated when it was lost.
            connection._handle_dbapi_exception(exc, statement, None, cursor, None)
    return found
