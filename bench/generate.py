"""Reproducible large databases for the benchmarks: N posts with authors, analyses and queue items.

    python -m bench.generate --posts 1000000 --url sqlite:///var/bench/1m.db

Rows are synthetic but shaped like production: 8 weeks of posts on six platforms, one author
per five posts, every post analyzed (no embeddings: they are not read by the queries measured),
about one in six posts queued with a realistic mix of statuses. The same seed gives the same data.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Analysis, Author, Post, QueueItem, Staff

PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "rss", "naver")
TOPICS = ("delivery", "billing", "app", "quality", "store", "loyalty", "other")
SENTIMENTS = ("negative", "neutral", "positive")
STATUSES = ("new",) * 5 + ("assigned", "in_progress", "pending_approval", "replied", "closed", "closed", "spam")
TEAMS = ("support", "billing", "product", "stores", "korea", "pr")
END = datetime(2026, 11, 22, tzinfo=UTC)
SPAN = timedelta(weeks=8)
CHUNK = 20_000


def chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(engine: Engine, posts: int, *, seed: int = 7, progress: bool = True) -> dict[str, float]:
    """Fill an empty, migrated database; returns row counts and seconds taken."""
    rng = random.Random(seed)
    started = time.perf_counter()
    authors = max(1, posts // 5)
    with engine.begin() as conn:
        conn.execute(insert(Staff), [{"username": f"agent{i}", "role": "agent", "languages": ["en", "ko"],
                                      "topics": [], "capacity": 50} for i in range(20)])
        for batch in chunks(_authors(authors, rng)):
            conn.execute(insert(Author), batch)
    done = 0
    for batch in chunks(_posts(posts, authors, rng)):
        with engine.begin() as conn:
            conn.execute(insert(Post), [row["post"] for row in batch])
            conn.execute(insert(Analysis), [row["analysis"] for row in batch])
            queued = [row["queue"] for row in batch if row["queue"]]
            if queued:
                conn.execute(insert(QueueItem), queued)
        done += len(batch)
        if progress:
            print(f"\r{done:,}/{posts:,} posts", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return {"posts": posts, "authors": authors, "seconds": round(time.perf_counter() - started, 1)}


def _authors(count: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(1, count + 1):
        platform = PLATFORMS[i % len(PLATFORMS)]
        yield {
            "id": i,
            "platform": platform,
            "platform_id": f"a{i}",
            "handle": f"user{i}",
            "display_name": f"User {i}",
            "followers": int(rng.paretovariate(1.2) * 50),
            "first_seen_at": END - SPAN,
            "last_seen_at": END,
        }


def _posts(count: int, authors: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(1, count + 1):
        created = END - SPAN * rng.random()
        author_id = rng.randint(1, authors)
        sentiment = rng.choices(SENTIMENTS, weights=(35, 45, 20))[0]
        topic = rng.choice(TOPICS) if sentiment == "negative" else "other"
        post = {
            "id": i,
            "platform": PLATFORMS[author_id % len(PLATFORMS)],
            "external_id": f"p{i}",
            "author_id": author_id,
            "text": f"synthetic post {i} about {topic}",
            "created_at": created,
            "collected_at": created + timedelta(minutes=5),
            "metrics": {"like_count": rng.randint(0, 50)},
            "analyzed": True,
            "is_retweet": False,
            "is_quote": False,
            "is_reply": False,
        }
        analysis = {
            "post_id": i,
            "language": "ko" if rng.random() < 0.3 else "en",
            "sentiment": sentiment,
            "sentiment_probs": {s: (0.8 if s == sentiment else 0.1) for s in SENTIMENTS},
            "topics": {topic: 0.7} if topic != "other" else {},
            "primary_topic": topic,
            "is_complaint": sentiment == "negative",
            "risk": round(rng.random(), 3),
            "risk_breakdown": {},
            "text_hash": f"h{i}",
            "cluster_key": f"x:p{i}",
            "model_versions": {},
            "analyzed_at": created + timedelta(minutes=6),
            "routed": True,
        }
        queue = None
        if sentiment == "negative" and rng.random() < 0.45:
            status = rng.choice(STATUSES)
            queue = {
                "post_id": i,
                "cluster_key": f"x:p{i}",
                "status": status,
                "priority": rng.randint(1, 4),
                "team": rng.choice(TEAMS),
                "assignee_id": rng.randint(1, 20) if status not in ("new", "spam") else None,
                "sla_policy": "standard",
                "first_response_due_at": created + timedelta(hours=4),
                "resolution_due_at": created + timedelta(days=2),
                "created_at": created + timedelta(minutes=7),
                "updated_at": created + timedelta(minutes=7),
                "tags": [],
                "routing": {},
                "version": 1,
            }
        yield {"post": post, "analysis": analysis, "queue": queue}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, required=True)
    parser.add_argument("--url", required=True, help="database URL of an EMPTY database")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    engine = make_engine(args.url)
    upgrade(engine)
    print(generate(engine, args.posts, seed=args.seed))


if __name__ == "__main__":
    main()
