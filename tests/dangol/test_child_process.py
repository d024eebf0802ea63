"""Heavy periodic jobs run in a child process: the result or the error comes back, a killed child
is reported as such, and the training jobs are scheduled that way."""

from __future__ import annotations

import os
import signal
import socket
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from dangol import jobs
from dangol.child_process import ChildJobDied, run_in_child
from dangol.core.settings import Settings, load_settings
from storage.engine import database_unavailable
from storage.ingest import get_or_create_source
from tests.conftest import REPO


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The repository's settings on the test database (SQLite, and PostgreSQL)."""
    return load_settings(REPO / "config.toml", overrides={"database": {"url": database_url}})


# Jobs for the child: module-level, so a spawned process can import them by name.


def count_sources(settings: Settings, engine: Engine, *, add: str) -> str:
    with Session(engine) as session:
        get_or_create_source(session, name=add, use="replay")
        session.commit()
        count = session.execute(text("SELECT count(*) FROM source")).scalar_one()
    return f"pid {os.getpid()}: {count} sources"


def fail(settings: Settings, engine: Engine) -> str:
    raise ValueError("the data folder is not there")


def fail_unpicklably(settings: Settings, engine: Engine) -> str:
    class Local(Exception):  # a class defined in a function cannot be pickled
        pass

    raise Local("cannot travel")


def reach_database(settings: Settings, engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT 1")).scalar_one())


def die(settings: Settings, engine: Engine) -> str:
    os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's out-of-memory killer does
    return "never"


def test_the_job_runs_in_another_process_on_the_configured_database(settings: Settings, engine: Engine) -> None:
    assert settings.topic_catalog.topics  # a worker's settings carry the catalog it built: not sent along
    outcome = run_in_child(count_sources, settings, add="from the child")
    pid, count = outcome.removeprefix("pid ").split(": ")
    assert int(pid) != os.getpid()
    assert count == "1 sources"
    with engine.connect() as conn:  # the child wrote to the settings' database (the engine's), and committed
        assert conn.execute(text("SELECT name FROM source")).scalar_one() == "from the child"


def test_an_error_in_the_child_is_raised_here(settings: Settings) -> None:
    with pytest.raises(ValueError, match="the data folder is not there"):
        run_in_child(fail, settings)
    with pytest.raises(RuntimeError, match="Local: cannot travel"):
        run_in_child(fail_unpicklably, settings)


def test_an_unreachable_database_stays_a_database_error_so_the_job_is_retried() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = load_settings(None, overrides={"database": {"url": f"postgresql://postgres@127.0.0.1:{port}/x"}})
    with pytest.raises(OperationalError) as raised:
        run_in_child(reach_database, settings)
    assert database_unavailable(raised.value)


def test_a_killed_child_is_reported_and_the_caller_goes_on(settings: Settings) -> None:
    with pytest.raises(ChildJobDied, match=r"die: its process was killed by signal 9 \(out of memory\?\)"):
        run_in_child(die, settings)
    assert run_in_child(count_sources, settings, add="next run").endswith("1 sources")


def test_the_training_jobs_are_scheduled_in_a_child(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[Any] = []
    monkeypatch.setattr(jobs, "run_in_child", lambda job, settings: ran.append(job) or "done")
    scheduled = {job_id: func for job_id, _, func in jobs.periodic_jobs(settings, engine)}
    scheduled["sentiment:train"]()
    scheduled["topics:train"]()
    assert ran == [jobs.sentiment_train_job, jobs.topics_train_job]


def test_the_sentiment_job_in_a_child_says_what_it_did(settings: Settings) -> None:
    # The real job end to end in a child: no corrections yet, so it reports that and trains nothing.
    assert run_in_child(jobs.sentiment_train_job, settings).startswith("no new sentiment corrections")
