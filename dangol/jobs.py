"""The worker: APScheduler runs the pipeline steps and the periodic jobs on their schedules.

`run_worker` blocks until SIGINT or SIGTERM, then lets running jobs finish and exits cleanly.
Several workers may share one database: the periodic jobs (weekly report and its e-mail, alerts,
feeds, retention, topic training, the deletion re-check, customer scores) run once per schedule slot across all of
them (`once_per_slot`).
Every job catches and logs its own failure, so one bad run never stops the scheduler. A job
that loses the database (restarted, failed over, network cut) waits and retries with backoff;
every step is idempotent, so a retry neither loses nor repeats work.

Every trigger is defined here (`build_scheduler`, `periodic_jobs`, `weekly_trigger`), so when each
job runs is read in this one module; the report jobs' own code lives in `reports.jobs`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol import pipeline
from dangol.child_process import run_in_child, stop_children
from dangol.core.errors import ConfigError
from dangol.core.settings import Settings
from dangol.recheck import RecheckRun, recheck_deletions
from dangol.training_record import corrections_trained_through, record_training
from storage import feedback
from storage.engine import database_unavailable
from storage.job_runs import claim_slot

if TYPE_CHECKING:
    from nlp.analyzer import Analyzer
    from nlp.base import Encoder

log = logging.getLogger(__name__)
DB_RETRIES = 4
DB_RETRY_DELAY = 2.0  # seconds; doubled after each failed attempt (2, 4, 8, 16: half a minute in all)
WORKER_ID = pipeline.WORKER_ID


def slot_of(trigger: Any, now: datetime) -> str:
    """The schedule slot `now` falls in: for an interval trigger the interval's number since the
    epoch, for the calendar (cron) triggers used here, which fire weekly, the ISO week in the
    trigger's time zone."""
    if isinstance(trigger, IntervalTrigger):
        return str(int(now.timestamp() // trigger.interval.total_seconds()))
    year, week, _ = now.astimezone(trigger.timezone).isocalendar()
    return f"{year}-W{week:02d}"


def once_per_slot(
    job_id: str,
    trigger: Any,
    func: Callable[[], Any],
    engine: Engine,
    *,
    worker: str = WORKER_ID,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Callable[[], Any]:
    """`func`, run only by the first worker to claim this schedule slot (a JobRun row: the unique
    (job, slot) constraint decides across processes and machines); the others skip it."""

    def run() -> Any:
        now = clock()
        slot = slot_of(trigger, now)
        with Session(engine) as session:
            if not claim_slot(session=session, job=job_id, slot=slot, worker=worker, now=now):
                log.debug("job %s: slot %s already run by another worker", job_id, slot)
                return None
        return func()

    return run


def guarded(
    name: str,
    func: Callable[[], Any],
    *,
    retries: int = DB_RETRIES,
    delay: float = DB_RETRY_DELAY,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[], None]:
    """`func` as a job that logs its result, retries while the database is unreachable, never raises."""

    def run() -> None:
        for attempt in range(retries + 1):
            try:
                result = func()
            except Exception as exc:  # the scheduler must survive any single job
                if not database_unavailable(exc) or attempt == retries:
                    log.exception("job %s failed", name)
                    return
                wait = delay * 2**attempt
                log.warning("job %s: database unavailable (%s); retry in %.0f s", name, type(exc).__name__, wait)
                sleep(wait)
            else:
                # A worker runs analyze and route every 30 s: runs that found nothing stay at DEBUG.
                log.log(logging.INFO if did_work(result) else logging.DEBUG, "job %s done: %s", name, result)
                return

    return run


def did_work(result: Any) -> bool:
    """Whether a job's result reports anything: a count above zero, a non-ok status, an error or
    some other non-empty value (dataclass results are read field by field)."""
    if result is None:
        return False
    if not dataclasses.is_dataclass(result):
        return bool(result)
    for item in dataclasses.fields(result):
        value = getattr(result, item.name)
        if item.name == "status" and value not in ("ok", None):
            return True
        if item.name == "error" and value:
            return True
        if isinstance(value, int) and not isinstance(value, bool) and value > 0 and item.name != "requests":
            return True
    return False


def build_scheduler(settings: Settings, engine: Engine, *, analyzer: Analyzer | None = None) -> BackgroundScheduler:
    """A scheduler with every job of this deployment, not yet started (`analyzer`: default from settings).

    A late job still runs (no misfire grace limit): on a busy machine the first collect, due
    "now", would otherwise be skipped until its next interval.
    """
    defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    scheduler = BackgroundScheduler(timezone=settings.brand.timezone, job_defaults=defaults)
    for name in pipeline.enabled_sources(settings.sources):
        every = settings.sources[name].every_minutes
        job = guarded(f"collect:{name}", functools.partial(pipeline.collect_source, settings, engine, name))
        scheduler.add_job(
            job,
            IntervalTrigger(minutes=every),
            id=f"collect:{name}",
            name=f"collect:{name}",
            next_run_time=_now(settings),
        )
    analyze = guarded("analyze", analyze_job(settings, engine, analyzer))
    scheduler.add_job(
        analyze, IntervalTrigger(seconds=settings.worker.analyze_every_seconds), id="analyze", name="analyze"
    )
    route = guarded("route", lambda: pipeline.route(settings, engine))
    scheduler.add_job(route, IntervalTrigger(seconds=settings.worker.route_every_seconds), id="route", name="route")
    # Every worker sends notifications: each delivery is claimed with FOR UPDATE SKIP LOCKED
    # (storage.notifications), so several workers share the work and none sends one twice.
    notify = guarded("notify:deliver", lambda: deliver_job(settings, engine))
    every = settings.notifications.deliver_every_seconds
    scheduler.add_job(notify, IntervalTrigger(seconds=every), id="notify:deliver", name="notify:deliver")
    if settings.api.webhooks:
        # Every worker enqueues and sends outbound webhooks too: a row is unique per event and
        # subscription, and claimed by one worker at a time (storage.webhooks).
        hooks = guarded("webhooks", lambda: webhooks_job(settings, engine))
        every = settings.api.webhook_every_seconds
        scheduler.add_job(hooks, IntervalTrigger(seconds=every), id="webhooks", name="webhooks")
    for job_id, trigger, func in periodic_jobs(settings, engine):
        job = guarded(job_id, once_per_slot(job_id, trigger, func, engine))
        scheduler.add_job(job, trigger, id=job_id, name=job_id)
    return scheduler


def deliver_job(settings: Settings, engine: Engine) -> Any:
    """Send the staff notifications due by e-mail and webhook (reports.notifications)."""
    from reports.notifications import deliver_notifications

    return deliver_notifications(settings, engine)


def webhooks_job(settings: Settings, engine: Engine) -> Any:
    """Enqueue new item events and send the due outbound webhooks (reports.webhooks)."""
    from reports.webhooks import run_webhooks

    return run_webhooks(settings, engine)


def analyze_job(settings: Settings, engine: Engine, analyzer: Analyzer | None = None) -> Callable[[], Any]:
    """`pipeline.analyze` with one Analyzer kept for the worker's life, built at the first run.

    Loading the encoder and embedding the topics once matters at a run every 30 seconds; topic
    edits and a retrained head still reach the kept Analyzer (see `pipeline.analyze`).
    """
    kept: list[Analyzer] = [analyzer] if analyzer is not None else []

    def run() -> pipeline.AnalyzeRun:
        if not kept:
            kept.append(pipeline.load_analyzer(settings))
        return pipeline.analyze(settings, engine, analyzer=kept[0])

    return run


def weekly_trigger(settings: Settings) -> CronTrigger:
    """Every `reports.weekly_day` at `reports.weekly_time` in the brand's time zone."""
    try:
        hour, minute = (int(part) for part in settings.reports.weekly_time.split(":"))
    except ValueError:
        raise ConfigError(f"reports.weekly_time: {settings.reports.weekly_time!r} is not HH:MM such as 09:00") from None
    day, tz = settings.reports.weekly_day, settings.brand.timezone
    return CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=tz)


def periodic_jobs(settings: Settings, engine: Engine) -> list[tuple[str, Any, Callable[[], Any]]]:
    """The jobs that run once per schedule slot across all workers, (id, trigger, function) for
    each: the weekly report on `reports.weekly_day`/`weekly_time` in the brand's time zone, spike
    alerts every `worker.alerts_every_minutes`, topic feeds every `worker.feeds_every_minutes`, the
    retention purge every `worker.purge_every_hours`, and, unless set to 0, topic-head training
    every `worker.topics_train_every_hours`, the deletion re-check every
    `worker.deletion_recheck_every_hours` and the customer scores and segments every
    `worker.customer_scores_every_hours`. Sentiment- and topic-head training run in a child process
    (`dangol.child_process`): their memory is the child's, given back when it exits."""
    from reports import jobs as report_jobs

    worker = settings.worker
    jobs: list[tuple[str, Any, Callable[[], Any]]] = [
        ("report:weekly", weekly_trigger(settings), lambda: report_jobs.weekly_job(settings, engine)),
        (
            "report:alerts",
            IntervalTrigger(minutes=worker.alerts_every_minutes),
            lambda: report_jobs.alerts_job(settings, engine),
        ),
        (
            "report:feeds",
            IntervalTrigger(minutes=worker.feeds_every_minutes),
            lambda: report_jobs.feeds_job(settings, engine),
        ),
        (
            "retention:purge",
            IntervalTrigger(hours=worker.purge_every_hours),
            lambda: report_jobs.purge_job(settings, engine),
        ),
    ]
    every = worker.topics_train_every_hours
    if every:
        trigger = IntervalTrigger(hours=every)
        jobs.append(("topics:train", trigger, lambda: run_in_child(topics_train_job, settings)))
    sentiment_every = worker.sentiment_train_every_hours
    if sentiment_every:
        trigger = IntervalTrigger(hours=sentiment_every)
        jobs.append(("sentiment:train", trigger, lambda: run_in_child(sentiment_train_job, settings)))
    recheck_every = worker.deletion_recheck_every_hours
    if recheck_every:
        trigger = IntervalTrigger(hours=recheck_every)
        jobs.append(("deletion_recheck", trigger, lambda: deletion_recheck_job(settings, engine)))
    scores_every = worker.customer_scores_every_hours
    if scores_every:
        trigger = IntervalTrigger(hours=scores_every)
        jobs.append(("customers:score", trigger, lambda: pipeline.score_customers(settings, engine)))
    return jobs


@dataclasses.dataclass(slots=True)
class DeletionRecheck:
    """What `deletion_recheck_job` did: posts asked about and removed, each source's run, the feed
    files rewritten, and the sources that failed (their errors)."""

    checked: int
    deleted: int
    sources: list[RecheckRun]
    feeds: list[Path]
    error: str | None = None

    def __str__(self) -> str:
        lines = [str(run) for run in self.sources] or ["no source to re-check"]
        if self.feeds:
            lines.append(f"topic feeds rewritten: {len(self.feeds)} files")
        return "; ".join(lines)


def deletion_recheck_job(
    settings: Settings,
    engine: Engine,
    *,
    names: list[str] | None = None,
    days: int | None = None,
    max_posts: int | None = None,
    worker: str = WORKER_ID,
) -> DeletionRecheck:
    """Re-check recent posts against their platforms and remove the deleted ones (dangol.recheck);
    when any went, rewrite the topic feed files at once rather than at their next refresh, since
    they are files that quote post texts."""
    from reports.jobs import feeds_job

    runs = recheck_deletions(settings, engine, worker=worker, names=names, days=days, max_posts=max_posts)
    deleted = sum(run.deleted for run in runs)
    feeds = feeds_job(settings, engine) if deleted else []
    errors = [f"{run.source}: {run.error}" for run in runs if run.status in ("failed", "throttled")]
    return DeletionRecheck(sum(run.checked for run in runs), deleted, runs, feeds, "; ".join(errors) or None)


def topics_train_job(
    settings: Settings, engine: Engine, *, head_path: Path | None = None, encoder: Encoder | None = None
) -> str:
    """Retrain the topic head when staff corrected topics since the last training; says what it did.

    The check is one MAX over the corrections against the record beside the head, so a week
    without corrections costs no encoder load and no training.
    """
    from nlp.topics import DEFAULT_HEAD_PATH

    head_path = head_path or DEFAULT_HEAD_PATH
    with Session(engine) as session:
        newest = feedback.last_topic_correction_id(session=session)
    seen = corrections_trained_through(head_path)
    if newest is None or (seen is not None and newest <= seen):
        return "no new topic corrections since the last training; nothing to do"
    # `guarded` logs the returned line: what was trained, which head was kept and why.
    return str(pipeline.train_topics(settings, engine, head_path=head_path, encoder=encoder))


def sentiment_train_job(settings: Settings, engine: Engine, *, data_dir: Path | None = None) -> str:
    """Retrain the sentiment heads of the languages staff corrected, when they corrected sentiment
    since the last training; says what it did. A fifth of the corrections is held out and each new
    head is kept only if not worse on them (`dangol.sentiment_training`); running workers read a
    kept head at their next batch (`Analyzer.reload_head_if_changed`)."""
    from dangol.sentiment_training import corrections, retrain_sentiment
    from nlp.sentiment import head_folders
    from nlp.train import CONFIGS

    if settings.nlp.sentiment.use != "head":
        return f"sentiment is read by {settings.nlp.sentiment.use!r}, not trained heads; nothing to retrain"
    record = head_folders(settings)[0] / SENTIMENT_RECORD
    rows, newest = corrections(engine)
    seen = corrections_trained_through(record)
    if newest is None or (seen is not None and newest <= seen):
        return "no new sentiment corrections since the last training; nothing to do"
    languages = sorted({language for _, _, language in rows} & set(CONFIGS))
    if not languages:
        record_training(record, newest, "no correction in a language with a training recipe")
        return f"no sentiment correction in {', '.join(CONFIGS)}; nothing to retrain"
    try:
        results = retrain_sentiment(settings, rows, languages, data_dir=data_dir)
    except ConfigError as exc:  # no public data on this machine: said every week until it is there
        return f"sentiment heads not retrained: {exc}"
    lines = [
        f"{r.language}: {r.metric} {r.before[r.metric]:.4f} -> {r.after[r.metric]:.4f} on "
        + (f"{r.holdout_rows} held-out corrections" if r.holdout_rows else "public validation data")
        + f", {'kept' if r.kept else 'discarded (worse)'}"
        for r in results
    ]
    outcome = "; ".join(lines)
    record_training(record, newest, outcome)
    return f"trained on {len(rows)} sentiment corrections; {outcome}"


# Named as a head file for `dangol.training_record`, which keeps "sentiment-heads.trained.json"
# beside the retrained sentiment heads: the newest correction the last training saw.
SENTIMENT_RECORD = "sentiment-heads.npz"


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
        if stopped := stop_children():  # a training would otherwise hold the stop for minutes
            log.info(
                "worker stopping: ended %d training process(es); they run again at their next scheduled time", stopped
            )
        scheduler.shutdown(wait=True)
