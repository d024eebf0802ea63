"""Horizontal scale on PostgreSQL: four workers, each with its own engine, share one backlog
through `FOR UPDATE SKIP LOCKED`: every post analyzed once, every complaint queued once."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select
from sqlmodel import Session

from dangol import pipeline
from dangol.settings import load_settings
from storage.engine import make_engine
from storage.models import Analysis, QueueItem
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
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def work(analyzer: FakeAnalyzer) -> None:
        engine = make_engine(postgres_url)
        try:
            start.wait()
            pipeline.analyze(settings, engine, analyzer=analyzer)
            pipeline.route(settings, engine)
        except BaseException as exc:  # reported below, with the test's assertion
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work, args=(a,)) for a in analyzers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
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
