"""Storing what collectors return: posts, authors, dead letters and the source's cursor.

`store_page` writes one page and its cursor in the caller's transaction, so a crash between
pages neither loses nor duplicates a post. Inserts are `ON CONFLICT DO NOTHING` on
(platform, external_id): re-running a source, or two workers racing, stores each post once.
Reviews (`dangol.core.types.REVIEW_PLATFORMS`) are the exception: their author can edit one, which keeps its id,
so a review that comes again with another text, title or rating replaces the stored one's text,
title, metrics and payload and is analyzed again (`analyzed = false`, see `storage.analyses`).
Posts the platform reports deleted are not stored; if already stored, their text and payload
are cleared and `deleted_at` is set, and what quotes them too (storage.deletions). Text is made
storable everywhere: PostgreSQL refuses NUL characters and unpaired surrogates, so both are
dropped (replaced) before writing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlmodel
from sqlalchemy import Integer, bindparam, or_, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from dangol.core.brands import BrandCatalog
from dangol.core.types import RATING, REVIEW_PLATFORMS, DeadLetterIn, Page, PostBase, PostIn, utcnow
from storage.bulk import insert_rows
from storage.deletions import clear_deleted
from storage.engine import DriverStatement, database_unavailable
from storage.models import Author, DeadLetter, Post, PostBrand, Source
from storage.privacy import skip_erased

AUTHOR_KEY, POST_KEY = ("platform", "platform_id"), ("platform", "external_id")
# LOCK_ORDER: a page's authors are written in key order. Two workers whose pages share authors (two
# sources finding the same customers) each lock the author rows they insert or update until they
# commit; written in each page's own order, one took A then waited for B while the other held B and
# waited for A, and PostgreSQL rolled one of them back (15 of 20 such page pairs, measured). In one
# order, the second waits for the first to commit and goes on. Posts keep the page's order (their ids
# follow it): platforms list newest first, so two pages holding the same posts hold them in the same
# order; a conflict left over is stored again by the pipeline (dangol.pipeline, CONFLICT_RETRIES).
# What a known author's row takes from the newest sighting (first_seen_at stays).
AUTHOR_REFRESHED = ("handle", "display_name", "followers", "url", "bio", "last_seen_at")


@dataclass(slots=True)
class StoreResult:
    """What one page added: new posts, ones already stored (of which `edited` were reviews whose
    text or rating changed and were updated), and records dead-lettered."""

    new_posts: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    deleted: int = 0
    edited: int = 0

    def add(self, other: StoreResult) -> None:
        self.new_posts += other.new_posts
        self.duplicates += other.duplicates
        self.dead_letters += other.dead_letters
        self.deleted += other.deleted
        self.edited += other.edited


def storable(text: str) -> str:
    """`text` without NUL characters and with unpaired surrogates replaced (PostgreSQL refuses both)."""
    if _is_storable(text):
        return text
    return text.replace("\x00", "").encode("utf-8", errors="replace").decode("utf-8")


def _is_storable(text: str) -> bool:
    """True when `text` holds no NUL character and no unpaired surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _row_storable(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with every string value `storable`. Almost every row is storable already, so its strings
    are checked together first, in one pass: a call of `storable` per value was most of building
    a page's rows."""
    if _is_storable("".join(value for value in row.values() if isinstance(value, str))):
        return row
    return {key: storable(value) if isinstance(value, str) else value for key, value in row.items()}


def get_or_create_source(session: Session, *, name: str, use: str) -> Source:
    """The Source row for a configured source, created on first use. Several workers may create it
    at once: the one whose insert loses to the unique name reads the winner's row instead."""
    source = session.exec(sqlmodel.select(Source).where(Source.name == name)).first()
    if source is None:
        try:
            with session.begin_nested():
                source = Source(name=name, use=use)
                session.add(source)
        except IntegrityError:
            source = session.exec(sqlmodel.select(Source).where(Source.name == name)).one()
    if source.use != use:
        source.use = use
    return source


# Datetimes and dataclasses a client library hands over go to `default=str`, as they did with
# json.dumps (orjson would write them its own way); subclasses of str, int, dict and list are written
# as their base type by both.
_RAW_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def serialize_raw(raw: Any) -> str:
    """The raw payload as text: strict JSON for structures, as-is for strings (RSS XML).

    Strict: a NaN or infinity a source sent (Python's json reads them) is stored as null, because
    PostgreSQL's json type refuses them, and the review reports read a store review's app and
    version from this text (`storage.read_models`). orjson writes most payloads ~8× faster than
    json.dumps (a sixth of storing a Mastodon page went to it); what it refuses (integers beyond 64
    bits, lone surrogates, keys that are not strings) is written by json.dumps, finite as well."""
    if isinstance(raw, str):
        return storable(raw)
    if isinstance(raw, bytes):
        return storable(raw.decode("utf-8", errors="replace"))
    try:
        # Already storable: orjson writes valid UTF-8 only (it refuses lone surrogates) and escapes
        # NUL as \u0000, so `storable`'s pass over the whole text is left to json.dumps's output.
        return orjson.dumps(raw, default=str, option=_RAW_JSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        pass
    try:
        return storable(json.dumps(_finite(raw), ensure_ascii=False, default=str, allow_nan=False))
    except (ValueError, RecursionError) as exc:
        # Only a client library's own objects get here (a cycle, thousands of levels): the post is
        # stored, with a note where its payload would be, rather than stopping the source at this page.
        return json.dumps({"dangol:raw_not_stored": f"{type(exc).__name__}: {exc}"[:300]})


def _finite(value: Any) -> Any:
    """A copy of `value` with every NaN and infinity replaced by None, as orjson writes them. Walked
    with a stack, not by recursion: a payload orjson refuses may be one nested hundreds deep."""

    def shell(item: Any) -> Any:  # a container's empty copy, to fill; anything else as it is written
        if isinstance(item, float):
            return item if math.isfinite(item) else None
        if isinstance(item, dict):
            return {}
        return [] if isinstance(item, list | tuple) else item

    root = shell(value)
    pending = [(value, root, 1)] if isinstance(value, dict | list | tuple) else []
    while pending:
        source, target, depth = pending.pop()
        if depth > _MAX_DEPTH:  # a structure that contains itself never ends
            raise ValueError(f"payload nested more than {_MAX_DEPTH} levels deep, or containing itself")
        for key, item in source.items() if isinstance(source, dict) else enumerate(source):
            copy = shell(item)
            if isinstance(target, dict):
                target[key] = copy
            else:
                target.append(copy)
            if isinstance(item, dict | list | tuple):
                pending.append((item, copy, depth + 1))
    return root


# Deeper than json.dumps could write anyway (it recurses, ~1,000 levels).
_MAX_DEPTH = 10_000


def _author_key(post: PostIn) -> tuple[str, str]:
    return storable(post.author.platform), storable(post.author.platform_id)


def upsert_authors(session: Session, posts: list[PostIn], now: datetime) -> dict[tuple[str, str], int]:
    """Insert new authors and refresh known ones; returns (platform, platform_id) → author id."""
    # Keyed as stored: ids that differ only in what `storable` replaces are one author.
    latest: dict[tuple[str, str], Any] = {}
    for post in posts:
        latest[_author_key(post)] = post.author
    if not latest:
        return {}
    rows = [
        _row_storable(
            {
                "platform": platform,
                "platform_id": platform_id,
                "handle": a.handle,
                "display_name": a.display_name,
                "followers": a.followers,
                "url": a.url,
                "bio": a.bio,
                "first_seen_at": now,
                "last_seen_at": now,
            }
        )
        for (platform, platform_id), a in sorted(latest.items())  # in key order: see LOCK_ORDER
    ]
    # One statement that also hands back the ids (RETURNING covers inserted and updated rows): the
    # ORM's bulk path and a second SELECT for the ids were 22% of collecting.
    found = insert_rows(session, Author, rows, key=AUTHOR_KEY, update=AUTHOR_REFRESHED, returning=(*AUTHOR_KEY, "id"))
    return {(platform, pid): author_id for platform, pid, author_id in found}


def store_page(
    session: Session, *, source: Source, page: Page, brands: BrandCatalog | None = None, source_brand: str | None = None
) -> StoreResult:
    """Store one page's posts, authors and dead letters, and advance the source's cursor.

    With `brands`, each new post is tagged with the brands it is about (`BrandCatalog.tag`, the
    source's `source_brand` when it names none): `post_brand` rows and `Post.competitor`."""
    now = utcnow()
    result = StoreResult()
    # Within a page the same post can appear twice (a retweet and its original); keep the first.
    unique: dict[tuple[str, str], PostIn] = {}
    deleted: set[tuple[str, str]] = set()
    for post in page.posts:
        key = (post.platform, post.external_id)
        if post.deleted:
            deleted.add(key)
        else:
            unique.setdefault(key, post)
    posts = [post for key, post in unique.items() if key not in deleted]
    posts = skip_erased(posts, session=session)  # an erased customer's posts stay erased when listed again
    result.deleted = mark_deleted(session, sorted(deleted), now)
    author_ids = upsert_authors(session, posts, now)
    if posts:
        rows = [_post_row(post, source.id, author_ids, now) for post in posts]
        tags: dict[tuple[str, str], list[str]] = {}
        if brands is not None:
            for post, row in zip(posts, rows, strict=True):
                text = f"{post.title or ''}\n{post.text}"
                tags[(row["platform"], row["external_id"])], row["competitor"] = brands.tag(
                    post.platform, post.author.handle, text, source_brand
                )
        written = insert_rows(session, Post, rows, key=POST_KEY, returning=(*POST_KEY, "id"))
        new_ids = {(platform, external_id): pid for platform, external_id, pid in written}
        inserted = set(new_ids)
        brand_rows = [{"post_id": new_ids[key], "brand": b} for key in inserted for b in tags.get(key, [])]
        insert_rows(session, PostBrand, brand_rows)
        result.new_posts = len(inserted)
        stored_before = [row for row in rows if (row["platform"], row["external_id"]) not in inserted]
        result.edited = update_edited(session, [row for row in stored_before if row["platform"] in REVIEW_PLATFORMS])
    result.duplicates = len(page.posts) - result.new_posts - sum(1 for p in page.posts if p.deleted)
    for letter in page.dead_letters:
        session.add(
            DeadLetter(
                source_name=source.name,
                platform=letter.platform,
                reason=storable(letter.reason)[:2000],
                raw=serialize_raw(letter.raw)[:1_000_000],
                created_at=now,
            )
        )
    result.dead_letters = len(page.dead_letters)
    advance_cursor(session, source, page.cursor, result.new_posts)
    session.flush()
    return result


# One per page, built once and run on the driver's cursor (building it took 0.2 ms a page and
# SQLAlchemy's execution as much, several times running it).
_ADVANCE_CURSOR = DriverStatement(
    update(Source)
    .where(col(Source.id) == bindparam("source_id"))
    .values(
        cursor=bindparam("cursor", type_=Source.__table__.c.cursor.type),  # type: ignore[attr-defined]
        posts_collected=col(Source.posts_collected) + bindparam("new_posts", type_=Integer),
    )
    .returning(col(Source.posts_collected))
)


def advance_cursor(session: Session, source: Source, cursor: dict[str, Any], new_posts: int) -> None:
    """Store the source's cursor and add `new_posts` to its count with one UPDATE of its row, in
    the caller's transaction; `source` (in this session or not) is kept in step without being marked
    changed. Why: the pipeline stores a page without reading the source row first (one round trip
    and the ORM's flush of the object less per page), using the row it read when the run began."""
    values = {"source_id": source.id, "cursor": dict(cursor), "new_posts": new_posts}
    [(total,)] = _ADVANCE_CURSOR.run(session, values).rows
    set_committed_value(source, "cursor", dict(cursor))
    set_committed_value(source, "posts_collected", total)


def update_edited(session: Session, rows: list[dict[str, Any]]) -> int:
    """Put the new text, title, metrics and payload of already stored reviews whose text, title or
    rating changed (an edit), and mark them for analysis again; returns how many changed.

    Only a change the analysis reads counts: a review coming again with only more likes keeps its
    row (and its analysis). A post cleared as deleted stays cleared. On PostgreSQL the UPDATE waits
    for a worker that has the post claimed for analysis (`claim_unanalyzed` locks it) and then
    applies to the row as that worker left it: `analyzed = false` comes after the old text's
    analysis, so the new text is analyzed once more, never skipped.
    """
    if not rows:  # the common case: nothing stored before on this page is a review
        return 0
    changed = 0
    rating = col(Post.metrics)[RATING].as_integer()
    for row in rows:
        new_rating = row["metrics"].get(RATING)
        stmt = (
            update(Post)
            .where(
                col(Post.platform) == row["platform"],
                col(Post.external_id) == row["external_id"],
                col(Post.deleted_at).is_(None),
                or_(
                    col(Post.text) != row["text"],
                    col(Post.title).is_distinct_from(row["title"]),
                    rating.is_distinct_from(new_rating if isinstance(new_rating, int) else None),
                ),
            )
            .values(text=row["text"], title=row["title"], metrics=row["metrics"], raw=row["raw"], analyzed=False)
        )
        changed += session.connection().execute(stmt).rowcount
    return changed


def store_page_record_by_record(
    session: Session, *, source: Source, page: Page, brands: BrandCatalog | None = None, source_brand: str | None = None
) -> StoreResult:
    """`store_page` for a page the database refused as a whole: each post in its own savepoint, so a
    record the database cannot take becomes a dead letter with the database's reason, and the rest
    of the page, its dead letters and its cursor are stored."""
    result = StoreResult()
    refused: list[DeadLetterIn] = []
    for post in page.posts:
        try:
            with session.begin_nested():
                one = store_page(
                    session,
                    source=source,
                    page=Page([post], dict(page.cursor)),
                    brands=brands,
                    source_brand=source_brand,
                )
        except DBAPIError as exc:
            if database_unavailable(exc):
                raise
            reason = f"the database refused this record: {type(exc.orig or exc).__name__}: {str(exc.orig or exc)[:300]}"
            refused.append(DeadLetterIn(post.platform, reason, post.raw if post.raw is not None else post.text))
            continue
        result.add(one)
    rest = store_page(session, source=source, page=Page([], dict(page.cursor), [*page.dead_letters, *refused]))
    result.dead_letters = rest.dead_letters
    return result


def mark_deleted(session: Session, keys: list[tuple[str, str]], now: datetime) -> int:
    """Clear text and payload of stored posts their platform deleted, and what quotes them
    (storage.deletions); returns how many changed."""
    return len(clear_deleted(session, keys, now))


_POST_FIELDS = tuple(PostBase.model_fields)


def _post_row(post: PostIn, source_id: int | None, author_ids: dict[tuple[str, str], int], now: datetime) -> dict:
    # The post's own fields (PostBase, declared once), then what storage adds.
    fields = post.__dict__
    row = {name: fields[name] for name in _POST_FIELDS}
    row |= {
        "source_id": source_id,
        "author_id": author_ids[_author_key(post)],
        "collected_at": now,
        "metrics": dict(post.metrics),
        "raw": serialize_raw(post.raw) if post.raw is not None else None,
        "analyzed": False,
        "competitor": False,
    }
    return _row_storable(row)
