"""The audit trail: every change, edit, send and approval is one AuditEvent row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from dangol.core.types import utcnow
from storage.models import AuditEvent, Staff


def actor_name(actor: Staff | str) -> str:
    """How an actor appears in the trail: the staff username, or a "system:<part>" string."""
    return actor if isinstance(actor, str) else actor.username


def record(
    session: Session,
    *,
    actor: Staff | str,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one audit event to the session (flushed with the caller's transaction)."""
    event = AuditEvent(
        at=at or utcnow(),
        actor=actor_name(actor),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
    )
    session.add(event)
    return event


def list_events(
    *,
    session: Session,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    entity_type: str | None = None,
    entity_id: object | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Events newest first; `action` matches exactly or as a prefix ending in "." ("queue.")."""
    stmt = select(AuditEvent)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if action:
        if action.endswith("."):
            stmt = stmt.where(col(AuditEvent.action).startswith(action))
        else:
            stmt = stmt.where(AuditEvent.action == action)
    if since:
        stmt = stmt.where(col(AuditEvent.at) >= since)
    if until:
        stmt = stmt.where(col(AuditEvent.at) < until)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == str(entity_id))
    stmt = stmt.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    return list(session.exec(stmt))


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    # Datetimes are the only non-JSON values our callers pass; ISO text keeps them readable.
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def latest_event(*, session: Session, action: str) -> AuditEvent | None:
    """The newest event of exactly this action (by id: the order they were written in)."""
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id).desc()).limit(1)
    return session.exec(stmt).first()


def approval_reasons(*, session: Session, reply_ids: list[int]) -> dict[int, list[str]]:
    """reply id → why it was sent to a reviewer, as recorded when it was submitted (the reasons of
    that moment, not of today's settings); replies without a recorded reason are left out."""
    if not reply_ids:
        return {}
    stmt = select(AuditEvent).where(
        AuditEvent.action == "reply.submit",
        AuditEvent.entity_type == "reply",
        col(AuditEvent.entity_id).in_([str(i) for i in reply_ids]),
    )
    found: dict[int, list[str]] = {}
    for event in session.exec(stmt):
        reasons = event.after.get("approval_reasons")
        if isinstance(reasons, list) and reasons:
            found[int(event.entity_id)] = [str(r) for r in reasons]
    return found
