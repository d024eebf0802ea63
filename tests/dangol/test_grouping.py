"""Copies of one complaint that parallel analysis put in clusters of their own are grouped again
before routing: one queue item for the burst, not one per worker that saw a copy."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol import pipeline
from dangol.core.settings import load_settings
from dangol.core.types import AuthorIn, Page, PostIn, utcnow
from nlp.dedup import text_hash
from storage import ingest
from storage.models import Analysis, QueueItem
from tests.conftest import REPO
from tests.nlp.semantic_fakes import HashingEncoder
from tests.reliability.conftest import FakeAnalyzer

COMPLAINT = "my order never came and nobody answers the phone, third time this month"


class SplitByWorkers(FakeAnalyzer):
    """Each post begins its own cluster, as when every copy was analyzed by another worker at
    once, except the last copy, which joined the second in that worker's batch."""

    @staticmethod
    def _one(post):  # type: ignore[no-untyped-def]
        understanding = FakeAnalyzer._one(post)
        understanding.cluster_key = f"p:{post.post_id}" if post.post_id != 3 else "p:2"
        understanding.text_hash = text_hash(post.text)
        understanding.embedding = HashingEncoder().encode([post.text])[0]
        return understanding


def test_copies_analyzed_apart_are_routed_as_one_item(engine: Engine, database_url: str) -> None:
    settings = load_settings(REPO / "config.toml", overrides={"database": {"url": database_url}})
    now = utcnow()
    posts = [
        PostIn(
            platform="x",
            external_id=str(n),
            author=AuthorIn(platform="x", platform_id=f"a{n}", handle=f"fan{n}"),
            created_at=now - timedelta(minutes=10 - n),
            text=text,
        )
        for n, text in enumerate([COMPLAINT, f"RT {COMPLAINT}", COMPLAINT, "the new oat latte never came back?"], 1)
    ]
    with Session(engine) as session:
        source = ingest.get_or_create_source(session, name="seed", use="replay")
        ingest.store_page(session, source=source, page=Page(posts, {}))
        session.commit()
    pipeline.analyze(settings, engine, analyzer=SplitByWorkers())
    pipeline.route(settings, engine)
    with Session(engine) as session:
        items = list(session.execute(select(QueueItem)).scalars())
        keys = dict(session.execute(select(Analysis.post_id, Analysis.cluster_key)).all())
    first = min(keys)
    burst = sorted(keys)[:3]
    assert {keys[p] for p in burst} == {f"p:{first}"}
    assert keys[max(keys)] == f"p:{max(keys)}"  # another complaint stays apart
    assert sorted(i.cluster_size for i in items) == [1, 3]
