"""Source health and the paid read budget: what `dangol sources` and the dashboard show."""

from __future__ import annotations

from datetime import datetime

from dangol.types import utcnow
from storage.models import Source


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
