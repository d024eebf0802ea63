"""Analyses of a batch are saved together and only their posts are marked analyzed."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sqlmodel import Session, select

from dangol.core.types import Page, PostIn, utcnow
from storage import analyses
from storage.ingest import get_or_create_source, store_page
from storage.models import Analysis, Post


def _values() -> dict[str, object]:
    return {
        "language": "en",
        "sentiment": "negative",
        "sentiment_probs": {"negative": 0.9, "neutral": 0.05, "positive": 0.05},
        "topics": {},
        "primary_topic": "other",
        "is_complaint": True,
        "risk": 0.5,
        "risk_breakdown": {},
        "text_hash": "h",
        "cluster_key": "k",
        "model_versions": {},
        "analyzed_at": utcnow(),
    }


def test_saving_a_batch_marks_exactly_its_posts_analyzed(session: Session, make_post: Callable[..., PostIn]) -> None:
    source = get_or_create_source(session, name="s", use="replay")
    store_page(session, source=source, page=Page(posts=[make_post() for _ in range(3)], cursor={}))
    claimed = analyses.claim_unanalyzed(session=session, limit=2)
    batch = [(c.post.id or 0, _values(), np.ones(4, dtype=np.float32)) for c in claimed]
    analyses.save_analyses(session=session, analyses=batch)
    session.commit()
    analyzed = set(session.exec(select(Post.id).where(Post.analyzed == True)))  # noqa: E712
    saved = set(session.exec(select(Analysis.post_id)))
    assert analyzed == saved == {c.post.id for c in claimed}
    assert len(saved) == 2


def test_saving_an_empty_batch_does_nothing(session: Session) -> None:
    analyses.save_analyses(session=session, analyses=[])
    assert session.exec(select(Analysis)).all() == []
