"""The outbound webhook outbox: item events read from the audit trail, enqueued once per
subscription, claimed by one worker at a time, finished as delivered, to retry or given up.

Exactly once, twice over (as `storage.notifications`):
- a row is (subscription, event), unique in the table; `enqueue` inserts with ON CONFLICT DO NOTHING,
  so of several workers reading the same audit event one row results;
- `claim_next` picks due rows with SELECT … FOR UPDATE SKIP LOCKED (on PostgreSQL; SQLite does not
  render it) and takes one with a conditional UPDATE (still pending, held by nobody). SQLite's
  single writer lock runs those UPDATEs one after the other, so of two workers that read the same
  row only the first one's matches. The claim commits before the POST, so no transaction (and no
  SQLite write lock) stays open while a receiver answers; the row is held until `claimed_until`,
  and `finish` writes the outcome only while this worker still holds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from dangol.core.webhooks import event_type
from storage.engine import dialect_insert
from storage.models import AuditEvent, QueueItem, Reply, WebhookOutbox

# The audit entities an item event can be about: the item, one of its replies, its post (labels).
ITEM_ENTITIES = ("queue_item", "reply", "post")
# How many due rows one claim looks at: on SQLite another worker may have taken the first ones
# between this worker's read and its UPDATE.
CLAIM_CANDIDATES = 10


@dataclass(frozen=True, slots=True)
class ItemEvent:
    """An audit event that is an item event, with the queue item it is about."""

    event_id: int
    event_type: str
    item_id: int
    at: datetime


def item_events(*, session: Session, since: datetime) -> list[ItemEvent]:
    """The item events recorded at or after `since`, oldest first (dangol.core.webhooks.event_type
    decides which audit events are one); those whose item cannot be found are left out."""
    stmt = (
        select(AuditEvent)
        .where(col(AuditEvent.at) >= since, col(AuditEvent.entity_type).in_(ITEM_ENTITIES))
        .order_by(col(AuditEvent.id))
    )
    typed = [(e, kind) for e in session.exec(stmt) if (kind := event_type(e.action, e.entity_type, e.before, e.after))]
    items = _items_of(session, [(e.entity_type, e.entity_id) for e, _ in typed])
    return [
        ItemEvent(e.id or 0, kind, items[(e.entity_type, e.entity_id)], e.at or since)
        for e, kind in typed
        if (e.entity_type, e.entity_id) in items
    ]


def _items_of(session: Session, entities: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(entity type, id) → the queue item it belongs to: an item is itself, a reply has its item, a
    post the item it is the post of."""
    found = {(kind, key): int(key) for kind, key in entities if kind == "queue_item"}
    replies = [int(key) for kind, key in entities if kind == "reply"]
    if replies:
        of_replies = select(col(Reply.id), col(Reply.queue_item_id)).where(col(Reply.id).in_(replies))
        found.update((("reply", str(reply)), item) for reply, item in session.exec(of_replies))
    posts = [int(key) for kind, key in entities if kind == "post"]
    if posts:
        of_posts = (
            select(col(QueueItem.post_id), func.min(col(QueueItem.id)))
            .where(col(QueueItem.post_id).in_(posts))
            .group_by(col(QueueItem.post_id))
        )
        found.update((("post", str(post)), item) for post, item in session.exec(of_posts) if item is not None)
    return found


def newest_enqueued(*, session: Session) -> datetime | None:
    """When the newest event in the outbox happened (None: the outbox is empty)."""
    return session.exec(select(func.max(col(WebhookOutbox.occurred_at)))).one()


def enqueued(*, session: Session, event_ids: Iterable[int]) -> set[tuple[str, int]]:
    """(subscription, event id) of the rows already in the outbox for these events."""
    ids = sorted(set(event_ids))
    if not ids:
        return set()
    stmt = select(col(WebhookOutbox.subscription), col(WebhookOutbox.event_id)).where(
        col(WebhookOutbox.event_id).in_(ids)
    )
    return {(subscription, event) for subscription, event in session.exec(stmt)}


def enqueue(*, session: Session, subscription: str, event: ItemEvent, payload: dict[str, Any], now: datetime) -> bool:
    """Add the event for the subscription unless it is there; True when this call added it."""
    stmt = (
        dialect_insert(session, WebhookOutbox)
        .values(
            subscription=subscription,
            event_id=event.event_id,
            event_type=event.event_type,
            item_id=event.item_id,
            occurred_at=event.at,
            payload=payload,
            created_at=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["subscription", "event_id"])
        .returning(col(WebhookOutbox.id))
    )
    return session.connection().execute(stmt).scalar() is not None


def _due(now: datetime) -> tuple[Any, ...]:
    """Pending, its retry time reached, and held by no worker (or by one whose hold has run out)."""
    return (
        col(WebhookOutbox.delivered_at).is_(None),
        col(WebhookOutbox.given_up_at).is_(None),
        or_(col(WebhookOutbox.not_before).is_(None), col(WebhookOutbox.not_before) <= now),
        or_(col(WebhookOutbox.claimed_until).is_(None), col(WebhookOutbox.claimed_until) <= now),
    )


def claim_next(
    *, session: Session, now: datetime, worker: str, hold_until: datetime, subscriptions: Sequence[str]
) -> WebhookOutbox | None:
    """The oldest due row of these subscriptions, now held by `worker` until `hold_until` (commit
    the session before sending); None when there is none free."""
    if not subscriptions:
        return None
    stmt = (
        select(col(WebhookOutbox.id))
        .where(*_due(now), col(WebhookOutbox.subscription).in_(list(subscriptions)))
        .order_by(col(WebhookOutbox.id))
        .limit(CLAIM_CANDIDATES)
        .with_for_update(skip_locked=True)
    )
    for row_id in list(session.exec(stmt)):
        take = (
            update(WebhookOutbox)
            .where(col(WebhookOutbox.id) == row_id, *_due(now))
            .values(claimed_until=hold_until, claimed_by=worker)
        )
        if session.execute(take).rowcount == 1:  # type: ignore[attr-defined]
            session.expire_all()
            return session.get(WebhookOutbox, row_id)
    return None


def finish(*, session: Session, row_id: int, worker: str, **outcome: Any) -> bool:
    """Count one attempt and write its outcome (delivered_at, or last_error with not_before or
    given_up_at), releasing the row; False when `worker` no longer holds it (its hold ran out and
    another worker took it): then nothing is written."""
    stmt = (
        update(WebhookOutbox)
        .where(
            col(WebhookOutbox.id) == row_id,
            col(WebhookOutbox.claimed_by) == worker,
            col(WebhookOutbox.delivered_at).is_(None),
        )
        .values(attempts=col(WebhookOutbox.attempts) + 1, claimed_until=None, claimed_by=None, **outcome)
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def outbox(*, session: Session, subscription: str | None = None) -> list[WebhookOutbox]:
    """The outbox rows (of one subscription), oldest first: what was sent, waits or was given up."""
    stmt = select(WebhookOutbox)
    if subscription is not None:
        stmt = stmt.where(col(WebhookOutbox.subscription) == subscription)
    return list(session.exec(stmt.order_by(col(WebhookOutbox.id))))
