"""Heavy periodic jobs run in a child process: the result or the error comes back, a killed child
is reported as such, and the training jobs are scheduled that way."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from dangol import jobs
from dangol.child_process import ChildJobDied, run_in_child, stop_children
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


def wait_then_report(settings: Settings, engine: Engine, *, pid_file: str) -> str:
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(120)  # a long training
    return "finished"


def test_a_stopping_worker_ends_its_running_children(settings: Settings, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    outcome: list[BaseException] = []

    def job_thread() -> None:
        try:
            run_in_child(wait_then_report, settings, pid_file=str(pid_file))
        except BaseException as exc:  # what the scheduler's thread would see
            outcome.append(exc)

    thread = threading.Thread(target=job_thread)
    thread.start()
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid_file.exists(), "the child never started"
    assert stop_children() == 1
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert [str(exc) for exc in outcome] == [
        "wait_then_report: its process was killed by signal 15 before it finished; nothing it was doing was kept"
    ]
    assert stop_children() == 0


def test_a_child_ends_when_its_worker_is_killed_outright(settings: Settings, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    worker = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, settings.database.url, str(pid_file)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        child = int(pid_file.read_text())
        os.kill(worker.pid, signal.SIGKILL)  # no atexit, no clean-up: what the OOM killer does
        worker.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(child), "the training child outlived its killed worker"
    finally:
        worker.kill()


WORKER_SCRIPT = """
import sys
from dangol.child_process import run_in_child
from dangol.core.settings import load_settings
from tests.dangol.test_child_process import wait_then_report

if __name__ == "__main__":
    settings = load_settings(None, overrides={"database": {"url": sys.argv[1]}})
    run_in_child(wait_then_report, settings, pid_file=sys.argv[2])
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by init) counts as ended.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def test_the_worker_ends_its_training_children_before_waiting_for_its_jobs(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[str] = []

    class Scheduler:
        def start(self) -> None:
            steps.append("start")

        def get_jobs(self) -> list[Any]:
            return []

        def shutdown(self, wait: bool) -> None:
            steps.append(f"shutdown(wait={wait})")

    monkeypatch.setattr(jobs, "build_scheduler", lambda settings, engine: Scheduler())
    monkeypatch.setattr(jobs, "stop_children", lambda: steps.append("stop_children") or 1)
    stop = threading.Event()
    stop.set()
    worker = threading.Thread(target=jobs.run_worker, args=(settings, engine), kwargs={"stop": stop})
    worker.start()
    worker.join(timeout=30)
    assert steps == ["start", "stop_children", "shutdown(wait=True)"]
