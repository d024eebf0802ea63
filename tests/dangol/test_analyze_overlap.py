"""The worker's analysis with the next batch prepared on a second connection (PostgreSQL): every
post analyzed once, a failed batch leaves the one prepared behind it unclaimed, and copies split
across the two batches are still one queue item."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol import pipeline
from dangol.core.settings import Settings, load_settings
from dangol.core.types import AuthorIn, Page, PostIn, utcnow
from storage import analyses, ingest
from storage.engine import make_engine
from storage.models import Analysis, Post, QueueItem
from tests.conftest import REPO
from tests.reliability.conftest import FakeAnalyzer

COMPLAINT = "my order never came and nobody answers the phone, third time this month"


def _settings(url: str, batch_size: int) -> Settings:
    return load_settings(REPO / "config.toml", overrides={"database": {"url": url}, "nlp": {"batch_size": batch_size}})


def _store(engine: Engine, texts: list[str]) -> None:
    now = utcnow()
    posts = [
        PostIn(
            platform="x",
            external_id=str(n),
            author=AuthorIn(platform="x", platform_id=f"a{n % 7}", handle=f"fan{n % 7}"),
            created_at=now - timedelta(minutes=len(texts) - n),
            text=text,
        )
        for n, text in enumerate(texts)
    ]
    with Session(engine) as session:
        source = ingest.get_or_create_source(session, name="seed", use="replay")
        ingest.store_page(session, source=source, page=Page(posts, {}))
        session.commit()


def _analyzed(engine: Engine) -> tuple[int, int, int]:
    """(analysis rows, distinct posts among them, posts still waiting)."""
    with Session(engine) as session:
        rows = session.execute(select(func.count(), func.count(func.distinct(Analysis.post_id)))).one()
        waiting = session.execute(select(func.count()).select_from(Post).where(Post.analyzed.is_(False))).scalar_one()  # type: ignore[attr-defined]
    return rows[0], rows[1], waiting


@pytest.fixture
def pg_engine(postgres_url: str) -> Any:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


class Recording(FakeAnalyzer):
    """FakeAnalyzer that fails on its `fail_on`-th batch."""

    def __init__(self, fail_on: int | None = None) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.batches = 0

    def analyze(self, posts: list[Any], recent: list[Any]) -> list[Any]:
        self.batches += 1
        if self.batches == self.fail_on:
            raise RuntimeError("the model ran out of memory")
        return super().analyze(posts, recent)


def test_every_post_is_analyzed_once_in_batches_overlapped(
    pg_engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(pg_engine, [f"post number {n}, {'never came' if n % 3 else 'all good'}" for n in range(23)])
    claims: list[str] = []
    claim = analyses.claim_unanalyzed

    def claim_recorded(**kwargs: Any) -> Any:
        claims.append(threading.current_thread().name)
        return claim(**kwargs)

    monkeypatch.setattr(analyses, "claim_unanalyzed", claim_recorded)
    analyzer = Recording()
    progress: list[int] = []
    run = pipeline.analyze(
        _settings(postgres_url, 5), pg_engine, analyzer=analyzer, progress=progress.append, overlap=True
    )
    assert (run.analyzed, run.batches) == (23, 5)
    # Every batch was claimed by the preparing thread, and the empty sixth claim ended the run.
    assert len(claims) == 6 and all(name.startswith("analyze-prepare") for name in claims)
    assert progress == [5, 5, 5, 5, 3]
    assert sorted(analyzer.seen) == sorted(set(analyzer.seen)) and len(analyzer.seen) == 23
    assert _analyzed(pg_engine) == (23, 23, 0)


def test_a_limit_counts_the_batch_prepared_ahead(pg_engine: Engine, postgres_url: str) -> None:
    _store(pg_engine, [f"post number {n}" for n in range(23)])
    run = pipeline.analyze(_settings(postgres_url, 5), pg_engine, analyzer=Recording(), limit=12, overlap=True)
    assert (run.analyzed, run.batches) == (12, 3)
    assert _analyzed(pg_engine) == (12, 12, 11)


def test_a_failed_batch_leaves_it_and_the_one_prepared_behind_it_unclaimed(
    pg_engine: Engine, postgres_url: str
) -> None:
    _store(pg_engine, [f"post number {n}" for n in range(20)])
    settings = _settings(postgres_url, 5)
    with pytest.raises(RuntimeError, match="out of memory"):
        pipeline.analyze(settings, pg_engine, analyzer=Recording(fail_on=2), overlap=True)
    # The first batch was committed; the failed one and the one prepared behind it rolled back.
    assert _analyzed(pg_engine) == (5, 5, 15)
    # Nothing stays locked: the next run (another worker) analyzes the rest at once.
    run = pipeline.analyze(settings, pg_engine, analyzer=Recording(), overlap=True)
    assert run.analyzed == 15
    assert _analyzed(pg_engine) == (20, 20, 0)


@pytest.mark.parametrize("overlap", [True, False])
def test_copies_in_two_batches_are_one_queue_item_either_way(
    pg_engine: Engine, postgres_url: str, overlap: bool
) -> None:
    from tests.nlp.test_analyzer import fake_analyzer

    # Batches of two: the copies fall in batches one and two. Overlapped, the second may be prepared
    # before the first is saved, and its copy then begins a cluster of its own, which routing
    # groups again; one after the other, it joins at once. The queue is the same.
    _store(pg_engine, [COMPLAINT, COMPLAINT, COMPLAINT, "the new oat latte never came back?"])
    settings = _settings(postgres_url, 2)
    pipeline.analyze(settings, pg_engine, analyzer=fake_analyzer(settings), overlap=overlap)
    pipeline.route(settings, pg_engine)
    with Session(pg_engine) as session:
        sizes = sorted(i.cluster_size for i in session.execute(select(QueueItem)).scalars())
    assert sizes == [1, 3]
