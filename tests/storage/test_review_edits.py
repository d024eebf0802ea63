"""An edited review (App Store, Google Play: same id, new text or rating) updates its stored post and
is analyzed again, its one Analysis row overwritten; other platforms keep the first version."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlmodel import Session, select

from dangol.core.types import Page, PostIn, utcnow
from storage import analyses
from storage.ingest import get_or_create_source, store_page
from storage.models import Analysis, Post


def _values(sentiment: str) -> dict[str, Any]:
    return {
        "language": "en",
        "sentiment": sentiment,
        "sentiment_probs": {sentiment: 1.0},
        "topics": {},
        "primary_topic": "other",
        "text_hash": sentiment,
        "cluster_key": "k",
        "model_versions": {},
        "analyzed_at": utcnow(),
    }


def _analyze_all(session: Session, sentiment: str) -> list[int]:
    claimed = analyses.claim_unanalyzed(session=session, limit=10)
    batch = [(c.post.id or 0, _values(sentiment), np.ones(4, dtype=np.float32)) for c in claimed]
    analyses.save_analyses(session=session, analyses=batch)
    session.commit()
    return [c.post.id or 0 for c in claimed]


def _review(make_post: Callable[..., PostIn], platform: str, text: str, rating: int, likes: int = 0) -> PostIn:
    return make_post(
        platform=platform, external_id="r1", handle="reviewer", text=text, title=None,
        metrics={"rating": rating, "likes": likes}, raw={"content": text},
    )  # fmt: skip


def test_an_edited_review_replaces_the_stored_one_and_is_analyzed_again(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    source = get_or_create_source(session, name="gp", use="googleplay")
    store_page(session, source=source, page=Page([_review(make_post, "googleplay", "Love it", 5)], {}))
    [post_id] = _analyze_all(session, "positive")
    first = session.exec(select(Analysis)).one()
    edited = _review(make_post, "googleplay", "Charged twice, no refund", 1, likes=4)
    result = store_page(session, source=source, page=Page([edited], {}))
    session.commit()
    assert (result.new_posts, result.duplicates, result.edited) == (0, 1, 1)
    post = session.get(Post, post_id)
    assert post is not None and session.exec(select(Post)).all() == [post]
    session.refresh(post)
    assert (post.text, post.metrics, post.analyzed) == ("Charged twice, no refund", {"rating": 1, "likes": 4}, False)
    assert json.loads(post.raw or "") == {"content": "Charged twice, no refund"}
    assert _analyze_all(session, "negative") == [post_id]
    [again] = session.exec(select(Analysis)).all()
    session.refresh(again)
    assert (again.id, again.sentiment, again.routed) == (first.id, "negative", False)
    assert _analyze_all(session, "neutral") == []  # analyzed once per version


def test_only_a_change_the_analysis_reads_counts_and_the_rating_alone_is_one(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    source = get_or_create_source(session, name="as", use="appstore")
    store_page(session, source=source, page=Page([_review(make_post, "appstore", "Fine", 4)], {}))
    _analyze_all(session, "neutral")
    more_likes = store_page(session, source=source, page=Page([_review(make_post, "appstore", "Fine", 4, 9)], {}))
    assert more_likes.edited == 0 and session.exec(select(Post.analyzed)).one() is True
    fewer_stars = store_page(session, source=source, page=Page([_review(make_post, "appstore", "Fine", 2)], {}))
    session.commit()
    assert fewer_stars.edited == 1
    post = session.exec(select(Post)).one()
    session.refresh(post)
    assert (post.metrics["rating"], post.analyzed) == (2, False)


def test_other_platforms_keep_the_first_version(session: Session, make_post: Callable[..., PostIn]) -> None:
    source = get_or_create_source(session, name="x", use="x")
    store_page(session, source=source, page=Page([make_post(external_id="t1", text="first")], {}))
    _analyze_all(session, "neutral")
    again = store_page(session, source=source, page=Page([make_post(external_id="t1", text="changed")], {}))
    session.commit()
    post = session.exec(select(Post)).one()
    session.refresh(post)
    assert (again.edited, post.text, post.analyzed) == (0, "first", True)
