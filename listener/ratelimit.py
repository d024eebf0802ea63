"""Platform rate-limit signals turned into one thing: the aware UTC time to try again.

X and Reddit send epoch seconds or seconds-from-now, Mastodon an ISO-8601 time, HTTP servers
`Retry-After` in seconds or as an HTTP date. When a platform gives no signal we wait our own
exponential backoff with jitter, so many workers do not retry in lockstep.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from dangol.core.errors import RateLimited
from dangol.core.types import utcnow

# A reset further away than this is a broken header, not a real limit window.
MAX_WAIT = timedelta(days=1)


def backoff(attempt: int, *, base: float = 30.0, cap: float = 900.0, rng: random.Random | None = None) -> timedelta:
    """Full-jitter exponential backoff: a random wait up to base·2^(attempt-1) seconds, capped."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=(rng or random).uniform(base / 2, max(base / 2, ceiling)))


def from_epoch(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """X's `x-rate-limit-reset`: epoch seconds; None when absent or unreadable."""
    try:
        seconds = float(value) if value else 0.0
        reset = datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None
    except (ValueError, OverflowError, OSError):
        return None
    return _sane(reset, now)


def from_seconds(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """Reddit's `x-ratelimit-reset` and numeric `Retry-After`: seconds from now."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    if seconds is None or seconds < 0:
        return None
    now = now or utcnow()
    return _sane(now + timedelta(seconds=seconds), now)


def from_iso(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """Mastodon's `x-ratelimit-reset`: an ISO-8601 time."""
    if not value:
        return None
    try:
        reset = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    reset = reset.replace(tzinfo=UTC) if reset.tzinfo is None else reset.astimezone(UTC)
    return _sane(reset, now)


def from_retry_after(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """HTTP `Retry-After`: seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().replace(".", "", 1).isdigit():
        return from_seconds(value, now=now)
    try:
        reset = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return _sane(reset.astimezone(UTC) if reset.tzinfo else reset.replace(tzinfo=UTC), now)


def _sane(reset: datetime | None, now: datetime | None) -> datetime | None:
    if reset is None:
        return None
    now = now or utcnow()
    if reset > now + MAX_WAIT:
        return None
    return max(reset, now)


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header value, case-insensitively, from any mapping (requests, httpx, plain dict)."""
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def rate_limited(platform: str, retry_at: datetime | None, *, attempt: int = 1) -> RateLimited:
    """The error to raise: retry at the platform's time, or after our own jittered backoff."""
    when = retry_at or utcnow() + backoff(attempt)
    source = "as the platform asked" if retry_at else "after backoff (no reset header)"
    return RateLimited(f"{platform} rate limit reached; retry at {when:%Y-%m-%d %H:%M:%S} UTC {source}", when)
