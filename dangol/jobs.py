"""The worker: APScheduler runs the pipeline steps and the periodic jobs on their schedules.

`run_worker` blocks until SIGINT or SIGTERM, then lets running jobs finish and exits cleanly.
Every job catches and logs its own failure, so one bad run never stops the scheduler.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from dangol import pipeline
from dangol.settings import Settings

log = logging.getLogger(__name__)


def _guarded(name: str, func: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            result = func()
            log.info("job %s done: %s", name, result)
        except Exception:  # the scheduler must survive any single job
            log.exception("job %s failed", name)

    return run


def build_scheduler(settings: Settings, engine: Engine) -> BackgroundScheduler:
    """A scheduler with every job of this deployment, not yet started."""
    scheduler = BackgroundScheduler(
        timezone=settings.brand.timezone, job_defaults={"coalesce": True, "max_instances": 1}
    )
    for name in pipeline.enabled_sources(settings):
        every = settings.sources[name].every_minutes
        job = _guarded(f"collect:{name}", lambda n=name: pipeline.collect_source(settings, engine, n))
        scheduler.add_job(job, IntervalTrigger(minutes=every), id=f"collect:{name}", next_run_time=_now(settings))
    analyze = _guarded("analyze", lambda: pipeline.analyze(settings, engine))
    scheduler.add_job(analyze, IntervalTrigger(seconds=settings.worker.analyze_every_seconds), id="analyze")
    route = _guarded("route", lambda: pipeline.route(settings, engine))
    scheduler.add_job(route, IntervalTrigger(seconds=settings.worker.route_every_seconds), id="route")
    for job_id, trigger, func in periodic_jobs(settings, engine):
        scheduler.add_job(_guarded(job_id, func), trigger, id=job_id)
    return scheduler


def periodic_jobs(settings: Settings, engine: Engine) -> list[tuple[str, Any, Callable[[], Any]]]:
    """Reports, feeds, alerts and retention: (id, trigger, function) for each."""
    from reports import jobs as report_jobs

    return list(report_jobs.scheduled_jobs(settings, engine))


def _now(settings: Settings) -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(settings.brand.timezone))


def run_worker(settings: Settings, engine: Engine, *, stop: threading.Event | None = None) -> None:
    """Run the scheduler until SIGINT/SIGTERM (or `stop` is set), then shut down cleanly."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    scheduler = build_scheduler(settings, engine)
    scheduler.start()
    log.info("worker started with %d jobs", len(scheduler.get_jobs()))
    try:
        stop.wait()
    finally:
        log.info("worker stopping: waiting for running jobs")
        scheduler.shutdown(wait=True)
