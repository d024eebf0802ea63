"""Retention: personal data is kept only as long as configured, per data class.

Raw payloads, post texts and embeddings are cleared in place (the post row stays, so counts in
reports and the no-duplicates guarantee survive); audit events past their age are deleted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql import Executable
from sqlmodel import Session, col

from dangol.settings import RetentionSettings
from dangol.types import utcnow
from storage.models import Analysis, AuditEvent, Post

EXPIRED_TEXT = ""


@dataclass(slots=True)
class PurgeResult:
    raw_payloads: int = 0
    post_texts: int = 0
    embeddings: int = 0
    audit_events: int = 0

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
    return result


def _rowcount(session: Session, statement: Executable) -> int:
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount or 0)
