"""Notifications: written once however many workers notice the same event, read by the inbox, and
delivered by e-mail and webhook once each across workers.

Exactly once, twice over:
- a notification is (recipient, kind, subject, event), unique in the table; `notify` inserts with
  ON CONFLICT DO NOTHING, so a second worker's insert of the same event is dropped by the database
  (on PostgreSQL it waits for the first transaction and then finds the row), and only the insert
  that created the row adds its channel deliveries;
- a delivery is claimed with SELECT … FOR UPDATE SKIP LOCKED and marked delivered in the same
  transaction (`claim_delivery`): while one worker holds it the others skip it, and once it
  commits it is no longer pending. (SQLite has no row locks and serves one worker.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from dangol.core.notifications import channels_for
from storage.engine import dialect_insert
from storage.models import Notification, NotificationDelivery, Staff


def notify(
    recipients: Iterable[Staff],
    *,
    session: Session,
    kind: str,
    subject: str,
    event: str,
    text: str,
    now: datetime,
    item_id: int | None = None,
    alert_id: int | None = None,
) -> list[int]:
    """Notify each recipient (active ones, each once) of one event; returns the ids of the rows
    this call created: none for recipients who already had it, whoever inserted it first."""
    people = sorted({s.id: s for s in recipients if s.active and s.id is not None}.values(), key=lambda s: s.id or 0)
    created: list[int] = []
    # In id order, so two workers notifying the same people take the unique index's locks in one
    # order and cannot deadlock.
    for person in people:
        stmt = (
            dialect_insert(session, Notification)
            .values(
                recipient_id=person.id,
                kind=kind,
                subject=subject[:80],
                event=event[:120],
                text=text,
                item_id=item_id,
                alert_id=alert_id,
                created_at=now,
            )  # fmt: skip
            .on_conflict_do_nothing(index_elements=["recipient_id", "kind", "subject", "event"])
            .returning(col(Notification.id))
        )
        new_id = session.connection().execute(stmt).scalar()
        if new_id is None:
            continue
        created.append(new_id)
        for channel in channels_for(person, kind):
            session.add(NotificationDelivery(notification_id=new_id, channel=channel))
    session.flush()
    return created


def inbox(*, session: Session, staff_id: int, limit: int = 50, unread_only: bool = False) -> list[Notification]:
    """A person's notifications, newest first."""
    stmt = select(Notification).where(Notification.recipient_id == staff_id)
    if unread_only:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    stmt = stmt.order_by(col(Notification.created_at).desc(), col(Notification.id).desc()).limit(limit)
    return list(session.exec(stmt))


def unread_count(*, session: Session, staff_id: int) -> int:
    """How many of a person's notifications are unread."""
    stmt = select(func.count()).where(Notification.recipient_id == staff_id, col(Notification.read_at).is_(None))
    return int(session.exec(stmt).one())


def mark_read(*, session: Session, staff_id: int, now: datetime, ids: Iterable[int] | None = None) -> list[int]:
    """Mark the person's unread notifications `ids` (all of them when None) read; returns those
    changed. Only the recipient's own rows are touched, whatever ids are passed."""
    stmt = (
        update(Notification)
        .where(col(Notification.recipient_id) == staff_id, col(Notification.read_at).is_(None))
        .values(read_at=now)
        .returning(col(Notification.id))
    )
    if ids is not None:
        stmt = stmt.where(col(Notification.id).in_(list(ids)))
    return sorted(int(i) for i in session.execute(stmt).scalars())


def notifications_about(*, session: Session, subject: str, kind: str | None = None) -> list[Notification]:
    """Every notification about `subject` (of `kind`), oldest first."""
    stmt = select(Notification).where(Notification.subject == subject)
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return list(session.exec(stmt.order_by(col(Notification.id))))


@dataclass(slots=True)
class Claimed:
    """A delivery held by this transaction, with its notification and recipient."""

    delivery: NotificationDelivery
    notification: Notification
    recipient: Staff


def claim_delivery(*, session: Session, now: datetime) -> Claimed | None:
    """The oldest delivery due now that no other transaction holds, locked until this one ends
    (FOR UPDATE SKIP LOCKED: a worker sending it keeps the others off it)."""
    stmt = (
        select(NotificationDelivery)
        .where(
            col(NotificationDelivery.delivered_at).is_(None),
            col(NotificationDelivery.given_up_at).is_(None),
            or_(col(NotificationDelivery.not_before).is_(None), col(NotificationDelivery.not_before) <= now),
        )
        .order_by(col(NotificationDelivery.id))
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    delivery = session.exec(stmt).first()
    if delivery is None:
        return None
    notification = session.get(Notification, delivery.notification_id)
    assert notification is not None
    recipient = session.get(Staff, notification.recipient_id)
    assert recipient is not None
    return Claimed(delivery, notification, recipient)


def pending_deliveries(*, session: Session) -> list[NotificationDelivery]:
    """Deliveries not yet sent nor given up, oldest first."""
    stmt = select(NotificationDelivery).where(
        col(NotificationDelivery.delivered_at).is_(None), col(NotificationDelivery.given_up_at).is_(None)
    )
    return list(session.exec(stmt.order_by(col(NotificationDelivery.id))))


def reschedule_pending(*, session: Session, staff_id: int) -> int:
    """Make the person's waiting deliveries due now, so the next run reads their preferences (new
    quiet hours, channels) again; returns how many."""
    mine = select(Notification.id).where(Notification.recipient_id == staff_id)
    stmt = (
        update(NotificationDelivery)
        .where(
            col(NotificationDelivery.notification_id).in_(mine),
            col(NotificationDelivery.delivered_at).is_(None),
            col(NotificationDelivery.given_up_at).is_(None),
            col(NotificationDelivery.attempts) == 0,  # a failed one keeps its retry delay
        )
        .values(not_before=None)
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
