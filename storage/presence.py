"""Presence on queue items: who has an item open in the dashboard, and who is typing a reply.

One row per (staff member, item), written with one INSERT … ON CONFLICT DO UPDATE, so two tabs of
one person beating at once cannot collide on the primary key. Rows are only who/where/when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.engine import dialect_insert
from storage.models import Presence, Staff

STATES = ("viewing", "typing")


@dataclass(frozen=True, slots=True)
class Present:
    """Someone on an item: their name as shown, and whether they are typing."""

    staff_id: int
    name: str
    state: str
    updated_at: datetime


def upsert_presence(*, session: Session, staff_id: int, item_id: int, state: str, now: datetime) -> None:
    """Record that `staff_id` has `item_id` open now, viewing or typing."""
    if state not in STATES:
        raise ValueError(f"presence state {state!r} is not one of {STATES}")
    values = {"staff_id": staff_id, "item_id": item_id, "state": state, "updated_at": now}
    stmt = dialect_insert(session, Presence).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[col(Presence.staff_id), col(Presence.item_id)],
        set_={"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at},
    )
    session.execute(stmt)


def present_on(*, session: Session, item_id: int, fresh_since: datetime, excluding: int | None = None) -> list[Present]:
    """Who has the item open (rows updated at or after `fresh_since`), typists first, then by name."""
    stmt = (
        select(Presence, Staff)
        .join(Staff, col(Staff.id) == col(Presence.staff_id))
        .where(col(Presence.item_id) == item_id, col(Presence.updated_at) >= fresh_since)
    )
    if excluding is not None:
        stmt = stmt.where(col(Presence.staff_id) != excluding)
    found = [
        Present(staff_id=row.staff_id, name=staff.display_name or staff.username, state=row.state,
                updated_at=row.updated_at)  # type: ignore[arg-type]
        for row, staff in session.exec(stmt)
    ]  # fmt: skip
    return sorted(found, key=lambda p: (p.state != "typing", p.name))


def delete_stale(*, session: Session, before: datetime) -> int:
    """Delete presence rows last written before `before`; how many went."""
    result = session.execute(delete(Presence).where(col(Presence.updated_at) < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def leave(*, session: Session, staff_id: int, item_id: int | None = None) -> int:
    """Delete one staff member's presence on one item (or on every item); how many rows went."""
    stmt = delete(Presence).where(col(Presence.staff_id) == staff_id)
    if item_id is not None:
        stmt = stmt.where(col(Presence.item_id) == item_id)
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
