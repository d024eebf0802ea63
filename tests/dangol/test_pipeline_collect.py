"""The collect step: pages and cursors stored together, failures isolated, budgets kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol import pipeline
from dangol.errors import CollectError, RateLimited
from dangol.registry import Options
from dangol.settings import Settings, SourceSettings, load_settings
from dangol.types import Page, PostIn, utcnow
from listener.base import collectors
from storage.models import Post, Source


class ScriptOptions(Options):
    pages: int = 3
    fail_after: int | None = None
    error: str = "crash"
    monthly_read_budget: int | None = None
    bearer_token: SecretStr | None = None


class ScriptedCollector:
    """Yields numbered pages after the cursor; can fail after a given page, as a platform might."""

    platform = "x"
    Options = ScriptOptions
    posts_factory: Callable[..., PostIn]

    def __init__(self, options: ScriptOptions) -> None:
        self.options = options

    @classmethod
    def from_settings(cls, name: str, source: SourceSettings, settings: Settings) -> ScriptedCollector:
        return cls(ScriptOptions(**source.options()))

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        start = cursor.get("page", 0)
        for number in range(start + 1, self.options.pages + 1):
            if self.options.fail_after is not None and number > self.options.fail_after:
                if self.options.error == "ratelimit":
                    raise RateLimited("429 from platform", retry_at=utcnow() + timedelta(minutes=7))
                raise CollectError(f"server said no (token=sekrit-token-123) on page {number}")
            if max_requests is not None and number - start > max_requests:
                return
            posts = [self.posts_factory(external_id=f"{number}-{i}") for i in range(2)]
            yield Page(posts=posts, cursor={"page": number})


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
    settings = settings_with(database_url, s={"use": "scripted", "pages": 5, "monthly_read_budget": 2})
    first = pipeline.collect_source(settings, engine, "s")
    assert (first.requests, first.new_posts) == (2, 4)
    assert source_row(engine, "s").budget_used == 2
    assert pipeline.collect_source(settings, engine, "s").status == "budget"


def test_dry_run_stores_nothing(engine: Engine, database_url: str, scripted: type) -> None:
    settings = settings_with(database_url, s={"use": "scripted", "pages": 1})
    run = pipeline.collect_source(settings, engine, "s", dry_run=True)
    assert len(run.preview) == 2
    assert posts_in(engine) == 0


def test_unknown_source_name_lists_the_configured_ones(database_url: str) -> None:
    settings = settings_with(database_url, a={"use": "replay"})
    with pytest.raises(Exception, match="unknown source 'b'; configured: a"):
        pipeline.enabled_sources(settings, ["b"])


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

    from dangol.pipeline import WORKER_ID, died_here

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert died_here(f"{socket.gethostname()}:{gone.stdout.strip()}")
    assert not died_here(WORKER_ID)  # this very process
    assert not died_here(f"{socket.gethostname()}:{os.getppid()}")  # alive
    assert not died_here("another-host:1")  # elsewhere: wait for the lease to run out
