"""Label corrections: permission checked, stored for retraining, the queue item relabelled, audited once."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from dangol.core.errors import ActionError, Forbidden
from responder.labels import correct_labels
from responder.queue import route_new
from storage.models import AuditEvent, LabelFeedback, QueueItem
from tests.responder.conftest import NOW


@pytest.fixture
def post_id(session: Session, settings, seed_post) -> int:
    """A routed complaint: the model said negative / delivery."""
    post = seed_post("my order never arrived", risk=0.9)
    route_new(session=session, settings=settings, now=NOW)
    return post.id


def events(session: Session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == "queue.label")))


def test_a_correction_is_stored_relabels_the_item_and_writes_one_audit_event(session, post_id, make_staff) -> None:
    agent = make_staff("amy")
    correct_labels(session=session, actor=agent, post_id=post_id, sentiment="neutral", topic="billing")
    stored = session.exec(select(LabelFeedback).order_by(LabelFeedback.id)).all()
    assert [(f.kind, f.old_value, f.new_value, f.staff_id) for f in stored] == [
        ("sentiment", "negative", "neutral", agent.id),
        ("topic", "delivery", "billing", agent.id),
    ]
    item = session.exec(select(QueueItem).where(QueueItem.post_id == post_id)).one()
    assert (item.sentiment, item.topic) == ("neutral", "billing")
    [event] = events(session)
    assert (event.actor, event.entity_type, event.entity_id) == ("amy", "post", str(post_id))
    assert event.before == {"sentiment": "negative", "topic": "delivery"}
    assert event.after == {"sentiment": "neutral", "topic": "billing"}


def test_the_audit_event_starts_from_the_last_correction_not_the_prediction(session, post_id, make_staff) -> None:
    agent = make_staff("amy")
    correct_labels(session=session, actor=agent, post_id=post_id, topic="billing")
    correct_labels(session=session, actor=agent, post_id=post_id, topic="app")
    assert [(e.before, e.after) for e in events(session)] == [
        ({"topic": "delivery"}, {"topic": "billing"}),
        ({"topic": "billing"}, {"topic": "app"}),
    ]


def test_a_role_without_queue_label_is_refused_and_nothing_is_stored(session, post_id, make_staff) -> None:
    with pytest.raises(Forbidden, match="role 'product' may not"):
        correct_labels(session=session, actor=make_staff("pat", role="product"), post_id=post_id, sentiment="neutral")
    assert session.exec(select(LabelFeedback)).first() is None and not events(session)


def test_a_correction_without_a_label_is_refused(session, post_id, make_staff) -> None:
    with pytest.raises(ActionError, match="needs a sentiment, a topic or both"):
        correct_labels(session=session, actor=make_staff("amy"), post_id=post_id)
