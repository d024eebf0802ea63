"""The analyze step follows topics edited on the Admin page without a restart."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dangol import pipeline
from dangol.core.settings import Settings
from dangol.core.types import Page, PostIn
from nlp.analyzer import Analyzer
from nlp.taxonomy import from_catalog
from nlp.topics import PrototypeScorer, TopicModel
from responder.topic_admin import TopicForm, add_topic, set_topic_enabled
from storage.engine import session_scope
from storage.ingest import get_or_create_source, store_page
from storage.models import Analysis, Post, Staff
from tests.nlp.semantic_fakes import HashingEncoder, KeywordSentiment

PARKING = TopicForm("Parking", "Nowhere to park near the store", ["there is nowhere to park"], "support")
TEXT = "there is nowhere to park at your store"


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def analyzer(settings: Settings, encoder: HashingEncoder) -> Analyzer:
    """Built once, as the worker builds it, on the config's topics."""
    scorer = PrototypeScorer.from_encoder(from_catalog(settings.topic_catalog), encoder)
    return Analyzer(encoder, KeywordSentiment(), TopicModel(scorer, settings.nlp.topic_threshold))


@pytest.fixture
def analyze_text(
    settings: Settings, engine: Engine, analyzer: Analyzer, make_post: Callable[..., PostIn]
) -> Callable[[str], str]:
    """Store one post, run the analyze step with the same analyzer, return the post's primary topic."""

    def run(text: str) -> str:
        post = make_post(text=text)
        with session_scope(engine) as session:
            store_page(session, source=get_or_create_source(session, name="s", use="replay"), page=Page([post], {}))
        pipeline.analyze(settings, engine, analyzer=analyzer)
        with Session(engine) as session:
            stmt = select(Analysis.primary_topic).join(Post).where(Post.external_id == post.external_id)
            return session.exec(stmt).one()

    return run


def change(engine: Engine, action: Callable[[Session, Staff], object]) -> None:
    with session_scope(engine) as session:
        admin = session.exec(select(Staff).where(Staff.username == "root")).first() or Staff(
            username="root", role="admin"
        )
        session.add(admin)
        session.flush()
        action(session, admin)


def test_a_topic_added_in_the_admin_page_is_assigned_at_the_next_batch(settings, engine, encoder, analyze_text):
    assert analyze_text(TEXT) == "other"
    change(
        engine, lambda s, a: add_topic(session=s, catalog=settings.topic_catalog, actor=a, key="parking", form=PARKING)
    )
    encoder.calls.clear()
    assert analyze_text(TEXT + " today") == "parking"
    # The new topic's two prototypes, then the batch's one post: the config topics were not encoded again.
    assert encoder.calls == [2, 1]


def test_a_disabled_topic_is_no_longer_assigned(settings, engine, analyze_text):
    change(
        engine, lambda s, a: add_topic(session=s, catalog=settings.topic_catalog, actor=a, key="parking", form=PARKING)
    )
    assert analyze_text(TEXT) == "parking"
    change(
        engine,
        lambda s, a: set_topic_enabled(
            session=s, catalog=settings.topic_catalog, actor=a, key="parking", enabled=False
        ),
    )
    assert analyze_text(TEXT + " again") == "other"
