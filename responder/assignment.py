"""Who answers what: manual claims, round-robin and load-balanced auto-assignment by skills and capacity."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from dangol.core.errors import Conflict, InvalidTransition, NotFound
from dangol.core.permissions import allowed, require
from dangol.core.settings import ResponderSettings
from dangol.core.types import utcnow
from responder.statuses import ACTIVE_STATUSES
from storage import audit
from storage.analyses import analysis_of
from storage.models import Analysis, QueueItem, Staff
from storage.queue import claim_if_free, open_loads, unassigned_backlog
from storage.staff import active_staff, all_teams

CLAIMABLE = ("new", "snoozed", "escalated")


def _item(item_id: int, session: Session) -> QueueItem:
    item = session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(f"no queue item with id {item_id}")
    return item


def _staff(staff_id: int, session: Session) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no staff member with id {staff_id}")
    return staff


def open_load(staff_id: int, *, session: Session) -> int:
    """How many items a staff member is working on (assigned, in progress, awaiting approval, escalated)."""
    return open_loads(ACTIVE_STATUSES, session=session).get(staff_id, 0)


def _take(
    item: QueueItem, staff: Staff, *, session: Session, now: datetime, actor: Staff | str, action: str
) -> QueueItem:
    """The atomic part of every assignment: one conditional UPDATE, then reload."""
    before = {"assignee_id": None, "status": item.status}
    status = "assigned" if item.status in CLAIMABLE else item.status
    won = claim_if_free(
        item.id or 0,
        staff_id=staff.id or 0,
        version=item.version,
        from_statuses=CLAIMABLE,
        status=status,
        now=now,
        session=session,
    )
    session.refresh(item)
    if not won:
        holder = session.get(Staff, item.assignee_id) if item.assignee_id else None
        who = f"claimed by {holder.username!r}" if holder else f"changed (now {item.status!r})"
        raise Conflict(f"queue item {item.id} was {who} first; reload it and try again")
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="queue_item",
        entity_id=item.id,
        before=before,
        after={"assignee_id": staff.id, "status": item.status},
        at=now,
    )
    return item


def claim(item_id: int, *, actor: Staff, session: Session, now: datetime | None = None) -> QueueItem:
    """Take an unassigned item for yourself; of two claiming at once exactly one wins (Conflict for the other)."""
    require(actor, "queue.claim")
    item = _item(item_id, session)
    if item.assignee_id == actor.id:
        return item
    if item.assignee_id is None and item.status not in CLAIMABLE:
        raise InvalidTransition(
            f"queue item {item_id} is {item.status!r}; only {', '.join(CLAIMABLE)} items can be claimed"
        )
    return _take(item, actor, session=session, now=now or utcnow(), actor=actor, action="queue.claim")


def release(item_id: int, *, actor: Staff, session: Session, now: datetime | None = None) -> QueueItem:
    """Give an item back to the unassigned queue."""
    require(actor, "queue.claim")
    item = _item(item_id, session)
    if item.assignee_id is None:
        raise InvalidTransition(f"queue item {item_id} is not assigned to anyone")
    if item.assignee_id != actor.id and actor.role != "admin":
        raise Conflict(f"queue item {item_id} is assigned to someone else; only they or an admin can release it")
    before = {"assignee_id": item.assignee_id, "status": item.status}
    item.assignee_id = None
    if item.status in ("assigned", "in_progress"):
        item.status = "new"
    item.updated_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="queue.release",
        entity_type="queue_item",
        entity_id=item.id,
        before=before,
        after={"assignee_id": None, "status": item.status},
    )
    return item


def assign(item_id: int, staff_id: int, *, actor: Staff, session: Session, now: datetime | None = None) -> QueueItem:
    """Give an item to a named staff member. An item another colleague holds may be taken from them
    only with `queue.reassign` (admins): an agent assigns free items and their own."""
    require(actor, "queue.claim")
    item = _item(item_id, session)
    staff = _staff(staff_id, session)
    if item.assignee_id not in (None, actor.id, staff.id):
        require(actor, "queue.reassign")
    if not staff.active:
        raise Conflict(f"staff member {staff.username!r} is deactivated")
    before = {"assignee_id": item.assignee_id, "status": item.status}
    item.assignee_id = staff.id
    if item.status in CLAIMABLE:
        item.status = "assigned"
    item.updated_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="queue.assign",
        entity_type="queue_item",
        entity_id=item.id,
        before=before,
        after={"assignee_id": staff.id, "status": item.status},
    )
    return item


def on_duty(staff: Staff) -> bool:
    """Available for new work: set available and logged in at least once."""
    return staff.available and staff.last_login_at is not None


def skilled(staff: Staff, language: str | None, topic: str | None) -> bool:
    """Whether `staff` has the skills for a post in `language` about `topic` (no skills listed: any)."""
    return (not staff.languages or language is None or language in staff.languages) and (
        not staff.topics or topic is None or topic in staff.topics
    )


def eligible(item: QueueItem, analysis: Analysis | None, staff: list[Staff], teams: dict[int, str]) -> list[Staff]:
    """Staff who may answer the item: active agents on duty, of its team when that team has anyone, with the skills."""
    language = analysis.language if analysis else None
    topic = analysis.primary_topic if analysis else None

    # Only people at work: available (not set away) and who have logged in at least once, so an
    # account made for someone who never started is not handed customers.
    able = [s for s in staff if on_duty(s) and allowed(s, "queue.reply") and skilled(s, language, topic)]
    in_team = [s for s in able if s.team_id is not None and teams.get(s.team_id) == item.team]
    return in_team or able


def _last_auto_assignee(session: Session) -> int | None:
    event = audit.latest_event(session=session, action="queue.auto_assign")
    return int(event.after["assignee_id"]) if event and event.after.get("assignee_id") is not None else None


def choose(mode: str, candidates: list[Staff], loads: dict[int, int], last: int | None) -> Staff | None:
    """The staff member to give the next item to, among those with free capacity."""
    free = [s for s in candidates if s.capacity - loads.get(s.id or 0, 0) > 0]
    if not free:
        return None
    if mode == "round_robin":
        free.sort(key=lambda s: s.id or 0)
        after = [s for s in free if last is not None and (s.id or 0) > last]
        return (after or free)[0]
    # Load-balanced: the most free capacity, ties to the lightest relative load, then the lowest id.
    return max(free, key=lambda s: (s.capacity - loads.get(s.id or 0, 0), -loads.get(s.id or 0, 0), -(s.id or 0)))


def auto_assign(
    *, session: Session, responder: ResponderSettings, now: datetime | None = None, limit: int = 500
) -> list[QueueItem]:
    """Serve the unassigned backlog, most urgent and then oldest first, as far as capacity allows."""
    mode = responder.assignment
    if mode == "manual":
        return []
    now = now or utcnow()
    staff = active_staff(session=session)
    if not staff:
        return []
    teams = {t.id: t.key for t in all_teams(session=session) if t.id is not None}
    loads = open_loads(ACTIVE_STATUSES, session=session)
    backlog = unassigned_backlog(session=session, limit=limit)
    assigned = []
    last = _last_auto_assignee(session) if mode == "round_robin" else None
    for item in backlog:
        analysis = analysis_of(session=session, post_id=item.post_id)
        pick = choose(mode, eligible(item, analysis, staff, teams), loads, last)
        if pick is None:
            continue
        try:
            _take(item, pick, session=session, now=now, actor="system:assigner", action="queue.auto_assign")
        except Conflict:
            continue  # another worker or a person took it meanwhile
        loads[pick.id or 0] = loads.get(pick.id or 0, 0) + 1
        last = pick.id
        assigned.append(item)
    return assigned
