"""A retweet repeats someone else's words: what they say about *their* author (an order number, an
e-mail address) is no evidence about the person who retweeted them."""

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
from storage.engine import session_scope
from storage.ingest import get_or_create_source, store_page
from storage.models import Author, Customer, CustomerOrder, IdentityLink
from tests.nlp.semantic_fakes import HashingEncoder, KeywordSentiment


@pytest.fixture
def analyzer(settings: Settings) -> Analyzer:
    encoder = HashingEncoder()
    scorer = PrototypeScorer.from_encoder(from_catalog(settings.topic_catalog), encoder)
    return Analyzer(encoder, KeywordSentiment(), TopicModel(scorer, settings.nlp.topic_threshold))


@pytest.mark.parametrize("apply_text_evidence", [False, True])
def test_a_retweet_of_a_customers_order_links_its_writer_never_the_retweeter(
    settings: Settings,
    engine: Engine,
    analyzer: Analyzer,
    make_post: Callable[..., PostIn],
    apply_text_evidence: bool,
) -> None:
    settings.linking.apply_text_evidence = apply_text_evidence
    with session_scope(engine) as session:
        hannah = Customer(name="Hannah Schultz", email="hannah@example.com")
        session.add(hannah)
        session.flush()
        session.add(CustomerOrder(customer_id=hannah.id, order_number="MC-2026-11506"))
    words = "my order MC-2026-11506 never came, write me at hannah@example.com"
    original = make_post(handle="hannah_sips", external_id="1", text=words)
    retweet = make_post(
        handle="bob", external_id="2", text=f"RT @hannah_sips: {words}", is_retweet=True, referenced_id="1"
    )
    with session_scope(engine) as session:
        source = get_or_create_source(session, name="maru_x", use="x")
        store_page(session, source=source, page=Page([original, retweet], {}))
    pipeline.analyze(settings, engine, analyzer=analyzer)

    with Session(engine) as session:
        handles = {a.id: a.handle for a in session.exec(select(Author))}
        links = [(handles[link.author_id], link.method) for link in session.exec(select(IdentityLink))]
    # Her own words link her (one link, by its strongest evidence); the retweeter stays unlinked.
    assert links == [("hannah_sips", "email")]
