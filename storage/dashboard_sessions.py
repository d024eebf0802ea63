"""Dashboard sessions that survive a reload: stored by token hash, touched on use, revoked at logout."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from storage.models import DashboardSession


def add_session(*, session: Session, token_hash: str, staff_id: int, now: datetime) -> DashboardSession:
    row = DashboardSession(token_hash=token_hash, staff_id=staff_id, created_at=now, last_seen_at=now)
    session.add(row)
    session.flush()
    return row


def session_by_hash(*, session: Session, token_hash: str) -> DashboardSession | None:
    return session.exec(select(DashboardSession).where(DashboardSession.token_hash == token_hash)).first()


def revoke_session(*, session: Session, token_hash: str, now: datetime) -> int:
    """Revoke one session (if still live); returns how many rows changed."""
    stmt = (
        update(DashboardSession)
        .where(col(DashboardSession.token_hash) == token_hash, col(DashboardSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def revoke_staff_sessions(*, session: Session, staff_id: int, now: datetime) -> int:
    """Revoke every live session of one staff member (a password change, a deactivation)."""
    stmt = (
        update(DashboardSession)
        .where(col(DashboardSession.staff_id) == staff_id, col(DashboardSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def delete_ended(*, session: Session, staff_id: int, started_before: datetime) -> int:
    """Forget one staff member's sessions that can no longer be used (revoked, or begun before
    `started_before`, past the absolute timeout): the table holds live sessions, not a history
    (logins and logouts are in the audit log)."""
    stmt = delete(DashboardSession).where(
        col(DashboardSession.staff_id) == staff_id,
        or_(col(DashboardSession.revoked_at).is_not(None), col(DashboardSession.created_at) < started_before),
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def last_seen(*, session: Session) -> dict[int, datetime]:
    """Staff id → when any of their dashboard logins was last used."""
    from sqlalchemy import func

    stmt = select(DashboardSession.staff_id, func.max(DashboardSession.last_seen_at)).group_by(
        col(DashboardSession.staff_id)
    )
    return {staff_id: seen for staff_id, seen in session.exec(stmt) if seen is not None}
