"""Does a Korean morpheme view help the Korean head's n-gram part? (a study, issue #13)

    .venv/bin/pip install kiwipiepy==0.24.1   # Apache-2.0, ~100 MB with its model; not a dependency
    python -m bench.ko_morphemes

The n-gram part reads characters, jamo and words split at spaces; Korean words glue stems, endings
and particles together, so "환불이" and "환불은" share no word n-gram. A morphological analyzer
(Kiwi) splits them into "환불/NNG 이/JKS" and "환불/NNG 은/JX". Here the n-gram part alone
(today's recipe, `nlp.train.KO_CONFIG`: NB-weighted logistic regression, C 4, min_df 2) is trained
on the Korean head's training rows with and without a fifth view of hashed morpheme n-grams
("form/tag" tokens), and scored on the head's calibration rows: the NSMC held-out half and KOTE's
validation part. No embedding, no mix, no calibration: the parts' own accuracy, the same rows for
each variant. ~4 minutes on 2 cores (Kiwi reads the 42,000 texts once, ~30 s).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from nlp.train import KO_CONFIG, KO_NGRAMS, encode_labels, fit_ngrams, public_split

MORPHEMES_12 = {"analyzer": "morpheme", "ngram_range": [1, 2], "n_features": 2**22}
MORPHEMES_13 = {"analyzer": "morpheme", "ngram_range": [1, 3], "n_features": 2**22}
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "today's four views": KO_NGRAMS,
    "+ morpheme 1-2-grams": [*KO_NGRAMS, MORPHEMES_12],
    "+ morpheme 1-3-grams": [*KO_NGRAMS, MORPHEMES_13],
    "morpheme 1-2-grams instead of words": [MORPHEMES_12, *KO_NGRAMS[1:]],
    "morpheme 1-2-grams alone": [MORPHEMES_12],
}


def ngrams(tokens: Sequence[str], ngram_range: tuple[int, int]) -> list[str]:
    """Every n-gram of `tokens` for n in `ngram_range`, shortest first, joined by spaces."""
    low, high = ngram_range
    return [" ".join(tokens[i : i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1)]


def tagged_morphemes(tokenize: Callable[[str], Any]) -> Callable[[str], list[str]]:
    """text → its morphemes as "form/tag", from a Kiwi-like `tokenize` (tokens with .form and
    .tag), remembered per text: every variant reads the same texts."""

    @functools.cache
    def read(text: str) -> tuple[str, ...]:
        return tuple(f"{t.form}/{t.tag}" for t in tokenize(text))

    return lambda text: list(read(text))


@contextmanager
def morpheme_views(morphemes: Callable[[str], list[str]]) -> Iterator[None]:
    """Within the block, n-gram specs with `"analyzer": "morpheme"` count hashed morpheme n-grams.

    A study only: the product's views (`nlp.sentiment._view_counter`) are wrapped, not changed,
    so the shipped recipe does not gain an analyzer that needs Kiwi."""
    from sklearn.feature_extraction.text import HashingVectorizer

    import nlp.sentiment as sentiment

    product = sentiment._view_counter

    def view(spec: dict[str, Any]) -> Callable[[list[str]], Any]:
        if spec["analyzer"] != "morpheme":
            return product(spec)
        span = (int(spec["ngram_range"][0]), int(spec["ngram_range"][1]))
        analyzer = lambda text: ngrams(morphemes(text), span)  # noqa: E731 - one line, named by its use
        return HashingVectorizer(
            analyzer=analyzer, n_features=int(spec["n_features"]), alternate_sign=False, norm=None
        ).transform

    sentiment._view_counter = view  # type: ignore[assignment]
    try:
        yield
    finally:
        sentiment._view_counter = product  # type: ignore[assignment]


def main() -> None:
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        raise SystemExit("this study needs Kiwi: .venv/bin/pip install kiwipiepy==0.24.1") from None
    train, val = public_split("ko")
    classes = KO_CONFIG["classes"]
    y, y_val = encode_labels(train.labels, classes), encode_labels(val.labels, classes)
    sources = np.array(val.sources)
    morphemes = tagged_morphemes(Kiwi(num_workers=1).tokenize)
    with morpheme_views(morphemes):
        for name, specs in VARIANTS.items():
            features, coef, intercept = fit_ngrams(
                train.texts, y, specs, KO_CONFIG["ngram_c"], "balanced", KO_CONFIG["min_df"], KO_CONFIG["nb_alpha"]
            )
            predicted = np.argmax(features.transform(val.texts) @ coef.T + intercept, axis=1)
            accuracy = {
                source: round(float(np.mean(predicted[sources == source] == y_val[sources == source])), 4)
                for source in ("nsmc", "kote")
            }
            print(json.dumps({"variant": name, **accuracy}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
