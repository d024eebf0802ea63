"""Time the dashboard's queries on a database (e.g. one from `python -m bench.generate`).

    python -m bench.dashboard_queries --url sqlite:///var/bench/1m.db

Each query runs once to warm caches, then `--repeat` times; the mean is printed in ms.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.timing import mean_seconds
from responder.memory import item_context
from responder.queue import QueueFilters, list_queue
from responder.statuses import OPEN_STATUSES
from storage.customers import search_customers
from storage.engine import make_engine
from storage.queue import QueueRow, last_item_id_up_to, queue_facets, queue_rows
from storage.read_models import sentiment_daily_counts, sla_attainment_daily, topic_daily_counts

# The end of bench.generate's data, so windows cover the same rows on every run.
NOW = datetime(2026, 11, 22, tzinfo=UTC)
MONTH = (NOW - timedelta(days=28), NOW)


def cases() -> dict[str, Callable[[Session], Any]]:
    """Query name → the call the dashboard makes."""

    def page(session: Session, filters: QueueFilters, number: int = 1) -> list[QueueRow]:
        found = list_queue(filters, session=session, page=number, now=NOW)
        return queue_rows(session=session, items=found.items)

    return {
        "queue page 1 (open items)": lambda s: page(s, QueueFilters(status=OPEN_STATUSES)),
        "queue page 200": lambda s: page(s, QueueFilters(status=OPEN_STATUSES), 200),
        "queue team=billing": lambda s: page(s, QueueFilters(status=OPEN_STATUSES, team="billing")),
        "queue topic+sentiment": lambda s: page(
            s, QueueFilters(status=OPEN_STATUSES, topic="delivery", sentiment="negative")
        ),
        "queue SLA breached": lambda s: page(s, QueueFilters(status=OPEN_STATUSES, sla="breached")),
        "queue assignee": lambda s: page(s, QueueFilters(status=OPEN_STATUSES, assignee_id=3)),
        "queue filter choices": lambda s: queue_facets(session=s, topics=["delivery", "billing"]),
        "item view": lambda s: item_context(_an_item(s), session=s),
        "complaints per day and topic, 28 days": lambda s: topic_daily_counts(session=s, since=MONTH[0], until=NOW),
        "sentiment per day, 28 days": lambda s: sentiment_daily_counts(session=s, since=MONTH[0], until=NOW),
        "SLA attainment per day, 28 days": lambda s: sla_attainment_daily(session=s, since=MONTH[0], until=NOW),
        "customer search": lambda s: search_customers(session=s, text="kim"),
        "customers heard from recently (no search)": lambda s: search_customers(session=s, text=""),
    }


def _an_item(session: Session) -> int:
    # Item 5000 on a bench database; the first item on a smaller one.
    return last_item_id_up_to(session=session, highest=5000) or 0


def time_queries(
    engine: Engine, queries: dict[str, Callable[[Session], Any]], repeat: int
) -> Iterator[tuple[str, float]]:
    """(query name, mean seconds per call), one query at a time: each runs once to warm caches,
    then `repeat` times, all in one session of its own."""
    for name, run in queries.items():
        with Session(engine) as session:
            mean = mean_seconds(functools.partial(run, session), repeat)
        yield name, mean


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="database URL")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    for name, seconds in time_queries(make_engine(args.url), cases(), args.repeat):
        print(f"{name:40s} {seconds * 1000:9.1f} ms", flush=True)


if __name__ == "__main__":
    main()
