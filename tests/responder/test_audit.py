"""The audit trail: recorded with before/after values, filtered by actor, action prefix and time."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.audit import list_events, record
from tests.responder.conftest import NOW


def test_events_filter_by_actor_action_prefix_and_time(session, make_staff):
    amy = make_staff("amy")
    record(session, actor=amy, action="queue.claim", entity_type="queue_item", entity_id=1, at=NOW)
    record(session, actor=amy, action="reply.sent", entity_type="reply", entity_id=7, at=NOW + timedelta(hours=1))
    record(
        session,
        actor="system:sla",
        action="sla.breach",
        entity_type="queue_item",
        entity_id=1,
        at=NOW + timedelta(hours=2),
    )
    session.flush()
    assert [e.action for e in list_events(session=session, actor="amy")] == ["reply.sent", "queue.claim"]
    assert [e.action for e in list_events(session=session, action="queue.")] == ["queue.claim"]
    assert [e.actor for e in list_events(session=session, since=NOW + timedelta(minutes=90))] == ["system:sla"]
    assert [e.entity_id for e in list_events(session=session, entity_type="queue_item", entity_id=1)] == ["1", "1"]


def test_before_and_after_values_are_stored_as_json(session):
    event = record(
        session, actor="system:router", action="queue.create", entity_type="queue_item", entity_id=3,
        before={"status": "new"}, after={"due": datetime(2026, 11, 16, 10, 0)}, at=NOW,
    )  # fmt: skip
    session.flush()
    session.expire_all()
    stored = list_events(session=session)[0]
    assert (stored.id, stored.before, stored.after) == (event.id, {"status": "new"}, {"due": "2026-11-16T10:00:00"})
