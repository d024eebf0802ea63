"""Horizontal scale on PostgreSQL: four workers, each with its own engine, share one backlog
through `FOR UPDATE SKIP LOCKED`: every post analyzed once, every complaint queued once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol import pipeline
from dangol.core.settings import load_settings
from storage.engine import make_engine
from storage.models import Analysis, QueueItem
from tests.concurrency import run_workers
from tests.conftest import REPO
from tests.reliability.conftest import FakeAnalyzer
from tests.reliability.test_crash import _store_posts

POSTS = 600
WORKERS = 4


def test_four_workers_share_the_backlog_and_analyze_and_queue_each_post_exactly_once(postgres_url):
    settings = load_settings(
        REPO / "config.toml", overrides={"database": {"url": postgres_url}, "nlp": {"batch_size": 10}}
    )
    seed = make_engine(postgres_url)
    _store_posts(seed, POSTS)
    analyzers = [FakeAnalyzer(delay=0.02) for _ in range(WORKERS)]

    def work(engine: Engine, number: int) -> None:
        pipeline.analyze(settings, engine, analyzer=analyzers[number])
        pipeline.route(settings, engine)

    errors = run_workers(postgres_url, WORKERS, work, timeout=90)
    assert not errors, errors
    claimed = Counter(post_id for a in analyzers for post_id in a.seen)
    assert len(claimed) == POSTS and set(claimed.values()) == {1}, "a post was analyzed twice"
    assert sum(1 for a in analyzers if a.seen) >= 2, "the backlog was not shared"
    with Session(seed) as session:
        analyses = list(session.execute(select(Analysis.post_id)).scalars())
        queued = list(session.execute(select(QueueItem.post_id)).scalars())
    seed.dispose()
    assert len(analyses) == len(set(analyses)) == POSTS
    assert len(queued) == len(set(queued)) == POSTS // 3  # every third post is a complaint


class ClusteredAnalyzer(FakeAnalyzer):
    """Every complaint falls into one of ten clusters, so workers routing different batches keep
    adding posts to the same queue items at the same time."""

    @staticmethod
    def _one(post):  # type: ignore[no-untyped-def]
        understanding = FakeAnalyzer._one(post)
        if understanding.is_complaint:
            understanding.cluster_key = f"cluster-{post.post_id % 10}"
        return understanding


def test_four_workers_routing_one_cluster_at_once_make_one_item_with_every_post_and_no_error(postgres_url, monkeypatch):
    from responder import queue

    settings = load_settings(
        REPO / "config.toml", overrides={"database": {"url": postgres_url}, "nlp": {"batch_size": 50}}
    )
    seed = make_engine(postgres_url)
    _store_posts(seed, POSTS)
    pipeline.analyze(settings, seed, analyzer=ClusteredAnalyzer())
    monkeypatch.setattr(queue, "BATCH", 5)  # many small batches: the workers interleave on each cluster
    errors = run_workers(postgres_url, WORKERS, lambda engine, _number: pipeline.route(settings, engine))
    assert not errors, errors
    with Session(seed) as session:
        items = list(session.execute(select(QueueItem)).scalars())
    seed.dispose()
    assert sorted(i.cluster_key for i in items) == sorted(f"cluster-{k}" for k in range(10))
    assert sum(i.cluster_size for i in items) == POSTS // 3  # every complaint counted once, none lost
