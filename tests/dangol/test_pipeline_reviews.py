"""A store review through collect → analyze: its star rating reaches the analyzer, and an edit
(new text or rating, same id) is analyzed again into the same Analysis row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dangol import pipeline
from dangol.core.settings import Settings
from dangol.core.types import Page, PostIn, star_rating
from nlp.analyzer import Analyzer
from nlp.taxonomy import from_catalog
from nlp.topics import PrototypeScorer, TopicModel
from storage.engine import session_scope
from storage.ingest import get_or_create_source, store_page
from storage.models import Analysis
from tests.nlp.semantic_fakes import HashingEncoder, KeywordSentiment


@pytest.fixture
def analyzer(settings: Settings) -> Analyzer:
    encoder = HashingEncoder()
    scorer = PrototypeScorer.from_encoder(from_catalog(settings.topic_catalog), encoder)
    return Analyzer(encoder, KeywordSentiment(), TopicModel(scorer, settings.nlp.topic_threshold))


def test_the_rating_is_read_and_an_edited_review_is_analyzed_again(
    settings: Settings, engine: Engine, analyzer: Analyzer, make_post: Callable[..., PostIn]
) -> None:
    def collect_and_analyze(text: str, rating: int) -> Analysis:
        review = make_post(
            platform="googleplay", external_id="gp:1", handle="kim", text=text, metrics={"rating": rating}
        )
        with session_scope(engine) as session:
            source = get_or_create_source(session, name="gp", use="googleplay")
            store_page(session, source=source, page=Page([review], {}))
        pipeline.analyze(settings, engine, analyzer=analyzer)
        with Session(engine) as session:
            return session.exec(select(Analysis)).one()

    first = collect_and_analyze("I opened the app today", 5)  # the text alone reads neutral
    assert first.sentiment == "positive"
    edited = collect_and_analyze("I opened the app today", 1)
    assert (edited.id, edited.sentiment_probs["negative"]) == (first.id, pytest.approx(0.42))
    assert edited.sentiment != "positive"


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        ({"rating": 3, "likes": 2}, 3),
        ({"likes": 2}, None),
        ({"rating": 0}, None),
        ({"rating": True}, None),
        (None, None),
    ],
)
def test_star_rating_reads_only_a_real_rating(metrics: object, expected: int | None) -> None:
    assert star_rating(metrics) == expected
