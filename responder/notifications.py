"""Who is told what when the queue moves: the SLA about to breach or breached (the assignee and the
team's leads), a reply waiting for approval (every reviewer but its author), a review's outcome
(the reply's author), a routing rule's `notify` (the team's leads). Rows are written through
`storage.notifications.notify`, which keeps one per recipient and event however many workers
notice it; e-mail and webhook follow from each person's preferences (reports.notifications)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import QueueItem, Reply, Staff
from storage.notifications import notify
from storage.staff import active_staff, staff_allowed, team_leads


def _item_people(item: QueueItem, *, session: Session) -> list[Staff]:
    """The item's assignee and its team's leads. With nobody assigned and no lead in the team,
    every active lead, so a clock running out on an unowned item still reaches someone."""
    people = team_leads(item.team, session=session)
    if item.assignee_id is not None:
        assignee = session.get(Staff, item.assignee_id)
        if assignee is not None:
            people.append(assignee)
    if not people:
        people = [s for s in active_staff(session=session) if s.role == "lead"]
    return people


def sla_notice(item: QueueItem, *, session: Session, kind: str, which: str, due: datetime, now: datetime) -> list[int]:
    """`sla.warning` or `sla.breach` for the item's clock `which` due at `due`. The event is the
    clock and its due time: a clock moved on (paused, then resumed) warns again, the same one never."""
    what = "first response" if which == "first_response" else "resolution"
    verb = "is due" if kind == "sla.warning" else "was due"
    text = (
        f"Queue item #{item.id} ({item.team}, priority {item.priority}): {what} {verb} at "
        f"{due.strftime('%Y-%m-%d %H:%M')} UTC" + ("" if kind == "sla.warning" else " and is now breached")
    )
    return notify(
        _item_people(item, session=session), session=session, kind=kind, subject=f"queue_item:{item.id}",
        event=f"{which}:{due.isoformat()}", text=text, now=now, item_id=item.id,
    )  # fmt: skip


def approval_requested(reply: Reply, item: QueueItem, *, session: Session, reasons: list[str], now: datetime) -> None:
    """Every active reviewer (reply.review) but the reply's author: it waits for one of them."""
    reviewers = [s for s in staff_allowed("reply.review", session=session) if s.id != reply.author_staff_id]
    text = f"A reply to queue item #{item.id} waits for approval: {'; '.join(reasons)}"
    notify(
        reviewers, session=session, kind="reply.pending", subject=f"reply:{reply.id}", event="pending",
        text=text, now=now, item_id=item.id,
    )  # fmt: skip


def review_outcome(reply: Reply, reviewer: Staff, *, session: Session, now: datetime) -> None:
    """The reply's author hears whether it was approved or returned, and why."""
    author = session.get(Staff, reply.author_staff_id) if reply.author_staff_id else None
    if author is None:
        return
    approved = reply.status == "approved"
    text = f"Your reply to queue item #{reply.queue_item_id} was {'approved' if approved else 'returned'} by " + (
        f"{reviewer.username}" + (f": {reply.review_comment}" if reply.review_comment else "")
    )
    notify(
        [author], session=session, kind="reply.approved" if approved else "reply.rejected",
        subject=f"reply:{reply.id}", event=str(reply.status), text=text, now=now, item_id=reply.queue_item_id,
    )  # fmt: skip


def routed(item: QueueItem, rules: list[str], *, session: Session, now: datetime) -> None:
    """A routing rule with `notify = true` matched: the team's leads (every lead when it has none)."""
    people = team_leads(item.team, session=session) or [s for s in active_staff(session=session) if s.role == "lead"]
    text = f"Queue item #{item.id} routed to {item.team} (priority {item.priority}) by {', '.join(rules)}"
    notify(
        people, session=session, kind="queue.notify", subject=f"queue_item:{item.id}", event="routed",
        text=text, now=now, item_id=item.id,
    )  # fmt: skip
