from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from dangol.settings import RetentionSettings
from dangol.types import Page, PostIn, utcnow
from storage.ingest import get_or_create_source, store_page
from storage.models import AuditEvent, Post
from storage.retention import purge_expired


def test_expired_raw_payloads_and_texts_are_cleared_and_fresh_ones_kept(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    now = utcnow()
    old = make_post(created_at=now - timedelta(days=400), text="old complaint")
    recent = make_post(created_at=now - timedelta(days=40), text="recent complaint")
    fresh = make_post(created_at=now - timedelta(days=1), text="fresh complaint")
    store_page(
        session, source=get_or_create_source(session, name="s", use="replay"), page=Page([old, recent, fresh], {})
    )
    session.add(AuditEvent(at=now - timedelta(days=800), actor="a", action="x", entity_type="t", entity_id="1"))
    session.add(AuditEvent(at=now, actor="a", action="x", entity_type="t", entity_id="2"))
    session.commit()

    result = purge_expired(session=session, retention=RetentionSettings(), now=now)
    session.commit()

    posts = {p.external_id: p for p in session.execute(select(Post)).scalars()}
    assert (posts[old.external_id].raw, posts[old.external_id].text) == (None, "")
    assert posts[recent.external_id].raw is None and posts[recent.external_id].text == "recent complaint"
    assert posts[fresh.external_id].raw is not None
    assert (result.raw_payloads, result.post_texts, result.audit_events) == (2, 1, 1)
    assert purge_expired(session=session, retention=RetentionSettings(), now=now).as_dict() == {
        "raw_payloads": 0,
        "post_texts": 0,
        "embeddings": 0,
        "audit_events": 0,
    }
