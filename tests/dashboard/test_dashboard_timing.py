"""`python -m dashboard.timing`: each dashboard query is warmed, then timed `--repeat` times, and the
queries timed are the pages' own, doing the pages' work."""

from sqlmodel import Session, col, select

from dashboard.timing import cases, main, time_queries
from responder.statuses import OPEN_STATUSES
from storage.models import QueueItem


def test_each_query_is_warmed_once_then_run_repeat_times_in_a_session_of_its_own(dashboard_db) -> None:
    sessions: dict[str, list[Session]] = {"first": [], "second": []}
    queries = {name: seen.append for name, seen in sessions.items()}
    timed = list(time_queries(dashboard_db.engine, queries, repeat=4))
    assert [name for name, _ in timed] == ["first", "second"] and all(seconds >= 0 for _, seconds in timed)
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


def test_the_command_prints_every_query_by_name_with_its_time_in_ms(dashboard_db, capsys) -> None:
    main(["--url", dashboard_db.url, "--repeat", "1"])
    printed = [line.rsplit(maxsplit=2) for line in capsys.readouterr().out.splitlines()]
    assert [name for name, _, _ in printed] == list(cases())
    assert all(unit == "ms" and float(ms) >= 0 for _, ms, unit in printed)
