"""Storing what collectors return: posts, authors, dead letters and the source's cursor.

`store_page` writes one page and its cursor in the caller's transaction, so a crash between
pages neither loses nor duplicates a post. Inserts are `ON CONFLICT DO NOTHING` on
(platform, external_id): re-running a source, or two workers racing, stores each post once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlmodel
from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from dangol.types import Page, PostIn, utcnow
from storage.models import Author, DeadLetter, Post, Source


@dataclass(slots=True)
class StoreResult:
    """What one page added: new posts, ones already stored, and records dead-lettered."""

    new_posts: int = 0
    duplicates: int = 0
    dead_letters: int = 0

    def add(self, other: StoreResult) -> None:
        self.new_posts += other.new_posts
        self.duplicates += other.duplicates
        self.dead_letters += other.dead_letters


def get_or_create_source(session: Session, *, name: str, use: str) -> Source:
    """The Source row for a configured source, created on first use."""
    source = session.exec(sqlmodel.select(Source).where(Source.name == name)).first()
    if source is None:
        source = Source(name=name, use=use)
        session.add(source)
        session.flush()
    elif source.use != use:
        source.use = use
    return source


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}; use SQLite or PostgreSQL")


def serialize_raw(raw: Any) -> str:
    """The raw payload as text: JSON for structures, as-is for strings (RSS XML)."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    return json.dumps(raw, ensure_ascii=False, default=str)


def upsert_authors(session: Session, posts: list[PostIn], now: datetime) -> dict[tuple[str, str], int]:
    """Insert new authors and refresh known ones; returns (platform, platform_id) → author id."""
    latest: dict[tuple[str, str], Any] = {}
    for post in posts:
        latest[(post.author.platform, post.author.platform_id)] = post.author
    if not latest:
        return {}
    rows = [
        {
            "platform": a.platform,
            "platform_id": a.platform_id,
            "handle": a.handle,
            "display_name": a.display_name,
            "followers": a.followers,
            "url": a.url,
            "bio": a.bio,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for a in latest.values()
    ]
    stmt = _insert(session, Author)
    stmt = stmt.on_conflict_do_update(
        index_elements=["platform", "platform_id"],
        set_={
            "handle": stmt.excluded.handle,
            "display_name": stmt.excluded.display_name,
            "followers": stmt.excluded.followers,
            "url": stmt.excluded.url,
            "bio": stmt.excluded.bio,
            "last_seen_at": stmt.excluded.last_seen_at,
        },
    )
    session.execute(stmt, rows)
    keys = list(latest)
    found = session.execute(
        select(Author.platform, Author.platform_id, Author.id).where(  # type: ignore[call-overload]
            tuple_(Author.platform, Author.platform_id).in_(keys)
        )
    )
    return {(platform, pid): author_id for platform, pid, author_id in found}


def store_page(session: Session, *, source: Source, page: Page) -> StoreResult:
    """Store one page's posts, authors and dead letters, and advance the source's cursor."""
    now = utcnow()
    result = StoreResult()
    # Within a page the same post can appear twice (a retweet and its original); keep the first.
    unique: dict[tuple[str, str], PostIn] = {}
    for post in page.posts:
        unique.setdefault((post.platform, post.external_id), post)
    posts = list(unique.values())
    author_ids = upsert_authors(session, posts, now)
    if posts:
        rows = [_post_row(post, source.id, author_ids, now) for post in posts]
        stmt = _insert(session, Post).on_conflict_do_nothing(index_elements=["platform", "external_id"])
        inserted = session.execute(stmt.returning(Post.id), rows).all()  # type: ignore[attr-defined]
        result.new_posts = len(inserted)
    result.duplicates = len(page.posts) - result.new_posts
    for letter in page.dead_letters:
        session.add(
            DeadLetter(
                source_name=source.name,
                platform=letter.platform,
                reason=letter.reason[:2000],
                raw=serialize_raw(letter.raw)[:1_000_000],
                created_at=now,
            )
        )
    result.dead_letters = len(page.dead_letters)
    source.cursor = dict(page.cursor)
    source.posts_collected += result.new_posts
    session.add(source)
    session.flush()
    return result


def _post_row(post: PostIn, source_id: int | None, author_ids: dict[tuple[str, str], int], now: datetime) -> dict:
    return {
        "platform": post.platform,
        "external_id": post.external_id,
        "source_id": source_id,
        "author_id": author_ids[(post.author.platform, post.author.platform_id)],
        "text": post.text,
        "title": post.title,
        "url": post.url,
        "lang_hint": post.lang_hint,
        "created_at": post.created_at,
        "collected_at": now,
        "reply_to_id": post.reply_to_id,
        "thread_id": post.thread_id,
        "referenced_id": post.referenced_id,
        "is_retweet": post.is_retweet,
        "is_quote": post.is_quote,
        "is_reply": post.is_reply,
        "metrics": dict(post.metrics),
        "raw": serialize_raw(post.raw) if post.raw is not None else None,
        "analyzed": False,
    }
