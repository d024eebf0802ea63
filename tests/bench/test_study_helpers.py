"""The set-up pieces of two studies: the corrections `bench.training_memory` stores, and how
`bench.ko_domain_mix` splits rows by domain and scores a mix."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, select

from bench.ko_domain_mix import accuracy_at, only
from bench.training_memory import add_corrections
from dangol.core.types import utcnow
from nlp.encoders.base import MINILM
from nlp.train import Dataset
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Analysis, Author, LabelFeedback, Post


def test_corrections_are_stored_per_label_on_analyzed_posts_of_the_language(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/copy.db"
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    labels = [("en", "negative"), ("en", "negative"), ("en", "negative"), ("en", "neutral"), ("ko", "positive")]
    with Session(engine) as session:
        author = Author(platform="x", platform_id="a1", handle="someone")
        session.add(author)
        session.flush()
        for n, (language, sentiment) in enumerate(labels):
            post = Post(platform="x", external_id=str(n), author_id=author.id or 0, text=f"post {n}",
                        created_at=now, collected_at=now, analyzed=True)  # fmt: skip
            session.add(post)
            session.flush()
            session.add(Analysis(post_id=post.id or 0, language=language, sentiment=sentiment, analyzed_at=now))
        session.commit()
    assert add_corrections(url, "en", per_class=2) == 3  # two of three negatives, the neutral; no English positive
    with Session(engine) as session:
        stored = session.exec(select(LabelFeedback.post_id, LabelFeedback.kind, LabelFeedback.new_value)).all()
    assert sorted((kind, value) for _, kind, value in stored) == [
        ("sentiment", "negative"),
        ("sentiment", "negative"),
        ("sentiment", "neutral"),
    ]
    engine.dispose()


def test_rows_split_by_source_and_a_mix_scored_by_its_weight() -> None:
    data = Dataset(["a", "b", "c"], ["positive", "negative", "positive"], ["ko", "ko", "ko"])
    data.sources = ["nsmc", "kote", "nsmc"]
    movies = only(data, "nsmc")
    assert (movies.texts, movies.labels, movies.sources) == (["a", "c"], ["positive", "positive"], ["nsmc", "nsmc"])
    # n-grams say class 1 for both rows, the embedding class 0: the weight decides.
    logs = {"ngrams": np.log([[0.2, 0.8], [0.2, 0.8]]), "embedding": np.log([[0.9, 0.1], [0.9, 0.1]])}
    y = np.array([1, 1])
    assert accuracy_at(logs, y, 1.0, np.zeros(2)) == 1.0
    assert accuracy_at(logs, y, 0.0, np.zeros(2)) == 0.0
    assert accuracy_at(logs, y, 0.0, np.array([0.0, 5.0])) == 1.0  # a class bias moves it back


@pytest.mark.slow
def test_the_quantization_study_measures_every_block_and_each_recipe(tmp_path: Path) -> None:
    # MiniLM (6 blocks) keeps it short; the study is the same for e5. Structure and cosine sanity,
    # never timings.
    from bench.quantization import main

    out = tmp_path / "quantization.json"
    main(["--model", MINILM, "--texts", "16", "--rounds", "1", "--out", str(out)])
    results = json.loads(out.read_text())
    assert results["texts"] == {"en": 16, "ko": 16}
    assert sorted(results["one_block_int8"], key=int) == [str(block) for block in range(6)]
    assert set(results["recipes"]) == {"every block fp32", "none fp32"}  # MiniLM has no trait of its own
    for recipe in results["recipes"].values():
        for language in ("en", "ko"):
            assert 0.9 < recipe["cosine"][language]["min"] <= recipe["cosine"][language]["mean"] <= 1.0001
            assert recipe["posts_per_s"][language] > 0


def test_top_blocks_read_only_the_unpadded_tokens() -> None:
    import torch
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertLayer

    from bench.ko_top_blocks import padded, top_blocks_classifier

    torch.manual_seed(0)
    config = BertConfig(hidden_size=8, num_attention_heads=2, intermediate_size=16)
    model = top_blocks_classifier([BertLayer(config), BertLayer(config)], 8).eval()
    rng = np.random.default_rng(0)
    short, long = rng.normal(size=(3, 8)).astype(np.float16), rng.normal(size=(7, 8)).astype(np.float16)
    with torch.no_grad():
        alone = model(*padded([short], [0]))
        beside_a_longer_row = model(*padded([short, long], [0, 1]))
    # Padded to 7 tokens beside the longer row, the short row must read the same.
    assert torch.allclose(alone[0], beside_a_longer_row[0], atol=1e-5)
    assert not torch.allclose(beside_a_longer_row[0], beside_a_longer_row[1], atol=1e-3)


def test_length_batches_are_full_and_sorted_within_a_pool() -> None:
    from bench.ko_top_blocks import BATCH, length_batches

    lengths = [int(n) for n in np.random.default_rng(1).integers(3, 60, size=BATCH * 7 + 5)]
    batches = length_batches(lengths, steps=10, rng=np.random.default_rng(2))
    assert len(batches) == 10 and all(len(b) == BATCH for b in batches)
    # Epochs of shuffled rows: the first seven batches hold 7 × BATCH distinct rows.
    assert len({i for b in batches[:7] for i in b}) == BATCH * 7
    assert all([lengths[i] for i in b] == sorted(lengths[i] for i in b) for b in batches)


def test_the_mix_is_chosen_on_one_half_and_scored_on_the_other() -> None:
    from bench.ko_top_blocks import cross_fitted_mix, per_source_accuracy

    y = np.array([0, 1] * 20)
    sources = np.array(["nsmc", "kote"] * 10 + ["kote", "nsmc"] * 10)
    right = np.stack([1 - y, y], axis=1).astype(np.float32) * 4.0
    wrong = right[:, ::-1].copy()
    assert per_source_accuracy(wrong, y, sources) == {"kote": 0.0, "nsmc": 0.0}
    folds = cross_fitted_mix(wrong, right, y, sources)
    assert len(folds) == 2
    for fold in folds:
        assert fold["weight"] > 0.5  # the blocks are right, the head wrong: the mix leans on the blocks
        assert fold["mixed"] == {"kote": 1.0, "nsmc": 1.0}
        assert fold["head_alone"] == {"kote": 0.0, "nsmc": 0.0}


def test_emotion_tweets_are_read_as_polarity_every_one_of_them(tmp_path: Path) -> None:
    from bench.en_emotion_rows import emotion_rows

    folder = tmp_path / "tweeteval-emotion"
    folder.mkdir()
    # The shared file's shape (csv, header text,label,label_name), with a quoted comma as it writes them.
    (folder / "val.csv").write_text(
        'text,label,label_name\n"so angry, again",0,anger\nlove it,1,joy\nwe will win,2,optimism\nmiss you,3,sadness\n',
        encoding="utf-8",
    )
    assert emotion_rows("val", tmp_path) == [
        ("so angry, again", "negative", "en"),
        ("love it", "positive", "en"),
        ("we will win", "positive", "en"),
        ("miss you", "negative", "en"),
    ]


def test_morpheme_views_count_tagged_morpheme_ngrams_and_leave_the_product_views_as_they_were() -> None:
    from types import SimpleNamespace

    import nlp.sentiment as sentiment
    from bench.ko_morphemes import MORPHEMES_12, morpheme_views, ngrams, tagged_morphemes
    from nlp.sentiment import NgramFeatures

    assert ngrams(["a", "b", "c"], (1, 2)) == ["a", "b", "c", "a b", "b c"]
    assert ngrams(["a"], (2, 3)) == []
    calls: list[str] = []

    def tokenize(text: str) -> list[SimpleNamespace]:  # Kiwi's tokens carry .form and .tag
        calls.append(text)
        return [SimpleNamespace(form=w, tag="NNG") for w in text.split()]

    morphemes = tagged_morphemes(tokenize)
    assert morphemes("환불 언제") == ["환불/NNG", "언제/NNG"] and morphemes("환불 언제") == ["환불/NNG", "언제/NNG"]
    assert calls == ["환불 언제"]  # each text is analyzed once, however many variants read it
    product = sentiment._view_counter
    with morpheme_views(morphemes):
        counts = NgramFeatures([MORPHEMES_12], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)).counts(
            ["환불 언제", "환불"]
        )
    assert sentiment._view_counter is product
    # "환불/NNG", "언제/NNG" and their bigram, then "환불/NNG" again: the same bucket in both rows.
    assert counts[0].nnz == 3 and counts[1].nnz == 1
    assert counts[1].indices[0] in set(counts[0].indices)


def test_the_shift_study_mixes_by_the_embedding_weight_and_picks_the_macro_recall_bias() -> None:
    import numpy as np

    from bench.en_shift_mix import best_bias, mixed_logits

    # The embedding part says class 2 for both rows, the n-grams class 0: the weight decides.
    parts = {"embedding": np.array([[0.0, 0.0, 5.0]] * 2), "ngrams": np.array([[5.0, 0.0, 0.0]] * 2)}
    assert np.argmax(mixed_logits(parts, 1.0), axis=1).tolist() == [2, 2]
    assert np.argmax(mixed_logits(parts, 0.0), axis=1).tolist() == [0, 0]
    # Rows the mix reads as class 0 whose label is class 1: the chosen bias (within ±1) moves them.
    logits = np.array([[0.5, 0.0, 0.0], [0.5, 0.0, 0.0]])
    bias = best_bias(logits, np.array([1, 1]), 3)
    assert np.argmax(logits + bias, axis=1).tolist() == [1, 1]


def test_the_sarcasm_study_marks_praise_beside_a_complaint_event_unless_it_was_outweighed_or_fixed() -> None:
    from bench.en_sarcasm_rules import clauses, marked_by_clause, reads_sarcastic, tally

    assert reads_sarcastic("Great service, 2 hours on hold and nobody answered")
    assert reads_sarcastic("@united thanks for the rude customer service and 3 hour delay")
    assert not reads_sarcastic("We were delayed but your staff were amazing, great service")  # outweighed
    assert not reads_sarcastic("Thanks for rebooking me after the cancelled flight, great job")  # fixed
    assert not reads_sarcastic("Great service today, the latte was perfect")
    assert clauses("@united great service, 2 hours on hold. ok") == ["great service,", "2 hours on hold."]
    negative, positive = {"negative": 0.8, "positive": 0.1}, {"negative": 0.1, "positive": 0.8}
    assert marked_by_clause([positive, negative], ["great service,", "2 hours on hold"], 0.5)
    assert not marked_by_clause([positive, negative], ["great service,", "2 hours on hold"], 0.9)
    assert not marked_by_clause([negative], ["2 hours on hold"], 0.5)  # one clause: the post's own reading
    assert tally([(True, "negative"), (False, "positive"), (True, "positive"), (True, "negative")]) == {
        "negative": 2,
        "positive": 1,
    }
