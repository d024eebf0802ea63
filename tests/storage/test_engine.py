from pathlib import Path

from sqlalchemy import text

from storage.engine import make_engine


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/sub/dir/x.db")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "sub" / "dir" / "x.db").exists()


def test_plain_postgresql_url_uses_psycopg_3() -> None:
    engine = make_engine("postgresql://u@127.0.0.1:1/db")
    assert engine.url.drivername == "postgresql+psycopg"


def test_a_driver_statement_stores_what_sqlalchemy_stores(session) -> None:
    """`DriverStatement` runs a Core statement on the driver's cursor: the same text in the row as
    SQLAlchemy's own execution (a time, JSON, an integer, a string), on both databases, with the
    row count and RETURNING rows back."""
    from datetime import UTC, datetime

    from sqlalchemy import bindparam, update
    from sqlmodel import col

    from storage.engine import DriverStatement
    from storage.models import Source

    sources = {name: Source(name=name, use="replay") for name in ("core", "driver")}
    session.add_all(sources.values())
    session.flush()
    statement = (
        update(Source)
        .where(col(Source.name) == bindparam("which"))
        .values(
            lease_until=bindparam("until", type_=Source.__table__.c.lease_until.type),
            cursor=bindparam("cursor", type_=Source.__table__.c.cursor.type),
            posts_collected=col(Source.posts_collected) + bindparam("more"),
            lease_owner=bindparam("owner"),
        )
        .returning(col(Source.posts_collected))
    )
    values = {
        "until": datetime(2026, 12, 7, 9, 30, 1, 234567, tzinfo=UTC),
        "cursor": {"max_id": "9" * 30, "quote": "it's \\N \u00e9", "n": [1, None]},
        "more": 41,
        "owner": "worker-1 'x'",
    }
    core = session.connection().execute(statement, {**values, "which": "core"})
    assert core.scalar_one() == 41
    driver = DriverStatement(statement).run(session, {**values, "which": "driver"})
    assert driver.rows == [(41,)] and driver.rowcount == 1
    assert DriverStatement(statement).run(session, {**values, "which": "nobody"}).rowcount == 0
    # text() has no column types: the values as the driver reads them from the row
    raw = text("SELECT lease_until, cursor, posts_collected, lease_owner FROM source WHERE name = :n")
    as_stored = [session.connection().execute(raw, {"n": n}).one() for n in ("core", "driver")]
    assert as_stored[0] == as_stored[1]
    session.expire_all()
    assert sources["driver"].lease_until == values["until"] and sources["driver"].cursor == values["cursor"]


def test_a_driver_statement_takes_the_statements_own_literals_and_names_a_missing_value(session) -> None:
    import pytest
    from sqlalchemy import bindparam, update
    from sqlmodel import col

    from storage.engine import DriverStatement
    from storage.models import Source

    session.add(Source(name="one", use="replay"))
    session.flush()
    # 7 is a literal: SQLAlchemy binds it under a name of its own, with its value.
    statement = DriverStatement(
        update(Source).where(col(Source.name) == bindparam("which")).values(posts_collected=7, lease_owner=None)
    )
    assert statement.run(session, {"which": "one"}).rowcount == 1
    raw = text("SELECT posts_collected, lease_owner FROM source WHERE name = 'one'")
    assert session.connection().execute(raw).one() == (7, None)
    with pytest.raises(KeyError, match="which"):
        statement.run(session, {})
