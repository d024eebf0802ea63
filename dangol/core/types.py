"""Plain data shared between stages: what a collector produces and the pipeline stores.

No database is needed to build or test any of it. The post's fields are declared once, in
`PostBase` (a SQLModel without a table): `PostIn` is what collectors build, `storage.models.Post`
the table row.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ConfigDict, InstanceOf, field_validator
from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from dangol.core.columns import UtcDateTime, json_column

# A post's sentiment, as every stage names it (the models' classes, filters, reports).
SENTIMENTS = ("negative", "neutral", "positive")
PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "rss", "naver", "youtube", "appstore", "googleplay")
# Platforms whose records are app-store reviews: one per author and app, editable by their author,
# and answered once by the developer (an answered review needs nothing more from the queue).
REVIEW_PLATFORMS = frozenset({"appstore", "googleplay"})
WEB_SCHEMES = ("http", "https")
# The common case, a plain http(s) link with a host name: accepted without urlsplit (twice a post
# while collecting). Anything else takes the full check.
_PLAIN_WEB_LINK = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][^\x00-\x20\x7f]*)?", re.ASCII)


# Ids longer than this are stored as their hash: a btree index row must stay under ~2.7 KB on
# PostgreSQL, and one hostile 3 KB link must not fail the whole page.
MAX_ID_CHARS = 256
# Counts are stored in 32-bit columns: a hostile or absurd value is clamped, not a failed page.
MAX_COUNT = 2**31 - 1
# Row ids are 32-bit integers too: an id typed or linked beyond this is refused as invalid before
# any query (the database would refuse the bound value with an error, not "no such row").
MAX_ROW_ID = 2**31 - 1


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
    if _PLAIN_WEB_LINK.fullmatch(url):
        return url
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


class PostBase(SQLModel):
    """The fields of a post that collectors produce and the `post` table stores, declared once.

    `PostIn` adds what only a collector hands over (the author, the raw payload, a deletion), and
    `storage.models.Post` the keys and what only storage keeps. The validators below clean what a
    collector gives when a `PostIn` is built; a table row is built from values already clean (SQLModel
    does not validate table models). Strict: no value is coerced into another type (a string is never
    read as a time or a number), as the dataclass this replaced never did.
    """

    # SQLModel types its config as its own TypedDict (ConfigDict plus `table`); this one sets no table.
    model_config = ConfigDict(strict=True)  # type: ignore[assignment]

    platform: str
    external_id: str
    text: str = Field(sa_type=Text)
    title: str | None = None
    url: str | None = None
    lang_hint: str | None = None
    created_at: datetime = Field(sa_type=UtcDateTime, index=True)
    reply_to_id: str | None = None
    thread_id: str | None = None
    referenced_id: str | None = None
    is_retweet: bool = False
    is_quote: bool = False
    is_reply: bool = False
    metrics: dict[str, int] = json_column(dict)

    # Each rule runs before the type check, on what the collector passed, as __post_init__ did.

    @field_validator("created_at", mode="before")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # A time without a zone is ambiguous (whose midnight?): refused rather than guessed. Stored and
        # compared in UTC only (SQLite keeps no offset; report windows are UTC).
        if value.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        return value.astimezone(UTC)

    @field_validator("url", mode="before")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        # Only an http(s) link may become a link in a report, feed or export (no `javascript:`).
        return web_link(value)

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: str | None) -> str:
        # PostgreSQL cannot store NUL in a text column; a post without text (an image) is kept as "".
        return without_nul(value) or ""

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        # PostgreSQL cannot store NUL in a text column.
        return without_nul(value)

    @field_validator("external_id", mode="before")
    @classmethod
    def _external_id(cls, value: str | None) -> str:
        # A hostile 3 KB id must fit a btree index row: a long id is stored as its hash.
        return bounded_id(value) or ""

    @field_validator("reply_to_id", "thread_id", "referenced_id", mode="before")
    @classmethod
    def _other_id(cls, value: str | None) -> str | None:
        # The same bound as external_id: these ids are indexed and compared with external ids.
        return bounded_id(value)

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics(cls, value: dict[str, Any]) -> dict[str, int]:
        # Only integer counters are kept (a platform's odd value is dropped, not a failed page), each
        # clamped to 0..MAX_COUNT (a bool counts as 0 or 1, as int(True) does).
        if all(type(v) is int and 0 <= v <= MAX_COUNT for v in value.values()):
            return value  # what collectors' counts nearly always are: kept without a copy
        return {k: bounded_count(v) or 0 for k, v in value.items() if isinstance(v, int)}


class PostIn(PostBase):
    """One public post, normalized across platforms: what a collector produces."""

    author: InstanceOf[AuthorIn]
    raw: Any = None
    # The platform says the post was deleted or removed: storage clears what it holds of it.
    deleted: bool = False

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
