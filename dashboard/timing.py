"""Time the dashboard's queries on a database (e.g. one from `python -m bench.generate`).

    python -m dashboard.timing --url sqlite:///var/bench/1m.db

Each query runs once to warm caches, then `--repeat` times; the mean is printed in ms.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from storage import dashboard_queries as q
from storage.engine import make_engine

# The end of bench.generate's data, so windows cover the same rows on every run.
NOW = datetime(2026, 11, 22, tzinfo=UTC)
MONTH = (NOW - timedelta(days=28), NOW)


def cases() -> dict[str, Callable[[Session], Any]]:
    """Query name → the call the dashboard makes."""
    page = q.queue_page
    return {
        "queue page 1 (open items)": lambda s: page(session=s, filters=q.QueueFilter(), now=NOW),
        "queue page 200": lambda s: page(session=s, filters=q.QueueFilter(), page=200, now=NOW),
        "queue team=billing": lambda s: page(session=s, filters=q.QueueFilter(team="billing"), now=NOW),
        "queue topic+sentiment": lambda s: page(
            session=s, filters=q.QueueFilter(topic="delivery", sentiment="negative"), now=NOW
        ),
        "queue SLA breached": lambda s: page(session=s, filters=q.QueueFilter(sla="breached"), now=NOW),
        "queue assignee": lambda s: page(session=s, filters=q.QueueFilter(assignee_id=3), now=NOW),
        "queue filter choices": lambda s: q.queue_facets(session=s, topics=["delivery", "billing"]),
        "item view": lambda s: q.item_view(session=s, item_id=5000),
        "complaints per day and topic, 28 days": lambda s: q.topic_daily_counts(session=s, since=MONTH[0], until=NOW),
        "sentiment per day, 28 days": lambda s: q.sentiment_daily_counts(session=s, since=MONTH[0], until=NOW),
        "SLA attainment per day, 28 days": lambda s: q.sla_attainment_daily(session=s, since=MONTH[0], until=NOW),
        "customer search": lambda s: q.search_customers(session=s, text="kim"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="database URL")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    engine = make_engine(args.url)
    for name, run in cases().items():
        with Session(engine) as session:
            run(session)
            started = time.perf_counter()
            for _ in range(args.repeat):
                run(session)
            elapsed = (time.perf_counter() - started) / args.repeat
        print(f"{name:40s} {elapsed * 1000:9.1f} ms", flush=True)  # noqa: T201 - a command-line report


if __name__ == "__main__":
    main()
