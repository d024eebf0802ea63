"""Complaint topics: zero-shot scores, multi-label with "other", the few-shot head, proposals."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from dangol.core.errors import AnalysisError
from dangol.core.settings import Settings
from nlp.taxonomy import OTHER, Taxonomy, Topic, from_catalog
from nlp.topics import FewShotHead, PrototypeScorer, TopicModel, propose_topics, train_head
from tests.labelled_text import demo_halves, demo_posts, write_described_taxonomy, write_topic_rows
from tests.nlp.semantic_fakes import HashingEncoder, real_encoder

TAXONOMY = Taxonomy(
    (
        Topic("delivery", "Delivery", "order delivered late or never arrived", ("my order never arrived",)),
        Topic("billing", "Billing", "charged twice or refund missing", ("I was charged twice",)),
        Topic("korean_only", "배송", "배송 지연", ("배송이 늦어요",), languages=("ko",)),
    )
)


def model(threshold: float = 0.45, head: FewShotHead | None = None) -> TopicModel:
    return TopicModel(PrototypeScorer.from_encoder(TAXONOMY, HashingEncoder()), threshold, head)


def classify(texts: list[str], m: TopicModel | None = None, languages: list[str] | None = None):  # type: ignore[no-untyped-def]
    m = m or model()
    return m.classify(texts, HashingEncoder().encode(texts), languages)


def test_scores_lie_between_zero_and_one_with_one_column_per_topic() -> None:
    texts = ["my order never arrived", "", "🙂"]
    scores = model().scores(texts, HashingEncoder().encode(texts))
    assert scores.shape == (3, 3)
    assert ((scores >= 0) & (scores <= 1)).all()


def test_post_near_a_topic_gets_it_as_primary_and_unrelated_post_is_other() -> None:
    [(topics, primary), (none, other)] = classify(["my order never arrived yesterday", "lovely weather in Seoul"])
    assert primary == "delivery" and topics["delivery"] >= 0.45
    assert (none, other) == ({}, OTHER)


def test_post_about_two_topics_gets_both_labels() -> None:
    [(topics, _)] = classify(["order never arrived and I was charged twice"], model(threshold=0.3))
    assert set(topics) >= {"delivery", "billing"}


def test_empty_and_emoji_only_posts_are_other() -> None:
    assert [primary for _, primary in classify(["", "😡😡😡"])] == [OTHER, OTHER]


def test_topic_limited_to_korean_scores_zero_for_english_posts() -> None:
    texts = ["배송이 늦어요", "배송이 늦어요"]
    scores = model().scores(texts, HashingEncoder().encode(texts), ["en", "ko"])
    assert scores[0, 2] == 0.0 < scores[1, 2]


def test_empty_taxonomy_makes_every_post_other() -> None:
    empty = TopicModel(PrototypeScorer.from_encoder(Taxonomy(()), HashingEncoder()), 0.45)
    assert empty.classify(["anything"], HashingEncoder().encode(["anything"])) == [({}, OTHER)]


def test_after_an_edit_only_the_added_and_edited_topics_are_encoded_again() -> None:
    encoder = HashingEncoder()
    before = PrototypeScorer.from_encoder(TAXONOMY, encoder)
    edited = Topic("billing", "Billing", "charged twice or refund missing", ("I was charged twice", "no refund yet"))
    added = Topic("parking", "Parking", "nowhere to park near the store", ("there is nowhere to park",))
    taxonomy = Taxonomy((TAXONOMY.topics[0], edited, added))
    encoder.calls.clear()
    after = PrototypeScorer.from_encoder(taxonomy, encoder, reuse=before)
    assert encoder.calls == [len(edited.prototypes()) + len(added.prototypes())]
    np.testing.assert_array_equal(after.centroids[0], before.centroids[0])
    np.testing.assert_allclose(after.centroids, PrototypeScorer.from_encoder(taxonomy, encoder).centroids, atol=1e-6)


def test_an_unchanged_taxonomy_is_rebuilt_without_encoding() -> None:
    encoder = HashingEncoder()
    before = PrototypeScorer.from_encoder(TAXONOMY, encoder)
    encoder.calls.clear()
    PrototypeScorer.from_encoder(Taxonomy(TAXONOMY.topics[:2]), encoder, reuse=before)
    assert encoder.calls == []


def test_staff_corrections_teach_the_head_a_topic_the_prototypes_miss() -> None:
    encoder = HashingEncoder()
    phrase = "the courier rang at 3am"
    assert classify([phrase])[0][1] == OTHER
    feedback = [(f"{phrase} {i}", "delivery") for i in range(30)] + [
        (f"coupon {i} rejected", "billing") for i in range(30)
    ]
    head = train_head([], [], np.zeros((0, encoder.dim)), TAXONOMY, feedback=feedback,
                      feedback_embeddings=encoder.encode([t for t, _ in feedback]))  # fmt: skip
    assert head.trained_on == 60 * 3  # corrections weigh three examples each
    assert classify([phrase], model(head=head))[0][1] == "delivery"


def test_head_round_trips_through_npz_without_pickle(tmp_path: Path) -> None:
    encoder = HashingEncoder()
    texts = ["late order", "order late again", "charged twice", "double charge"]
    head = train_head(texts, ["delivery", "delivery", "billing", "billing"], encoder.encode(texts), TAXONOMY)
    loaded = FewShotHead.load(head.save(tmp_path / "head.npz"))
    embeddings = encoder.encode(texts)
    np.testing.assert_allclose(
        loaded.predict_proba(texts, embeddings), head.predict_proba(texts, embeddings), atol=1e-5
    )
    assert loaded.classes == ["billing", "delivery"]


def test_head_refuses_unknown_labels_and_a_single_class() -> None:
    encoder = HashingEncoder()
    with pytest.raises(AnalysisError, match="not topic keys"):
        train_head(["x", "y"], ["delivery", "weather"], encoder.encode(["x", "y"]), TAXONOMY)
    with pytest.raises(AnalysisError, match="at least two"):
        train_head(["x", "y"], ["delivery", "delivery"], encoder.encode(["x", "y"]), TAXONOMY)


def test_loading_a_file_that_is_not_a_head_is_an_analysis_error(tmp_path: Path) -> None:
    bad = tmp_path / "head.npz"
    np.savez(bad, something=np.zeros(3))
    with pytest.raises(AnalysisError, match="not a topic head"):
        FewShotHead.load(bad)


def test_proposals_group_repeated_new_complaints_with_their_terms() -> None:
    texts = [f"the new oat milk tastes sour batch {i}" for i in range(8)] + [
        f"parking lot closed again near store {i}" for i in range(6)
    ] + ["random one", "another unrelated remark about jazz"]  # fmt: skip
    proposals = propose_topics(texts, HashingEncoder().encode(texts), min_size=5)
    assert [p.size for p in proposals] == [8, 6]
    assert {"oat", "milk", "sour"} <= set(proposals[0].terms)
    assert proposals[1].representatives[0].startswith("parking lot closed")
    assert sorted(proposals[0].members) == list(range(8))


def test_too_few_texts_propose_nothing() -> None:
    assert propose_topics(["a", "b"], HashingEncoder().encode(["a", "b"])) == []


@pytest.mark.slow
def test_real_encoder_zero_shot_sorts_sample_config_complaints(settings: Settings) -> None:
    encoder = real_encoder()
    taxonomy = from_catalog(settings.topic_catalog)
    topics = TopicModel(PrototypeScorer.from_encoder(taxonomy, encoder), settings.nlp.topic_threshold)
    texts = ["I paid but my card was charged two times", "the barista shouted at me", "app crashes when I open it",
             "what a lovely sunny day at the beach"]  # fmt: skip
    primaries = [p for _, p in topics.classify(texts, encoder.encode(texts))]
    assert primaries == ["billing", "store", "app", OTHER]


@pytest.mark.slow
def test_real_encoder_few_shot_beats_zero_shot_on_demo_complaints(tmp_path: Path) -> None:
    from nlp.taxonomy import load_taxonomy
    from nlp.topic_eval import evaluate_topics

    # Topics with names and descriptions only: zero-shot reads those; the head learns from posts.
    taxonomy = load_taxonomy(write_described_taxonomy(tmp_path / "topics.toml"))
    train, test = ([(p.text, p.topic) for p in half if p.topic] for half in demo_halves())
    zero = evaluate_topics(taxonomy, real_encoder(), test)
    few = evaluate_topics(taxonomy, real_encoder(), test, train)
    assert zero["n"] == few["n"] == len(test) >= 60
    assert {p.topic for p in demo_posts()} - {None} == {k for _, k in test} == set(taxonomy.keys)
    assert zero["macro_f1"] > 0.3
    assert few["accuracy"] > zero["accuracy"] + 0.03


def test_demo_rows_read_for_eval_skip_empty_labels(settings: Settings, tmp_path: Path) -> None:
    path = write_topic_rows(tmp_path / "demo.csv", list(demo_posts()))
    with path.open(newline="", encoding="utf-8") as fh:
        labelled = sum(1 for r in csv.DictReader(fh) if r["topic"])
    from nlp.topic_eval import read_labelled

    rows = read_labelled(path, "text", "topic", from_catalog(settings.topic_catalog))
    # The demo's complaints (ours and the rival's); the other 307 posts have no topic.
    assert len(rows) == labelled == 170
    assert {key for _, key in rows} == set(settings.topics)


def test_a_second_topic_applies_only_close_to_the_best_one() -> None:
    m = model()
    n = len(TAXONOMY)
    far, close = np.full((1, n), 0.2), np.full((1, n), 0.2)
    far[0, :3] = [0.85, 0.63, 0.5]  # all over the threshold, but only the first is close to the top
    close[0, :2] = [0.80, 0.75]
    keys = TAXONOMY.keys
    [(applied_far, primary_far)] = m.assign(far)
    [(applied_close, _)] = m.assign(close)
    assert applied_far == {keys[0]: 0.85} and primary_far == keys[0]
    assert set(applied_close) == {keys[0], keys[1]}
