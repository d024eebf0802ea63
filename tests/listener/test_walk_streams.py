"""walk_streams: the collectors' shared loop over several newest-first streams."""

from __future__ import annotations

from collections.abc import Callable

from dangol.core.types import PostIn
from listener.walk import Fetched, Stream, walk_streams


def feed(posts: list[PostIn], page_size: int, calls: list[str], name: str) -> Stream:
    """A newest-first feed over `posts` (ids are numbers), paged by index tokens."""

    def request(token: str | None, seen: str | None) -> Fetched:
        calls.append(name)
        start = int(token or 0)
        page = posts[start : start + page_size]
        more = start + page_size < len(posts)
        return Fetched(page, next_token=str(start + page_size) if more else None)

    return Stream(request, key=int)


def numbered(make_post: Callable[..., PostIn], ids: list[int], text: str = "maru") -> list[PostIn]:
    return [make_post(external_id=str(i), text=f"{text} {i}") for i in ids]


def test_streams_share_one_budget_and_every_cursor_covers_the_streams_before_it(make_post) -> None:
    calls: list[str] = []
    streams = {
        "a": feed(numbered(make_post, [9, 8, 7, 6]), 2, calls, "a"),
        "off": None,
        "b": feed(numbered(make_post, [5, 4]), 2, calls, "b"),
    }
    pages = list(walk_streams(streams, {"off": {"seen": "1"}}, max_requests=2, backfill_pages=5, keep=lambda p: True))
    assert calls == ["a", "a"]  # the budget ran out before stream b
    assert [[p.external_id for p in page.posts] for page in pages] == [["9", "8"], ["7", "6"]]
    assert pages[0].cursor == {"a": {"seen": None, "next": "2", "top": "9", "pages": 1}, "off": {"seen": "1"}}
    assert pages[1].cursor == {"a": {"seen": "9"}, "off": {"seen": "1"}}


def test_posts_the_query_refuses_are_dropped_but_their_requests_count(make_post) -> None:
    calls: list[str] = []
    posts = numbered(make_post, [3], "maru") + numbered(make_post, [2], "other")
    pages = list(
        walk_streams(
            {"s": feed(posts, 10, calls, "s")},
            {},
            max_requests=None,
            backfill_pages=1,
            keep=lambda p: "maru" in p.text,
        )
    )
    assert [[p.external_id for p in page.posts] for page in pages] == [["3"]]
    assert (pages[0].requests, pages[0].cursor) == (1, {"s": {"seen": "3"}})
