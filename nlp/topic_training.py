"""Retraining the few-shot topic head, kept only when it is not worse than the head in use.

A seeded, stratified fifth of the training rows (labelled examples and staff corrections alike)
is held out. A candidate head is trained on the rest; the candidate and the current model (the
head in use, or the zero-shot prototypes when there is none) classify the held-out rows as the
analyzer does (threshold applies, "other" possible), and the candidate wins when its macro-F1 is
at least the current one's. The head then kept is trained on every row. With too few rows to
hold any out (no label has two), the head is trained on all and kept unvalidated, as a first
head from a handful of corrections must be.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from nlp.taxonomy import OTHER, Taxonomy
from nlp.topic_eval import macro_scores
from nlp.topics import FewShotHead, PrototypeScorer, TopicModel, train_head

if TYPE_CHECKING:
    from nlp.base import Encoder

HOLDOUT_SHARE = 0.2
SEED = 13


@dataclass(frozen=True, slots=True)
class HeadChoice:
    """The outcome of a retraining: the head to write (None: keep the current one) and why."""

    head: FewShotHead | None
    reason: str
    held_out: int = 0
    new_f1: float | None = None
    current_f1: float | None = None


@dataclass(frozen=True, slots=True)
class _Rows:
    """Training rows with their embeddings; `weighted` marks staff corrections."""

    texts: list[str]
    labels: list[str]
    vectors: np.ndarray
    weighted: list[bool]

    def take(self, indexes: list[int]) -> _Rows:
        return _Rows(
            [self.texts[i] for i in indexes],
            [self.labels[i] for i in indexes],
            self.vectors[indexes],
            [self.weighted[i] for i in indexes],
        )

    def train(self, taxonomy: Taxonomy) -> FewShotHead:
        plain = [i for i, w in enumerate(self.weighted) if not w]
        fixes = [i for i, w in enumerate(self.weighted) if w]
        return train_head(
            [self.texts[i] for i in plain],
            [self.labels[i] for i in plain],
            self.vectors[plain],
            taxonomy,
            feedback=[(self.texts[i], self.labels[i]) for i in fixes],
            feedback_embeddings=self.vectors[fixes],
        )


def holdout_split(labels: list[str], *, share: float = HOLDOUT_SHARE, seed: int = SEED) -> tuple[list[int], list[int]]:
    """(train indexes, held-out indexes): `share` of each label's rows, rounded down, and never its last row."""
    rng = random.Random(seed)
    held: list[int] = []
    for label in sorted(set(labels)):
        rows = [i for i, value in enumerate(labels) if value == label]
        rng.shuffle(rows)
        held += rows[: max(1, int(len(rows) * share)) if len(rows) > 1 else 0]
    chosen = set(held)
    return [i for i in range(len(labels)) if i not in chosen], sorted(held)


def retrain_head(
    examples: list[tuple[str, str]],
    corrections: list[tuple[str, str]],
    encoder: Encoder,
    taxonomy: Taxonomy,
    *,
    current: FewShotHead | None,
    threshold: float,
) -> HeadChoice:
    """Train a head on `examples` and staff `corrections` ((text, topic key) pairs); see the module doc."""
    pairs = examples + corrections
    texts = [t for t, _ in pairs]
    rows = _Rows(
        texts, [k for _, k in pairs], encoder.encode(texts), [False] * len(examples) + [True] * len(corrections)
    )
    train, held = holdout_split(rows.labels)
    if not held:
        return HeadChoice(rows.train(taxonomy), "kept unvalidated: too few rows to hold any out")
    test = rows.take(held)
    scorer = PrototypeScorer.from_encoder(taxonomy, encoder)
    new_f1 = _macro_f1(TopicModel(scorer, threshold, rows.take(train).train(taxonomy)), test)
    current_f1 = _macro_f1(TopicModel(scorer, threshold, current), test)
    if new_f1 < current_f1:
        reason = f"current head kept: new macro-F1 {new_f1:.3f} < {current_f1:.3f} on {len(held)} held-out rows"
        return HeadChoice(None, reason, len(held), new_f1, current_f1)
    reason = f"new head kept: macro-F1 {new_f1:.3f} >= {current_f1:.3f} on {len(held)} held-out rows"
    return HeadChoice(rows.train(taxonomy), reason, len(held), new_f1, current_f1)


def _macro_f1(model: TopicModel, test: _Rows) -> float:
    predicted = [primary for _, primary in model.classify(test.texts, test.vectors)]
    return float(macro_scores(test.labels, predicted, [*model.taxonomy.keys, OTHER])["macro_f1"])
