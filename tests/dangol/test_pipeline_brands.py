"""Competitors' posts through collect → analyze → route: analyzed, never queued, never linked."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dangol import pipeline
from dangol.core.settings import Settings, load_settings
from dangol.core.types import Page, PostIn
from dangol.demo_data import DEMO_DATA
from nlp.analyzer import Analyzer
from nlp.taxonomy import from_catalog
from nlp.topics import PrototypeScorer, TopicModel
from storage.engine import session_scope
from storage.ingest import get_or_create_source, store_page
from storage.models import Analysis, Customer, CustomerHandle, IdentityLink, Post, PostBrand, QueueItem
from tests.conftest import REPO
from tests.nlp.semantic_fakes import HashingEncoder, KeywordSentiment


@pytest.fixture
def analyzer(settings: Settings) -> Analyzer:
    encoder = HashingEncoder()
    scorer = PrototypeScorer.from_encoder(from_catalog(settings.topic_catalog), encoder)
    return Analyzer(encoder, KeywordSentiment(), TopicModel(scorer, settings.nlp.topic_threshold))


def _customers(engine: Engine, handles: list[str]) -> None:
    """A customer per handle, the handle listed in the record (such a link applies on its own)."""
    with session_scope(engine) as session:
        for handle in handles:
            customer = Customer(name=handle)
            session.add(customer)
            session.flush()
            session.add(CustomerHandle(customer_id=customer.id, platform="x", handle=handle))


def test_competitor_posts_are_analyzed_but_never_queued_or_linked(
    settings: Settings, engine: Engine, analyzer: Analyzer, make_post: Callable[..., PostIn]
) -> None:
    # Four customers; each writes one complaint. The first two only about the rival: one found by
    # an own-brand source (its query matched, the text names only the rival), one by the rival's.
    _customers(engine, ["kim_rival", "lee_rival", "park_own", "choi_both"])
    complaint = "my order never arrived and nobody answers, I want a refund"
    posts = {
        "kim_rival": make_post(handle="kim_rival", text=f"Byeol Coffee: {complaint}"),
        "lee_rival": make_post(handle="lee_rival", text=f"{complaint} 별빛커피 최악"),
        "park_own": make_post(handle="park_own", text=f"Maru Coffee: {complaint}"),
        "choi_both": make_post(handle="choi_both", text=f"maru coffee copied byeol coffee and {complaint}"),
    }
    with session_scope(engine) as session:
        own = get_or_create_source(session, name="maru_x", use="x")
        rival = get_or_create_source(session, name="byeol_x", use="x")
        catalog = settings.brand_catalog
        for handle in ("kim_rival", "park_own", "choi_both"):
            store_page(session, source=own, page=Page([posts[handle]], {}), brands=catalog, source_brand=None)
        store_page(session, source=rival, page=Page([posts["lee_rival"]], {}), brands=catalog, source_brand="byeol")
    pipeline.analyze(settings, engine, analyzer=analyzer)
    pipeline.route(settings, engine)

    with Session(engine) as session:
        by_handle = {p.text: p for p in session.exec(select(Post))}
        stored = {h: by_handle[posts[h].text] for h in posts}
        tags = {
            h: sorted(session.exec(select(PostBrand.brand).where(PostBrand.post_id == p.id))) for h, p in stored.items()
        }
        analyzed = {a.post_id: a for a in session.exec(select(Analysis))}
        queued = {i.post_id for i in session.exec(select(QueueItem))}
        linked = {link.author_id for link in session.exec(select(IdentityLink))}
    assert tags == {
        "kim_rival": ["byeol"],
        "lee_rival": ["byeol"],
        "park_own": ["maru"],
        "choi_both": ["byeol", "maru"],
    }
    assert {h for h, p in stored.items() if p.competitor} == {"kim_rival", "lee_rival"}
    # Every post is analyzed, the competitors' included (their complaints feed the reports).
    assert all(p.id in analyzed for p in stored.values())
    assert analyzed[stored["kim_rival"].id].is_complaint and analyzed[stored["park_own"].id].is_complaint
    # Same complaint, same customers' kind of handle: only the posts about us are queued and linked.
    assert {h for h, p in stored.items() if p.id in queued} == {"park_own", "choi_both"}
    assert {h for h, p in stored.items() if p.author_id in linked} == {"park_own", "choi_both"}


def test_a_source_collecting_for_a_competitor_tags_what_names_no_brand_with_it(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    # The demo's recorded Byeol Coffee search, one tweet's text changed to name no brand.
    folder = tmp_path / "byeol"
    shutil.copytree(DEMO_DATA / "x_byeol", folder)
    first = sorted(folder.glob("*.json"))[0]
    body = json.loads(first.read_text(encoding="utf-8"))
    body["data"][0]["text"] = "the latte was cold again"
    first.write_text(json.dumps(body), encoding="utf-8")
    unnamed = body["data"][0]["id"]
    source = {"use": "replay", "platform": "x", "path": str(folder), "brand": "byeol"}
    rival = load_settings(REPO / "config.toml", overrides={"sources": {"rival": source}})
    run = pipeline.collect_source(rival, engine, "rival")
    assert run.status == "ok" and run.new_posts > 10
    with Session(engine) as session:
        stored = list(session.exec(select(Post)))
        tags = {
            (p.external_id, b)
            for p in stored
            for b in session.exec(select(PostBrand.brand).where(PostBrand.post_id == p.id))
        }
    assert all(p.competitor for p in stored)
    assert {p.external_id for p in stored} == {e for e, _ in tags} and {b for _, b in tags} == {"byeol"}
    assert (unnamed, "byeol") in tags


def test_a_competitor_post_never_joins_the_cluster_of_our_near_duplicates(
    settings: Settings, engine: Engine, analyzer: Analyzer, make_post: Callable[..., PostIn]
) -> None:
    copy = "the app logged me out again and my order never arrived, I want a refund today please help"
    texts = {
        "ours_1": f"{copy} maru coffee",
        "ours_2": f"{copy} maru coffee!",  # a copy-paste duplicate of the first
        "rival": f"{copy} byeol coffee",  # the same words about the rival
    }
    with session_scope(engine) as session:
        source = get_or_create_source(session, name="maru_x", use="x")
        for name, text in texts.items():
            post = make_post(handle=name, text=text)
            store_page(session, source=source, page=Page([post], {}), brands=settings.brand_catalog)
    pipeline.analyze(settings, engine, analyzer=analyzer)
    pipeline.route(settings, engine)
    with Session(engine) as session:
        rows = session.exec(select(Post, Analysis).join(Analysis, Analysis.post_id == Post.id)).all()
        cluster = {post.text: analysis.cluster_key for post, analysis in rows}
        items = list(session.exec(select(QueueItem)))
    assert cluster[texts["ours_1"]] == cluster[texts["ours_2"]]  # near enough to cluster ...
    assert cluster[texts["rival"]] != cluster[texts["ours_1"]]  # ... but never with the rival's post
    assert len(items) == 1 and items[0].cluster_key == cluster[texts["ours_1"]]
