"""The collect step: pages and cursors stored together, failures isolated, budgets kept."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol import pipeline
from dangol.core.errors import CollectError, RateLimited
from dangol.core.registry import Options
from dangol.core.settings import Settings, load_settings
from dangol.core.types import Billing, Page, PostIn, utcnow
from listener.base import collectors
from storage.models import Post, Source
from tests.concurrency import run_workers


class ScriptOptions(Options):
    pages: int = 3
    fail_after: int | None = None
    error: str = "crash"
    call_limit: int | None = None
    # Bill each page `posts_per_page` posts against `post_limit` / `spend_limit_usd` at $0.005 each.
    post_limit: int | None = None
    spend_limit_usd: float | None = None
    posts_per_page: int = 2
    page_seconds: float = 0.0
    bearer_token: SecretStr | None = None


class ScriptedCollector:
    """Yields numbered pages after the cursor; can fail after a given page, as a platform might."""

    platform = "x"
    Options = ScriptOptions
    posts_factory: Callable[..., PostIn]

    def __init__(self, options: ScriptOptions) -> None:
        self.options = options

    @staticmethod
    def billing(options: ScriptOptions) -> Billing | None:
        if options.call_limit:
            return Billing(unit="calls", limit=options.call_limit)
        if options.post_limit or options.spend_limit_usd:
            spend = None if options.spend_limit_usd is None else round(options.spend_limit_usd * 1e6)
            return Billing(
                unit="posts",
                limit=options.post_limit,
                spend_limit_micros=spend,
                prices_micros={"posts": 5000},
                worst_case={"posts": options.posts_per_page},
            )
        return None

    @classmethod
    def from_options(cls, name: str, query: str, options: ScriptOptions) -> ScriptedCollector:
        return cls(options)

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        start = cursor.get("page", 0)
        for number in range(start + 1, self.options.pages + 1):
            if self.options.fail_after is not None and number > self.options.fail_after:
                if self.options.error == "ratelimit":
                    raise RateLimited("429 from platform", retry_at=utcnow() + timedelta(minutes=7))
                raise CollectError(f"server said no (token=sekrit-token-123) on page {number}")
            if max_requests is not None and number - start > max_requests:
                return
            time.sleep(self.options.page_seconds)
            count = self.options.posts_per_page
            posts = [self.posts_factory(external_id=f"{number}-{i}") for i in range(count)]
            yield Page(posts=posts, cursor={"page": number}, billed={"posts": count})


@pytest.fixture
def scripted(make_post: Callable[..., PostIn]) -> type[ScriptedCollector]:
    ScriptedCollector.posts_factory = staticmethod(make_post)  # type: ignore[assignment]
    collectors.register("scripted", ScriptedCollector)
    return ScriptedCollector


def settings_with(database_url: str, **sources: dict[str, Any]) -> Settings:
    return load_settings(None, overrides={"database": {"url": database_url}, "sources": sources})


def posts_in(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(Post)).scalar_one())


def source_row(engine: Engine, name: str) -> Source:
    with Session(engine) as session:
        return session.execute(select(Source).where(Source.name == name)).scalar_one()


def test_a_crash_mid_source_keeps_finished_pages_and_resumes_without_duplicates(
    engine: Engine, database_url: str, scripted: type
) -> None:
    crashing = settings_with(database_url, s={"use": "scripted", "pages": 3, "fail_after": 2})
    run = pipeline.collect_source(crashing, engine, "s")
    assert (run.status, run.new_posts) == ("failed", 4)
    assert source_row(engine, "s").cursor == {"page": 2}

    healthy = settings_with(database_url, s={"use": "scripted", "pages": 3})
    with Session(engine) as session:  # the failure backed the source off; let it run now
        row = session.execute(select(Source)).scalar_one()
        row.throttled_until = None
        session.add(row)
        session.commit()
    again = pipeline.collect_source(healthy, engine, "s")
    assert (again.status, again.new_posts, again.duplicates) == ("ok", 2, 0)
    assert posts_in(engine) == 6


def test_rate_limited_source_is_throttled_until_the_platform_says(
    engine: Engine, database_url: str, scripted: type
) -> None:
    settings = settings_with(database_url, s={"use": "scripted", "fail_after": 0, "error": "ratelimit"})
    assert pipeline.collect_source(settings, engine, "s").status == "throttled"
    row = source_row(engine, "s")
    assert row.throttled_until is not None and row.throttled_until > utcnow() + timedelta(minutes=6)
    assert pipeline.collect_source(settings, engine, "s").status == "skipped"


def test_one_failing_source_does_not_stop_the_others(engine: Engine, database_url: str, scripted: type) -> None:
    settings = settings_with(
        database_url, bad={"use": "scripted", "fail_after": 0}, good={"use": "scripted", "pages": 1}
    )
    runs = {run.source: run for run in pipeline.collect(settings, engine)}
    assert runs["bad"].status == "failed"
    assert (runs["good"].status, runs["good"].new_posts) == ("ok", 2)


def test_secrets_never_reach_the_stored_error(
    engine: Engine, database_url: str, scripted: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANGOL_SOURCES__S__BEARER_TOKEN", "sekrit-token-123")
    settings = settings_with(database_url, s={"use": "scripted", "fail_after": 0})
    pipeline.collect_source(settings, engine, "s")
    error = source_row(engine, "s").last_error or ""
    assert "sekrit-token-123" not in error
    assert "[REDACTED]" in error


def test_budget_caps_requests_and_then_stops_collection(engine: Engine, database_url: str, scripted: type) -> None:
    settings = settings_with(database_url, s={"use": "scripted", "pages": 5, "call_limit": 2})
    first = pipeline.collect_source(settings, engine, "s")
    assert (first.requests, first.new_posts) == (2, 4)
    assert source_row(engine, "s").budget_used == 2
    assert pipeline.collect_source(settings, engine, "s").status == "budget"


def test_posts_read_are_billed_per_post_and_the_run_stops_before_a_page_could_pass_the_cap(
    engine: Engine, database_url: str, scripted: type
) -> None:
    # 10 posts a page, cap 25: two pages fit, a third could reach 30.
    settings = settings_with(database_url, s={"use": "scripted", "pages": 9, "posts_per_page": 10, "post_limit": 25})
    first = pipeline.collect_source(settings, engine, "s")
    assert (first.requests, first.new_posts) == (2, 20)
    row = source_row(engine, "s")
    assert (row.budget_used, row.budget_spent_micros) == (20, 20 * 5000)
    again = pipeline.collect_source(settings, engine, "s")
    assert again.status == "budget" and "20/25 posts" in (again.error or "") and again.requests == 0


def test_the_money_cap_stops_collection_too(engine: Engine, database_url: str, scripted: type) -> None:
    # $0.005 a post, 10 posts a page: $0.12 allows two pages ($0.10), not a third.
    script = {"use": "scripted", "pages": 9, "posts_per_page": 10, "spend_limit_usd": 0.12}
    settings = settings_with(database_url, s=script)
    assert pipeline.collect_source(settings, engine, "s").new_posts == 20
    again = pipeline.collect_source(settings, engine, "s")
    assert again.status == "budget" and "$0.10/$0.12" in (again.error or "")


def test_a_new_period_starts_from_zero(engine: Engine, database_url: str, scripted: type) -> None:
    from storage import sources

    settings = settings_with(database_url, s={"use": "scripted", "pages": 9, "posts_per_page": 10, "post_limit": 25})
    pipeline.collect_source(settings, engine, "s")
    with Session(engine) as session:
        session.execute(Source.__table__.update().values(budget_period="1999-01"))  # type: ignore[attr-defined]
        session.commit()
        row = session.execute(select(Source).where(Source.name == "s")).scalar_one()
        billing = Billing(unit="posts", limit=25, worst_case={"posts": 10})
        assert sources.usage(row, billing).units == 0
        assert sources.requests_allowed(row, billing) == 2
    assert pipeline.collect_source(settings, engine, "s").new_posts == 20
    assert source_row(engine, "s").budget_used == 20


def test_four_workers_never_spend_more_than_the_cap(postgres_url: str, scripted: type) -> None:
    from storage.engine import make_engine

    cap = 35
    settings = settings_with(
        postgres_url,
        s={"use": "scripted", "pages": 40, "posts_per_page": 5, "post_limit": cap, "page_seconds": 0.05},
    )

    def work(engine: Engine, number: int) -> None:
        for _ in range(3):
            pipeline.collect_source(settings, engine, "s", worker=f"test-host:{number}")

    errors = run_workers(postgres_url, 4, work)
    assert errors == []
    seed = make_engine(postgres_url)
    try:
        row = source_row(seed, "s")
        assert row.budget_used <= cap
        assert row.budget_used == posts_in(seed) == 35 // 5 * 5  # every paid page stored, once
    finally:
        seed.dispose()


def test_a_record_the_database_refuses_is_dead_lettered_and_the_rest_of_the_page_stored(
    engine: Engine, database_url: str, scripted: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import ingest
    from storage.models import DeadLetter

    real_row = ingest._post_row

    def refused_by_the_database(post: PostIn, *args: Any) -> dict[str, Any]:
        row = real_row(post, *args)
        if post.external_id == "2-1":
            row["platform"] = None  # NOT NULL: the database itself refuses this one record
        return row

    monkeypatch.setattr(ingest, "_post_row", refused_by_the_database)
    run = pipeline.collect_source(settings_with(database_url, s={"use": "scripted", "pages": 3}), engine, "s")
    assert (run.status, run.new_posts, run.dead_letters) == ("ok", 5, 1)
    row = source_row(engine, "s")
    assert row.cursor == {"page": 3} and row.last_error is None and row.consecutive_failures == 0
    with Session(engine) as session:
        letter = session.execute(select(DeadLetter)).scalar_one()
    assert letter.source_name == "s" and letter.reason.startswith("the database refused this record: ")


def test_a_page_the_database_refuses_outright_backs_the_source_off_and_the_run_goes_on(
    engine: Engine, database_url: str, scripted: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import DataError

    from storage import ingest

    def refuse(session: Session, *, source: Source, page: Page, **tagging: Any) -> Any:
        if source.name == "bad":
            raise DataError("INSERT INTO post ...", {}, Exception("value out of range for type integer"))
        return real(session, source=source, page=page, **tagging)

    real = ingest.store_page
    monkeypatch.setattr(ingest, "store_page", refuse)
    monkeypatch.setattr(ingest, "store_page_record_by_record", refuse)
    settings = settings_with(database_url, bad={"use": "scripted"}, good={"use": "scripted"})
    bad, good = pipeline.collect(settings, engine)
    assert bad.status == "failed" and "value out of range" in (bad.error or "")
    assert good.status == "ok" and good.new_posts == 6
    row = source_row(engine, "bad")
    assert row.consecutive_failures == 1 and row.throttled_until is not None and row.throttled_until > utcnow()
    assert "DataError" in (row.last_error or "")


def test_a_page_rolled_back_for_another_workers_transaction_is_stored_again_whole(
    engine: Engine, database_url: str, scripted: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL's deadlock detector picks one of two transactions to roll back: not an outage to wait
    # out, and no record it refused. The page is stored again at once, whole, with no dead letter.
    import psycopg.errors
    from sqlalchemy.exc import OperationalError

    from storage import ingest

    real, rolled_back = ingest.store_page, []

    def deadlocked_once_per_page(session: Session, *, source: Source, page: Page, **tagging: Any) -> Any:
        if page.cursor not in rolled_back:
            rolled_back.append(page.cursor)
            raise OperationalError("INSERT INTO author ...", {}, psycopg.errors.DeadlockDetected("deadlock detected"))
        return real(session, source=source, page=page, **tagging)

    monkeypatch.setattr(ingest, "store_page", deadlocked_once_per_page)
    monkeypatch.setattr(pipeline.time, "sleep", lambda _seconds: None)
    run = pipeline.collect_source(settings_with(database_url, s={"use": "scripted", "pages": 3}), engine, "s")
    assert (run.status, run.new_posts, run.dead_letters) == ("ok", 6, 0)
    assert len(rolled_back) == 3 and source_row(engine, "s").cursor == {"page": 3}


def test_a_page_that_keeps_conflicting_is_left_to_the_job_not_stored_record_by_record(
    engine: Engine, database_url: str, scripted: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg.errors
    from sqlalchemy.exc import OperationalError

    from storage import ingest

    attempts = []

    def always_deadlocked(session: Session, **_kwargs: Any) -> Any:
        attempts.append(1)
        raise OperationalError("INSERT INTO author ...", {}, psycopg.errors.DeadlockDetected("deadlock detected"))

    monkeypatch.setattr(ingest, "store_page", always_deadlocked)
    monkeypatch.setattr(ingest, "store_page_record_by_record", always_deadlocked)
    monkeypatch.setattr(pipeline.time, "sleep", lambda _seconds: None)
    with pytest.raises(OperationalError):  # the job's database retry takes it from here
        pipeline.collect_source(settings_with(database_url, s={"use": "scripted", "pages": 3}), engine, "s")
    assert len(attempts) == pipeline.CONFLICT_RETRIES + 1
    assert posts_in(engine) == 0


def test_dry_run_stores_nothing(engine: Engine, database_url: str, scripted: type) -> None:
    settings = settings_with(database_url, s={"use": "scripted", "pages": 1})
    run = pipeline.collect_source(settings, engine, "s", dry_run=True)
    assert len(run.preview) == 2
    assert posts_in(engine) == 0


def test_unknown_source_name_lists_the_configured_ones(database_url: str) -> None:
    settings = settings_with(database_url, a={"use": "replay"})
    with pytest.raises(Exception, match="unknown source 'b'; configured: a"):
        pipeline.enabled_sources(settings.sources, ["b"])


def test_a_source_another_worker_is_collecting_is_skipped_and_its_lease_expires(
    engine: Engine, database_url: str, scripted: type
) -> None:
    from storage import ingest, sources

    settings = settings_with(database_url, s={"use": "scripted", "pages": 2})
    with Session(engine) as session:
        source = ingest.get_or_create_source(session, name="s", use="scripted")
        session.commit()
        assert source.id is not None
        assert sources.take_lease(session=session, source_id=source.id, worker="other-host:1")
    run = pipeline.collect_source(settings, engine, "s")
    assert (run.status, run.new_posts) == ("skipped", 0) and "another worker" in (run.error or "")
    assert posts_in(engine) == 0
    with Session(engine) as session:  # the other worker died: its lease runs out
        row = session.execute(select(Source)).scalar_one()
        row.lease_until = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
    run = pipeline.collect_source(settings, engine, "s")
    assert (run.status, run.new_posts) == ("ok", 4)
    assert source_row(engine, "s").lease_owner is None  # released after the run


def test_a_worker_that_lost_its_lease_stores_nothing_more(engine: Engine) -> None:
    from storage import ingest, sources

    with Session(engine) as session:
        source = ingest.get_or_create_source(session, name="s", use="scripted")
        session.commit()
        assert source.id is not None
        later = utcnow() + timedelta(seconds=sources.LEASE_SECONDS + 1)
        assert sources.take_lease(session=session, source_id=source.id, worker="a")
        assert not sources.take_lease(session=session, source_id=source.id, worker="b")
        assert sources.take_lease(session=session, source_id=source.id, worker="b", now=later)
        assert not sources.renew_lease(session=session, source_id=source.id, worker="a")


def test_workers_creating_a_new_source_at_once_share_one_row(engine: Engine) -> None:
    import threading

    from storage import ingest

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def create() -> None:
        try:
            with Session(engine) as session:
                barrier.wait(timeout=10)
                ingest.get_or_create_source(session, name="brand-new", use="scripted")
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Source)).scalar_one() == 1


def test_a_lease_held_by_a_dead_process_on_this_host_is_taken_at_once() -> None:
    import os
    import socket
    import subprocess
    import sys

    from dangol.core.workers import died_here
    from dangol.pipeline import WORKER_ID

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert died_here(f"{socket.gethostname()}:{gone.stdout.strip()}")
    assert not died_here(WORKER_ID)  # this very process
    assert not died_here(f"{socket.gethostname()}:{os.getppid()}")  # alive
    assert not died_here("another-host:1")  # elsewhere: wait for the lease to run out
