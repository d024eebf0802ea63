"""Column types and field helpers shared by the tables (`storage.models`), the post fields declared
once in `dangol.core.types.PostBase`, and the migrations.

They are declared with `sa_type` rather than a ready `Column`, so a field declared in a base class
gives each table that inherits it a column of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which has no time zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Dangol stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(nullable: bool = True, index: bool = False) -> Any:
    """A timezone-aware timestamp column (SQLite keeps the offset in text)."""
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)


def json_column(default: Any) -> Any:
    """A JSON column that is never NULL; `default` makes a new object's value (the column itself has
    no default: an INSERT that leaves it out fails, as it always did)."""
    return Field(default_factory=default, sa_type=JSON, nullable=False, sa_column_kwargs={"default": None})
