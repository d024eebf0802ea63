"""Reproducible large databases for the benchmarks: N posts with authors, analyses and queue items.

    python -m bench.generate --posts 1000000 --url sqlite:///var/bench/1m.db

Rows are synthetic but shaped like production: 8 weeks of posts on six platforms, one author
per five posts, every post analyzed (no embeddings: they are not read by the queries measured),
about one in six posts queued with a realistic mix of statuses. One customer per ten posts (a
tenth of them gold or VIP, up to three orders each), each linked to one author and three in ten to
a second one on another platform; every replied or closed queue item has a sent reply at its
first-response due time (what customer scoring reads). The same seed gives the same data.
On PostgreSQL rows go in with COPY and the database is vacuumed and analyzed afterwards (what
autovacuum does in service: without it the planner has no statistics and reads the heap).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import Connection, Engine

from dangol.core.types import SENTIMENTS
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Analysis, Author, Customer, CustomerOrder, IdentityLink, Post, QueueItem, Staff

PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "rss", "naver")
TOPICS = ("delivery", "billing", "app", "quality", "store", "loyalty", "other")
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


def customers_for(posts: int) -> int:
    """How many customers a database of `posts` posts gets: one per ten posts."""
    return posts // 10


def generate(engine: Engine, posts: int, *, seed: int = 7, progress: bool = True) -> dict[str, float]:
    """Fill an empty, migrated database; returns row counts and seconds taken (load, then statistics)."""
    rng = random.Random(seed)
    # Customers draw from their own generator, so authors, posts and queue items are what they were
    # before customers were generated (the queue and weekly figures stay comparable).
    customer_rng = random.Random(f"{seed}-customers")
    started = time.perf_counter()
    authors, customers = max(1, posts // 5), customers_for(posts)
    write = _copy if engine.dialect.name == "postgresql" else _insert
    with engine.begin() as conn:
        conn.execute(insert(Staff), [{"username": f"agent{i}", "role": "agent", "languages": ["en", "ko"],
                                      "topics": [], "capacity": 50} for i in range(20)])  # fmt: skip
        for batch in chunks(_authors(authors, rng)):
            write(conn, Author.__table__, batch)  # type: ignore[arg-type, attr-defined]
        for table, rows in _customer_rows(customers, authors, customer_rng):
            for batch in chunks(rows):
                write(conn, table, batch)
    done = 0
    for batch in chunks(_posts(posts, authors, rng)):
        with engine.begin() as conn:
            write(conn, Post.__table__, [row["post"] for row in batch])  # type: ignore[arg-type, attr-defined]
            write(conn, Analysis.__table__, [row["analysis"] for row in batch])  # type: ignore[arg-type, attr-defined]
            queued = [row["queue"] for row in batch if row["queue"]]
            if queued:
                write(conn, QueueItem.__table__, queued)  # type: ignore[arg-type, attr-defined]
        done += len(batch)
        if progress:
            print(f"\r{done:,}/{posts:,} posts", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    with engine.begin() as conn:
        conn.execute(_SENT_REPLIES)
    loaded = time.perf_counter()
    analyze_tables(engine)
    return {
        "posts": posts,
        "authors": authors,
        "customers": customers,
        "seconds": round(loaded - started, 1),
        "analyze_seconds": round(time.perf_counter() - loaded, 1),
    }


def analyze_tables(engine: Engine) -> None:
    """Planner statistics after a bulk load: VACUUM ANALYZE on PostgreSQL, ANALYZE on SQLite.

    PostgreSQL ids were given explicitly, so the id sequences are moved past them too.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("author", "post", "customer"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                conn.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            # Sampled, as storage does it in service: exact statistics on a million rows take minutes.
            conn.execute(text("PRAGMA analysis_limit = 1000"))
            conn.execute(text("ANALYZE"))


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(table), rows)


def _copy(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL COPY: about ten times faster than executemany INSERT for a million rows."""
    defaults = _python_defaults(table, rows[0])
    columns = [*rows[0], *defaults]
    cursor = conn.connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
        for row in rows:
            values = [row[c] if c in row else defaults[c] for c in columns]
            copy.write_row([json.dumps(v) if isinstance(v, dict | list) else v for v in values])


def _python_defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Column defaults that SQLAlchemy fills in for INSERT but COPY would leave NULL."""
    out: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.name in row or default is None or column.primary_key:
            continue
        arg = default.arg  # type: ignore[attr-defined]
        out[column.name] = arg(None) if callable(arg) else arg
    return out


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


def _customer_rows(count: int, authors: int, rng: random.Random) -> Iterator[tuple[Table, Iterator[dict[str, Any]]]]:
    """Customers, their orders and their applied identity links: customer i is author i, and three
    in ten also author `count + i` (another platform) where there are that many authors."""
    tiers = [rng.choices(("standard", "gold", "vip"), weights=(88, 9, 3))[0] for _ in range(count)]
    orders = [rng.randint(0, 3) for _ in range(count)]
    second = [rng.random() < 0.3 and count + i <= authors for i in range(1, count + 1)]
    yield Customer.__table__, (  # type: ignore[attr-defined]
        {"id": i, "external_ref": f"CUST-{i}", "name": f"Customer {i}", "email": f"customer{i}@example.com",
         "tier": tiers[i - 1], "created_at": END - SPAN} for i in range(1, count + 1)
    )  # fmt: skip
    yield (
        CustomerOrder.__table__,
        (  # type: ignore[attr-defined]
            {"customer_id": i, "order_number": f"BO-{i}-{k}"} for i in range(1, count + 1) for k in range(orders[i - 1])
        ),
    )
    yield IdentityLink.__table__, (  # type: ignore[attr-defined]
        {"author_id": author, "customer_id": i, "method": "handle", "confidence": 1.0, "status": "applied",
         "created_at": END - SPAN}
        for i in range(1, count + 1)
        for author in ((i, count + i) if second[i - 1] else (i,))
        if author <= authors
    )  # fmt: skip


# Every replied or closed queue item was answered through Dangol, at its first-response due time.
_SENT_REPLIES = text(
    "INSERT INTO reply (queue_item_id, post_id, text, source, status, idempotency_key, dry_run, created_at, sent_at) "
    "SELECT id, post_id, 'Thanks, we are on it.', 'staff', 'sent', 'bench-' || id, false, "
    "first_response_due_at, first_response_due_at FROM queueitem WHERE status IN ('replied', 'closed')"
)


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
        language = "ko" if rng.random() < 0.3 else "en"
        analysis = {
            "post_id": i,
            "language": language,
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
                "platform": post["platform"],
                "topic": topic,
                "sentiment": sentiment,
                "language": language,
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
