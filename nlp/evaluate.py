"""Score the sentiment the pipeline stores (language id -> encoder -> classifier -> intent) on labelled data.

A binary data set (labels only negative/positive) is scored as binary: each post gets the
likelier of the two, so a neutral prediction is not an automatic error. Besides accuracy and
macro recall and F1: recall per class, the confusion matrix (rows: true, columns: predicted) and
the expected calibration error (ECE: how far the stated confidence is from the share right).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dangol.core.errors import ConfigError
from dangol.core.types import SENTIMENTS

if TYPE_CHECKING:
    from nlp.base import Encoder


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


# Confidence bins of the expected calibration error.
ECE_BINS = 10
SentimentPredictor = Callable[[list[str]], list[dict[str, float]]]


def evaluate_sentiment(
    data: LabelledTexts,
    predict: SentimentPredictor,
    batch_size: int = 64,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Predict in batches as the analyzer does, and score the predictions."""
    present = set(data.labels)
    classes = ["negative", "positive"] if present <= {"negative", "positive"} else list(SENTIMENTS)
    predictions: list[str] = []
    confidences: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(data.texts), batch_size):
        texts = data.texts[start : start + batch_size]
        for row in predict(texts):
            scores = np.array([row[c] for c in classes], dtype=np.float64)
            scores = scores / scores.sum() if scores.sum() > 0 else np.full(len(classes), 1 / len(classes))
            predictions.append(classes[int(np.argmax(scores))])
            confidences.append(float(scores.max()))
        if progress:
            progress(len(texts))
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"n": len(data.texts)}
    result |= metrics(data.labels, predictions, classes)
    result["recall"] = per_class_recall(data.labels, predictions, classes)
    result["confusion"] = confusion(data.labels, predictions, classes)
    result["ece"] = expected_calibration_error(data.labels, predictions, confidences)
    result["posts_per_s"] = round(len(data.texts) / seconds, 1) if seconds > 0 else 0.0
    result["classes"] = classes
    return result


def per_class_recall(y_true: list[str], y_pred: list[str], classes: list[str]) -> dict[str, float | None]:
    """Share of each class's posts predicted as that class (None for a class with no posts)."""
    true, pred = np.array(y_true), np.array(y_pred)
    return {c: (round(float(np.mean(pred[true == c] == c)), 4) if np.any(true == c) else None) for c in classes}


def confusion(y_true: list[str], y_pred: list[str], classes: list[str]) -> dict[str, dict[str, int]]:
    """{true class: {predicted class: count}}."""
    table = {t: dict.fromkeys(classes, 0) for t in classes}
    for t, p in zip(y_true, y_pred, strict=True):
        if t in table and p in table[t]:
            table[t][p] += 1
    return table


def expected_calibration_error(y_true: list[str], y_pred: list[str], confidences: list[float]) -> float:
    """Weighted mean |accuracy - confidence| over ECE_BINS equal-width confidence bins."""
    if not y_true:
        return 0.0
    right = np.array(y_true) == np.array(y_pred)
    conf = np.array(confidences)
    bins = np.minimum((conf * ECE_BINS).astype(int), ECE_BINS - 1)
    total = 0.0
    for b in range(ECE_BINS):
        members = bins == b
        if members.any():
            total += members.sum() * abs(right[members].mean() - conf[members].mean())
    return round(float(total / len(y_true)), 4)


def pipeline_predictor(analyzer: Any) -> SentimentPredictor:
    """The sentiment an Analyzer stores for each text (intent adjustments included)."""
    understand = pipeline_understanding(analyzer)

    def predict(texts: list[str]) -> list[dict[str, float]]:
        return [u.sentiment_probs for u in understand(texts)]

    return predict


def pipeline_reading(analyzer: Any) -> Callable[[Any, list[str]], tuple[list[dict[str, float]], list[str]]]:
    """For a candidate sentiment head: each text's probabilities as the pipeline reads them with
    that head, before a complaint's neutral share is moved to negative, and its intent (what
    `nlp.train.choose_complaint_rule` needs). The analyzer's own heads are back afterwards."""
    predict = pipeline_understanding(analyzer)

    def read(head: Any, texts: list[str]) -> tuple[list[dict[str, float]], list[str]]:
        from nlp.sentiment import SentimentHead

        as_read = SentimentHead({**head.meta, "complaint_rule": False}, head.arrays)
        with analyzer.sentiment.serving(as_read):
            understood = [u for start in range(0, len(texts), 64) for u in predict(texts[start : start + 64])]
        return [u.sentiment_probs for u in understood], [u.intent for u in understood]

    return read


def pipeline_understanding(analyzer: Any) -> Callable[[list[str]], list[Any]]:
    """The analyzer's Understanding of each text, as it would store it for a post of that text."""
    from datetime import UTC, datetime

    from nlp.base import PostText

    now = datetime.now(UTC)

    def understand(texts: list[str]) -> list[Any]:
        posts = [PostText(post_id=i, text=t, platform="eval", created_at=now) for i, t in enumerate(texts)]
        return analyzer.analyze(posts, [])

    return understand


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

    from nlp.encoders.base import DEFAULT_ONNX_DIR
    from nlp.encoders.onnx_int8 import OnnxEncoder
    from nlp.encoders.sentence_transformer import SentenceTransformerEncoder
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
