"""Staff label corrections (`LabelFeedback`) read back for retraining."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import LabelFeedback, Post


def topic_corrections(*, session: Session) -> list[tuple[str, str]]:
    """(post text, corrected topic key) of every staff topic correction, the latest per post."""
    stmt = (
        select(col(LabelFeedback.post_id), col(Post.text), col(LabelFeedback.new_value))
        .join(Post, col(Post.id) == col(LabelFeedback.post_id))
        .where(col(LabelFeedback.kind) == "topic", col(Post.deleted_at).is_(None))
        .order_by(col(LabelFeedback.id))
    )
    latest = {post_id: (text, value) for post_id, text, value in session.execute(stmt).all()}
    return list(latest.values())


def last_topic_correction_id(*, session: Session) -> int | None:
    """The id of the newest topic correction (None when there is none): one indexed MAX, for "anything new?"."""
    stmt = select(func.max(col(LabelFeedback.id))).where(col(LabelFeedback.kind) == "topic")
    return session.execute(stmt).scalar_one_or_none()
