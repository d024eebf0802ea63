"""Claiming posts for analysis and storing what the analyzer concluded.

Batches are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers share the
backlog and each post is analyzed once; on SQLite the single writer lock does the same job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import String, cast, insert, literal, select, update
from sqlmodel import Session, col

from dangol.core.types import ClusterMember
from storage.models import Analysis, Author, Post, QueueItem


@dataclass(slots=True)
class ClaimedPost:
    post: Post
    author: Author


def claim_unanalyzed(*, session: Session, limit: int) -> list[ClaimedPost]:
    """Up to `limit` posts not yet analyzed, oldest first, locked for this transaction."""
    stmt = (
        select(Post, Author)
        .join(Author, Author.id == Post.author_id)  # type: ignore[arg-type]
        .where(Post.analyzed.is_(False), Post.deleted_at.is_(None))  # type: ignore[union-attr, attr-defined]
        .order_by(Post.id)  # type: ignore[arg-type]
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Post, skip_locked=True)  # type: ignore[arg-type]
    return [ClaimedPost(post=p, author=a) for p, a in session.execute(stmt).all()]


def embedding_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def embedding_from_bytes(data: bytes | None) -> np.ndarray | None:
    return None if data is None else np.frombuffer(data, dtype=np.float32)


def recent_members(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    referenced: list[tuple[str, str]],
    limit: int = 5000,
    competitor: bool | None = None,
) -> list[ClusterMember]:
    """Analyzed posts created in [start, end] (newest `limit`), plus any explicitly referenced ones;
    with `competitor`, only posts about competitors only (True) or not (False).

    Read for every batch a worker analyzes, so it is lean: only the columns grouping reads, rows
    straight from the connection (no ORM row handling), and the embeddings decoded in one piece.
    With a full window of 5,000 posts the ORM query with every column cost ~0.9 ms per analyzed
    post (BENCHMARKS.md, Pipeline)."""
    connection = session.connection()
    rows = list(connection.execute(_window(_MEMBER_COLUMNS, start, end, limit, competitor)))
    if referenced:
        from sqlalchemy import tuple_

        refs = (
            select(*_MEMBER_COLUMNS)
            .join(Post, col(Post.id) == col(Analysis.post_id))
            .where(tuple_(col(Post.platform), col(Post.external_id)).in_(referenced), *_side(competitor))
        )
        rows += connection.execute(refs)
    return _cluster_members(rows)


_MEMBER_COLUMNS = (
    col(Analysis.cluster_key),
    col(Analysis.text_hash),
    col(Analysis.embedding),
    col(Post.platform),
    col(Post.external_id),
    col(Post.text),
)
_EMBEDDING = 2  # its place among _MEMBER_COLUMNS


def _cluster_members(rows: list[Any]) -> list[ClusterMember]:
    """ClusterMembers of (key, hash, embedding, platform, external id, text) rows with an embedding;
    the embeddings are views into one matrix when they all have one size (one encoder)."""
    rows = [row for row in rows if row[_EMBEDDING] is not None]
    blobs = [row[_EMBEDDING] for row in rows]
    if len({len(blob) for blob in blobs}) == 1:
        vectors: Any = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
    else:  # none, or analyses by encoders of different sizes: decoded one by one
        vectors = [embedding_from_bytes(blob) for blob in blobs]
    return [
        ClusterMember(key, text_hash, vectors[i], platform, external_id, text or "")
        for i, (key, text_hash, _, platform, external_id, text) in enumerate(rows)
    ]


def window_around(times: list[datetime], hours: int) -> tuple[datetime, datetime]:
    """The span of `times` widened by `hours` on both sides."""
    margin = timedelta(hours=hours)
    return min(times) - margin, max(times) + margin


def save_analysis(*, session: Session, post_id: int, values: dict[str, Any], embedding: np.ndarray) -> None:
    """Store one post's analysis and mark the post analyzed (same transaction as the claim)."""
    save_analyses(session=session, analyses=[(post_id, values, embedding)])


def save_analyses(*, session: Session, analyses: list[tuple[int, dict[str, Any], np.ndarray]]) -> None:
    """Store a batch of (post id, values, embedding) and mark those posts analyzed in one UPDATE.

    One statement per batch, not per post: the per-post UPDATE was 17% of `analyze` in the profile.
    A post analyzed before (an edited review, `storage.ingest.update_edited`) keeps its one Analysis
    row, overwritten with the new values and routed again (`routed = false`): the row's id, which
    nothing else points at, is kept, and the unique post id stays true. Only the worker holding the
    post's claim writes its analysis, so each version of the post is analyzed exactly once.
    """
    if not analyses:
        return
    ids = [post_id for post_id, _, _ in analyses]
    before = {a.post_id: a for a in session.execute(select(Analysis).where(col(Analysis.post_id).in_(ids))).scalars()}
    # New rows in one bulk INSERT: building an ORM object per row was a fifth of `analyze` with the
    # fast profile (BENCHMARKS.md, Pipeline). Column defaults still apply; nothing reads the rows
    # back as objects in this transaction.
    defaults = _column_defaults()
    fresh = [
        {**defaults, "post_id": post_id, "embedding": embedding_to_bytes(embedding), **values}
        for post_id, values, embedding in analyses
        if post_id not in before
    ]
    if fresh:
        session.execute(insert(Analysis), fresh)
    for post_id, values, embedding in analyses:
        old = before.get(post_id)
        if old is None:
            continue
        blob = embedding_to_bytes(embedding)
        # Routed before: the post already counts in its cluster, and stays in it (an edited review is
        # the same post), so routing refreshes its labels without counting it again.
        counted = old.routed or old.counted
        for name, value in values.items():
            if not (name == "cluster_key" and counted and old.cluster_key):
                setattr(old, name, value)
        old.embedding, old.routed, old.counted = blob, False, counted
    session.execute(update(Post).where(Post.id.in_(ids)).values(analyzed=True))  # type: ignore[union-attr]


def _column_defaults() -> dict[str, Any]:
    """Every Analysis field's model default (JSON fields' default factories too), which a bulk
    INSERT does not apply by itself; also gives every row the same keys, as one INSERT needs."""
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in Analysis.model_fields.items()
        if name != "id" and not field.is_required()
    }


@dataclass(slots=True)
class GroupedPost:
    """An analyzed post as near-duplicate grouping sees it, with when it was written."""

    analysis_id: int
    post_id: int
    created_at: datetime
    language: str
    referenced_id: str | None
    member: ClusterMember


def _grouped_posts(stmt: Any, session: Session) -> list[GroupedPost]:
    """GroupedPosts of the `_GROUPED_COLUMNS` rows of `stmt` that have an embedding."""
    lead = len(_GROUPED_COLUMNS) - len(_MEMBER_COLUMNS)
    rows = [row for row in session.execute(stmt).all() if row[lead + _EMBEDDING] is not None]
    members = _cluster_members([tuple(row[lead:]) for row in rows])
    return [
        GroupedPost(analysis_id, post_id, created, language, referenced, member)
        for (analysis_id, post_id, created, language, referenced, *_), member in zip(rows, members, strict=True)
    ]


_GROUPED_COLUMNS = (
    col(Analysis.id),
    col(Post.id),
    col(Post.created_at),
    col(Analysis.language),
    col(Post.referenced_id),
    *_MEMBER_COLUMNS,
)


def _side(competitor: bool | None) -> list[Any]:
    # Posts about competitors only never share a near-duplicate cluster with posts about us: a
    # cluster is one queue item, and theirs are never queued.
    return [] if competitor is None else [col(Post.competitor).is_(competitor)]


def unrouted_cluster_starters(
    *, session: Session, limit: int = 2000, competitor: bool | None = None
) -> list[GroupedPost]:
    """Unrouted analyses of live posts that began a cluster ("p:<post id>") with no queue item yet:
    the ones a worker analyzing in parallel may have split from a cluster another worker was
    starting at the same moment (with the posts of its own batch that joined it)."""
    routed = select(col(QueueItem.id)).where(col(QueueItem.cluster_key) == col(Analysis.cluster_key)).exists()
    stmt = (
        select(*_GROUPED_COLUMNS)
        .join(Post, col(Post.id) == col(Analysis.post_id))
        .where(
            col(Analysis.routed).is_(False),
            col(Post.deleted_at).is_(None),
            col(Analysis.cluster_key) == literal("p:").concat(cast(col(Post.id), String)),
            ~routed,
            *_side(competitor),
        )
        .order_by(col(Post.created_at), col(Post.id))
        .limit(limit)
    )
    return _grouped_posts(stmt, session)


def analyzed_between(
    *, session: Session, start: datetime, end: datetime, limit: int = 5000, competitor: bool | None = None
) -> list[GroupedPost]:
    """Analyzed posts written in [start, end] (the newest `limit`); `competitor` as for recent_members."""
    return _grouped_posts(_window(_GROUPED_COLUMNS, start, end, limit, competitor), session)


def _window(columns: tuple[Any, ...], start: datetime, end: datetime, limit: int, competitor: bool | None) -> Any:
    """`columns` of the analyzed posts written in [start, end], the newest `limit`."""
    return (
        select(*columns)
        .join(Post, col(Post.id) == col(Analysis.post_id))
        .where(col(Post.created_at) >= start, col(Post.created_at) <= end, *_side(competitor))
        .order_by(col(Post.created_at).desc())
        .limit(limit)
    )


def move_clusters(*, session: Session, moves: dict[str, str]) -> None:
    """Move every analysis of each cluster (old key → new key), in the caller's transaction."""
    for old, new in moves.items():
        session.execute(update(Analysis).where(col(Analysis.cluster_key) == old).values(cluster_key=new))


def claim_unrouted(*, session: Session, limit: int) -> list[Analysis]:
    """Up to `limit` analyses not yet routed, oldest first, locked for this transaction.

    Rows another worker's routing pass holds are skipped (SKIP LOCKED), never routed twice; on
    SQLite, where FOR UPDATE is not rendered, the single writer lock does the same job."""
    stmt = (
        select(Analysis)
        .where(col(Analysis.routed) == False)  # noqa: E712  (= false, which the index serves; IS false it cannot)
        .order_by(col(Analysis.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(stmt).scalars())


def analysis_of(*, session: Session, post_id: int | None) -> Analysis | None:
    """The analysis of this post, if it has been analyzed."""
    return session.execute(select(Analysis).where(col(Analysis.post_id) == post_id)).scalars().first()


def analyzed_posts(*, session: Session) -> list[tuple[Post, Analysis]]:
    """Every analyzed post with its analysis."""
    rows = session.execute(select(Post, Analysis).join(Analysis, col(Analysis.post_id) == col(Post.id))).all()
    return [(post, analysis) for post, analysis in rows]


def uncategorized_complaints(*, session: Session, since: datetime) -> list[tuple[int, str, np.ndarray]]:
    """(post id, text, embedding) of live complaints since `since` whose primary topic is "other"."""
    stmt = (
        select(col(Post.id), col(Post.text), col(Analysis.embedding))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(
            col(Analysis.is_complaint).is_(True),
            col(Analysis.primary_topic) == "other",
            col(Analysis.embedding).is_not(None),
            col(Post.created_at) >= since,
            col(Post.deleted_at).is_(None),
        )
        .order_by(col(Post.id))
    )
    return [(pid, text, np.frombuffer(blob, dtype=np.float32)) for pid, text, blob in session.execute(stmt).all()]
