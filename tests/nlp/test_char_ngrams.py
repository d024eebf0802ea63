"""`nlp.char_ngrams` counts exactly what scikit-learn's HashingVectorizer counts, on real posts of
both languages (the repository's NSMC and KOTE rows, English posts in the demo's style, the demo's
own posts) and on hostile text, for every character view the shipped heads use."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import hstack
from sklearn.feature_extraction.text import HashingVectorizer

from nlp import char_ngrams
from nlp.char_ngrams import char_ngram_counts
from nlp.sentiment import NgramFeatures, SentimentHead, head_path, preprocess
from nlp.train import EN_NGRAMS, KO_NGRAMS
from tests.conftest import DATA
from tests.labelled_text import demo_posts

HOSTILE = [
    "",
    " ",
    "a",
    "ab",
    "  a  b  ",
    "\t\tx\ny\r\n z",
    "😀😀😀 🎉 emoji of four bytes",
    "e\u0301 combining accent",
    "\u3000ideographic\u3000space",
    "zero\u200bwidth",
    "\x1cfile\x1dseparators",
    "ㄱ",
    "가",
    "A" * 3000,
    "한국어 " * 200,
    "\U0010ffff last code point",
    "nul\x00inside",
    "\u00a0no-break\u00a0space",
]


def _column(path: Path, name: str, rows: int, delimiter: str = ",") -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row[name] for _, row in zip(range(rows), csv.DictReader(fh, delimiter=delimiter), strict=False)]


@functools.cache
def corpus() -> list[str]:
    """Korean reviews and comments, English tweets, the demo's posts and hostile text."""
    return [
        *_column(DATA / "nsmc" / "val.tsv", "document", 400, "\t"),
        *_column(DATA / "nsmc" / "train.tsv", "document", 600, "\t"),
        *_column(DATA / "kote" / "val.tsv", "text", 300, "\t"),
        *_column(DATA / "demo-sentiment" / "en.csv", "text", 300),
        *(post.text for post in demo_posts()),
        *HOSTILE,
    ]


def sklearn_vectorizer(
    analyzer: str, ngram_range: tuple[int, int], n_features: int, **more: object
) -> HashingVectorizer:
    """The vectorizer the heads were trained with (counts, no sign, no norm, no lower-casing)."""
    options = {"alternate_sign": False, "norm": None, "lowercase": False, **more}
    return HashingVectorizer(analyzer=analyzer, ngram_range=ngram_range, n_features=n_features, **options)


CHAR_VIEWS = [spec for spec in EN_NGRAMS + KO_NGRAMS if spec["analyzer"] in ("char", "char_wb")]


@pytest.mark.parametrize(
    "spec",
    [
        *CHAR_VIEWS,
        {"analyzer": "char", "ngram_range": [1, 1], "n_features": 16},  # tiny space: many collisions
        {"analyzer": "char_wb", "ngram_range": [3, 3], "n_features": 7},  # not a power of two
        {"analyzer": "char_wb", "ngram_range": [4, 8], "n_features": 2**20},  # words shorter than 4 counted whole
    ],
    ids=lambda spec: f"{spec['analyzer']}-{spec['ngram_range'][0]}-{spec['ngram_range'][1]}-{spec.get('prep', [])}",
)
def test_counts_are_scikit_learns_bucket_for_bucket(spec: dict) -> None:
    texts = [preprocess(t, list(spec.get("prep", []))) for t in corpus()]
    ngram_range = (spec["ngram_range"][0], spec["ngram_range"][1])
    expected = sklearn_vectorizer(spec["analyzer"], ngram_range, spec["n_features"]).transform(texts)
    got = char_ngram_counts(texts, spec["analyzer"], ngram_range, spec["n_features"])
    assert got.shape == expected.shape and expected.nnz > 10_000
    assert (got != expected).nnz == 0
    assert got.dtype == np.float64 and got.has_sorted_indices


def test_a_long_list_is_counted_in_pieces_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = corpus()
    whole = char_ngram_counts(texts, "char", (2, 4), 2**18)
    monkeypatch.setattr(char_ngrams, "_CHUNK_TEXTS", 37)
    pieces = char_ngram_counts(texts, "char", (2, 4), 2**18)
    assert (pieces != whole).nnz == 0 and pieces.shape == (len(texts), 2**18)


def test_no_texts_and_an_unknown_analyzer() -> None:
    assert char_ngram_counts([], "char_wb", (2, 5), 2**10).shape == (0, 2**10)
    with pytest.raises(ValueError, match="'char' or 'char_wb'"):
        char_ngram_counts(["x"], "word", (1, 2), 2**10)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_shipped_heads_count_what_scikit_learn_counted_when_they_were_trained(language: str) -> None:
    head = SentimentHead.load(head_path(language))
    assert head.ngrams is not None
    texts = corpus()
    blocks = []
    for spec in head.ngrams.specs:
        steps = list(spec.get("prep", []))
        vectorizer = sklearn_vectorizer(
            spec["analyzer"],
            tuple(spec["ngram_range"]),
            spec["n_features"],
            preprocessor=functools.partial(preprocess, steps=steps),
            token_pattern=r"(?u)\b\w+\b|[^\w\s]",
        )
        blocks.append(vectorizer.transform(texts))
    assert (head.ngrams.counts(texts) != hstack(blocks).tocsr()).nnz == 0
    assert isinstance(head.ngrams, NgramFeatures)
