"""`python -m bench.dashboard_queries`: each dashboard query is warmed, then timed `--repeat` times,
and the queries timed are the pages' own, doing the pages' work. The figures are checked against a
fake clock and for being positive, never against how fast this machine is."""

from itertools import count
from types import SimpleNamespace

import pytest
from sqlmodel import Session, col, select

import bench.timing
from bench.dashboard_queries import cases, main, time_queries
from responder.statuses import OPEN_STATUSES
from storage.models import QueueItem


def test_each_query_is_warmed_once_then_timed_repeat_times_in_a_session_of_its_own(
    dashboard_db, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clock that only moves when a query runs: the cold first run takes 100 s, every later one
    # 2 s (first) or 3 s (second), so the mean says whether the warm-up was left out.
    now = [0.0]
    monkeypatch.setattr(bench.timing, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    sessions: dict[str, list[Session]] = {"first": [], "second": []}

    def query(name: str, cost: float):
        def run(session: Session) -> None:
            now[0] += 100.0 if not sessions[name] else cost
            sessions[name].append(session)

        return run

    timed = list(time_queries(dashboard_db.engine, {"first": query("first", 2.0), "second": query("second", 3.0)}, 4))
    assert timed == [("first", 2.0), ("second", 3.0)]
    assert [len(seen) for seen in sessions.values()] == [5, 5]
    assert [len({id(s) for s in seen}) for seen in sessions.values()] == [1, 1]
    assert sessions["first"][0] is not sessions["second"][0]


def test_the_timed_queue_page_and_item_view_return_the_databases_rows(dashboard_db) -> None:
    queries = cases()
    with Session(dashboard_db.engine) as session:
        open_items = set(session.exec(select(QueueItem.id).where(col(QueueItem.status).in_(OPEN_STATUSES))))
        newest = max(session.exec(select(QueueItem.id)))
        page = queries["queue page 1 (open items)"](session)
        item = queries["item view"](session)
    assert open_items and {row.item_id for row in page} == open_items
    assert item.item.id == newest


def test_every_dashboard_query_gets_a_positive_time(dashboard_db) -> None:
    timed = list(time_queries(dashboard_db.engine, cases(), 1))
    assert [name for name, _ in timed] == list(cases())
    assert all(isinstance(seconds, float) and seconds > 0 for _, seconds in timed)


def test_the_command_prints_every_query_by_name_with_its_mean_in_ms(
    dashboard_db, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each reading of the clock is 25 ms after the last: two repeats between two readings, 12.5 ms each.
    ticks = count(0.0, 0.025)
    monkeypatch.setattr(bench.timing, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    main(["--url", dashboard_db.url, "--repeat", "2"])
    printed = [line.rsplit(maxsplit=2) for line in capsys.readouterr().out.splitlines()]
    assert [name for name, _, _ in printed] == list(cases())
    assert {(ms, unit) for _, ms, unit in printed} == {("12.5", "ms")}
