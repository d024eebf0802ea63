"""Posts deleted on their platform: which recent posts to ask about, and removing the deleted ones.

A post its platform deleted keeps its row (counts and the no-duplicates guarantee hold) but loses
what holds its words: text, title and raw payload, the embedding derived from the text, and its
quote in the explanation of any spike alert. Reports, feeds, the queue's snippets, the customer's
history and the analysis backlog leave it out from then on through `deleted_at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, tuple_, update
from sqlmodel import Session, col

from storage import audit
from storage.models import Alert, Analysis, Post


def clear_deleted(session: Session, keys: list[tuple[str, str]], now: datetime) -> list[tuple[int, str, str]]:
    """Clear the stored posts of `keys` (platform, external id) not cleared yet, and every quote of
    them; returns (id, platform, external id) of each post cleared now."""
    if not keys:
        return []
    live = select(col(Post.id), col(Post.platform), col(Post.external_id)).where(
        tuple_(col(Post.platform), col(Post.external_id)).in_(keys), col(Post.deleted_at).is_(None)
    )
    rows = [(int(i), str(p), str(e)) for i, p, e in session.execute(live).all()]
    ids = [row[0] for row in rows]
    if ids:
        clear_posts(session, ids, now)
        _unquote_in_alerts(session, ids)
    return rows


def clear_posts(session: Session, post_ids: list[int], now: datetime, **also: Any) -> None:
    """Clear the posts' text, title and raw payload (and the columns in `also`, such as url=None),
    set `deleted_at`, and clear their embeddings, which are derived from the text."""
    session.execute(
        update(Post)
        .where(col(Post.id).in_(post_ids))
        .values(text="", title=None, raw=None, deleted_at=now, **also)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Analysis)
        .where(col(Analysis.post_id).in_(post_ids))
        .values(embedding=None)
        .execution_options(synchronize_session=False)
    )


def _unquote_in_alerts(session: Session, post_ids: list[int]) -> None:
    """Drop the posts from the explanations of the alerts whose window held them (an alert quotes
    posts created between its start and end)."""
    first, last = session.execute(
        select(func.min(col(Post.created_at)), func.max(col(Post.created_at))).where(col(Post.id).in_(post_ids))
    ).one()
    overlapping = select(Alert).where(
        col(Alert.started_at) <= last, or_(col(Alert.ended_at).is_(None), col(Alert.ended_at) >= first)
    )
    gone = set(post_ids)
    for alert in session.execute(overlapping).scalars():
        quoted = alert.explanation.get("posts") or []
        kept = [p for p in quoted if not (isinstance(p, dict) and p.get("post_id") in gone)]
        if len(kept) != len(quoted):
            alert.explanation = {**alert.explanation, "posts": kept}
            session.add(alert)


def remove_deleted_upstream(
    *, session: Session, platform: str, external_ids: list[str], source: str, actor: str, now: datetime
) -> int:
    """Clear the posts their platform says are gone (`clear_deleted`) and audit each removal, with
    the platform's id and no text; returns how many were removed now."""
    removed = clear_deleted(session, [(platform, e) for e in external_ids], now)
    for post_id, post_platform, external_id in removed:
        audit.record(
            session, actor=actor, action="post.deleted_upstream", entity_type="post", entity_id=post_id,
            after={"platform": post_platform, "external_id": external_id, "source": source}, at=now,
        )  # fmt: skip
    return len(removed)


def posts_to_recheck(*, session: Session, source_id: int, since: datetime, limit: int) -> list[str]:
    """External ids of up to `limit` live posts of the source created since `since`: never asked
    about first (oldest first), then those asked about longest ago."""
    stmt = (
        select(col(Post.external_id))
        .where(col(Post.source_id) == source_id, col(Post.created_at) >= since, col(Post.deleted_at).is_(None))
        .order_by(col(Post.rechecked_at).asc().nulls_first(), col(Post.created_at), col(Post.id))
        .limit(limit)
    )
    return [str(e) for e in session.execute(stmt).scalars()]


def mark_rechecked(*, session: Session, platform: str, external_ids: list[str], now: datetime) -> None:
    """Record that the platform was asked about these posts now."""
    if external_ids:
        session.execute(
            update(Post)
            .where(col(Post.platform) == platform, col(Post.external_id).in_(external_ids))
            .values(rechecked_at=now)
            .execution_options(synchronize_session=False)
        )
