"""Plain data shared between stages: what a collector produces and the pipeline stores.

These are deliberately free of any database or library type so that collectors and models
can be tested without storage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "rss", "naver", "youtube", "appstore", "googleplay")
# Platforms whose records are app-store reviews: one per author and app, editable by their author,
# and answered once by the developer (an answered review needs nothing more from the queue).
REVIEW_PLATFORMS = frozenset({"appstore", "googleplay"})
WEB_SCHEMES = ("http", "https")


# Ids longer than this are stored as their hash: a btree index row must stay under ~2.7 KB on
# PostgreSQL, and one hostile 3 KB link must not fail the whole page.
MAX_ID_CHARS = 256
# Counts are stored in 32-bit columns: a hostile or absurd value is clamped, not a failed page.
MAX_COUNT = 2**31 - 1


def bounded_id(value: str | None) -> str | None:
    """`value`, or "sha256:<hex>" of it when longer than MAX_ID_CHARS (the same id gives the same hash)."""
    value = without_nul(value)
    if value is None or len(value) <= MAX_ID_CHARS:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def bounded_count(value: int | None) -> int | None:
    """`value` clamped to 0..MAX_COUNT (None stays None)."""
    return None if value is None else max(0, min(int(value), MAX_COUNT))


def without_nul(text: str | None) -> str | None:
    """`text` without NUL characters, which PostgreSQL cannot store in a text column."""
    return text.replace("\x00", "") if text else text


def web_link(url: str | None) -> str | None:
    """`url` when it is an http(s) link with a host, else None: `javascript:`, `data:`, `file:` and
    other schemes from a feed or a post must never become a link in a report, feed or export."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc or any(c in url for c in "\x00\r\n\t"):
        return None
    return url


@dataclass(frozen=True, slots=True)
class AuthorIn:
    """A social identity as the platform shows it."""

    platform: str
    platform_id: str
    handle: str
    display_name: str = ""
    followers: int | None = None
    url: str | None = None
    bio: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", web_link(self.url))
        for name in ("display_name", "bio"):
            object.__setattr__(self, name, without_nul(getattr(self, name)))
        object.__setattr__(self, "platform_id", bounded_id(self.platform_id))
        object.__setattr__(self, "handle", (without_nul(self.handle) or "")[:MAX_ID_CHARS])
        object.__setattr__(self, "followers", bounded_count(self.followers))


@dataclass(slots=True)
class PostIn:
    """One public post, normalized across platforms."""

    platform: str
    external_id: str
    author: AuthorIn
    text: str
    created_at: datetime
    url: str | None = None
    lang_hint: str | None = None
    title: str | None = None
    reply_to_id: str | None = None
    thread_id: str | None = None
    referenced_id: str | None = None
    is_retweet: bool = False
    is_quote: bool = False
    is_reply: bool = False
    metrics: dict[str, int] = field(default_factory=dict)
    raw: Any = None
    # The platform says the post was deleted or removed: storage clears what it holds of it.
    deleted: bool = False

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        self.created_at = self.created_at.astimezone(UTC)
        self.url = web_link(self.url)
        self.text = without_nul(self.text) or ""
        self.title = without_nul(self.title)
        self.external_id = bounded_id(self.external_id) or ""
        self.reply_to_id = bounded_id(self.reply_to_id)
        self.thread_id = bounded_id(self.thread_id)
        self.referenced_id = bounded_id(self.referenced_id)
        self.metrics = {k: bounded_count(v) or 0 for k, v in self.metrics.items() if isinstance(v, int)}

    @property
    def engagement(self) -> int:
        """Likes, reposts, replies and quotes added up: a rough measure of reach beyond followers."""
        return engagement(self.metrics)


# A review's 1–5 stars, kept in its metrics. It describes the post rather than counting people who
# reacted to it: a 5-star rating is no reach (and would make praise outrank a 1-star complaint).
RATING = "rating"
NOT_ENGAGEMENT = frozenset({RATING})


def engagement(metrics: dict[str, Any]) -> int:
    """The counts of people reacting to a post (likes, reposts, replies, quotes…) added up."""
    return sum(v for k, v in metrics.items() if isinstance(v, int) and k not in NOT_ENGAGEMENT)


def star_rating(metrics: Any) -> int | None:
    """A review's 1–5 star rating from its metrics (None when it has none)."""
    rating = metrics.get(RATING) if isinstance(metrics, dict) else None
    return rating if isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5 else None


@dataclass(frozen=True, slots=True)
class DeadLetterIn:
    """A record that could not be parsed, kept with the reason and the raw bytes."""

    platform: str
    reason: str
    raw: Any


@dataclass(slots=True)
class Page:
    """One page of a source: its posts, its rejects, and the cursor that covers them.

    The pipeline stores `posts`, `dead_letters` and `cursor` in one transaction, so a crash
    between pages loses nothing and duplicates nothing.
    """

    posts: list[PostIn]
    cursor: dict[str, Any]
    dead_letters: list[DeadLetterIn] = field(default_factory=list)
    requests: int = 1
    # What the platform bills for this page, by resource ("posts": 57, "users": 40), where it bills
    # resources rather than requests; every object returned counts, kept or not.
    billed: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Recheck:
    """One answer of a platform about stored posts, by external id: `checked` were asked about (or
    could not be asked about, such as a malformed id) and `gone` are those it says are deleted.

    Only an explicit answer puts an id in `gone` (X's resource-not-found, Mastodon's 404 with its
    error body, a post missing from a well-formed Bluesky getPosts answer); a request that failed
    raises instead, so an unreachable platform never makes a post look deleted."""

    checked: list[str]
    gone: list[str] = field(default_factory=list)
    requests: int = 1
    # What the platform bills for the answer, as `Page.billed` (X: the posts it returned).
    billed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Billing:
    """How a platform bills a source's reads, and the caps configured for it (per period).

    `unit` is what the cap counts: a resource named in `Page.billed` ("posts"), or "calls" (one per
    request). Money is the sum of each billed resource times its price. The pipeline lets a run make
    only as many requests as fit under both caps even if every one returned `worst_case`, so a
    budget is never overspent, and debits each page in the transaction that stores it."""

    unit: str
    period: str = "month"  # "month" or "day", counted in `timezone`
    timezone: str = "UTC"
    limit: int | None = None
    spend_limit_micros: int | None = None  # millionths of a US dollar
    prices_micros: dict[str, int] = field(default_factory=dict)  # per billed resource
    worst_case: dict[str, int] = field(default_factory=dict)  # the most of each resource one request bills
    # Where the prices come from and when they were checked ("docs.x.com pricing, 2026-12-03").
    price_note: str = ""

    def units(self, page: Page) -> int:
        """The capped unit this page used."""
        return page.requests if self.unit == "calls" else page.billed.get(self.unit, 0)

    def cost_micros(self, billed: dict[str, int]) -> int:
        return sum(count * self.prices_micros.get(kind, 0) for kind, count in billed.items())


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the only kind of time Dangol stores)."""
    return datetime.now(UTC)


@dataclass(slots=True)
class ClusterMember:
    """An already analyzed recent post, for near-duplicate grouping of new ones."""

    cluster_key: str
    text_hash: str
    embedding: Any  # np.ndarray, the post's L2-normalised embedding
    platform: str
    external_id: str
    # The post's text: near-duplicates must also share most of their characters (nlp/dedup.py).
    text: str = ""
