"""Failed-login counters per username and per client address, and the blocks they earn.

A username is counted whether or not such an account exists, so being blocked says nothing about
which usernames are real. Each block in a row lasts twice the one before, up to a cap: a guesser
slows an account down but cannot keep its owner out for good, and the guesser's own address is
blocked on its own count."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from dangol.core.types import utcnow
from storage.models import LoginThrottle

# Blocks in a row are forgotten after a quiet day: an old episode does not double today's block.
QUIET_RESET = timedelta(days=1)


def user_key(username: str) -> str:
    return "user:" + username.strip().lower()[:190]


def client_key(address: str) -> str:
    return "client:" + address.strip()[:190]


def blocked_until(session: Session, keys: list[str], *, now: datetime | None = None) -> datetime | None:
    """The latest block still running on any of `keys`, or None."""
    now = now or utcnow()
    rows = session.exec(select(LoginThrottle).where(col(LoginThrottle.key).in_(keys))).all()
    running = [r.blocked_until for r in rows if r.blocked_until is not None and r.blocked_until > now]
    return max(running, default=None)


def record_failure(
    session: Session, key: str, *, limit: int, first_block: timedelta, max_block: timedelta, now: datetime | None = None
) -> LoginThrottle:
    """Count one failure on `key`; at `limit` failures block it (doubling per block in a row)."""
    now = now or utcnow()
    row = session.get(LoginThrottle, key, with_for_update=True) or LoginThrottle(key=key)
    if row.last_failure_at is not None and now - row.last_failure_at > QUIET_RESET:
        row.failures, row.blocks = 0, 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= limit:
        row.blocks += 1
        row.failures = 0
        row.blocked_until = now + min(max_block, first_block * 2 ** (row.blocks - 1))
    session.add(row)
    session.flush()
    return row


def clear(session: Session, key: str) -> None:
    """Forget `key`'s failures and lift its block (a successful login, or an admin's unlock)."""
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)
        session.flush()


def current(session: Session, *, now: datetime | None = None) -> list[LoginThrottle]:
    """Every username and client with failures or a block in the last day, blocked first."""
    since = (now or utcnow()) - QUIET_RESET
    rows = session.exec(select(LoginThrottle).where(col(LoginThrottle.last_failure_at) >= since)).all()
    return sorted(rows, key=lambda r: (r.blocked_until is None, r.key))
