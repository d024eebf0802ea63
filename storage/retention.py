"""Retention: personal data is kept only as long as configured, per data class.

Raw payloads, post texts and embeddings are cleared in place (the post row stays, so counts in
reports and the no-duplicates guarantee survive); audit events past their age are deleted. The
same ages reach everything else that holds a person's words: dead letters (raw payloads) are
deleted; replies, internal notes, the posts quoted in alert explanations and the profiles of
authors not seen since are cleared with the post texts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql import Executable
from sqlmodel import Session, col

from dangol.core.settings import RetentionSettings
from dangol.core.types import utcnow
from storage.models import (
    Alert,
    Analysis,
    AuditEvent,
    Author,
    DeadLetter,
    Note,
    Notification,
    NotificationDelivery,
    Post,
    Reply,
)

EXPIRED_TEXT = ""


@dataclass(slots=True)
class PurgeResult:
    raw_payloads: int = 0
    post_texts: int = 0
    embeddings: int = 0
    audit_events: int = 0
    dead_letters: int = 0
    replies: int = 0
    notes: int = 0
    author_profiles: int = 0
    alert_explanations: int = 0
    notifications: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def purge_expired(*, session: Session, retention: RetentionSettings, now: datetime | None = None) -> PurgeResult:
    """Clear or delete everything older than its class's retention; returns what was touched."""
    now = now or utcnow()

    def cutoff(days: int) -> datetime:
        return now - timedelta(days=days)

    result = PurgeResult()
    result.raw_payloads = _rowcount(
        session,
        update(Post)
        .where(col(Post.created_at) < cutoff(retention.raw_payload_days), col(Post.raw).is_not(None))
        .values(raw=None),
    )
    result.post_texts = _rowcount(
        session,
        update(Post)
        .where(col(Post.created_at) < cutoff(retention.post_text_days), col(Post.text) != EXPIRED_TEXT)
        .values(text=EXPIRED_TEXT, title=None),
    )
    old_posts = select(col(Post.id)).where(col(Post.created_at) < cutoff(retention.embedding_days))
    result.embeddings = _rowcount(
        session,
        update(Analysis)
        .where(col(Analysis.post_id).in_(old_posts), col(Analysis.embedding).is_not(None))
        .values(embedding=None),
    )
    result.audit_events = _rowcount(
        session,
        delete(AuditEvent).where(col(AuditEvent.at) < cutoff(retention.audit_days)),
    )
    _purge_the_rest(
        session, result, raw_before=cutoff(retention.raw_payload_days), text_before=cutoff(retention.post_text_days)
    )
    return result


def expiring_texts(
    *, session: Session, retention: RetentionSettings, now: datetime | None = None
) -> tuple[datetime, datetime] | None:
    """When the first and the last post whose text a purge at `now` clears were created (None: none),
    so the files that quote them can be written again after it."""
    cutoff = (now or utcnow()) - timedelta(days=retention.post_text_days)
    stmt = select(func.min(col(Post.created_at)), func.max(col(Post.created_at))).where(
        col(Post.created_at) < cutoff, col(Post.text) != EXPIRED_TEXT
    )
    first, last = session.execute(stmt).one()
    return (first, last) if first is not None and last is not None else None


def _purge_the_rest(session: Session, result: PurgeResult, *, raw_before: datetime, text_before: datetime) -> None:
    """Dead letters go with raw payloads; replies, notes, alert quotes, notifications and idle
    profiles with texts."""
    result.dead_letters = _rowcount(session, delete(DeadLetter).where(col(DeadLetter.created_at) < raw_before))
    result.replies = _rowcount(
        session,
        update(Reply)
        .where(col(Reply.created_at) < text_before, col(Reply.text) != EXPIRED_TEXT)
        .values(text=EXPIRED_TEXT),
    )
    result.notes = _rowcount(
        session,
        update(Note)
        .where(col(Note.created_at) < text_before, col(Note.text) != EXPIRED_TEXT)
        .values(text=EXPIRED_TEXT),
    )
    result.author_profiles = _rowcount(
        session,
        update(Author)
        .where(col(Author.last_seen_at) < text_before, (col(Author.display_name) != "") | col(Author.bio).is_not(None))
        .values(display_name="", bio=None, url=None),
    )
    # Notifications quote review comments and alert summaries (rising terms from posts): they go
    # with texts, their channel deliveries first (the foreign key).
    old_notes = select(col(Notification.id)).where(col(Notification.created_at) < text_before)
    _rowcount(session, delete(NotificationDelivery).where(col(NotificationDelivery.notification_id).in_(old_notes)))
    result.notifications = _rowcount(session, delete(Notification).where(col(Notification.created_at) < text_before))
    for alert in session.execute(select(Alert).where(col(Alert.started_at) < text_before)).scalars():
        explanation = dict(alert.explanation or {})
        if explanation.get("posts") or explanation.get("authors"):
            explanation["posts"], explanation["authors"] = [], []
            alert.explanation = explanation
            session.add(alert)
            result.alert_explanations += 1


def _rowcount(session: Session, statement: Executable) -> int:
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount or 0)
