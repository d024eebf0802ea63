"""Staff corrections of a post's sentiment and topic: checked, stored for retraining, audited."""

from __future__ import annotations

from sqlmodel import Session

from dangol.core.errors import ActionError, NotFound
from dangol.core.permissions import require
from storage import audit
from storage.feedback import add_label_feedback, labels_in_force
from storage.models import LabelFeedback, Post, Staff


def correct_labels(
    *, session: Session, actor: Staff, post_id: int, sentiment: str | None = None, topic: str | None = None
) -> list[LabelFeedback]:
    """Correct a post's sentiment and/or topic (`queue.label`): one LabelFeedback row per label
    given, the post's queue item relabelled, and one audit event from the labels in force to the new."""
    require(actor, "queue.label")
    changes = {kind: value for kind, value in (("sentiment", sentiment), ("topic", topic)) if value is not None}
    if not changes:
        raise ActionError("a label correction needs a sentiment, a topic or both")
    if session.get(Post, post_id) is None:
        raise NotFound(f"no post with id {post_id}")
    before = labels_in_force(session=session, post_id=post_id)
    stored = [
        add_label_feedback(session=session, post_id=post_id, kind=kind, new_value=value, staff_id=actor.id)
        for kind, value in changes.items()
    ]
    audit.record(
        session, actor=actor, action="queue.label", entity_type="post", entity_id=post_id,
        before={kind: before[kind] for kind in changes}, after=changes,
    )  # fmt: skip
    return stored
