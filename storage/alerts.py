"""Spike alerts as read back: those overlapping a window, those nobody was told about, the newest."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from storage.models import Alert


def alerts_between(*, session: Session, since: datetime, until: datetime) -> list[Alert]:
    """Alerts whose episode overlaps the window, oldest first."""
    ended = func.coalesce(col(Alert.ended_at), col(Alert.started_at))
    stmt = (
        select(Alert)
        .where(col(Alert.started_at) < until, ended >= since)
        .order_by(col(Alert.started_at), col(Alert.id))
    )
    return list(session.scalars(stmt))


def unnotified_alerts(*, session: Session) -> list[Alert]:
    """Alerts nobody has been told about yet, oldest first."""
    stmt = select(Alert).where(col(Alert.notified_at).is_(None)).order_by(col(Alert.started_at), col(Alert.id))
    return list(session.scalars(stmt))


def recent_alerts(*, session: Session, limit: int = 20) -> list[Alert]:
    """The newest alerts first."""
    stmt = select(Alert).order_by(col(Alert.started_at).desc(), col(Alert.id).desc()).limit(limit)
    return list(session.scalars(stmt))


def alert_scopes(*, session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The scope (`topic:<key>`, `source:<name>`) of each alert in `ids` that exists, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = select(col(Alert.id), col(Alert.scope)).where(col(Alert.id).in_(wanted))
    return {int(alert_id): str(scope) for alert_id, scope in session.execute(stmt)}
