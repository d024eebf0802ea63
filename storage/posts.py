"""Posts as read outside ingestion: an author set's live posts with their analyses, the backlog,
posts with their authors, the oldest and newest live post."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import Analysis, Author, Post


def live_posts_of_authors(
    author_ids: Sequence[int], *, session: Session, limit: int
) -> list[tuple[Post, Analysis | None]]:
    """The newest `limit` posts of these authors not deleted upstream, each with its analysis if any."""
    stmt = (
        select(Post, Analysis)
        .join(Analysis, col(Analysis.post_id) == Post.id, isouter=True)
        .where(col(Post.author_id).in_(list(author_ids)), col(Post.deleted_at).is_(None))
        .order_by(col(Post.created_at).desc())
        .limit(limit)
    )
    return [(post, analysis) for post, analysis in session.execute(stmt).all()]


def unanalyzed_count(*, session: Session) -> int:
    """How many posts wait for analysis."""
    stmt = select(func.count()).select_from(Post).where(col(Post.analyzed).is_(False))
    return int(session.execute(stmt).scalar_one())


def earliest_post_time(*, session: Session) -> datetime | None:
    """When the oldest live post was created (None for an empty database)."""
    return session.execute(select(func.min(Post.created_at)).where(col(Post.deleted_at).is_(None))).scalar_one()


def latest_post_time(*, session: Session) -> datetime | None:
    """When the newest live post was created (None for an empty database)."""
    return session.execute(select(func.max(Post.created_at)).where(col(Post.deleted_at).is_(None))).scalar_one()


def posts_with_authors(post_ids: Sequence[int], *, session: Session) -> dict[int, tuple[Post, Author]]:
    """Post id → (post, author) for a batch."""
    if not post_ids:
        return {}
    stmt = select(Post, Author).join(Author, col(Author.id) == Post.author_id).where(col(Post.id).in_(list(post_ids)))
    return {post.id or 0: (post, author) for post, author in session.exec(stmt)}
