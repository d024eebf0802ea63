"""Score the sentiment path the pipeline uses (language id -> encoder -> classifier) on labelled data.

A binary data set (labels only negative/positive) is scored as binary: each post gets the
likelier of the two, so a neutral prediction is not an automatic error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dangol.errors import ConfigError
from nlp.base import SENTIMENTS

if TYPE_CHECKING:
    from nlp.base import Encoder, SentimentClassifier


@dataclass
class LabelledTexts:
    """Texts and their word labels (negative / neutral / positive)."""

    texts: list[str]
    labels: list[str]


def read_labelled(path: Path, text_col: str, label_col: str, labels: Sequence[str] | None = None) -> LabelledTexts:
    """Read a CSV/TSV (by extension); `labels` maps integer label values to words by position."""
    from nlp.train import read_table

    if not path.is_file():
        raise ConfigError(f"data file not found: {path}")
    rows = read_table(path)
    if rows and (text_col not in rows[0] or label_col not in rows[0]):
        raise ConfigError(f"{path}: columns {text_col!r} and {label_col!r} needed; the file has {', '.join(rows[0])}")
    texts = [r[text_col] for r in rows]
    words = [map_label(r[label_col], labels) for r in rows]
    return LabelledTexts(texts, words)


def map_label(value: str, labels: Sequence[str] | None) -> str:
    """One label value as a sentiment word; integers index `labels`, words must be sentiments."""
    value = value.strip()
    if labels and value.lstrip("-").isdigit():
        index = int(value)
        if not 0 <= index < len(labels):
            raise ConfigError(f"label {value} out of range for --labels {','.join(labels)}")
        value = labels[index]
    word = value.lower()
    if word not in SENTIMENTS:
        raise ConfigError(
            f"label {value!r} is not one of {', '.join(SENTIMENTS)}; "
            "for integer labels give --labels in order, e.g. --labels negative,positive"
        )
    return word


def metrics(y_true: list[str], y_pred: list[str], classes: list[str]) -> dict[str, float]:
    """accuracy, macro_recall and macro_f1 over `classes`."""
    true, pred = np.array(y_true), np.array(y_pred)
    recalls, f1s = [], []
    for c in classes:
        tp = float(np.sum((true == c) & (pred == c)))
        support, predicted = float(np.sum(true == c)), float(np.sum(pred == c))
        recall = tp / support if support else 0.0
        precision = tp / predicted if predicted else 0.0
        recalls.append(recall)
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return {
        "accuracy": float(np.mean(true == pred)) if len(true) else 0.0,
        "macro_recall": float(np.mean(recalls)),
        "macro_f1": float(np.mean(f1s)),
    }


def evaluate_sentiment(
    data: LabelledTexts,
    encoder: Encoder,
    classifier: SentimentClassifier,
    detect: Callable[[list[str], list[str | None]], list[str]],
    batch_size: int = 64,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Run language id, encoder and classifier in batches as the analyzer does, and score them."""
    present = set(data.labels)
    classes = ["negative", "positive"] if present <= {"negative", "positive"} else list(SENTIMENTS)
    columns = [SENTIMENTS.index(c) for c in classes]
    predictions: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(data.texts), batch_size):
        texts = data.texts[start : start + batch_size]
        languages = detect(texts, [None] * len(texts))
        probs = classifier.predict(texts, encoder.encode(texts), languages)
        for row in probs:
            scores = [row[SENTIMENTS[i]] for i in columns]
            predictions.append(classes[int(np.argmax(scores))])
        if progress:
            progress(len(texts))
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"n": len(data.texts)}
    result |= metrics(data.labels, predictions, classes)
    result["posts_per_s"] = round(len(data.texts) / seconds, 1) if seconds > 0 else 0.0
    result["classes"] = classes
    return result


def encoder_throughput(encoder: Encoder, texts: list[str], batch_size: int = 64) -> float:
    """Posts per second for `encoder` over `texts` (after one warm-up batch)."""
    encoder.encode(texts[:batch_size])
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        encoder.encode(texts[start : start + batch_size])
    return len(texts) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    """`python -m nlp.evaluate encoders [--n N] [--onnx-dir DIR]`: torch fp32 vs ONNX int8, same run."""
    import argparse
    import json
    import platform
    import sys

    from nlp.encoder import DEFAULT_ONNX_DIR, SentenceTransformerEncoder
    from nlp.onnx_encoder import OnnxEncoder
    from nlp.train import load_public

    parser = argparse.ArgumentParser(description="Encoder throughput: torch fp32 vs ONNX int8 on the same posts.")
    parser.add_argument("what", choices=["encoders"])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--onnx-dir", type=Path, default=DEFAULT_ONNX_DIR)
    args = parser.parse_args(argv)
    english = load_public("tweeteval", "val").texts[: args.n // 2]
    korean = load_public("nsmc", "val").texts[: args.n - len(english)]
    texts = english + korean
    torch_encoder, onnx_encoder = SentenceTransformerEncoder(), OnnxEncoder(args.onnx_dir)
    result = {
        "posts": len(texts),
        "torch_fp32_posts_per_s": round(encoder_throughput(torch_encoder, texts), 1),
        "onnx_int8_posts_per_s": round(encoder_throughput(onnx_encoder, texts), 1),
        "min_cosine": float(np.min(np.sum(torch_encoder.encode(texts) * onnx_encoder.encode(texts), axis=1))),
        "cpus": platform.processor() or platform.machine(),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
