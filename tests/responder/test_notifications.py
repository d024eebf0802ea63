"""Who is notified of what: routing `notify`, SLA warnings and breaches, approvals; preferences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from dangol.core.errors import ActionError
from responder import sla
from responder.accounts.preferences import mark_read, set_preferences
from responder.approval import review, submit_reply
from responder.assignment import assign
from responder.queue import route_new
from storage.models import Notification, NotificationDelivery, QueueItem
from storage.notifications import inbox, unread_count
from tests.responder.conftest import NOW

LAWYER = "I am calling my lawyer about this"  # config.toml: team pr, urgent SLA (60 min, warned 15 before), notify


@pytest.fixture
def pr_item(session, settings, seed_post):
    settings.responder.assignment = "manual"

    def build() -> QueueItem:
        seed_post(LAWYER, followers=10)
        route_new(session=session, settings=settings, now=NOW)
        return session.exec(select(QueueItem).where(QueueItem.team == "pr")).one()

    return build


def _notes(session, kind: str | None = None) -> list[tuple[str, str, int | None]]:
    stmt = select(Notification).order_by(Notification.id)
    return [(n.kind, n.event, n.recipient_id) for n in session.exec(stmt) if kind is None or n.kind == kind]


def test_a_routing_rule_with_notify_tells_the_teams_leads_only(session, pr_item, make_staff):
    lee = make_staff("lee", role="lead", team="pr")
    make_staff("sam", role="lead", team="support")
    make_staff("amy", team="pr")
    item = pr_item()
    assert _notes(session, "queue.notify") == [("queue.notify", "routed", lee.id)]
    assert inbox(session=session, staff_id=lee.id)[0].item_id == item.id


def test_sla_about_to_breach_is_told_once_to_assignee_and_leads_then_the_breach(session, settings, pr_item, make_staff):
    lee = make_staff("lee", role="lead", team="pr")
    amy = make_staff("amy", team="pr")
    admin = make_staff("ann", role="admin")
    item = pr_item()
    assign(item.id, amy.id, actor=admin, session=session)
    assert sla.notify_warnings(session=session, settings=settings, now=NOW + timedelta(minutes=30)) == []
    for minutes in (46, 50, 55):  # every routing pass in the warning window: told once
        sla.notify_warnings(session=session, settings=settings, now=NOW + timedelta(minutes=minutes))
    due = (NOW + timedelta(hours=1)).isoformat()
    warned = sorted(_notes(session, "sla.warning"), key=lambda n: n[2])
    assert warned == [
        ("sla.warning", f"first_response:{due}", lee.id),
        ("sla.warning", f"first_response:{due}", amy.id),
    ]
    sla.check_breaches(session=session, now=NOW + timedelta(minutes=61))
    sla.check_breaches(session=session, now=NOW + timedelta(minutes=62))
    assert sorted(r for _, _, r in _notes(session, "sla.breach")) == sorted([lee.id, amy.id])


def test_approval_request_goes_to_reviewers_and_the_outcome_to_the_author(session, settings, pr_item, make_staff):
    item = pr_item()
    amy, rae = make_staff("amy", team="pr"), make_staff("rae", role="pr_reviewer")
    lee = make_staff("lee", role="lead", team="pr")
    make_staff("gone", role="pr_reviewer", active=False)
    first = submit_reply(item.id, "We're sorry.", actor=amy, session=session, settings=settings)
    assert sorted(r for k, _, r in _notes(session, "reply.pending")) == sorted([rae.id, lee.id])  # not amy, not gone
    review(first.id, "reject", actor=rae, session=session, comment="Too short; name the refund")
    returned = inbox(session=session, staff_id=amy.id)
    assert [(n.kind, n.item_id) for n in returned] == [("reply.rejected", item.id)]
    assert "Too short; name the refund" in returned[0].text
    second = submit_reply(item.id, "We're sorry; refund on its way.", actor=amy, session=session, settings=settings)
    review(second.id, "approve", actor=lee, session=session)
    assert [n.kind for n in inbox(session=session, staff_id=amy.id)] == ["reply.approved", "reply.rejected"]
    assert [n.kind for n in inbox(session=session, staff_id=rae.id)] == ["reply.pending", "reply.pending"]


def test_channels_follow_the_persons_addresses_and_chosen_kinds(session, pr_item, make_staff):
    lee = make_staff("lee", role="lead", team="pr")
    set_preferences(
        session=session, actor=lee, email="lee@example.com", webhook_url="https://hooks.example.com/lee",
        channels={"email": ["sla.breach"]},
    )  # fmt: skip
    pr_item()  # queue.notify: the webhook (every kind), not e-mail (breaches only)
    deliveries = session.exec(select(NotificationDelivery)).all()
    assert [d.channel for d in deliveries] == ["webhook"]
    set_preferences(session=session, actor=lee, email="lee@example.com", webhook_url=None, channels={"webhook": []})
    item = session.exec(select(QueueItem)).one()
    sla.check_breaches(session=session, now=item.first_response_due_at + timedelta(minutes=1))
    channels = [d.channel for d in session.exec(select(NotificationDelivery).order_by(NotificationDelivery.id))]
    assert channels == ["webhook", "email"]


def test_preferences_are_checked_and_each_person_marks_only_their_own_inbox(session, pr_item, make_staff):
    lee, sam = make_staff("lee", role="lead", team="pr"), make_staff("sam", role="lead", team="pr")
    for bad, message in (
        ({"email": "not-an-address"}, "not an e-mail address"),
        ({"quiet_start": "22:00"}, "both a start and an end"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "not a time"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"webhook_url": "file:///etc/passwd"}, "http:// or https://"),
        ({"channels": {"sms": []}}, "unknown channel"),
    ):
        with pytest.raises(ActionError, match=message):
            set_preferences(session=session, actor=lee, **{"email": None, "webhook_url": None, **bad})
    pr_item()
    assert (unread_count(session=session, staff_id=lee.id), unread_count(session=session, staff_id=sam.id)) == (1, 1)
    sams = inbox(session=session, staff_id=sam.id)[0].id
    assert mark_read(session=session, actor=lee, ids=[sams]) == []  # not lee's to mark
    assert mark_read(session=session, actor=lee) == [inbox(session=session, staff_id=lee.id)[0].id]
    assert (unread_count(session=session, staff_id=lee.id), unread_count(session=session, staff_id=sam.id)) == (0, 1)
