"""Shared fixtures: settings, a fresh database per test (SQLite and PostgreSQL), and `make_post`
for building collector output.

PostgreSQL is the server DANGOL_TEST_POSTGRES_URL names, or else a throwaway cluster this test
session starts itself (tests/pg_cluster.py: initdb in a temporary folder, a free port on 127.0.0.1,
stopped at the end), so every PostgreSQL case runs on a fresh machine with no variables set."""

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
from sqlmodel import Session, select

from dangol.core.settings import Settings, load_settings
from dangol.core.types import AuthorIn, PostIn
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Staff

REPO = Path(__file__).resolve().parent.parent
# Everything the tests read lives in the repository (tests/fixtures/README.md says where it came from):
# recorded API responses per platform, and a few hundred labelled rows of the openly licensed sets.
FIXTURES = REPO / "tests" / "fixtures" / "platforms"
DATA = REPO / "tests" / "fixtures" / "data"
DATABASES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", autouse=True)
def _embedding_cache_of_this_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Training code keeps the embeddings it computed in `nlp.train.CACHE` (var/cache); the tests
    keep theirs in a folder of this run. Why: a developer's var/cache holds vectors the int8 encoder
    computed in other batches (a benchmark's 45,000 tweets at once), a hair apart from the ones a
    test computes, and a retraining test judged on ten rows read them and came out the other way
    than on a fresh clone. Shared across the run, so a text is still encoded once."""
    from nlp import train

    patch = pytest.MonkeyPatch()
    patch.setattr(train, "CACHE", tmp_path_factory.mktemp("embedding-cache"))
    patch.setattr(train, "_VECTORS", {})
    yield
    patch.undo()


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
def postgres_server() -> Iterator[str]:
    """The PostgreSQL server URL: DANGOL_TEST_POSTGRES_URL, else a throwaway cluster of this session."""
    configured = os.environ.get("DANGOL_TEST_POSTGRES_URL")
    if configured:
        yield configured
        return
    from tests.pg_cluster import throwaway_cluster

    with throwaway_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def _postgres_template(postgres_server: str) -> Iterator[str]:
    """A migrated PostgreSQL database that each test's database is created from (fast)."""
    admin = make_engine(postgres_server).execution_options(isolation_level="AUTOCOMMIT")
    name = f"dangol_template_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(postgres_server).set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _postgres_database(server: str, template: str) -> Iterator[str]:
    """A throwaway, migrated PostgreSQL database on the real server, dropped afterwards."""
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    name = f"dangol_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite, and PostgreSQL."""
    if request.param == "sqlite":
        shutil.copyfile(_sqlite_template, tmp_path / "test.db")
        yield f"sqlite:///{tmp_path}/test.db"
    else:
        server = request.getfixturevalue("postgres_server")
        yield from _postgres_database(server, request.getfixturevalue("_postgres_template"))


@pytest.fixture
def postgres_url(postgres_server: str, _postgres_template: str) -> Iterator[str]:
    """A fresh, migrated database on the real PostgreSQL (configured or throwaway)."""
    yield from _postgres_database(postgres_server, _postgres_template)


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


def an_admin(session: Session) -> Staff:
    """Staff member "amy" with the admin role (who may erase a customer), made once per database."""
    found = session.exec(select(Staff).where(Staff.username == "amy")).first()
    if found is None:
        found = Staff(username="amy", role="admin")
        session.add(found)
        session.flush()
    return found
