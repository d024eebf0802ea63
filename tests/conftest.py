"""Shared fixtures: settings, a fresh database per test (SQLite, and PostgreSQL when
DANGOL_TEST_POSTGRES_URL is set), and `make_post` for building collector output."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from dangol.settings import Settings, load_settings
from dangol.types import AuthorIn, PostIn
from storage.engine import make_engine
from storage.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"
DATA = SHARED / "data"
POSTGRES_URL = os.environ.get("DANGOL_TEST_POSTGRES_URL")

DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings from the repository's config.toml, with the database in a temporary folder."""
    return load_settings(REPO / "config.toml", overrides={"database": {"url": f"sqlite:///{tmp_path}/test.db"}})


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating every time."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str | None]:
    """A migrated PostgreSQL database that each test's database is created from (fast)."""
    if not POSTGRES_URL:
        yield None
        return
    admin = make_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"dangol_template_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _postgres_database(template: str) -> Iterator[str]:
    """A throwaway, migrated PostgreSQL database on the real server, dropped afterwards."""
    assert POSTGRES_URL
    admin = make_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"dangol_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path, _postgres_template: str | None
) -> Iterator[str]:
    """A migrated, empty database: SQLite always, PostgreSQL too when configured."""
    if request.param == "sqlite":
        shutil.copyfile(_sqlite_template, tmp_path / "test.db")
        yield f"sqlite:///{tmp_path}/test.db"
    else:
        assert _postgres_template
        yield from _postgres_database(_postgres_template)


@pytest.fixture
def postgres_url(_postgres_template: str | None) -> Iterator[str]:
    """A fresh, migrated database on the real PostgreSQL (DANGOL_TEST_POSTGRES_URL).

    Required in CI (.ci/run sets it); skipped only outside CI, where PostgreSQL may be absent.
    """
    if not _postgres_template:
        if os.environ.get("CI"):
            pytest.fail("DANGOL_TEST_POSTGRES_URL is not set; .ci/run sets it")
        pytest.skip("needs PostgreSQL: set DANGOL_TEST_POSTGRES_URL")
    yield from _postgres_database(_postgres_template)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def make_post() -> Callable[..., PostIn]:
    """Build a PostIn with sensible defaults; any field can be overridden."""
    counter = iter(range(1, 10**9))

    def build(**overrides: Any) -> PostIn:
        n = next(counter)
        author = overrides.pop("author", None) or AuthorIn(
            platform=overrides.get("platform", "x"),
            platform_id=f"u{n}",
            handle=overrides.pop("handle", f"user{n}"),
            display_name=overrides.pop("display_name", f"User {n}"),
            followers=overrides.pop("followers", 100),
        )
        fields: dict[str, Any] = {
            "platform": "x",
            "external_id": f"p{n}",
            "author": author,
            "text": f"post number {n}",
            "created_at": datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
            "raw": {"id": f"p{n}"},
        }
        fields.update(overrides)
        return PostIn(**fields)

    return build
