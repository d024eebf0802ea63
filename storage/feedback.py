"""Staff label corrections (`LabelFeedback`): stored, and read back for retraining."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from dangol.core.types import utcnow
from storage.models import Analysis, LabelFeedback, Post, QueueItem


def add_label_feedback(
    *, session: Session, post_id: int, kind: str, new_value: str, staff_id: int | None
) -> LabelFeedback:
    """Store a staff correction of a post's sentiment or topic (`responder.labels` checks and audits it).

    The analysis keeps its prediction (retraining compares the two); the post's queue item takes
    the corrected label, so the queue shows it and filters by it.
    """
    analysis = session.exec(select(Analysis).where(col(Analysis.post_id) == post_id)).first()
    old = None
    if analysis is not None:
        old = analysis.sentiment if kind == "sentiment" else analysis.primary_topic
    feedback = LabelFeedback(
        post_id=post_id, kind=kind, old_value=old, new_value=new_value, staff_id=staff_id, created_at=utcnow()
    )
    session.add(feedback)
    column = "sentiment" if kind == "sentiment" else "topic"
    session.execute(
        update(QueueItem)
        .where(col(QueueItem.post_id) == post_id)
        .values({column: new_value})
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return feedback


def labels_in_force(*, session: Session, post_id: int) -> dict[str, str | None]:
    """The post's sentiment and topic as staff last corrected them, else as the model predicted them."""
    analysis = session.exec(select(Analysis).where(col(Analysis.post_id) == post_id)).first()
    labels = {
        "sentiment": analysis.sentiment if analysis else None,
        "topic": analysis.primary_topic if analysis else None,
    }
    corrections = select(LabelFeedback).where(col(LabelFeedback.post_id) == post_id).order_by(col(LabelFeedback.id))
    for feedback in session.exec(corrections):
        labels[feedback.kind] = feedback.new_value
    return labels


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
    return _last_correction_id(session, "topic")


def last_sentiment_correction_id(*, session: Session) -> int | None:
    """The id of the newest sentiment correction (None when there is none)."""
    return _last_correction_id(session, "sentiment")


def _last_correction_id(session: Session, kind: str) -> int | None:
    stmt = select(func.max(col(LabelFeedback.id))).where(col(LabelFeedback.kind) == kind)
    return session.execute(stmt).scalar_one_or_none()


def corrections_of_post(*, session: Session, post_id: int | None) -> list[LabelFeedback]:
    """Every staff label correction of the post, oldest first."""
    stmt = select(LabelFeedback).where(LabelFeedback.post_id == post_id).order_by(col(LabelFeedback.id))
    return list(session.exec(stmt))


def sentiment_corrections(*, session: Session) -> list[tuple[int, str, str, str | None, str | None]]:
    """(post id, corrected label, post text, language hint, analyzed language) of every staff
    sentiment correction, oldest first (a later correction of a post supersedes an earlier one)."""
    stmt = (
        select(  # type: ignore[call-overload]
            col(LabelFeedback.post_id),
            col(LabelFeedback.new_value),
            col(Post.text),
            col(Post.lang_hint),
            col(Analysis.language),
        )
        .join(Post, col(Post.id) == col(LabelFeedback.post_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id), isouter=True)
        .where(LabelFeedback.kind == "sentiment")
        .order_by(col(LabelFeedback.id))
    )
    return [(post_id, label, text, hint, language) for post_id, label, text, hint, language in session.execute(stmt)]
