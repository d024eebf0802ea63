"""Meta-test: every staff action in `dangol.core.permissions.ACTIONS` is either a read, or done by
functions that each check the actor's permission and write exactly one audit event.

A new action must be added to one of the tables below, so none slips in unaudited. Each case
sets the world up, then performs one action: only what that one call writes is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from dangol.core.errors import Forbidden
from dangol.core.permissions import ACTIONS, PERMISSIONS
from dangol.core.settings import Settings
from dangol.core.types import utcnow
from reports.erasure import erase_customer
from reports.feeds import export_topic
from reports.segments import export_segment
from responder import approval, assignment, customers, labels, queue, routing, topic_admin
from responder.accounts import api_tokens, preferences, staff
from storage import api_tokens as api_token_rows
from storage.models import AuditEvent, Customer, IdentityLink, QueueItem, Staff
from tests.responder.conftest import NOW

# Actions that only show data: nothing changes, nothing is audited.
READS = {"queue.view", "customer.view", "topic.view", "report.view", "alert.view", "source.view", "team.performance"}


@dataclass
class World:
    """A routed risky complaint from a known customer, a second customer, and one staff member per role."""

    session: Session
    settings: Settings
    item_id: int
    post_id: int
    customer: Customer
    other_customer: Customer
    agent: Staff
    colleague: Staff
    reviewer: Staff
    admin: Staff

    def pending_reply(self) -> int:
        assignment.claim(self.item_id, actor=self.agent, session=self.session)
        reply = approval.submit_reply(
            self.item_id, "Sorry, we are on it.", actor=self.agent, session=self.session, settings=self.settings
        )
        return reply.id or 0


# (action, the role that performs it, and a setup returning the call that performs it as `actor`)
Perform = Callable[[World, Staff], Callable[[], object]]
CASES: list[tuple[str, str, Perform]] = []


def case(action: str, role: str) -> Callable[[Perform], Perform]:
    def register(perform: Perform) -> Perform:
        CASES.append((action, role, perform))
        return perform

    return register


@case("queue.claim", "agent")
def claim(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: assignment.claim(w.item_id, actor=actor, session=w.session)


@case("queue.claim", "agent")
def release(w: World, actor: Staff) -> Callable[[], object]:
    assignment.assign(w.item_id, actor.id or 0, actor=w.admin, session=w.session)
    return lambda: assignment.release(w.item_id, actor=actor, session=w.session)


@case("queue.claim", "agent")
def assign_a_free_item(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: assignment.assign(w.item_id, w.colleague.id or 0, actor=actor, session=w.session)


@case("queue.reassign", "admin")
def take_an_item_from_a_colleague(w: World, actor: Staff) -> Callable[[], object]:
    assignment.assign(w.item_id, w.colleague.id or 0, actor=w.admin, session=w.session)
    return lambda: assignment.assign(w.item_id, w.agent.id or 0, actor=actor, session=w.session)


@case("queue.reply", "agent")
def send_a_reply_for_approval(w: World, actor: Staff) -> Callable[[], object]:
    # A reply sent at once writes its delivery trail too (reply.sending is committed before the
    # platform call, then reply.sent and queue.replied): that is `responder.sending`'s, not the draft's.
    assignment.assign(w.item_id, actor.id or 0, actor=w.admin, session=w.session)
    return lambda: approval.submit_reply(
        w.item_id, "Sorry, we are on it.", actor=actor, session=w.session, settings=w.settings
    )


@case("queue.reply", "agent")
def snooze(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: queue.snooze(w.item_id, utcnow() + timedelta(days=1), actor=actor, session=w.session)


@case("queue.bulk", "agent")
def bulk_close_one_item(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: queue.bulk([w.item_id], "close", actor=actor, session=w.session)


@case("queue.close", "agent")
def close(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: queue.close(w.item_id, actor=actor, session=w.session)


@case("queue.close", "agent")
def mark_spam(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: queue.mark_spam(w.item_id, actor=actor, session=w.session)


@case("queue.note", "agent")
def add_note(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: queue.add_note(w.item_id, "called the store", actor=actor, session=w.session)


@case("queue.note", "agent")
def add_tag(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: queue.add_tag(w.item_id, "refund", actor=actor, session=w.session)


@case("queue.label", "agent")
def correct_both_labels(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: labels.correct_labels(
        session=w.session, actor=actor, post_id=w.post_id, sentiment="neutral", topic="billing"
    )


@case("reply.review", "reviewer")
def approve(w: World, actor: Staff) -> Callable[[], object]:
    reply_id = w.pending_reply()
    return lambda: approval.review(reply_id, "approve", actor=actor, session=w.session)


@case("reply.review", "reviewer")
def reject(w: World, actor: Staff) -> Callable[[], object]:
    reply_id = w.pending_reply()
    return lambda: approval.review(reply_id, "reject", actor=actor, session=w.session, comment="too curt")


@case("customer.link", "agent")
def confirm_a_proposed_link(w: World, actor: Staff) -> Callable[[], object]:
    link = w.session.exec(select(IdentityLink)).one()
    return lambda: customers.decide_link(session=w.session, actor=actor, link_id=link.id or 0, confirm=True)


@case("customer.merge", "admin")
def merge(w: World, actor: Staff) -> Callable[[], object]:
    ids = {"source_id": w.customer.id or 0, "target_id": w.other_customer.id or 0}
    return lambda: customers.merge_customers(session=w.session, actor=actor, **ids)


@case("customer.merge", "admin")
def undo_merge(w: World, actor: Staff) -> Callable[[], object]:
    source = w.customer.id or 0
    customers.merge_customers(session=w.session, actor=w.admin, source_id=source, target_id=w.other_customer.id or 0)
    return lambda: customers.undo_merge(session=w.session, actor=actor, source_id=source)


@case("customer.export", "admin")
def export(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: customers.export_customer(session=w.session, actor=actor, customer_id=w.customer.id or 0)


@case("customer.erase", "admin")
def erase(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: erase_customer(w.customer.id or 0, session=w.session, settings=w.settings, actor=actor)


@case("admin.staff", "admin")
def change_a_role(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: staff.update_staff(session=w.session, actor=actor, staff_id=w.colleague.id or 0, role="pr_reviewer")


@case("admin.staff", "admin")
def reset_a_password(w: World, actor: Staff) -> Callable[[], object]:
    staff_id = w.colleague.id or 0
    return lambda: staff.reset_password(session=w.session, actor=actor, staff_id=staff_id, password="a long password")


@case("admin.staff", "admin")
def unlock_a_login(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: staff.unlock(session=w.session, actor=actor, staff_id=w.colleague.id or 0)


RULE = ("billing to billing", {"topic": "billing"}, {"team": "billing"})


@case("admin.rules", "admin")
def add_a_rule(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: routing.add_rule(*RULE, actor=actor, session=w.session)


@case("admin.rules", "admin")
def disable_a_rule(w: World, actor: Staff) -> Callable[[], object]:
    rule = routing.add_rule(*RULE, actor=w.admin, session=w.session)
    return lambda: routing.update_rule(rule.id or 0, actor=actor, session=w.session, enabled=False)


@case("admin.rules", "admin")
def reorder_rules(w: World, actor: Staff) -> Callable[[], object]:
    first, second = (routing.add_rule(*RULE, actor=w.admin, session=w.session).id or 0 for _ in range(2))
    return lambda: routing.reorder_rules([second, first], actor=actor, session=w.session)


@case("admin.rules", "admin")
def delete_a_rule(w: World, actor: Staff) -> Callable[[], object]:
    rule = routing.add_rule(*RULE, actor=w.admin, session=w.session)
    return lambda: routing.delete_rule(rule.id or 0, actor=actor, session=w.session)


PARKING = topic_admin.TopicForm(
    name="Parking", description="Nowhere to park", examples=["there is nowhere to park"], team="support"
)


@case("admin.topics", "admin")
def add_a_topic(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: topic_admin.add_topic(
        session=w.session, catalog=w.settings.topic_catalog, actor=actor, key="parking", form=PARKING
    )


@case("admin.topics", "admin")
def edit_a_topic(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: topic_admin.edit_topic(
        session=w.session, catalog=w.settings.topic_catalog, actor=actor, key="delivery", form=PARKING
    )


@case("admin.topics", "admin")
def retire_a_topic(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: topic_admin.set_topic_enabled(
        session=w.session, catalog=w.settings.topic_catalog, actor=actor, key="delivery", enabled=False
    )


@case("topic.export", "admin")
def export_a_topic(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: export_topic("delivery", session=w.session, actor=actor, since=NOW - timedelta(days=7), until=NOW)


@case("segment.export", "admin")
def export_a_segment(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: export_segment("at_risk", session=w.session, actor=actor)


@case("customer.import", "admin")
def import_a_customer_from_the_crm(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: customers.import_customer(session=w.session, actor=actor, external_ref="crm-7", name="Lee Jiwoo")


@case("customer.import", "admin")
def update_a_customer_from_the_crm(w: World, actor: Staff) -> Callable[[], object]:
    customers.import_customer(session=w.session, actor=w.admin, external_ref="crm-7", name="Lee Jiwoo")
    return lambda: customers.import_customer(
        session=w.session, actor=actor, external_ref="crm-7", name="Lee Jiwoo", tier="vip"
    )


@case("api.token", "agent")
def create_an_api_token(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: api_tokens.create_token(session=w.session, actor=actor, owner=actor, name="crm-sync")


@case("api.token", "agent")
def revoke_one_s_own_api_token(w: World, actor: Staff) -> Callable[[], object]:
    # Stored directly: an outsider in the refusal test may not be able to create one.
    row = api_token_rows.add_token(
        session=w.session, staff_id=actor.id or 0, name="crm-sync", token_hash="0" * 64, now=NOW, expires_at=None
    )
    return lambda: api_tokens.revoke_token(session=w.session, actor=actor, token_id=row.id or 0)


@case("admin.teams", "admin")
def add_a_team(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: staff.save_team(session=w.session, actor=actor, key="vip_care", name="VIP care")


@case("admin.teams", "admin")
def rename_a_team(w: World, actor: Staff) -> Callable[[], object]:
    staff.save_team(session=w.session, actor=w.admin, key="vip_care", name="VIP")
    return lambda: staff.save_team(session=w.session, actor=actor, key="vip_care", name="VIP care")


@case("notifications.self", "agent")
def set_one_s_notification_preferences(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: preferences.set_preferences(
        session=w.session, actor=actor, email="amy@example.com", webhook_url=None, channels={"email": ["sla.breach"]},
        quiet_start="22:00", quiet_end="07:00", timezone="Asia/Seoul",
    )  # fmt: skip


@case("notifications.self", "agent")
def mark_one_s_inbox_read(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: preferences.mark_read(session=w.session, actor=actor)


@case("availability.self", "agent")
def set_oneself_away(w: World, actor: Staff) -> Callable[[], object]:
    return lambda: preferences.set_availability(session=w.session, actor=actor, available=False)


@pytest.fixture
def world(session, settings, seed_post, make_staff, make_customer) -> World:
    settings.responder.assignment = "manual"  # no auto-assignment: each case decides who holds the item
    customer, other = make_customer("Kim Minji"), make_customer("Kim M.")
    post = seed_post("my order never arrived and I was charged twice", customer=customer, risk=0.9)
    queue.route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    session.exec(select(IdentityLink)).one().status = "proposed"
    session.flush()
    people = {role: make_staff(name, role=role) for name, role in [("amy", "agent"), ("rae", "pr_reviewer")]}
    return World(
        session=session, settings=settings, item_id=item.id or 0, post_id=post.id or 0, customer=customer,
        other_customer=other, agent=people["agent"], colleague=make_staff("bo"), reviewer=people["pr_reviewer"],
        admin=make_staff("ann", role="admin"),
    )  # fmt: skip


def actor_for(w: World, role: str) -> Staff:
    return {"agent": w.agent, "reviewer": w.reviewer, "admin": w.admin}[role]


def events_after(session: Session, last_id: int) -> list[AuditEvent]:
    session.flush()
    return list(session.exec(select(AuditEvent).where(col(AuditEvent.id) > last_id).order_by(col(AuditEvent.id))))


def last_event_id(session: Session) -> int:
    session.flush()
    return max(session.exec(select(col(AuditEvent.id))).all(), default=0) or 0


def test_every_action_is_a_read_or_a_driven_action() -> None:
    driven = {action for action, _, _ in CASES}
    assert not (driven & READS)
    assert driven | READS == set(ACTIONS)


@pytest.mark.parametrize(("action", "role", "perform"), CASES, ids=[p.__name__ for _, _, p in CASES])
def test_performing_an_action_writes_exactly_one_audit_event_by_its_actor(world, action, role, perform) -> None:
    actor = actor_for(world, role)
    run = perform(world, actor)
    before = last_event_id(world.session)
    run()
    assert [e.actor for e in events_after(world.session, before)] == [actor.username]


@pytest.mark.parametrize(("action", "perform"), [(a, p) for a, _, p in CASES], ids=[p.__name__ for _, _, p in CASES])
def test_a_role_without_the_action_is_refused_by_the_function_itself(world, make_staff, action, perform) -> None:
    role = next((r for r in ("product", "agent", "pr_reviewer") if action not in PERMISSIONS[r]), None)
    # An action every role holds (api.token) is still refused to a deactivated account.
    outsider = make_staff("pat", role=role or "agent", active=role is not None)
    run = perform(world, outsider)
    before = last_event_id(world.session)
    with pytest.raises(Forbidden, match=f"role '{role}' may not" if role else "account 'pat' is deactivated"):
        run()
    assert events_after(world.session, before) == []


def test_a_cli_export_is_audited_once_as_the_cli(world) -> None:
    before = last_event_id(world.session)
    customers.export_customer(session=world.session, actor=None, customer_id=world.customer.id or 0)
    assert [(e.actor, e.action) for e in events_after(world.session, before)] == [("system:cli", "customer.export")]
