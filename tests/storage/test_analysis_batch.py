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


def test_the_near_duplicate_window_reads_each_posts_key_text_and_embedding(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    """recent_members reads the window lean (rows off the connection, embeddings decoded as one
    matrix): every analyzed post in it, newest first, with its own vector; posts analyzed by
    encoders of other sizes come back too; an analysis without an embedding is left out."""
    from datetime import timedelta

    source = get_or_create_source(session, name="s", use="replay")
    now = utcnow()
    posts = [make_post(text=f"post {i}", created_at=now - timedelta(minutes=i)) for i in range(4)]
    store_page(session, source=source, page=Page(posts=posts, cursor={}))
    claimed = sorted(analyses.claim_unanalyzed(session=session, limit=4), key=lambda c: c.post.text)
    vectors = [np.arange(4, dtype=np.float32) + 10 * i for i in range(4)]
    batch = [
        (c.post.id or 0, {**_values(), "cluster_key": f"k{i}"}, v)
        for i, (c, v) in enumerate(zip(claimed, vectors, strict=True))
    ]
    analyses.save_analyses(session=session, analyses=batch)
    session.commit()
    window = (now - timedelta(hours=1), now + timedelta(hours=1))

    members = analyses.recent_members(session=session, start=window[0], end=window[1], referenced=[])
    assert [m.cluster_key for m in members] == ["k0", "k1", "k2", "k3"]  # newest first
    assert [m.text for m in members] == ["post 0", "post 1", "post 2", "post 3"]
    for member, vector in zip(members, vectors, strict=True):
        assert np.array_equal(member.embedding, vector)
        assert member.platform == posts[0].platform and member.external_id

    # Post 1 read by an encoder of another size, post 2 without an embedding.
    first, second = (session.exec(select(Analysis).where(Analysis.cluster_key == k)).one() for k in ("k1", "k2"))
    first.embedding = analyses.embedding_to_bytes(np.ones(6, dtype=np.float32))
    second.embedding = None
    session.commit()
    members = analyses.recent_members(session=session, start=window[0], end=window[1], referenced=[])
    assert [m.cluster_key for m in members] == ["k0", "k1", "k3"]
    assert [len(m.embedding) for m in members] == [4, 6, 4]
    assert np.array_equal(members[2].embedding, vectors[3])

    # A referenced post outside the window is read too.
    early = analyses.recent_members(
        session=session,
        start=now + timedelta(hours=2),
        end=now + timedelta(hours=3),
        referenced=[(posts[3].platform, posts[3].external_id)],
    )
    assert [m.cluster_key for m in early] == ["k3"]
