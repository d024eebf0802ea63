"""Keyset paging of the queue, and filters on the labels copied onto queue items at routing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import cycle

import pytest
from sqlmodel import Session, col, select

from responder.queue import QueueFilters, QueuePage, close, list_queue, route_new
from responder.statuses import OPEN_STATUSES
from storage.feedback import add_label_feedback
from storage.models import Analysis, Post, QueueItem, Staff
from storage.queue import SORTS
from tests.responder.conftest import NOW

OPEN = QueueFilters(status=OPEN_STATUSES)
RISKS = (0.9, 0.65, 0.3, 0.1)  # priorities 1-4: with one routing time, every priority holds ties


@pytest.fixture
def queue(session: Session, settings, seed_post) -> list[int]:
    """23 open items routed at the same moment (so the sort keys tie), ids in creation order."""
    for n, risk in zip(range(23), cycle(RISKS), strict=False):
        seed_post(f"complaint {n}", risk=risk)
    route_new(session=session, settings=settings, now=NOW)
    return list(session.exec(select(QueueItem.id).order_by(col(QueueItem.id))))


def walk(
    session: Session, sort: str, page_size: int, between: Callable[[QueuePage], None] = lambda _: None
) -> list[int]:
    """Ids of every page from the first, following `next`; `between` runs after each page."""
    page = list_queue(OPEN, session=session, sort=sort, page_size=page_size)
    seen = [i.id for i in page.items]
    while page.next is not None:
        between(page)
        page = list_queue(OPEN, session=session, sort=sort, page_size=page_size, page=page.page + 1, cursor=page.next)
        seen += [i.id for i in page.items]
    return seen


@pytest.mark.parametrize("sort", SORTS)
def test_paging_by_cursor_visits_every_item_once_in_the_order_of_one_long_page(session, queue, sort):
    whole = [i.id for i in list_queue(OPEN, session=session, sort=sort, page_size=500).items]
    assert sorted(whole) == queue
    assert walk(session, sort, page_size=5) == whole


def test_items_closed_while_paging_neither_skip_nor_repeat_the_others(session, queue, make_staff):
    admin = make_staff("ann", role="admin")
    whole = [i.id for i in list_queue(OPEN, session=session, page_size=500).items]
    closed: list[int] = []

    def close_some(page: QueuePage) -> None:
        # One item already shown, and the first item of the page to come: both leave the filter.
        shown, upcoming = page.items[0].id, whole[whole.index(page.items[-1].id) + 1]
        for item_id in (shown, upcoming):
            close(item_id, actor=admin, session=session, now=NOW)
            closed.append(item_id)

    seen = walk(session, "priority", page_size=4, between=close_some)
    assert len(seen) == len(set(seen))
    assert set(seen) == set(whole) - {i for i in closed if i not in seen}
    assert [i for i in whole if i in seen] == seen


def test_previous_page_is_the_page_before(session, queue):
    first = list_queue(OPEN, session=session, page_size=5)
    second = list_queue(OPEN, session=session, page_size=5, page=2, cursor=first.next)
    third = list_queue(OPEN, session=session, page_size=5, page=3, cursor=second.next)
    back = list_queue(OPEN, session=session, page_size=5, page=2, cursor=third.previous)
    assert [i.id for i in back.items] == [i.id for i in second.items]
    assert back.page == 2 and back.previous is not None and back.next is not None


def test_paging_back_after_items_closed_ahead_shows_a_full_first_page(session, queue, make_staff):
    admin = make_staff("ann", role="admin")
    first = list_queue(OPEN, session=session, page_size=5)
    second = list_queue(OPEN, session=session, page_size=5, page=2, cursor=first.next)
    close(first.items[0].id, actor=admin, session=session, now=NOW)
    back = list_queue(OPEN, session=session, page_size=5, page=1, cursor=second.previous)
    assert [i.id for i in back.items] == [i.id for i in list_queue(OPEN, session=session, page_size=5).items]
    assert (back.page, back.previous, len(back.items)) == (1, None, 5)


def test_an_item_that_arrives_ahead_is_found_by_paging_back(session, settings, queue, seed_post):
    first = list_queue(OPEN, session=session, page_size=5)
    second = list_queue(OPEN, session=session, page_size=5, page=2, cursor=first.next)
    seed_post("an urgent newcomer", risk=0.95)
    route_new(session=session, settings=settings, now=NOW - timedelta(hours=1))
    back = list_queue(OPEN, session=session, page_size=5, page=1, cursor=second.previous)
    assert [i.id for i in back.items] == [i.id for i in first.items] and back.previous is not None
    start = list_queue(OPEN, session=session, page_size=5, page=1, cursor=back.previous)
    assert [i.id for i in start.items] == [max(queue) + 1, *(i.id for i in first.items[:4])]
    assert (start.page, start.previous) == (1, None)


def test_first_and_last_pages_say_there_is_nothing_beyond_them(session, queue):
    first = list_queue(OPEN, session=session, page_size=20)
    last = list_queue(OPEN, session=session, page_size=20, page=2, cursor=first.next)
    assert (first.previous, len(first.items)) == (None, 20)
    assert (last.next, len(last.items), last.pages) == (None, 3, 2)


def test_a_page_jump_without_a_cursor_still_reads_that_page(session, queue):
    whole = [i.id for i in list_queue(OPEN, session=session, page_size=500).items]
    assert [i.id for i in list_queue(OPEN, session=session, page_size=5, page=3).items] == whole[10:15]


def test_items_without_a_due_time_come_last_by_due_time(session, queue):
    undated = session.get(QueueItem, queue[0])
    undated.first_response_due_at = None
    session.flush()
    assert [i.id for i in list_queue(OPEN, session=session, sort="due", page_size=500).items][-1] == queue[0]


@pytest.fixture
def half_undated(session: Session, queue: list[int]) -> list[int]:
    """Every other item loses its due time; returns the ids in due order (undated last, by id)."""
    for item_id in queue[::2]:
        session.get(QueueItem, item_id).first_response_due_at = None  # type: ignore[union-attr]
    session.flush()
    dated = sorted(session.exec(select(QueueItem).where(col(QueueItem.first_response_due_at).is_not(None))),
                   key=lambda i: (i.first_response_due_at, i.id))  # fmt: skip
    return [i.id for i in dated] + queue[::2]


def test_paging_by_due_time_crosses_from_dated_to_undated_items_both_ways(session, half_undated):
    assert walk(session, "due", page_size=4) == half_undated
    pages = [list_queue(OPEN, session=session, sort="due", page_size=4)]
    while pages[-1].next is not None:
        pages.append(list_queue(OPEN, session=session, sort="due", page_size=4, cursor=pages[-1].next))
    back = [list_queue(OPEN, session=session, sort="due", page_size=4, cursor=p.previous) for p in pages[1:]]
    assert [[i.id for i in b.items] for b in back] == [[i.id for i in p.items] for p in pages[:-1]]


def test_a_due_page_jump_lands_past_the_dated_items_too(session, half_undated):
    for page in (1, 3, 4, 5):
        found = list_queue(OPEN, session=session, sort="due", page_size=3, page=page).items
        assert [i.id for i in found] == half_undated[(page - 1) * 3 : page * 3]


def test_tag_filter_pages_by_due_time_across_undated_items(session, half_undated, make_staff):
    from responder.queue import add_tag

    amy = make_staff("amy")
    for item_id in half_undated:
        add_tag(item_id, "refund", actor=amy, session=session)
    first = list_queue(QueueFilters(tag="refund"), session=session, sort="due", page_size=15)
    rest = list_queue(QueueFilters(tag="refund"), session=session, sort="due", page_size=15, cursor=first.next)
    assert [i.id for i in first.items + rest.items] == half_undated


def test_tag_filter_pages_by_cursor_too(session, queue, make_staff):
    from responder.queue import add_tag

    amy = make_staff("amy")
    tagged = queue[::3]
    for item_id in tagged:
        add_tag(item_id, "refund", actor=amy, session=session)
    first = list_queue(QueueFilters(tag="refund"), session=session, sort="oldest", page_size=5)
    rest = list_queue(QueueFilters(tag="refund"), session=session, sort="oldest", page_size=5, cursor=first.next)
    assert [i.id for i in first.items + rest.items] == tagged
    assert first.total == rest.total == len(tagged)  # counted from the start and past a cursor alike


# --- labels copied onto queue items ----------------------------------------------------------


@pytest.fixture
def labelled(session: Session, settings, seed_post) -> None:
    """Items of mixed platform, language, sentiment and topic, routed the ordinary way."""
    platforms, languages = cycle(("x", "reddit", "mastodon")), cycle(("en", "ko", "en", "ja"))
    sentiments, topics = cycle(("negative", "neutral", "negative")), cycle(("delivery", "billing", "app", "other"))
    for n in range(24):
        seed_post(
            f"post {n}", platform=next(platforms), language=next(languages), sentiment=next(sentiments),
            primary_topic=next(topics), risk=0.7,
        )  # fmt: skip
    route_new(session=session, settings=settings, now=NOW)


def joined_truth(session: Session, **where: str) -> set[int]:
    """Queue item ids whose post and analysis (the tables the labels are copied from) match."""
    columns = {"platform": Post.platform, "language": Analysis.language, "sentiment": Analysis.sentiment,
               "topic": Analysis.primary_topic}  # fmt: skip
    stmt = (
        select(QueueItem.id)
        .join(Post, col(Post.id) == QueueItem.post_id)
        .join(Analysis, col(Analysis.post_id) == QueueItem.post_id)
        .where(*(col(columns[k]) == v for k, v in where.items()))
    )
    return set(session.exec(stmt))


@pytest.mark.parametrize(
    "where",
    [
        {"platform": "reddit"},
        {"language": "ko"},
        {"sentiment": "neutral"},
        {"topic": "billing"},
        {"platform": "x", "language": "en", "topic": "delivery"},
        {"language": "ja", "sentiment": "negative"},
    ],
)
def test_label_filters_on_queue_items_match_the_posts_and_analyses(session, labelled, where):
    page = list_queue(QueueFilters(**where), session=session, page_size=500)
    assert {i.id for i in page.items} == joined_truth(session, **where)
    assert page.total == len(page.items) > 0


def test_a_topic_correction_moves_the_item_to_the_corrected_topic(session, labelled):
    item = list_queue(QueueFilters(topic="billing"), session=session).items[0]
    staff = Staff(username="sam")
    session.add(staff)
    session.flush()
    add_label_feedback(session=session, post_id=item.post_id, kind="topic", new_value="app", staff_id=staff.id)
    assert item.id not in {
        i.id for i in list_queue(QueueFilters(topic="billing"), session=session, page_size=500).items
    }
    assert item.id in {i.id for i in list_queue(QueueFilters(topic="app"), session=session, page_size=500).items}


def test_a_count_past_the_limit_says_so_instead_of_counting_on(session, queue, monkeypatch):
    monkeypatch.setattr("storage.queue.COUNT_LIMIT", 20)
    page = list_queue(OPEN, session=session, page_size=10)
    assert (page.total, page.total_is_exact, page.describe()) == (20, False, "20+ items · page 1 of 2+")
    assert list_queue(QueueFilters(status=OPEN_STATUSES, priority=1), session=session).total_is_exact


def test_the_due_time_in_sql_is_the_items_own(session, queue):
    """`storage.queue.due_column` (sorting, filtering) and `QueueItem.due_at` (the item page, the SLA
    badge) pick the same deadline: the first response's until answered, then the resolution's."""
    from sqlalchemy import select as sql_select

    from storage.queue import due_column

    answered, undated = session.get(QueueItem, queue[1]), session.get(QueueItem, queue[2])
    answered.first_responded_at = NOW + timedelta(minutes=5)
    undated.first_response_due_at = None
    session.flush()
    by_sql = dict(session.execute(sql_select(QueueItem.id, due_column())).all())
    items = session.exec(select(QueueItem)).all()
    assert {i.id: i.due_at for i in items} == by_sql
    assert answered.due_at == answered.resolution_due_at != answered.first_response_due_at
    assert (answered.running_deadline, undated.running_deadline) == ("resolution", "first_response")
    assert undated.due_at is None
