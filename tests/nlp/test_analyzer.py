"""The Analyzer: one encoder pass per batch, every field of Understanding filled, edge cases."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from dangol.core.risk import risk_priority
from dangol.core.settings import Settings
from dangol.core.types import ClusterMember
from nlp.analyzer import Analyzer
from nlp.base import PostText
from nlp.dedup import text_hash
from nlp.taxonomy import OTHER, Taxonomy, Topic, from_catalog
from nlp.topics import PrototypeScorer, TopicModel, train_head
from tests.conftest import DATA
from tests.labelled_text import demo_posts, first_rows
from tests.nlp.semantic_fakes import HashingEncoder, KeywordSentiment

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def post(post_id: int, text: str, **overrides: object) -> PostText:
    fields: dict[str, object] = {"post_id": post_id, "text": text, "platform": "x", "created_at": NOW}
    fields.update(overrides)
    return PostText(**fields)  # type: ignore[arg-type]


def fake_analyzer(settings: Settings, encoder: HashingEncoder | None = None) -> Analyzer:
    encoder = encoder or HashingEncoder()
    scorer = PrototypeScorer.from_encoder(from_catalog(settings.topic_catalog), encoder)
    topics = TopicModel(scorer, settings.nlp.topic_threshold)
    return Analyzer(encoder, KeywordSentiment(), topics, duplicate_similarity=settings.nlp.duplicate_similarity)


def test_one_encoder_call_covers_the_whole_batch(settings: Settings) -> None:
    encoder = HashingEncoder()
    analyzer = fake_analyzer(settings, encoder)
    encoder.calls.clear()
    results = analyzer.analyze([post(i, f"my order never arrived {i}") for i in range(10)], [])
    assert encoder.calls == [10]
    assert [r.post_id for r in results] == list(range(10))


def test_warm_up_analyzes_its_own_sentences_once_and_keeps_none_of_their_vectors(settings: Settings) -> None:
    encoder = HashingEncoder()
    analyzer = fake_analyzer(settings, encoder)
    encoder.calls.clear()
    analyzer.warm_up()
    assert encoder.calls == [3]  # the whole analysis ran, one encoder call
    assert len(analyzer.encoder._vectors) == 0
    # A real post with a warm-up sentence's text is encoded, not served from the warm-up.
    analyzer.analyze([post(1, "The app logs me out every time I open it, is there a fix?")], [])
    assert encoder.calls == [3, 1]


def test_understanding_has_every_field_filled(settings: Settings) -> None:
    [result] = fake_analyzer(settings).analyze(
        [post(1, "I was charged twice and want a refund, my lawyer agrees", followers=20_000, customer_tier="vip")], []
    )
    assert result.language == "en"
    assert result.sentiment == "negative" and sum(result.sentiment_probs.values()) == pytest.approx(1.0)
    assert result.primary_topic == "billing" and "billing" in result.topics
    assert result.is_complaint and not result.is_question and not result.is_spam
    assert risk_priority(result.risk) == 1
    assert result.risk_breakdown["urgency"]["words"] == ["lawyer", "refund"]
    assert result.risk_breakdown["customer_value"]["tier"] == "vip"
    assert result.embedding.shape == (256,) and result.embedding.dtype == np.float32
    assert result.text_hash == text_hash(result_text := "I was charged twice and want a refund, my lawyer agrees")
    assert result_text and result.cluster_key == "p:1"
    assert result.intent == "complaint"
    assert result.model_versions == {"analyzer": "3", "encoder": "fake:hashing", "sentiment": "fake:keywords",
                                     "topics": "zeroshot"}  # fmt: skip


@pytest.mark.parametrize("text", ["", "😡😡😡", "   ", "ㅋㅋㅋㅋ"])
def test_empty_emoji_and_jamo_only_posts_are_analyzed_without_error(settings: Settings, text: str) -> None:
    [result] = fake_analyzer(settings).analyze([post(1, text)], [])
    assert result.primary_topic == OTHER and result.topics == {}
    assert 0.0 <= result.risk <= 1.0
    assert result.cluster_key == "p:1"


def test_korean_post_is_detected_and_flagged(settings: Settings) -> None:
    [result] = fake_analyzer(settings).analyze([post(1, "환불 언제 되나요? 최악이에요", lang_hint="ko")], [])
    assert result.language == "ko"
    assert result.is_question and result.is_complaint
    assert "환불" in result.risk_breakdown["urgency"]["words"]


def test_retweet_and_copies_join_the_recent_cluster(settings: Settings) -> None:
    analyzer = fake_analyzer(settings)
    original = "Acme coffee charged me twice this week and support ignores me"
    recent = [ClusterMember("p:41", text_hash(original), HashingEncoder().encode([original])[0], "x", "tw-41")]
    results = analyzer.analyze(
        [post(1, f"RT @bob: {original}", referenced_id="tw-41", is_retweet=True), post(2, original + " !!!")], recent
    )
    assert [r.cluster_key for r in results] == ["p:41", "p:41"]


def test_a_retweet_reads_as_the_post_it_repeats_and_is_encoded_once(settings: Settings) -> None:
    encoder = HashingEncoder()
    analyzer = fake_analyzer(settings, encoder)
    encoder.calls.clear()
    original = "the app crashes every time I open the stamp page, my stamps are gone"
    posts = [post(1, original), post(2, f"RT @hannah_sips: {original}", is_retweet=True, referenced_id="tw-1")]
    posts.append(post(3, f"RT @bob: RT @hannah_sips: {original}", is_retweet=True, referenced_id="tw-1"))
    first, retweet, twice = analyzer.analyze(posts, [])
    assert encoder.calls == [1]  # one text, not three: the markers are not what the posts say
    for repeat in (retweet, twice):
        assert (repeat.sentiment_probs, repeat.topics, repeat.primary_topic, repeat.intent, repeat.language) == (
            first.sentiment_probs, first.topics, first.primary_topic, first.intent, first.language
        )  # fmt: skip
        assert np.array_equal(repeat.embedding, first.embedding)
    # Only a leading marker is one: a post that quotes one in its own words keeps them.
    from nlp.base import analysis_text

    assert analysis_text("RTX 5090 prices, RT @a: are wild") == "RTX 5090 prices, RT @a: are wild"
    assert analysis_text("RT this if you agree") == "RT this if you agree"


def test_a_new_taxonomy_keeps_the_trained_head_and_classifies_into_added_topics(settings: Settings) -> None:
    analyzer = fake_analyzer(settings)
    taxonomy = from_catalog(settings.topic_catalog)
    texts = [f"order {i} late again" for i in range(3)] + [f"charged twice {i}" for i in range(3)]
    labels = ["delivery"] * 3 + ["billing"] * 3
    analyzer.topics.head = train_head(texts, labels, analyzer.encoder.encode(texts), taxonomy)
    parking = Topic("parking", "Parking", "nowhere to park near the store", ("there is nowhere to park",))
    analyzer.use_taxonomy(Taxonomy((*taxonomy.topics, parking)), stamp=7)
    assert analyzer.taxonomy_stamp == 7 and analyzer.topics.head is not None
    [result] = analyzer.analyze([post(1, "there is nowhere to park at your store")], [])
    assert result.primary_topic == "parking"


def test_a_retrained_head_file_is_picked_up_by_a_running_analyzer(settings: Settings, tmp_path: Path) -> None:
    analyzer = fake_analyzer(settings)
    analyzer.head_path = tmp_path / "head.npz"
    assert not analyzer.reload_head_if_changed() and analyzer.topics.head is None
    texts = ["order late again", "late order", "charged twice", "double charge"]
    labels = ["delivery", "delivery", "billing", "billing"]
    train_head(texts, labels, analyzer.encoder.encode(texts), analyzer.topics.taxonomy).save(analyzer.head_path)
    assert analyzer.reload_head_if_changed() and analyzer.topics.head is not None
    assert not analyzer.reload_head_if_changed()


def test_a_calm_complaint_reads_negative_not_neutral(settings: Settings) -> None:
    # KeywordSentiment reads this as neutral (no negative word); the Korean complaint wording makes
    # it a complaint, and a complaint's neutral share is negative voice.
    [result] = fake_analyzer(settings).analyze([post(1, "적립한 스탬프가 사라졌어요", lang_hint="ko")], [])
    assert result.intent == "complaint" and result.is_complaint
    assert result.sentiment == "negative" and result.sentiment_probs["neutral"] == 0.0
    assert sum(result.sentiment_probs.values()) == pytest.approx(1.0)


class RulingSentiment(KeywordSentiment):
    """KeywordSentiment whose heads say, per language, whether the complaint rule applies."""

    def __init__(self, off: set[str]) -> None:
        self.off = off

    def complaint_rule(self, language: str) -> bool:
        return language not in self.off


def test_a_head_that_says_so_keeps_a_calm_complaints_neutral_share(settings: Settings) -> None:
    # A head adapted to a brand whose labels read calm complaints as neutral says the rule is off
    # for its language; other languages keep it.
    fake = fake_analyzer(settings)
    analyzer = Analyzer(
        fake.encoder, RulingSentiment({"ko"}), fake.topics, duplicate_similarity=settings.nlp.duplicate_similarity
    )
    korean, english = analyzer.analyze(
        [post(1, "적립한 스탬프가 사라졌어요", lang_hint="ko"), post(2, "my order never arrived", lang_hint="en")], []
    )
    assert korean.intent == "complaint" and korean.is_complaint
    assert korean.sentiment == "neutral" and korean.sentiment_probs["neutral"] == pytest.approx(0.7)
    assert english.intent == "complaint" and english.sentiment_probs["neutral"] == 0.0


def test_empty_batch_returns_nothing(settings: Settings) -> None:
    assert fake_analyzer(settings).analyze([], []) == []


@pytest.mark.slow
def test_real_analyzer_on_english_demo_posts_and_nsmc_rows(settings: Settings) -> None:
    analyzer = Analyzer.from_settings(settings)
    english = [p.text for p in demo_posts() if p.language == "en"][:40]
    nsmc = [r["document"] for r in first_rows(DATA / "nsmc" / "val.tsv", 20)]
    texts = english + nsmc
    results = analyzer.analyze([post(i, t) for i, t in enumerate(texts)], [])
    assert len(results) == 60
    assert {r.language for r in results[40:]} == {"ko"}
    assert all(r.embedding.shape == (analyzer.encoder.dim,) for r in results)
    assert set(analyzer.versions) == {"analyzer", "encoder", "sentiment", "topics"}
    start = time.perf_counter()
    analyzer.encoder.encode(texts)
    encode_only = time.perf_counter() - start
    start = time.perf_counter()
    analyzer.analyze([post(i, t) for i, t in enumerate(texts)], [])
    # Everything besides the single encoder pass must stay cheap next to it.
    assert time.perf_counter() - start < 3 * encode_only + 1.0


class PraiseOrKeywordSentiment(KeywordSentiment):
    """KeywordSentiment, and "love" reads 90% positive."""

    def predict(self, texts: list[str], embeddings: np.ndarray, languages: list[str]) -> list[dict[str, float]]:
        read = super().predict(texts, embeddings, languages)
        praise = {"negative": 0.02, "neutral": 0.08, "positive": 0.90}
        return [praise if "love" in text.lower() else probs for text, probs in zip(texts, read, strict=True)]


def test_a_reviews_star_rating_moves_its_sentiment_but_the_text_keeps_its_say(settings: Settings) -> None:
    analyzer = fake_analyzer(settings)
    analyzer.sentiment = PraiseOrKeywordSentiment()
    flat = "I opened the app today"  # read neutral 0.7, positive 0.2, negative 0.1
    texts = [(flat, None), (flat, 1), (flat, 5), ("Love it, best app ever", 1), ("Love it", 5),
             ("Great app but it keeps crashing, please fix", 4)]  # fmt: skip
    posts = [post(i, text, rating=rating, platform="googleplay") for i, (text, rating) in enumerate(texts)]
    unrated, one_star, five_star, ironic, praise, complaint = analyzer.analyze(posts, [])
    assert unrated.sentiment == "neutral" and unrated.sentiment_probs["negative"] == pytest.approx(0.1)
    assert one_star.sentiment != "positive" and one_star.sentiment_probs["negative"] == pytest.approx(0.42)
    assert five_star.sentiment == "positive"
    assert ironic.sentiment == "negative" and praise.sentiment == "positive"  # one star is never shown positive
    assert complaint.sentiment == "negative" and complaint.is_complaint and complaint.intent == "complaint"
