"""Does the English head read tweets of another year better with more weight on its embedding part?

    python -m bench.en_shift_mix

Issue #13 asks for TweetEval sentiment on unseen tweets, and heads right on validation have fallen
~6 points on the held-back test. The head mixes an n-gram part and an embedding part, with the
weight, class bias and temperature chosen on TweetEval validation, which comes from the same pool as
the training tweets: it rewards the n-grams' topical words (names, events of those years) that the
test tweets of another time do not share. Here the shipped recipe is trained once and, for each
mixing weight, the class bias is chosen on TweetEval validation as shipped; each mix is then scored
on tweets of another year (TweetEval-emotion, SemEval-2018, read as polarity: anger and sadness
negative, joy and optimism positive; train and val parts apart) and on airline tweets (another
domain, never trained on). Nothing is shipped from it: it measures whether a domain-robust choice
of the weight would pay. One JSON line per weight; ~5 minutes the first time (encoding), ~1 minute
with the cached embeddings in `var/cache`.
"""

from __future__ import annotations

import json

import numpy as np

from bench.en_emotion_rows import as_dataset, emotion_rows
from nlp.sentiment import log_softmax, softmax
from nlp.train import (
    EN_CONFIG,
    Dataset,
    bias_grid,
    cached_embeddings,
    default_encode,
    encode_labels,
    label_scores,
    load_public,
    macro_recall,
    public_split,
    train_head,
)

WEIGHTS = np.round(np.arange(0.0, 1.01, 0.1), 2)  # the embedding part's share, as `calibrate` searches


def mixed_logits(parts: dict[str, np.ndarray], weight: float) -> np.ndarray:
    """The parts' log-probabilities mixed with `weight` on the embedding part."""
    return weight * log_softmax(parts["embedding"]) + (1 - weight) * log_softmax(parts["ngrams"])


def best_bias(mixed: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """The class bias with the highest macro-recall (the shipped objective) on these rows."""
    scored = [(macro_recall(y, np.argmax(mixed + b, axis=1), n_classes), i) for i, b in enumerate(bias_grid(n_classes))]
    return bias_grid(n_classes)[max(scored, key=lambda s: (s[0], -s[1]))[1]]


def main() -> None:
    encode = default_encode()
    train, val = public_split("en")
    head, tuned = train_head("en", train, val, encode, EN_CONFIG, public_rows=len(train))
    judges: dict[str, Dataset] = {
        "tweeteval_val (tuned on)": val,
        "emotion_train_polar": as_dataset(emotion_rows("train")),
        "emotion_val_polar": as_dataset(emotion_rows("val")),
        "airline_val": load_public("airline", "val"),
    }
    parts = {
        name: head.part_logits(data.texts, cached_embeddings(data.texts, encode, f"en-shift-{name.split()[0]}"))
        for name, data in judges.items()
    }
    classes = EN_CONFIG["classes"]
    y_val = encode_labels(val.labels, classes)
    print(json.dumps({"shipped": head.meta["weights"], "bias": head.meta["bias"], "tuned": tuned}), flush=True)
    for weight in WEIGHTS:
        bias = best_bias(mixed_logits(parts["tweeteval_val (tuned on)"], weight), y_val, len(classes))
        scores = {
            name: label_scores(softmax(mixed_logits(parts[name], weight) + bias), data.labels)
            for name, data in judges.items()
        }
        report = {"embedding_weight": float(weight), "bias": bias.tolist()}
        report |= {name: {k: round(v, 4) for k, v in s.items()} for name, s in scores.items()}
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
