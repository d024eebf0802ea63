"""End-to-end analyze throughput against the raw encoder, in one run (`dangol bench pipeline`,
the `pipeline` piece of `make bench`, `bench.encoder_change`).

Both figures come from the same process, model and texts, so their ratio holds on a noisy,
shared machine where absolute numbers drift: the ratio says how much the pipeline (database
reads and writes, language id, sentiment, topics, risk, clustering, linking) costs on top of
the encoder itself. The raw encoder is timed just before `analyze` and again just after, and the
ratio reads their mean: this machine's speed drifts by several per cent within a minute, and one
timing on one side credited the drift to the pipeline (or hid pipeline cost behind it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from dangol import pipeline
from dangol.core.settings import Settings
from dangol.core.types import AuthorIn, Page, PostIn
from dangol.demo_data import DEMO_DATA, PLATFORM_DIRS
from storage.engine import make_engine, session_scope
from storage.ingest import get_or_create_source, store_page
from storage.migrate import upgrade


@dataclass
class PipelineBench:
    posts: int
    seconds: float
    encoder_seconds: tuple[float, float]  # the raw encoder over the same texts, before and after

    def as_json(self) -> dict[str, Any]:
        posts_per_s = self.posts / self.seconds
        before, after = (self.posts / seconds for seconds in self.encoder_seconds)
        encoder_per_s = self.posts / (sum(self.encoder_seconds) / 2)
        return {
            "posts": self.posts,
            "posts_per_s": round(posts_per_s, 1),
            "encoder_posts_per_s": round(encoder_per_s, 1),
            "encoder_before_after": [round(before, 1), round(after, 1)],
            "ratio": round(posts_per_s / encoder_per_s, 3),
        }


def demo_posts() -> list[PostIn]:
    """The demo's posts, parsed by the real parsers: real lengths and a real language mix."""
    from listener.base import parse_file

    posts: list[PostIn] = []
    for platform in PLATFORM_DIRS:
        for path in sorted((DEMO_DATA / platform).glob("page-*")):
            posts.extend(parse_file(platform, path)[0])
    return posts


def synthetic_posts(count: int, duplicate_share: float = 0.0) -> list[PostIn]:
    """`count` posts cycling through the demo texts, each made unique so none is a duplicate; with
    `duplicate_share`, that share of them (spread evenly) repeats the text of a post ten before it,
    as copy-paste waves and retweet storms do."""
    base = demo_posts()
    out: list[PostIn] = []
    copied = 0
    for i in range(count):
        post = base[i % len(base)]
        text = f"{post.text} #{i}"
        if i >= 10 and copied < duplicate_share * (i + 1):
            text, copied = out[i - 10].text, copied + 1
        author = AuthorIn(post.platform, f"bench{i % 997}", f"bench{i % 997}", f"Bench {i % 997}", 100)
        out.append(
            # Copied from clean demo posts with clean values: no validation needed.
            post.model_copy(
                update={
                    "external_id": f"bench-{i}",
                    "author": author,
                    "text": text,
                    "created_at": post.created_at + timedelta(seconds=i),
                    "referenced_id": None,
                    "is_retweet": False,
                    "raw": None,
                }
            )
        )
    return out


def bench_pipeline(
    settings: Settings,
    count: int,
    workdir: Path,
    *,
    progress: Callable[[int], None] | None = None,
    duplicate_share: float = 0.0,
) -> PipelineBench:
    """Time the raw encoder and then `pipeline.analyze` over the same `count` posts (with
    `duplicate_share` of them repeating an earlier post's text; the raw encoder encodes every one)."""
    posts = synthetic_posts(count, duplicate_share)
    settings = settings.model_copy(deep=True)
    settings.database.url = f"sqlite:///{workdir}/bench-pipeline.db"
    Path(f"{workdir}/bench-pipeline.db").unlink(missing_ok=True)
    engine = make_engine(settings.database.url)
    upgrade(engine)
    with session_scope(engine) as session:
        source = get_or_create_source(session, name="bench", use="replay")
        store_page(session, source=source, page=Page(posts=posts, cursor={}))
    analyzer = pipeline.load_analyzer(settings)  # as the worker keeps it
    texts = [p.text for p in posts]
    batch = settings.nlp.batch_size
    # The raw encoder, not the analyzer's cache in front of it: timed here, the texts must not be
    # remembered for the analyze run that follows.
    raw = analyzer.encoder.inner
    raw.encode(texts[:batch])  # warm-up: first-call allocations are not throughput

    def raw_seconds() -> float:
        started = time.perf_counter()
        for i in range(0, len(texts), batch):
            raw.encode(texts[i : i + batch])
        return time.perf_counter() - started

    before = raw_seconds()
    started = time.perf_counter()
    run = pipeline.analyze(settings, engine, analyzer=analyzer, progress=progress)
    seconds = time.perf_counter() - started
    after = raw_seconds()
    engine.dispose()
    return PipelineBench(posts=run.analyzed, seconds=seconds, encoder_seconds=(before, after))
