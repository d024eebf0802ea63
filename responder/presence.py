"""Presence on queue items ("Also here: minji (typing…)"), written by the dashboard's item page.

Not a staff action and not audited: it changes no business state (no item, reply or customer),
holds no content, and would flood the audit log with one event per open page per refresh. It is
who/where/when only, forgotten after `[dashboard] presence_stale_seconds`, at logout, and with the
staff account or the item (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from dangol.core.settings import DashboardSettings
from dangol.core.types import utcnow
from storage import presence
from storage.presence import Present

__all__ = ["Present", "heartbeat", "others_here", "leave", "describe"]


def _stale_before(settings: DashboardSettings, now: datetime) -> datetime:
    return now - timedelta(seconds=settings.presence_stale_seconds)


def heartbeat(
    *,
    session: Session,
    staff_id: int,
    item_id: int,
    typing: bool,
    now: datetime | None = None,
) -> None:
    """Record that the staff member has the item open now (typing or viewing)."""
    now = now or utcnow()
    presence.upsert_presence(
        session=session, staff_id=staff_id, item_id=item_id, state="typing" if typing else "viewing", now=now
    )


def sweep(*, session: Session, settings: DashboardSettings, now: datetime | None = None) -> int:
    """Delete presence older than the stale timeout (a closed tab leaves its row behind)."""
    return presence.delete_stale(session=session, before=_stale_before(settings, now or utcnow()))


def others_here(
    *, session: Session, item_id: int, staff_id: int, settings: DashboardSettings, now: datetime | None = None
) -> list[Present]:
    """Everyone else with the item open within the stale timeout; older rows are ignored here
    whether or not a sweep has deleted them yet."""
    fresh = _stale_before(settings, now or utcnow())
    return presence.present_on(session=session, item_id=item_id, fresh_since=fresh, excluding=staff_id)


def leave(*, session: Session, staff_id: int, item_id: int | None = None) -> None:
    """Forget the staff member's presence on one item (they opened another) or everywhere (logout)."""
    presence.leave(session=session, staff_id=staff_id, item_id=item_id)


def describe(people: list[Present]) -> str:
    """'Also here: minji (typing…), amy', or '' when nobody else is."""
    if not people:
        return ""
    return "Also here: " + ", ".join(p.name + (" (typing…)" if p.state == "typing" else "") for p in people)
