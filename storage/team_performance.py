"""The read side of team performance: who answered, closed, asked for approval and reopened what.

Each function returns one row per event or item inside a half-open `[since, until)` UTC window,
never one row per post: queue items are a small share of posts, and a week holds a bounded number
of replies and closes. `reports.team_performance` turns these rows into per-agent and per-team
figures (medians and percentiles are computed there, as the weekly report does).

Where each fact is recorded:
- a reply sent: `Reply.sent_at` with its author (`Reply.author_staff_id`);
- the first response: `QueueItem.first_responded_at`, set once by the first reply sent, and its
  deadline `QueueItem.first_response_due_at` (final by then: the clock only moves while unanswered);
- a close: the `queue.closed` audit event (its actor is the staff username, or `system:…`);
- an approval asked for: a reply that went to review (it has a reviewer, or is still pending);
  returned: a reply the reviewer rejected (status `rejected`, sent back to its author with a comment);
- a reopen: nothing stores it as such, so it is read from the audit trail: any queue-item event
  whose `before.status` is replied or closed and whose `after.status` is open again (the router's
  `queue.customer_replied` when the customer writes again, or staff moving the item back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, or_, select
from sqlmodel import Session, col

from dangol.core.statuses import DONE_STATUSES, REOPENED_TO
from storage.models import AuditEvent, QueueItem, Reply, Staff


@dataclass(frozen=True, slots=True)
class Handling:
    """One reply sent or one close: the work that counts an item as handled by someone."""

    item_id: int
    team: str
    staff_id: int | None  # None: a system actor or a reply without a staff author
    kind: str  # reply | close
    at: datetime
    item_created_at: datetime


@dataclass(frozen=True, slots=True)
class FirstResponse:
    """An item's first response, who sent it and its deadline."""

    item_id: int
    team: str
    staff_id: int | None
    created_at: datetime
    responded_at: datetime
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A reply that was sent to a PR reviewer, and whether the reviewer sent it back."""

    reply_id: int
    team: str
    staff_id: int | None
    returned: bool


def _item_of_event() -> Any:
    # Audit events name their entity as text; the queue item's id is cast to match.
    return and_(
        col(AuditEvent.entity_type) == "queue_item", col(AuditEvent.entity_id) == cast(col(QueueItem.id), String)
    )


def handling_events(*, session: Session, since: datetime, until: datetime) -> list[Handling]:
    """Replies sent and items closed in the window, with the item's team and who did it."""
    replies = (
        select(
            col(QueueItem.id),
            col(QueueItem.team),
            col(Reply.author_staff_id),
            col(Reply.sent_at),
            col(QueueItem.created_at),
        )
        .join(QueueItem, col(QueueItem.id) == col(Reply.queue_item_id))
        .where(col(Reply.status) == "sent", col(Reply.sent_at) >= since, col(Reply.sent_at) < until)
    )
    closes = (
        select(col(QueueItem.id), col(QueueItem.team), col(Staff.id), col(AuditEvent.at), col(QueueItem.created_at))
        .select_from(AuditEvent)
        .join(QueueItem, _item_of_event())
        .outerjoin(Staff, col(Staff.username) == col(AuditEvent.actor))
        .where(col(AuditEvent.action) == "queue.closed", col(AuditEvent.at) >= since, col(AuditEvent.at) < until)
    )
    rows = [Handling(i, t, s, "reply", at, c) for i, t, s, at, c in session.execute(replies)]
    rows += [Handling(i, t, s, "close", at, c) for i, t, s, at, c in session.execute(closes)]
    return rows


def first_responses(*, session: Session, since: datetime, until: datetime) -> list[FirstResponse]:
    """Items first answered in the window, with the author of the earliest reply sent on each."""
    first_author = (
        select(col(Reply.author_staff_id))
        .where(col(Reply.queue_item_id) == col(QueueItem.id), col(Reply.status) == "sent")
        .order_by(col(Reply.sent_at), col(Reply.id))
        .limit(1)
        .scalar_subquery()
    )
    answered = col(QueueItem.first_responded_at)
    stmt = select(
        col(QueueItem.id),
        col(QueueItem.team),
        first_author,
        col(QueueItem.created_at),
        answered,
        col(QueueItem.first_response_due_at),
    ).where(answered >= since, answered < until)
    return [FirstResponse(i, t, s, c, a, d) for i, t, s, c, a, d in session.execute(stmt)]


def approval_requests(*, session: Session, since: datetime, until: datetime) -> list[ApprovalRequest]:
    """Replies drafted in the window that went to review (reviewed, or still waiting)."""
    reviewed = or_(col(Reply.reviewer_id).is_not(None), col(Reply.status) == "pending_approval")
    stmt = (
        select(col(Reply.id), col(QueueItem.team), col(Reply.author_staff_id), col(Reply.status))
        .join(QueueItem, col(QueueItem.id) == col(Reply.queue_item_id))
        .where(col(Reply.created_at) >= since, col(Reply.created_at) < until, reviewed)
    )
    return [ApprovalRequest(r, t, s, status == "rejected") for r, t, s, status in session.execute(stmt)]


def reopenings(*, session: Session, item_ids: list[int], since: datetime) -> list[tuple[int, datetime]]:
    """(item id, when) for each reopening of these items at or after `since`, read from the audit trail."""
    if not item_ids:
        return []
    before = col(AuditEvent.before)["status"].as_string()
    after = col(AuditEvent.after)["status"].as_string()
    stmt = select(col(AuditEvent.entity_id), col(AuditEvent.at)).where(
        col(AuditEvent.entity_type) == "queue_item",
        col(AuditEvent.entity_id).in_([str(i) for i in item_ids]),
        col(AuditEvent.at) >= since,
        before.in_(DONE_STATUSES),
        after.in_(REOPENED_TO),
    )
    return [(int(entity), at) for entity, at in session.execute(stmt)]
