"""SLA clocks: due times in business hours (timezone, weekdays, holidays), warnings, breaches, pauses.

A policy counts minutes either around the clock or only inside business hours. While an item waits
on the customer its clock is paused (`sla_paused_at`); when they answer, the due times move on by
the time spent waiting, counted the same way the policy counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dangol.core.risk import escalated, risk_priority
from dangol.core.settings import BusinessHoursSettings, ResponderSettings, Settings, SlaPolicySettings
from dangol.core.types import utcnow
from responder.notifications import sla_notice
from responder.statuses import OPEN_STATUSES
from storage import audit
from storage.models import QueueItem
from storage.queue import due_by, hold_breached

SlaState = Literal["ok", "warning", "breached", "paused"]
DEFAULT_POLICY = SlaPolicySettings(first_response_minutes=240, resolution_minutes=2880, business_hours_only=False)
# Which policy a priority gets when no routing rule names one.
PRIORITY_POLICIES = {1: "urgent", 2: "standard", 3: "standard", 4: "low", 5: "low"}
_MAX_DAYS = 3660  # a misconfigured calendar (no business days) must not loop forever


def policy_for(name: str, platform: str, responder: ResponderSettings) -> tuple[str, SlaPolicySettings]:
    """The policy `name` for `platform`: "<name>:<platform>" when configured, else "<name>", else a default."""
    policies = responder.sla
    for key in (f"{name}:{platform}", name):
        if key in policies:
            return key, policies[key]
    return name, DEFAULT_POLICY


def policy_name_for_priority(priority: int, responder: ResponderSettings) -> str:
    """The policy name a priority maps to, if the configuration defines it; else the first defined."""
    name = PRIORITY_POLICIES.get(priority, "standard")
    if name in responder.sla or not responder.sla:
        return name
    return next(iter(responder.sla))


def _windows(start: datetime, hours: BusinessHoursSettings) -> Iterator[tuple[datetime, datetime]]:
    """Business intervals from the day of `start` on (local time, aware), bounded by _MAX_DAYS."""
    tz = ZoneInfo(hours.timezone)
    holidays = {date.fromisoformat(d) for d in hours.holidays}
    open_t, close_t = time.fromisoformat(hours.start), time.fromisoformat(hours.end)
    day = start.astimezone(tz).date()
    for _ in range(_MAX_DAYS):
        if day.weekday() in hours.days and day not in holidays:
            begin = datetime.combine(day, open_t, tz)
            end = datetime.combine(day, close_t, tz)
            yield begin, end
        day += timedelta(days=1)


def due_at(start: datetime, minutes: int, policy: SlaPolicySettings, hours: BusinessHoursSettings) -> datetime:
    """When `minutes` of the policy's clock have run from `start` (business minutes if the policy says so)."""
    if not policy.business_hours_only:
        return start + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    for begin, end in _windows(start, hours):
        if end <= start:
            continue
        begin = max(begin, start)
        if begin + left <= end:
            return (begin + left).astimezone(start.tzinfo)
        left -= end - begin
    raise ValueError("business hours define no working time; set [responder.business_hours] days/start/end")


def elapsed(start: datetime, end: datetime, policy: SlaPolicySettings, hours: BusinessHoursSettings) -> timedelta:
    """How much of the policy's clock ran between two times."""
    if end <= start:
        return timedelta(0)
    if not policy.business_hours_only:
        return end - start
    total = timedelta(0)
    for begin, close in _windows(start, hours):
        if begin >= end:
            break
        lo, hi = max(begin, start), min(close, end)
        if hi > lo:
            total += hi - lo
    return total


def start_clock(item: QueueItem, *, start: datetime, responder: ResponderSettings, platform: str) -> None:
    """Set the item's policy and due times from its `sla_policy` name, starting at `start`."""
    _, policy = policy_for(item.sla_policy, platform, responder)
    hours = responder.business_hours
    item.first_response_due_at = due_at(start, policy.first_response_minutes, policy, hours)
    item.resolution_due_at = due_at(start, policy.resolution_minutes, policy, hours)


def pause(item: QueueItem, *, now: datetime) -> None:
    """Stop the clock while we wait on the customer."""
    if item.sla_paused_at is None:
        item.sla_paused_at = now


def resume(item: QueueItem, *, responder: ResponderSettings, platform: str, now: datetime) -> None:
    """Restart the clock, moving the due times on by the paused time (as the policy counts it)."""
    if item.sla_paused_at is None:
        return
    _, policy = policy_for(item.sla_policy, platform, responder)
    hours = responder.business_hours
    waited = int(elapsed(item.sla_paused_at, now, policy, hours).total_seconds() // 60)
    if item.resolution_due_at is not None:
        item.resolution_due_at = due_at(item.resolution_due_at, waited, policy, hours)
    if item.first_responded_at is None and item.first_response_due_at is not None:
        item.first_response_due_at = due_at(item.first_response_due_at, waited, policy, hours)
    item.sla_paused_at = None


def sla_state(item: QueueItem, now: datetime | None = None, *, warn_before: timedelta | None = None) -> SlaState:
    """ok | warning | breached | paused, for the dashboard's badge."""
    now = now or utcnow()
    if item.sla_breached:
        return "breached"
    if item.sla_paused_at is not None:
        return "paused"
    target = item.due_at
    if item.status not in OPEN_STATUSES or target is None:
        return "ok"
    if now >= target:
        return "breached"
    if now >= target - (warn_before if warn_before is not None else timedelta(minutes=30)):
        return "warning"
    return "ok"


def warn_before(item: QueueItem, responder: ResponderSettings, platform: str = "") -> timedelta:
    """The policy's warning lead time for this item."""
    return timedelta(minutes=policy_for(item.sla_policy, platform, responder)[1].warn_before_minutes)


def check_breaches(*, session: Session, now: datetime | None = None) -> list[QueueItem]:
    """Mark open, running items past their due time as breached, with an audit event each."""
    now = now or utcnow()
    # Rows another worker's pass is marking are skipped (it marks them), never updated twice.
    breached = hold_breached(session=session, now=now, statuses=OPEN_STATUSES)
    for item in breached:
        item.sla_breached = True
        item.updated_at = now
        which = item.running_deadline
        due = item.due_at
        before_priority = item.priority
        _escalate(item)
        audit.record(
            session,
            actor="system:sla",
            action="sla.breach",
            entity_type="queue_item",
            entity_id=item.id,
            before={"priority": before_priority},
            after={
                "which": which,
                "due_at": item.due_at,
                "policy": item.sla_policy,
                "priority": item.priority,
            },
            at=now,
        )
        if due is not None:
            sla_notice(item, session=session, kind="sla.breach", which=which, due=due, now=now)
    session.flush()
    return breached


def _escalate(item: QueueItem) -> None:
    """A breached SLA is urgency at its top (dangol.core.risk): the item's risk and priority rise with it."""
    risk = escalated((item.routing or {}).get("cluster") or {})
    if risk is None:
        return
    item.raise_cluster_risk(risk.score, risk.breakdown)
    item.priority = min(item.priority, risk_priority(risk.score))


def warnings(*, session: Session, settings: Settings, now: datetime | None = None) -> list[QueueItem]:
    """Open items whose clock is within their policy's warning time of a breach."""
    now = now or utcnow()
    horizon = now + timedelta(minutes=max((p.warn_before_minutes for p in settings.responder.sla.values()), default=30))
    items = due_by(session=session, horizon=horizon, statuses=OPEN_STATUSES)
    return [i for i in items if sla_state(i, now, warn_before=warn_before(i, settings.responder)) == "warning"]


def notify_warnings(*, session: Session, settings: Settings, now: datetime | None = None) -> list[QueueItem]:
    """Tell the assignee and the team's leads about each item within its policy's warning time
    (`warn_before_minutes`) of a breach; once per clock and due time, however often this runs."""
    now = now or utcnow()
    items = warnings(session=session, settings=settings, now=now)
    for item in items:
        due = item.due_at
        assert due is not None  # a warning has a target
        which = item.running_deadline
        sla_notice(item, session=session, kind="sla.warning", which=which, due=due, now=now)
    return items
