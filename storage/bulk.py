"""Bulk INSERT … ON CONFLICT of many rows with their ids back: one multi-row statement per table and page.

Why: SQLAlchemy's own multi-row `INSERT … VALUES` of a 40-post page has ~900 placeholders that it
binds value by value and psycopg parses anew for its %s on every run (it caches only short
statements); that was most of the client's CPU in collecting (BENCHMARKS.md "Storage"). Here the
statement text is built once per shape and row count, and sent on the driver's cursor:

- PostgreSQL: PostgreSQL's own numbered placeholders ($1, $2…) on a psycopg `RawCursor`, which
  sends the text as written (no parsing), the same text for every page of a size (prepared by the
  server after a few pages). One round trip per table and page, and the server inserts the rows of
  one statement: against the earlier way (one row's INSERT for every row, `executemany` in pipeline
  mode) +17 % posts/s end to end and ~40 % more posts per client CPU-second, in alternated runs
  (BENCHMARKS.md, Storage, 2026-12-07). COPY into a staging table was measured against the pipeline
  too: less client CPU, but three round trips per table, slower in wall time.
- SQLite: `?` placeholders, each value converted by the column type's own SQLAlchemy bind
  processor (the same text SQLAlchemy would store): `store_page` +14 % posts per CPU-second, ~1.3×
  end to end (BENCHMARKS.md, Storage, 2026-12-06).

A page is split into statements of at most as many values as the database binds at once. Either
way the guarantees are the table's: its unique key and ON CONFLICT, in the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect
from sqlmodel import Session, SQLModel

from dangol.core.columns import UtcDateTime
from storage.engine import driver_cursor

Rows = Sequence[dict[str, Any]]


@dataclass(frozen=True)
class _Shape:
    """What an INSERT's text depends on besides its values: table, columns and conflict handling."""

    table: Table
    columns: tuple[str, ...]
    key: tuple[str, ...]
    update: tuple[str, ...]
    returning: tuple[str, ...]

    def __post_init__(self) -> None:
        # Only the table's own identifiers go into the SQL text; values are bound.
        unknown = {*self.columns, *self.key, *self.update, *self.returning} - set(self.table.c.keys())
        if unknown:
            raise ValueError(f"not columns of {self.table.name}: {sorted(unknown)}")

    def sql(self, placeholders: str) -> str:
        """The INSERT with `placeholders` after VALUES: one row's for the pipeline, "{rows}" for
        SQLite's template, filled with as many rows' as a statement takes."""
        conflict = f"ON CONFLICT ({_quoted(self.key)})" if self.key else "ON CONFLICT"
        if self.update:
            conflict += " DO UPDATE SET " + ", ".join(f'"{n}" = excluded."{n}"' for n in self.update)
        else:
            conflict += " DO NOTHING"
        returning = f" RETURNING {_quoted(self.returning)}" if self.returning else ""
        return f'INSERT INTO "{self.table.name}" ({_quoted(self.columns)}) VALUES {placeholders} {conflict}{returning}'

    def values(self, rows: Rows) -> list[list[Any]]:
        """Each row's values in column order; a row with other columns is refused, not misaligned."""
        try:
            values = [[row[name] for name in self.columns] for row in rows]
        except KeyError as exc:
            raise ValueError(f"rows for {self.table.name} must all have the columns {list(self.columns)}") from exc
        if any(len(row) != len(self.columns) for row in rows):
            raise ValueError(f"rows for {self.table.name} must all have the columns {list(self.columns)}")
        return values


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def insert_rows(
    session: Session,
    model: type[SQLModel],
    rows: Rows,
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
    shape = _Shape(table, tuple(rows[0]), tuple(key), tuple(update), tuple(returning))
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return _postgres_insert(session, shape, rows)
    if dialect == "sqlite":
        return _sqlite_insert(session, shape, rows)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}; use SQLite or PostgreSQL")


@lru_cache(maxsize=64)
def _sqlite_statement(shape: _Shape, dialect: Dialect) -> tuple[str, str, list[tuple[int, Any, bool]]]:
    """The shape's INSERT text with `{rows}` to fill, one row's placeholders, and (column position,
    bind processor in this dialect, whether it is a time column) for each column that has one: what
    SQLAlchemy itself would convert the value with."""
    processors = []
    for i, name in enumerate(shape.columns):
        column_type = shape.table.c[name].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((i, process, isinstance(column_type, UtcDateTime)))
    return shape.sql("{rows}"), "(" + ", ".join("?" * len(shape.columns)) + ")", processors


def _sqlite_insert(session: Session, shape: _Shape, rows: Rows) -> list[tuple[Any, ...]]:
    """Multi-row INSERTs on the driver's cursor, as many rows each as SQLite binds at once; the
    rows RETURNING gave."""
    connection = session.connection()
    template, one_row, processors = _sqlite_statement(shape, connection.dialect)
    # A time column's values repeat within a page (every row's collected_at and last_seen_at is the
    # page's one `now`): each distinct time is converted once per call.
    converted: list[tuple[int, Any, dict[Any, Any] | None]] = [
        (i, process, {} if is_time else None) for i, process, is_time in processors
    ]
    raw = connection.connection.driver_connection
    assert raw is not None
    per_statement = max(1, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(shape.columns))
    values = shape.values(rows)
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        params: list[Any] = []
        for row in chunk:
            # Every value through its processor, None too: a JSON column stores None as JSON null.
            for i, process, seen in converted:
                if seen is None:
                    row[i] = process(row[i])
                elif (value := row[i]) in seen:
                    row[i] = seen[value]
                else:
                    row[i] = seen[value] = process(value)
            params += row
        statement = template.replace("{rows}", ", ".join([one_row] * len(chunk)))
        # Errors come wrapped as SQLAlchemy's (IntegrityError; OperationalError when the file is locked).
        with driver_cursor(session, statement) as cursor:
            cursor.execute(statement, params)
            found += [tuple(r) for r in cursor.fetchall()] if shape.returning else []
    return found


@lru_cache(maxsize=256)
def _postgres_statement(shape: _Shape, row_count: int) -> str:
    """The shape's INSERT of `row_count` rows with PostgreSQL's own numbered placeholders ($1, $2…),
    which a raw cursor sends as written: the same text for every page of a size, never parsed."""
    width = len(shape.columns)
    rows = (", ".join(f"${row * width + n}" for n in range(1, width + 1)) for row in range(row_count))
    return shape.sql(", ".join(f"({row})" for row in rows))


# What one statement of the extended protocol binds at most (the count is sent as 16 bits).
POSTGRES_MAX_PARAMETERS = 65_535


def _postgres_insert(session: Session, shape: _Shape, rows: Rows) -> list[tuple[Any, ...]]:
    """Multi-row INSERTs on a raw psycopg cursor, as many rows each as PostgreSQL binds at once;
    the rows RETURNING gave."""
    as_json = [isinstance(shape.table.c[name].type, JSON) for name in shape.columns]
    values = shape.values(rows)
    per_statement = POSTGRES_MAX_PARAMETERS // len(shape.columns)
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        params = [Json(v) if j else v for row in chunk for v, j in zip(row, as_json, strict=True)]
        statement = _postgres_statement(shape, len(chunk))
        # A driver error comes wrapped as SQLAlchemy's (what dangol.pipeline catches: a refused page
        # is stored record by record, an outage retried), the connection invalidated when it was lost.
        with driver_cursor(session, statement, numbered=True) as cursor:
            cursor.execute(statement, params)
            found += cursor.fetchall() if shape.returning else []
    return found
