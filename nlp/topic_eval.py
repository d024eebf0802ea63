"""Evaluation of topic classification on a labelled file (`dangol eval topics`).

Rows with an empty label are skipped (for airline data: tweets that are not complaints); labels
are matched to the taxonomy's topic names (or keys) ignoring case. Evaluation is forced choice:
each post gets its single best topic, as the data sets have exactly one reason per complaint.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dangol.core.errors import ConfigError
from nlp.taxonomy import Taxonomy
from nlp.topics import PrototypeScorer, TopicModel, train_head

if TYPE_CHECKING:
    from nlp.base import Encoder

DELIMITERS = {".csv": ",", ".tsv": "\t"}


def read_labelled(path: Path, text_col: str, label_col: str, taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """(text, topic key) pairs from a CSV/TSV file; ConfigError for a bad file, column or label."""
    delimiter = DELIMITERS.get(path.suffix.lower())
    if delimiter is None:
        raise ConfigError(f"{path}: unknown file type {path.suffix!r}; give a .csv or .tsv file")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh, delimiter=delimiter)
            columns = reader.fieldnames or []
            missing = [c for c in (text_col, label_col) if c not in columns]
            if missing:
                raise ConfigError(f"{path}: no column {missing[0]!r}; columns are {', '.join(columns)}")
            raw = [(row[text_col] or "", (row[label_col] or "").strip()) for row in reader]
    except FileNotFoundError as exc:
        raise ConfigError(f"data file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    rows: list[tuple[str, str]] = []
    unknown: set[str] = set()
    for text, label in raw:
        if not label:
            continue
        key = taxonomy.key_for(label)
        if key is None:
            unknown.add(label)
        else:
            rows.append((text, key))
    if unknown:
        names = ", ".join(repr(t.name) for t in taxonomy.topics)
        raise ConfigError(f"{path}: labels {sorted(unknown)} match no topic name; the taxonomy has {names}")
    if not rows:
        raise ConfigError(f"{path}: no rows with a label in column {label_col!r}")
    return rows


def macro_scores(gold: list[str], predicted: list[str], labels: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the labels that occur in `gold`, and per-label precision/recall/F1."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    present = [label for label in labels if label in set(gold)]
    precision, recall, f1, _ = precision_recall_fscore_support(
        gold, predicted, labels=present, average=None, zero_division=0
    )
    per_label = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f)}
        for label, p, r, f in zip(present, precision, recall, f1, strict=True)
    }
    return {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(float(f1.mean()) if len(f1) else 0.0, 4),
        "per_topic": per_label,
    }


def evaluate_topics(
    taxonomy: Taxonomy,
    encoder: Encoder,
    test: list[tuple[str, str]],
    train: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Zero-shot (no `train`) or few-shot scores of the topic model on `test` (text, key) pairs."""
    scorer = PrototypeScorer.from_encoder(taxonomy, encoder)
    head = None
    if train:
        train_texts = [t for t, _ in train]
        head = train_head(train_texts, [k for _, k in train], encoder.encode(train_texts), taxonomy)
    model = TopicModel(scorer, threshold=0.0, head=head)
    texts = [t for t, _ in test]
    predicted = model.best(texts, encoder.encode(texts))
    result = macro_scores([k for _, k in test], predicted, taxonomy.keys)
    result["mode"] = "few-shot" if head else "zero-shot"
    return result
