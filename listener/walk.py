"""Reading a newest-first, paginated feed so that every page's cursor is safe to store.

Most platforms return the newest posts first and page backwards in time. A run therefore
remembers three things: `seen` (the newest post of the last finished run: stop there),
`next` (where the unfinished run goes on) and `top` (the newest post of the unfinished run,
which becomes `seen` when it finishes). A crash after any page resumes at `next` with the same
`seen`, so nothing between them is lost and nothing before them is read twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dangol.core.types import DeadLetterIn, Page, PostIn


@dataclass
class Fetched:
    """One API response: its posts, its rejects, the token of the next (older) page."""

    posts: list[PostIn]
    dead_letters: list[DeadLetterIn] = field(default_factory=list)
    next_token: str | None = None
    # The whole body was unreadable: keep the cursor where it was and stop this run.
    broken: bool = False
    # What the platform bills for this response, by resource (see dangol.core.types.Billing).
    billed: dict[str, int] = field(default_factory=dict)


@dataclass
class Budget:
    """Requests (or, where calls cost differently, units) this fetch may still spend (None:
    unlimited); shared by a collector's streams."""

    remaining: int | None

    def afford(self, cost: int = 1) -> bool:
        return self.remaining is None or self.remaining >= cost

    def spent(self) -> bool:
        return not self.afford()

    def take(self, cost: int = 1) -> None:
        if self.remaining is not None:
            self.remaining -= cost


@dataclass
class Stream:
    """How to read one feed: `request(token, seen_id)` makes exactly one API request."""

    request: Callable[[str | None, str | None], Fetched]
    key: Callable[[str], Any]  # external id → something ordered by age


@dataclass
class Walked:
    posts: list[PostIn]
    dead_letters: list[DeadLetterIn]
    state: dict[str, Any]
    requests: int = 1
    billed: dict[str, int] = field(default_factory=dict)


def walk_newest_first(stream: Stream, state: dict[str, Any], budget: Budget, backfill_pages: int) -> Iterator[Walked]:
    """Pages newer than `state["seen"]`, each with the state that covers it and everything before.

    A first run (nothing seen yet) reads at most `backfill_pages` pages, then starts from its top.
    """
    seen: str | None = state.get("seen")
    token: str | None = state.get("next")
    top: str | None = state.get("top")
    pages = int(state.get("pages", 0))
    while not budget.spent():
        budget.take()
        fetched = stream.request(token, seen)
        if fetched.broken:
            yield Walked([], fetched.dead_letters, dict(state), billed=fetched.billed)
            return
        fresh = [p for p in fetched.posts if seen is None or stream.key(p.external_id) > stream.key(seen)]
        for post in fresh:
            if top is None or stream.key(post.external_id) > stream.key(top):
                top = post.external_id
        pages += 1
        reached_seen = len(fresh) < len(fetched.posts)
        done = not fetched.next_token or reached_seen or not fetched.posts or (seen is None and pages >= backfill_pages)
        if done:
            state = {"seen": top or seen} if (top or seen) else {}
        else:
            state = {"seen": seen, "next": fetched.next_token, "top": top, "pages": pages}
        yield Walked(_unique(fresh), fetched.dead_letters, state, billed=fetched.billed)
        if done:
            return
        token = fetched.next_token


def walk_streams(
    streams: dict[str, Stream | None],
    cursor: dict[str, Any],
    *,
    max_requests: int | None,
    backfill_pages: int,
    keep: Callable[[PostIn], bool],
) -> Iterator[Page]:
    """Walk each stream in turn (None: not configured), newest first, within one shared request budget.

    `cursor` maps stream name → that stream's state; every page's cursor covers all streams up to
    it, so storing it after any page is safe. Posts `keep` refuses (the query's full meaning, which
    the platform's search may only approximate) are dropped; their requests still count.
    """
    state = {name: dict(cursor.get(name) or {}) for name in streams}
    budget = Budget(max_requests)
    for name, stream in streams.items():
        if stream is None:
            continue
        for walked in walk_newest_first(stream, state[name], budget, backfill_pages):
            state[name] = walked.state
            posts = [post for post in walked.posts if keep(post)]
            cursor = {k: v for k, v in state.items() if v}
            yield Page(posts, cursor, walked.dead_letters, walked.requests, billed=walked.billed)


def _unique(posts: list[PostIn]) -> list[PostIn]:
    seen: set[str] = set()
    out = []
    for post in posts:
        if post.external_id not in seen:
            seen.add(post.external_id)
            out.append(post)
    return out


# One request on one key: its posts, its rejects, the key's new state, and whether the key is done.
KeyPage = tuple[list[PostIn], list[DeadLetterIn], dict[str, Any], bool]


def walk_keys(
    keys: Sequence[str],
    cursor: dict[str, Any],
    read_page: Callable[[str, dict[str, Any]], KeyPage],
    keep: Callable[[PostIn], bool],
    max_requests: int | None,
) -> Iterator[Page]:
    """Each key (a search kind, an app and country…) in turn, a request at a time until its reader
    says it is done, at most `max_requests` in all; every page's cursor holds every key's state up
    to it, so a crash after any page resumes each key where it stood. `keep` is the local filter."""
    state = {key: dict(cursor.get(key) or {}) for key in keys}
    budget = Budget(max_requests)
    for key in keys:
        while not budget.spent():
            budget.take()
            posts, dead, state[key], done = read_page(key, state[key])
            yield Page([post for post in posts if keep(post)], {k: v for k, v in state.items() if v}, dead)
            if done:
                break


@dataclass
class Watermark:
    """Where a newest-first review listing stands, kept in a key's state: `since`/`at_since` are the
    newest review time of finished runs and the reviews at that time (stop there), `top`/`top_ids`
    the newest of the unfinished run (they become `since` when it finishes), `pages` how many pages
    the unfinished run has read. Times compare as fixed-width UTC text."""

    since: str | None
    at_since: list[str]
    top: str | None
    top_ids: list[str]
    pages: int

    @classmethod
    def read(cls, state: dict[str, Any]) -> Watermark:
        return cls(
            state.get("since"),
            list(state.get("at_since") or []),
            state.get("top"),
            list(state.get("top_ids") or []),
            int(state.get("pages", 0)) + 1,  # counting the page being read
        )

    def fresh(self, post: PostIn) -> bool:
        """Whether `post` is newer than what finished runs stored; remembers it as the run's newest."""
        stamp = post.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        seen = self.since is not None and (
            stamp < self.since or (stamp == self.since and post.external_id in self.at_since)
        )
        if seen:
            return False
        if self.top is None or stamp > self.top:
            self.top, self.top_ids = stamp, [post.external_id]
        elif stamp == self.top:
            self.top_ids.append(post.external_id)
        return True

    def first_run_done(self, backfill_pages: int) -> bool:
        """The very first run reads only `backfill_pages` pages."""
        return self.since is None and self.pages >= backfill_pages

    def state(self, done: bool, resume: dict[str, Any]) -> dict[str, Any]:
        """The key's next state: the finished run's watermark, or where the unfinished run goes on
        (`resume`: the page number or token of the next request)."""
        if done:
            new: dict[str, Any] = (
                {"since": self.top, "at_since": self.top_ids}
                if self.top is not None
                else {"since": self.since, "at_since": self.at_since}
            )
        else:
            new = {"since": self.since, "at_since": self.at_since, **resume, "top": self.top, "top_ids": self.top_ids}
            new["pages"] = self.pages
        return {k: v for k, v in new.items() if v}
