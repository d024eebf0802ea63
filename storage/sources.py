"""Source health, the paid read budget (what `dangol sources` and the dashboard show), and the
collection lease: one worker collects a source at a time, across processes and machines."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col

from dangol.types import utcnow
from storage.models import Source

# A lease lasts this long unless renewed (every stored page renews it): a worker that died mid-run
# frees its sources after this.
LEASE_SECONDS = 300


def take_lease(
    *, session: Session, source_id: int, worker: str, now: datetime | None = None, dead_owner: str | None = None
) -> bool:
    """Lease the source to `worker` (committed) when no other worker holds a live lease, or when the
    holder is `dead_owner` (a worker known to have died); True if taken."""
    now = now or utcnow()
    holders = [worker] + ([dead_owner] if dead_owner else [])
    free = or_(col(Source.lease_owner).is_(None), col(Source.lease_until) < now, col(Source.lease_owner).in_(holders))
    taken = session.execute(
        update(Source)
        .where(col(Source.id) == source_id, free)
        .values(lease_owner=worker, lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )
    session.commit()
    return bool(getattr(taken, "rowcount", 0))


def renew_lease(*, session: Session, source_id: int, worker: str, now: datetime | None = None) -> bool:
    """Extend `worker`'s lease inside the caller's transaction; False when the lease was lost (it
    expired and another worker took the source): the caller must not store its page then."""
    now = now or utcnow()
    renewed = session.execute(
        update(Source)
        .where(col(Source.id) == source_id, col(Source.lease_owner) == worker)
        .values(lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )
    return bool(getattr(renewed, "rowcount", 0))


def release_lease(*, session: Session, source_id: int, worker: str) -> None:
    """Give the source up (committed), if `worker` still holds it."""
    session.execute(
        update(Source)
        .where(col(Source.id) == source_id, col(Source.lease_owner) == worker)
        .values(lease_owner=None, lease_until=None)
    )
    session.commit()


def budget_period(now: datetime) -> str:
    """The calendar month a request counts against ("2026-11")."""
    return now.strftime("%Y-%m")


def budget_remaining(source: Source, monthly_limit: int | None, *, now: datetime | None = None) -> int | None:
    """Requests still allowed this month, or None when the source has no budget."""
    if monthly_limit is None:
        return None
    period = budget_period(now or utcnow())
    used = source.budget_used if source.budget_period == period else 0
    return max(0, monthly_limit - used)


def count_requests(source: Source, requests: int, *, now: datetime | None = None) -> None:
    """Add `requests` to this month's usage, starting a new count when the month turned."""
    period = budget_period(now or utcnow())
    if source.budget_period != period:
        source.budget_period = period
        source.budget_used = 0
    source.budget_used += requests


def record_success(source: Source, *, now: datetime | None = None) -> None:
    """The run finished: clear the error streak and any throttle."""
    now = now or utcnow()
    source.last_run_at = now
    source.last_ok_at = now
    source.last_error = None
    source.consecutive_failures = 0
    source.throttled_until = None


def record_failure(source: Source, error: str, *, retry_at: datetime | None, now: datetime | None = None) -> None:
    """The run failed: keep the error (no secrets: callers pass redacted text) and when to retry."""
    source.last_run_at = now or utcnow()
    source.last_error = error[:2000]
    source.consecutive_failures += 1
    source.throttled_until = retry_at


def is_due(source: Source, *, now: datetime | None = None) -> bool:
    """False while the source is throttled or backing off after failures."""
    now = now or utcnow()
    return source.throttled_until is None or source.throttled_until <= now
