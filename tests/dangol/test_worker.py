"""`dangol run` starts the scheduler and stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dangol.core.settings import load_settings
from dangol.jobs import build_scheduler, did_work
from dangol.pipeline import AnalyzeRun, SourceRun
from storage.engine import make_engine

REPO = Path(__file__).resolve().parents[2]


def start_worker(tmp_path: Path) -> subprocess.Popen[str]:
    config = tmp_path / "config.toml"
    config.write_text(f"[database]\nurl = 'sqlite:///{tmp_path}/w.db'\n[reports]\nout_dir = '{tmp_path}/r'\n")
    env = dict(os.environ, DANGOL_CONFIG=str(config))
    env.pop("DANGOL_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "dangol.cli", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 60) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not printed; output was:\n{''.join(seen)}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_worker_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    worker = start_worker(tmp_path)
    try:
        wait_for_line(worker, "worker started")
        worker.send_signal(sig)
        out, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, out
    assert "worker stopped" in out
    # Scheduler and migration chatter stays out of the log unless --verbose.
    assert "Adding job tentatively" not in out and "setup plugin alembic" not in out


def test_scheduler_has_a_job_for_every_enabled_source_and_every_periodic_task(tmp_path: Path) -> None:
    settings = load_settings(REPO / "config.toml", overrides={"database": {"url": f"sqlite:///{tmp_path}/s.db"}})
    scheduler = build_scheduler(settings, make_engine(settings.database.url))
    ids = {job.id for job in scheduler.get_jobs()}
    demo_sources = {f"collect:{name}" for name, s in settings.sources.items() if s.enabled}
    assert demo_sources and demo_sources <= ids
    assert "collect:maru_x" not in ids  # disabled in the sample config
    assert {"analyze", "route", "notify:deliver", "report:weekly", "report:alerts", "retention:purge"} <= ids
    assert all(job.name == job.id for job in scheduler.get_jobs())  # scheduler warnings name the job


def test_weekly_trigger_fires_monday_nine_in_the_brand_timezone(settings) -> None:
    from datetime import UTC, datetime

    from dangol.jobs import weekly_trigger

    fire = weekly_trigger(settings).get_next_fire_time(None, datetime(2026, 11, 20, tzinfo=UTC))
    assert fire.isoformat() == "2026-11-23T09:00:00+09:00"


def test_a_weekly_time_that_is_not_hh_mm_is_refused(settings) -> None:
    from dangol.core.errors import ConfigError
    from dangol.jobs import weekly_trigger

    settings.reports.weekly_time = "nine"
    with pytest.raises(ConfigError, match="HH:MM"):
        weekly_trigger(settings)


def test_every_periodic_job_runs_on_the_interval_its_setting_gives(settings, tmp_path: Path) -> None:
    from datetime import timedelta

    from apscheduler.triggers.cron import CronTrigger

    from dangol.jobs import periodic_jobs

    engine = make_engine(f"sqlite:///{tmp_path}/jobs.db")  # building the list reads no table
    worker = settings.worker
    worker.alerts_every_minutes, worker.feeds_every_minutes, worker.purge_every_hours = 7, 11, 13
    worker.topics_train_every_hours, worker.deletion_recheck_every_hours = 17, 19
    worker.customer_scores_every_hours, worker.sentiment_train_every_hours = 23, 29
    triggers = {job_id: trigger for job_id, trigger, _ in periodic_jobs(settings, engine)}
    assert isinstance(triggers.pop("report:weekly"), CronTrigger)
    assert {job_id: trigger.interval for job_id, trigger in triggers.items()} == {
        "report:alerts": timedelta(minutes=7),
        "report:feeds": timedelta(minutes=11),
        "retention:purge": timedelta(hours=13),
        "topics:train": timedelta(hours=17),
        "sentiment:train": timedelta(hours=29),
        "deletion_recheck": timedelta(hours=19),
        "customers:score": timedelta(hours=23),
    }
    worker.topics_train_every_hours = worker.deletion_recheck_every_hours = 0  # 0 turns a job off
    worker.customer_scores_every_hours = worker.sentiment_train_every_hours = 0
    assert [job_id for job_id, _, _ in periodic_jobs(settings, engine)] == [
        "report:weekly",
        "report:alerts",
        "report:feeds",
        "retention:purge",
    ]


def test_only_job_runs_that_did_something_are_logged_at_info() -> None:
    idle_source = SourceRun(source="x", pages=0, requests=1, new_posts=0, duplicates=0, dead_letters=0, status="ok")
    assert not did_work(idle_source) and not did_work(AnalyzeRun(0, 0, 0, 0)) and not did_work(None)
    assert did_work(AnalyzeRun(analyzed=3, batches=1, links_applied=0, links_proposed=0))
    assert did_work(SourceRun(source="x", pages=1, requests=1, new_posts=0, duplicates=0, dead_letters=0, status="ok"))
    assert did_work(
        SourceRun(
            source="x", pages=0, requests=1, new_posts=0, duplicates=0, dead_letters=0, status="failed", error="timeout"
        )
    )
    assert did_work("report written") and not did_work("")


def test_interval_and_weekly_slots() -> None:
    from datetime import UTC, datetime

    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from dangol.jobs import slot_of

    fifteen = IntervalTrigger(minutes=15)
    at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert slot_of(fifteen, at) == slot_of(fifteen, at.replace(minute=14))
    assert slot_of(fifteen, at) != slot_of(fifteen, at.replace(minute=15))
    weekly = CronTrigger(day_of_week="mon", hour=9, timezone="Asia/Seoul")
    # Sunday 23:30 UTC is already Monday in Seoul: the new ISO week there.
    assert slot_of(weekly, datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) == "2026-W49"
    assert slot_of(weekly, datetime(2026, 11, 29, 14, 0, tzinfo=UTC)) == "2026-W48"


def test_a_slot_is_claimed_by_one_worker_only(engine) -> None:
    from datetime import UTC, datetime

    from sqlmodel import Session

    from storage.job_runs import claim_slot

    now = datetime(2026, 12, 3, tzinfo=UTC)
    with Session(engine) as a, Session(engine) as b:
        assert claim_slot(session=a, job="report:feeds", slot="7", worker="a", now=now)
        assert not claim_slot(session=b, job="report:feeds", slot="7", worker="b", now=now)
        assert claim_slot(session=b, job="report:feeds", slot="8", worker="b", now=now)
        assert claim_slot(session=b, job="report:alerts", slot="7", worker="b", now=now)


def test_the_workers_periodic_jobs_claim_their_slot_before_running(settings, engine) -> None:
    from sqlmodel import Session, select

    from dangol.jobs import build_scheduler
    from storage.models import JobRun

    scheduler = build_scheduler(settings, engine)
    purge = scheduler.get_job("retention:purge")
    purge.func()
    purge.func()  # a second worker in the same slot: skipped
    with Session(engine) as session:
        runs = list(session.exec(select(JobRun)))
    assert [(r.job, r.worker.count(":")) for r in runs] == [("retention:purge", 1)]


def test_the_analyzer_a_process_keeps_is_frozen_out_of_the_collectors_reach(settings, monkeypatch) -> None:
    """Everything alive once the analyzer is loaded is moved to the permanent generation, so full
    collections stop walking the models' ~200,000 objects; garbage is collected first, not frozen."""
    import gc

    from dangol import pipeline
    from nlp.analyzer import Analyzer

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    class Loaded:
        frozen_at_warm_up: list[int] = []

        def warm_up(self) -> None:
            self.frozen_at_warm_up.append(gc.get_freeze_count())

    loaded = Loaded()
    monkeypatch.setattr(Analyzer, "from_settings", classmethod(lambda cls, s: loaded))
    gc.collect()
    gc.unfreeze()
    garbage = Cycle()
    collected = []
    gc.callbacks.append(lambda phase, info: collected.append(info.get("collected", 0)) if phase == "stop" else None)
    try:
        del garbage
        assert pipeline.load_analyzer(settings) is loaded
        assert loaded.frozen_at_warm_up == [0]  # warmed up once, before the freeze
        assert gc.get_freeze_count() > 10_000
        assert sum(collected) >= 1  # the cycle went before the freeze
    finally:
        gc.callbacks.pop()
        gc.unfreeze()


def test_the_worker_loads_its_analyzer_once_through_load_analyzer(settings, monkeypatch) -> None:
    from dangol import jobs, pipeline

    loads: list[object] = []
    runs: list[object] = []
    monkeypatch.setattr(pipeline, "load_analyzer", lambda s: loads.append(object()) or loads[-1])
    monkeypatch.setattr(pipeline, "analyze", lambda s, e, analyzer: runs.append(analyzer) or AnalyzeRun())
    job = jobs.analyze_job(settings, make_engine(settings.database.url))
    job()
    job()
    assert len(loads) == 1 and runs == [loads[0], loads[0]]
