"""Where `analyze`'s wall time goes, stage by stage, on SQLite or PostgreSQL:

    python -m bench.analyze_stages --posts 1000
    python -m bench.analyze_stages --posts 1000 --url postgresql://postgres@127.0.0.1/bench_stages

The demo mix (`bench.pipeline.synthetic_posts`) is stored into a fresh database and analyzed by
`pipeline.analyze`; each stage's function is timed in place (this process only). With `--window N`,
N more posts are analyzed first, untimed, so the near-duplicate window every batch reads is as full
as a busy worker's (it holds at most 5,000 posts) rather than empty. The database
stages (claim, topic edits, linking, the near-duplicate window, saving) are what a worker could
overlap with encoding; "analysis after encoding" is the CPU work of the heads, topics, intent,
risk and clustering; what is left of a batch is the commit.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.machine import load_average
from bench.pieces import fresh_database
from bench.pipeline import synthetic_posts
from dangol import pipeline
from dangol.core.settings import load_settings
from dangol.core.types import Page
from storage import analyses
from storage.engine import make_engine, session_scope
from storage.ingest import get_or_create_source, store_page
from storage.migrate import upgrade

# (module or class, attribute, stage name): the functions `pipeline._analyze_batch` calls.
DATABASE_STAGES = (
    (analyses, "claim_unanalyzed", "claim"),
    (pipeline, "_follow_topic_edits", "topic edits"),
    (pipeline, "_link_authors", "linking"),
    (analyses, "recent_members", "near-duplicate window"),
    (analyses, "save_analyses", "save analyses"),
)


@contextmanager
def timed_stages(targets: list[tuple[Any, str, str]], seconds: defaultdict[str, float]) -> Iterator[None]:
    """Wrap each target so its wall time adds to `seconds[stage]`; the originals come back after."""
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]

    def wrap(function: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[stage] += time.perf_counter() - started

        return timed

    try:
        for (owner, name, function), (_, _, stage) in zip(originals, targets, strict=True):
            setattr(owner, name, wrap(function, stage))
        yield
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)


def analyze_stages(config: Path, posts: int, url: str, window: int = 0) -> dict[str, Any]:
    from nlp.encoders.cache import CachedEncoder

    settings = load_settings(config)
    settings.database.url = fresh_database(url)
    engine = make_engine(settings.database.url)
    upgrade(engine)
    with session_scope(engine) as session:
        source = get_or_create_source(session, name="bench", use="replay")
        store_page(session, source=source, page=Page(posts=synthetic_posts(window + posts), cursor={}))
    analyzer = pipeline.load_analyzer(settings)
    analyzer.encoder.inner.encode(["warm-up"] * settings.nlp.batch_size)
    if window:
        pipeline.analyze(settings, engine, analyzer=analyzer, limit=window)
    seconds: defaultdict[str, float] = defaultdict(float)
    targets = [
        *DATABASE_STAGES,
        (pipeline, "_analyze_batch", "batches"),
        (analyzer, "analyze", "analyzer"),
        (CachedEncoder, "encode", "encoding"),
    ]
    with timed_stages(list(targets), seconds):
        started = time.perf_counter()
        run = pipeline.analyze(settings, engine, analyzer=analyzer)
        total = time.perf_counter() - started
    engine.dispose()
    stages = {stage: seconds[stage] for _, _, stage in DATABASE_STAGES}
    stages["encoding"] = seconds["encoding"]
    stages["analysis after encoding"] = seconds["analyzer"] - seconds["encoding"]
    stages["commit and the rest"] = total - sum(stages.values())
    database = sum(seconds[stage] for _, _, stage in DATABASE_STAGES)
    return {
        "backend": engine.dialect.name,
        "posts": run.analyzed,
        "window_posts": window,
        "batch_size": settings.nlp.batch_size,
        "seconds": round(total, 2),
        "posts_per_s": round(run.analyzed / total, 1),
        "stages_s": {stage: round(value, 2) for stage, value in stages.items()},
        "database_share": round(database / total, 3),
        "encoding_share": round(seconds["encoding"] / total, 3),
        "load_average": load_average(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--url", help="the database to use, dropped and made again (default: a temporary SQLite file)")
    parser.add_argument("--config", type=Path, default=Path("config.toml"))
    parser.add_argument("--window", type=int, default=0, help="posts analyzed first, untimed (default 0)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dangol-stages-") as workdir:
        url = args.url or f"sqlite:///{workdir}/stages.db"
        sys.stdout.write(json.dumps(analyze_stages(args.config, args.posts, url, args.window)) + "\n")


if __name__ == "__main__":
    main()
