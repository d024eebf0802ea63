"""PostgreSQL going away mid-run (every connection cut, new ones refused for a few seconds):
the job in progress fails cleanly, waits, retries and finishes once the database is back;
nothing is lost or duplicated and the healthy source is not blamed."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bench.soak import write_x_pages
from dangol import jobs
from dangol.core.settings import load_settings
from storage.engine import make_engine
from storage.models import Analysis, Post, QueueItem, Source
from tests.reliability.conftest import FakeAnalyzer, post_counts, wait_until, write_config
from tests.reliability.proxy import cuttable_proxy

POSTS = 600


def test_worker_rides_out_a_database_outage_and_finishes_without_loss_or_duplicates(
    postgres_url, tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING, logger="dangol.jobs")
    monkeypatch.setattr(jobs, "DB_RETRY_DELAY", 1.0)  # 1, 2, 4, 8 s: covers the outage, keeps the test short
    expected = set(write_x_pages(tmp_path / "pages", posts=POSTS, per_page=10))
    real = make_url(postgres_url)
    direct = make_engine(postgres_url)
    with cuttable_proxy(real.host or "127.0.0.1", real.port or 5432) as proxy:
        via_proxy = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        source = {"use": "replay", "platform": "x", "path": str(tmp_path / "pages")}
        extra = "[worker]\nanalyze_every_seconds = 1\nroute_every_seconds = 1\n[nlp]\nbatch_size = 20\n"
        settings = load_settings(write_config(tmp_path / "c.toml", via_proxy, {"pages": source}, extra=extra))
        engine = make_engine(via_proxy)
        stop = threading.Event()
        worker = threading.Thread(target=_run_worker, args=(settings, engine, stop), daemon=True)
        worker.start()
        try:
            wait_until(lambda: post_counts(direct)[0] >= 60, timeout=40, what="the first pages", every=0.01)
            proxy.cut()
            time.sleep(3)
            proxy.restore()
            wait_until(lambda: _done(direct), timeout=90, what="the backlog to be worked off", every=0.5)
        finally:
            stop.set()
            worker.join(timeout=60)
            engine.dispose()
    with Session(direct) as session:
        ids = list(session.execute(select(Post.external_id)).scalars())
        analyses = list(session.execute(select(Analysis.post_id)).scalars())
        queued = list(session.execute(select(QueueItem.post_id)).scalars())
        complaints = session.execute(select(func.count()).where(Post.text.contains("never came"))).scalar_one()
        stored_source = session.execute(select(Source).where(Source.name == "pages")).scalar_one()
    direct.dispose()
    assert len(ids) == len(set(ids)) == POSTS and set(ids) == expected
    assert len(analyses) == len(set(analyses)) == POSTS
    assert len(queued) == len(set(queued)) == complaints
    assert "database unavailable" in caplog.text  # the outage hit a job in progress ...
    assert stored_source.consecutive_failures == 0 and stored_source.last_error is None  # ... not the source


def _run_worker(settings, engine, stop: threading.Event) -> None:
    scheduler = jobs.build_scheduler(settings, engine, analyzer=FakeAnalyzer())
    scheduler.start()
    stop.wait()
    scheduler.shutdown(wait=True)


def _done(engine) -> bool:
    posts, _, analyses = post_counts(engine)
    with engine.connect() as conn:
        unrouted = conn.execute(select(func.count()).where(Analysis.routed.is_(False))).scalar_one()
    return posts == POSTS and analyses == POSTS and unrouted == 0


def test_a_job_retries_with_backoff_only_while_the_database_is_unreachable():
    from sqlalchemy.exc import IntegrityError, OperationalError

    calls: list[str] = []
    slept: list[float] = []

    def flaky() -> str:
        calls.append("flaky")
        if len(calls) < 3:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
        return "ok"

    jobs.guarded("flaky", flaky, delay=1.0, sleep=slept.append)()
    assert calls == ["flaky"] * 3 and slept == [1.0, 2.0]

    def broken() -> None:
        calls.append("broken")
        raise IntegrityError("INSERT", {}, ValueError("duplicate key"))

    jobs.guarded("broken", broken, sleep=slept.append)()  # a bug, not an outage: logged once, not retried
    assert calls.count("broken") == 1 and slept == [1.0, 2.0]

    def down() -> None:
        calls.append("down")
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    jobs.guarded("down", down, retries=2, delay=0.5, sleep=slept.append)()  # gives up; the next run tries again
    assert calls.count("down") == 3 and slept[2:] == [0.5, 1.0]
