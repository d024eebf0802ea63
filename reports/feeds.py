"""Complaint-topic feeds: per topic an Atom feed and a JSON Feed 1.1, plus a CSV export.

A feed covers the last `reports.feed_days` days of complaints about one topic (at most
`reports.feed_items` items). Near-duplicates (one
`cluster_key`) appear once, as their highest-reach post, with the cluster's size; the feed's
description carries the counts and the trend against the window before, and the topic's
complaints in store reviews per app version (`reports.ratings.topic_versions`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from dangol.core.links import item_url, topic_url
from dangol.core.permissions import require
from dangol.core.settings import BrandSettings, ReportSettings, Settings, TopicSettings
from dangol.core.types import utcnow, web_link
from reports.ratings import VersionCount, topic_versions
from storage import audit
from storage import read_models as q
from storage.authors import mark_brand_accounts
from storage.models import Staff
from storage.queue import item_ids_for_posts
from storage.topics import get_topic, topics_in_force

MAX_VERSIONS = 6  # app versions named in a feed's description (the JSON feed lists them all)
MAX_POSTS = 2000  # complaints read per topic and window; enough for any feed reader's list
# Below this many complaints in the previous window the change is told as counts, not a percentage:
# "+6000%" on a base of 1 says more about the small base than about the topic.
MIN_PERCENT_BASE = 10
ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
CSV_COLUMNS = [
    "post_id",
    "created_at",
    "platform",
    "author_handle",
    "followers",
    "engagement",
    "sentiment",
    "primary_topic",
    "risk",
    "cluster_key",
    "url",
    "text",
]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One near-duplicate cluster, shown as its highest-reach post."""

    post: q.ReachPost
    cluster_size: int
    latest: datetime
    item_id: int | None = None  # the queue item covering the post, when it was queued


@dataclass(frozen=True, slots=True)
class TopicFeed:
    """The complaints about one topic in the window, deduplicated, with counts and trend."""

    key: str
    name: str
    description: str
    since: datetime
    until: datetime
    posts: int
    clusters: int
    previous_posts: int
    items: list[FeedItem]
    # The topic's complaints in store reviews per app version (this window and the one before), so a
    # product team sees a release that broke something (most complaints first).
    versions: list[VersionCount] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        """Relative change in complaints against the previous window (None when it had none)."""
        return (self.posts - self.previous_posts) / self.previous_posts if self.previous_posts else None

    @property
    def trend(self) -> str:
        if self.posts == self.previous_posts:
            return "steady"
        return "rising" if self.posts > self.previous_posts else "falling"

    @property
    def span(self) -> str:
        """The window in words: "7 days"."""
        return days_text(round((self.until - self.since) / timedelta(days=1)))

    @property
    def summary(self) -> str:
        previous = self.previous_posts
        if self.posts == previous:
            change = f"same as the previous {self.span} ({previous})"
        elif self.change is None:
            change = f"new, none in the previous {self.span}"
        elif previous < MIN_PERCENT_BASE:
            change = f"from {previous} in the previous {self.span}"
        else:
            change = f"{self.change:+.0%} vs the previous {self.span} ({previous})"
        return (
            f"{self.posts} complaint{'' if self.posts == 1 else 's'} ({self.clusters} distinct) "
            f"in the last {self.span}, {self.trend}: {change}."
        )

    @property
    def versions_text(self) -> str:
        """ "In store reviews by app version: Google Play com.maru 3.5.0: 9 (previous 0); …", or ''."""
        shown = [v for v in self.versions if v.posts]
        if not shown:
            return ""
        parts = [f"{v.label}: {v.posts} (previous {v.previous})" for v in shown[:MAX_VERSIONS]]
        return "In store reviews by app version: " + "; ".join(parts) + "."


def days_text(days: int) -> str:
    """The number of days in words: "1 day", "7 days"."""
    return f"{days} day{'' if days == 1 else 's'}"


def cluster_of(post: q.ReachPost) -> str:
    """The post's near-duplicate cluster; a post without one is its own."""
    return post.cluster_key or f"post:{post.post_id}"


def deduplicate(posts: list[q.ReachPost]) -> list[FeedItem]:
    """One item per cluster: its highest-reach post, the cluster's size and newest time; newest first."""
    groups: dict[str, list[q.ReachPost]] = {}
    for post in posts:
        groups.setdefault(cluster_of(post), []).append(post)
    items = [
        FeedItem(
            post=max(members, key=lambda p: (p.reach, -p.post_id)),
            cluster_size=len(members),
            latest=max(p.created_at for p in members),
        )
        for members in groups.values()
    ]
    return sorted(items, key=lambda i: (i.latest, i.post.post_id), reverse=True)


def build_topic_feed(
    *, session: Session, settings: Settings, key: str, now: datetime, days: int | None = None
) -> TopicFeed:
    """The feed of one topic (from config.toml or the Admin page, retired ones too) for the `days`
    (default `reports.feed_days`) ending at `now`."""
    topic = get_topic(session=session, catalog=settings.topic_catalog, key=key).topic
    return _topic_feed(session, settings.reports, key, topic, now, days)


def _topic_feed(
    session: Session, reports: ReportSettings, key: str, topic: TopicSettings, now: datetime, days: int | None = None
) -> TopicFeed:
    window = timedelta(days=days or reports.feed_days)
    since, before = now - window, now - 2 * window
    posts = q.topic_posts(session=session, topic=key, since=since, until=now, limit=MAX_POSTS, complaints_only=True)
    count, clusters = q.topic_cluster_counts(session=session, topic=key, since=since, until=now, complaints_only=True)
    previous, _ = q.topic_cluster_counts(session=session, topic=key, since=before, until=since, complaints_only=True)
    return TopicFeed(
        key=key,
        name=topic.name,
        description=topic.description,
        since=since,
        until=now,
        posts=count,
        clusters=clusters,
        previous_posts=previous,
        items=_with_items(session, deduplicate(posts)[: reports.feed_items]),
        versions=topic_versions(session=session, topic=key, since=since, until=now, before=before),
    )


def _with_items(session: Session, items: list[FeedItem]) -> list[FeedItem]:
    queued = item_ids_for_posts([i.post.post_id for i in items], session=session)
    return [replace(i, item_id=queued.get(i.post.post_id)) for i in items]


def build_feeds(*, session: Session, settings: Settings, now: datetime | None = None) -> list[TopicFeed]:
    """A feed for every topic in force (config.toml's with the Admin page's edits), in their order."""
    now = now or utcnow()
    mark_brand_accounts(session=session, own=settings.brand.own_accounts())  # their posts are not counted
    # The topics are read once here, not again per feed (each read parses the taxonomy file).
    topics = topics_in_force(session=session, catalog=settings.topic_catalog)
    return [_topic_feed(session, settings.reports, key, topic, now) for key, topic in topics.items()]


def write_feeds(
    *, session: Session, settings: Settings, out_dir: Path | str, now: datetime | None = None
) -> list[Path]:
    """Write `<topic>.atom` and `<topic>.json` for every configured topic; returns the paths."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for feed in build_feeds(session=session, settings=settings, now=now):
        paths += write_feed(feed, settings, out_dir)
    return paths


def write_feed(feed: TopicFeed, settings: Settings, out_dir: Path | str) -> list[Path]:
    """Write one topic's `<topic>.atom` and `<topic>.json` into `out_dir`; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atom, jsonfeed = out / f"{feed.key}.atom", out / f"{feed.key}.json"
    atom.write_bytes(atom_document(feed, settings))
    jsonfeed.write_text(json.dumps(json_feed(feed, settings), ensure_ascii=False, indent=2), encoding="utf-8")
    return [atom, jsonfeed]


def _title(feed: TopicFeed, brand: BrandSettings) -> str:
    return f"{brand.name}: {feed.name} complaints"


def _item_title(item: FeedItem) -> str:
    text = item.post.shared_text.strip()
    first_line = text.splitlines()[0] if text else "(no text)"
    title = first_line if len(first_line) <= 80 else first_line[:79] + "…"
    return f"{title} (×{item.cluster_size})" if item.cluster_size > 1 else title


def _item_link(item: FeedItem, settings: Settings, topic: str) -> str:
    """Where an entry leads: its queue item in Dangol, else the post on its platform, else the topic."""
    base = settings.dashboard.base_url
    if item.item_id is not None:
        return item_url(base, item.item_id)
    return web_link(item.post.url) or topic_url(base, topic)


def _post_link(item: FeedItem, settings: Settings, topic: str) -> str | None:
    """The post on its platform, when the entry itself leads elsewhere (to the queue item)."""
    link = web_link(item.post.url)
    return link if link and link != _item_link(item, settings, topic) else None


# Characters XML 1.0 forbids (C0 controls but tab, LF and CR; lone surrogates; U+FFFE and U+FFFF):
# one of them in one post would make the whole Atom document unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str | None) -> str | None:
    """`text` without the characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text) if text else text


# A cell starting with one of these is a formula to Excel and LibreOffice (=HYPERLINK, =cmd|...).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# Excel holds at most 32,767 characters in a cell; a longer one breaks the row when opened.
MAX_CELL_CHARS = 32_000


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with ' so it shows as text;
    one longer than a spreadsheet cell holds is cut, and says so."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS] + " …[cut]"
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV of `header` and `rows`, every cell through `spreadsheet_safe`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buffer.getvalue()


def audited_export(
    build: Callable[[], str],
    *,
    session: Session,
    actor: Staff | None,
    action: str,
    entity: tuple[str, object],
    counted: str,
    after: dict[str, object] | None = None,
) -> str:
    """Hand out an export of people's data: `actor` must hold `action` before anything is read
    (None: the CLI, recorded as system:cli); `build` writes the CSV, and one audit event records the
    export with the number of records in it (`counted`)."""
    if actor is not None:
        require(actor, action)
    text = build()
    records = sum(1 for _ in csv.reader(io.StringIO(text))) - 1  # a text cell may hold line breaks
    entity_type, entity_id = entity
    audit.record(
        session, actor=actor or "system:cli", action=action, entity_type=entity_type, entity_id=entity_id,
        after={**(after or {}), counted: records},
    )  # fmt: skip
    session.flush()
    return text


def _item_id(item: FeedItem) -> str:
    # The cluster, not the post, so a growing cluster updates one entry instead of adding another.
    return f"tag:dangol,2026:cluster/{cluster_of(item.post)}"


def feed_id(key: str) -> str:
    """The Atom id of a topic's feed (also how a feed file is known to be Dangol's)."""
    return f"tag:dangol,2026:feed/{key}"


def atom_document(feed: TopicFeed, settings: Settings) -> bytes:
    """The feed as an Atom 1.0 document (UTF-8 bytes)."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_safe(v) or "" for k, v in attrs.items()})
        element.text = xml_safe(text)
        return element

    root = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(root, "id", feed_id(feed.key))
    sub(root, "title", _title(feed, settings.brand))
    sub(root, "subtitle", " ".join(part for part in (feed.summary, feed.versions_text) if part))
    sub(root, "updated", (feed.items[0].latest if feed.items else feed.until).isoformat())
    sub(root, "link", href=topic_url(settings.dashboard.base_url, feed.key))
    sub(root, "generator", "Dangol")
    for item in feed.items:
        entry = sub(root, "entry")
        sub(entry, "id", _item_id(item))
        sub(entry, "title", _item_title(item))
        sub(entry, "updated", item.latest.isoformat())
        sub(entry, "published", item.post.created_at.isoformat())
        sub(entry, "link", href=_item_link(item, settings, feed.key))
        original = _post_link(item, settings, feed.key)
        if original:
            sub(entry, "link", rel="related", href=original)
        author = sub(entry, "author")
        sub(author, "name", f"@{item.post.handle} ({item.post.platform})")
        sub(entry, "category", term=feed.key, label=feed.name)
        sub(entry, "content", _content(item), type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _content(item: FeedItem) -> str:
    similar = f"\n\n{item.cluster_size - 1} similar posts." if item.cluster_size > 1 else ""
    return f"{item.post.shared_text}\n\nReach {item.post.reach}, sentiment {item.post.sentiment}.{similar}"


def json_feed(feed: TopicFeed, settings: Settings) -> dict[str, object]:
    """The feed as a JSON Feed 1.1 object; Dangol's figures sit in `_dangol` extensions."""
    return {
        "version": JSON_FEED_VERSION,
        "title": _title(feed, settings.brand),
        "home_page_url": topic_url(settings.dashboard.base_url, feed.key),
        "description": " ".join(
            part
            for part in (f"{feed.description}." if feed.description else "", feed.summary, feed.versions_text)
            if part
        ),
        "_dangol": {
            "topic": feed.key,
            "since": feed.since.isoformat(),
            "until": feed.until.isoformat(),
            "posts": feed.posts,
            "clusters": feed.clusters,
            "previous_posts": feed.previous_posts,
            "trend": feed.trend,
            "change": feed.change,
            "app_versions": [
                {
                    "store": v.platform,
                    "app": v.app,
                    "version": v.version,
                    "posts": v.posts,
                    "previous_posts": v.previous,
                }
                for v in feed.versions
            ],
        },
        "items": [
            {
                "id": _item_id(item),
                "url": _item_link(item, settings, feed.key),
                **({"external_url": link} if (link := _post_link(item, settings, feed.key)) else {}),
                "title": _item_title(item),
                "content_text": _content(item),
                "date_published": item.post.created_at.isoformat(),
                "date_modified": item.latest.isoformat(),
                "authors": [{"name": f"@{item.post.handle} ({item.post.platform})"}],
                "tags": [feed.key],
                "_dangol": {
                    "post_id": item.post.post_id,
                    "item_id": item.item_id,
                    "cluster_size": item.cluster_size,
                    "reach": item.post.reach,
                    "sentiment": item.post.sentiment,
                    "risk": item.post.risk,
                },
            }
            for item in feed.items
        ],
    }


def digest_text(feeds: list[TopicFeed], settings: Settings) -> str:
    """A short plain-text digest of the feeds, for a chat webhook."""
    lines = [f"{settings.brand.name}: complaint topics, last {days_text(settings.reports.feed_days)}"]
    for feed in sorted(feeds, key=lambda f: -f.posts):
        lines.append(
            " ".join(
                part
                for part in (
                    f"• {feed.name}: {feed.summary}",
                    feed.versions_text,
                    topic_url(settings.dashboard.base_url, feed.key),
                )
                if part
            )
        )
    return "\n".join(lines)


def export_topic(topic_key: str, *, session: Session, actor: Staff | None, since: datetime, until: datetime) -> str:
    """A topic's posts in `[since, until)` as CSV (`topic.export`), audited with the window and the
    number of posts; `actor=None` only from the CLI (recorded as system:cli)."""
    return audited_export(
        lambda: topic_csv(topic_key, session=session, since=since, until=until),
        session=session, actor=actor, action="topic.export", entity=("topic", topic_key), counted="posts",
        after={"since": since, "until": until},
    )  # fmt: skip


def topic_csv(topic_key: str, *, session: Session, since: datetime, until: datetime) -> str:
    """Every post whose primary topic is `topic_key` in `[since, until)`, newest first, as CSV."""
    rows = (
        [
            p.post_id,
            p.created_at.isoformat(),
            p.platform,
            p.handle,
            p.followers,
            p.engagement,
            p.sentiment,
            p.primary_topic,
            f"{p.risk:.3f}",
            p.cluster_key,
            web_link(p.url) or "",
            p.shared_text,
        ]
        for p in q.topic_posts(session=session, topic=topic_key, since=since, until=until)
    )
    return csv_document(CSV_COLUMNS, rows)
