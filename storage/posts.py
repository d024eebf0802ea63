"""Posts as read outside ingestion: an author set's live posts with their analyses, the backlog."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlmodel import Session, col

from storage.models import Analysis, Post


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
