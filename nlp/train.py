"""Train the shipped sentiment heads, reproducibly: `python -m nlp.train sentiment-en|sentiment-ko`.

Both heads read the multilingual e5 embedding the pipeline stores, so labelled data in one language
teaches the other. English (TweetEval train, 45.6k tweets, 3 classes): a linear model over the
embedding and one over hashed word+char n-gram TF-IDF, mixed and calibrated on TweetEval validation.
Korean (binary): NSMC movie reviews plus KOTE online comments (emotions mapped to polarity, a weak
label) for the n-gram model; the same plus English polar tweets for the embedding model; a neutral
gate learnt from English neutral tweets (through the shared space it reads Korean too); calibrated
on held-out NSMC and KOTE rows, each source weighing the same. A seeded fifth of KOTE is never
trained or calibrated on (`heldout-kote`). The airline data set is NON-COMMERCIAL (CC BY-NC-SA 4.0),
so it is used to evaluate, never to train a shipped head. Embeddings are cached under var/cache,
keyed by the encoder's version. Staff feedback joins the training data through `extra` (plain
(text, label, language) tuples).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dangol.core.errors import ConfigError
from dangol.core.types import SENTIMENTS
from nlp.sentiment import NgramFeatures, SentimentHead, log_softmax, softmax

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from nlp.base import Encoder

# The public training data is not part of the repository: `../shared/data` beside the clone by
# default, or the folder given with --data-dir.
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CACHE = Path("var/cache")
SEED = 20261123

EN_NGRAMS = [
    {"analyzer": "word", "ngram_range": [1, 2], "n_features": 2**18},
    {"analyzer": "char_wb", "ngram_range": [2, 5], "n_features": 2**19},
]
# 2^22 buckets per view: at 2^19 hash collisions cost ~0.4 points of NSMC accuracy (only the
# ~1M buckets seen twice in training are stored, see NgramFeatures).
KO_NGRAMS = [
    {"analyzer": "word", "ngram_range": [1, 2], "n_features": 2**22, "prep": ["squeeze"]},
    {"analyzer": "char_wb", "ngram_range": [1, 4], "n_features": 2**22, "prep": ["squeeze"]},
    {"analyzer": "char", "ngram_range": [2, 6], "n_features": 2**22, "prep": ["squeeze", "jamo"]},
    {"analyzer": "char", "ngram_range": [1, 5], "n_features": 2**22, "prep": ["squeeze", "nospace"]},
]


@dataclass
class Dataset:
    """Texts with word labels, in file order."""

    texts: list[str]
    labels: list[str]
    languages: list[str] = field(default_factory=list)
    # Where each row comes from ("nsmc", "kote", "own"...), for calibration that weighs each source
    # alike; empty means one source.
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


def read_table(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV or TSV file (by extension), every value a string, nothing treated as NA;
    ConfigError naming the file when it is missing (public data lives outside the repository)."""
    if not path.is_file():
        raise ConfigError(
            f"data file not found: {path}; the public training data is not part of the repository: "
            f"give --data-dir a folder holding it (the default is {DATA})"
        )
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab", ".txt") else ","
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def load_public(name: str, split: str, data_dir: Path = DATA) -> Dataset:
    """One of the shared labelled sets: tweeteval, airline or nsmc; split train or val."""
    if name == "tweeteval":
        path = data_dir / "tweeteval-sentiment" / ("train.tsv" if split == "train" else "val.csv")
        rows = read_table(path)
        # train.tsv (rebuilt) has the word in `label`; val.csv has 0/1/2 in `label` and the word in `label_name`.
        labels = [r.get("label_name") or r["label"] for r in rows]
        return Dataset([r["text"] for r in rows], labels, ["en"] * len(rows))
    if name == "airline":
        rows = read_table(data_dir / "airline-sentiment" / f"{split}.csv")
        return Dataset([r["text"] for r in rows], [r["airline_sentiment"] for r in rows], ["en"] * len(rows))
    if name == "nsmc":
        rows = read_table(data_dir / "nsmc" / f"{split}.tsv")
        labels = ["positive" if r["label"] == "1" else "negative" for r in rows]
        return Dataset([r["document"] for r in rows], labels, ["ko"] * len(rows))
    if name == "kote":
        return kote_split(data_dir)[split]
    raise ValueError(f"unknown data set {name!r}; valid: tweeteval, airline, nsmc, kote")


# KOTE's 44 emotions (labels.txt indices) read as polarity. A comment is negative when raters
# marked at least three negative emotions and at most one positive one, and the other way round;
# mixed comments are left out. Comments marked "없음" (none) with at most one emotion of either
# side are neutral. A weak label: KOTE marks emotions, not sentiment.
KOTE_NEGATIVE = frozenset({0, 3, 5, 6, 10, 12, 19, 20, 21, 22, 23, 25, 26, 27, 31, 34, 35, 36, 37, 41})
KOTE_POSITIVE = frozenset({1, 2, 4, 7, 8, 13, 14, 16, 28, 32, 40, 42, 43})
KOTE_NONE = 24


def kote_label(labels: set[int]) -> str | None:
    """negative / positive / neutral for one KOTE comment's emotion set, or None when mixed."""
    negative, positive = len(labels & KOTE_NEGATIVE), len(labels & KOTE_POSITIVE)
    if negative >= 3 and positive <= 1:
        return "negative"
    if positive >= 3 and negative <= 1:
        return "positive"
    if KOTE_NONE in labels and negative <= 1 and positive <= 1:
        return "neutral"
    return None


def kote_split(data_dir: Path = DATA) -> dict[str, Dataset]:
    """KOTE (the shared val.tsv, 5,000 comments, MIT) split by a seeded permutation into train
    (60 %), val (20 %, calibration) and test (20 %, never trained or calibrated on); mixed rows dropped."""
    rows = read_table(data_dir / "kote" / "val.tsv")
    order = np.random.default_rng(SEED).permutation(len(rows))
    part = np.empty(len(rows), dtype=object)
    part[order[: len(rows) * 3 // 5]] = "train"
    part[order[len(rows) * 3 // 5 : len(rows) * 4 // 5]] = "val"
    part[order[len(rows) * 4 // 5 :]] = "test"
    out = {name: Dataset([], [], []) for name in ("train", "val", "test")}
    for row, name in zip(rows, part, strict=True):
        label = kote_label({int(x) for x in row["labels"].split(",") if x.strip()})
        if label is not None:
            out[name].texts.append(row["text"])
            out[name].labels.append(label)
            out[name].languages.append("ko")
    return out


# Encoding this many texts takes a minute or more with the default encoder: say so first.
ANNOUNCE_ENCODING = 2_000


def cached_embeddings(texts: list[str], encode: Callable[[list[str]], np.ndarray], tag: str) -> np.ndarray:
    """Embeddings of `texts`; each distinct text is encoded once per encoder and kept in var/cache
    (files of text hashes and vectors), so data sets that share texts share the work. `tag` names
    the file new vectors go to."""
    # Keyed by the encoder and the length it cuts texts to: vectors of another model, or of a longer
    # or shorter cut of the same text, must never be mixed in.
    prefix = "emb-" + hashlib.sha256(_cache_key(encode).encode()).hexdigest()[:10]
    keys = [hashlib.sha1(t.encode("utf-8")).digest() for t in texts]
    known = _cached_vectors(prefix)
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        if len(missing) >= ANNOUNCE_ENCODING:  # minutes of silence on a first run otherwise
            sys.stderr.write(
                f"encoding {len(missing):,} {tag} texts the cache has not seen (~{len(missing) / 60 / 60:.0f} min at "
                f"60 texts/s; kept in {CACHE} for the next run)\n"
            )
        vectors = np.asarray(encode([t for _, t in missing]), dtype=np.float32)
        CACHE.mkdir(parents=True, exist_ok=True)
        name = f"{prefix}-{tag}-{hashlib.sha1(b''.join(k for k, _ in missing)).hexdigest()[:10]}.npz"
        np.savez(CACHE / name, keys=np.array([k for k, _ in missing], dtype="S20"), vectors=vectors)
        known.update(zip((k for k, _ in missing), vectors, strict=True))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([known[k] for k in keys])


_VECTORS: dict[str, dict[bytes, np.ndarray]] = {}


def _cached_vectors(prefix: str) -> dict[bytes, np.ndarray]:
    """text hash -> vector, from every cache file of one encoder (read once per process)."""
    if prefix not in _VECTORS:
        table: dict[bytes, np.ndarray] = {}
        for path in sorted(CACHE.glob(f"{prefix}-*.npz")):
            with np.load(path) as data:
                table.update(zip((bytes(k) for k in data["keys"]), data["vectors"], strict=True))
        _VECTORS[prefix] = table
    return _VECTORS[prefix]


def _encoder_version(encode: Callable[[list[str]], np.ndarray] | None) -> str:
    """The version of the encoder behind an encode function (a bound method, or a callable with `version`)."""
    return str(_encoder_attribute(encode, "version", "custom"))


def _encoder_attribute(encode: Callable[[list[str]], np.ndarray] | None, name: str, default: Any) -> Any:
    """`name` of the encoder behind an encode function: a bound method's object, or the callable itself."""
    return getattr(getattr(encode, "__self__", None), name, getattr(encode, name, default))


def _cache_key(encode: Callable[[list[str]], np.ndarray]) -> str:
    """The encoder's version and, when it says them, the token length it cuts texts to and how its
    export was quantized (vectors of an earlier recipe differ by cosine ~0.998: never mixed in)."""
    length = _encoder_attribute(encode, "max_length", None)
    recipe = _encoder_attribute(encode, "quantization", None)
    return (
        _encoder_version(encode)
        + (f"/max_length={length}" if length is not None else "")
        + (f"/{recipe}" if recipe else "")
    )


def encoder_model(encode: Callable[[list[str]], np.ndarray] | None) -> str:
    """The model name behind an encode function's version ("onnx-int8:multilingual-e5-small" -> the name)."""
    return _encoder_version(encode).split(":", 1)[-1]


def fit_ngrams(
    texts: list[str],
    y: np.ndarray,
    specs: list[dict[str, Any]],
    c: float,
    class_weight: str | None,
    min_df: int = 1,
    nb_alpha: float | None = None,
    sample_weight: np.ndarray | None = None,
) -> tuple[NgramFeatures, np.ndarray, np.ndarray]:
    """IDF and a logistic regression over the n-gram TF-IDF: (features, coef, intercept).

    With `nb_alpha` (binary only) each bucket is scaled by its naive-Bayes log-count ratio,
    smoothed by `nb_alpha`, before the regression (NB-SVM, Wang & Manning 2012): buckets that split
    the classes start out weighted up. The ratio is folded into the returned coefficients, so
    prediction needs nothing extra."""
    from scipy.sparse import diags
    from sklearn.linear_model import LogisticRegression

    counts = NgramFeatures(specs, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)).counts(texts)
    features = NgramFeatures(specs, *NgramFeatures.fit_idf(counts, min_df))
    binary = len(set(y)) == 2
    if nb_alpha is not None and not binary:
        raise ValueError("naive-Bayes scaling needs a binary head")
    scale = (
        nb_log_count_ratio(counts, y, features.columns, nb_alpha)
        if nb_alpha is not None
        else np.ones(len(features.columns), dtype=np.float32)
    )
    model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight, solver="liblinear" if binary else "lbfgs")
    model.fit(features.weigh(counts) @ diags(scale), y, sample_weight=sample_weight)
    coef, intercept = model.coef_ * scale[np.newaxis, :], model.intercept_
    if coef.shape[0] == 1:  # binary: make it two rows so logits are per class
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return features, coef.astype(np.float32), intercept.astype(np.float32)


def nb_log_count_ratio(counts: csr_matrix, y: np.ndarray, columns: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """log(P(bucket | positive) / P(bucket | negative)) over documents containing the bucket,
    smoothed by `alpha`, for the kept `columns`."""
    present = counts.copy()
    present.data[:] = 1
    pos = np.asarray(present[y == 1].sum(axis=0)).ravel() + alpha
    neg = np.asarray(present[y == 0].sum(axis=0)).ravel() + alpha
    ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
    return ratio[columns].astype(np.float32)


def fit_mlp(x: np.ndarray, y: np.ndarray, hidden: int, alpha: float, class_weight: bool) -> dict[str, np.ndarray]:
    """A one-hidden-layer MLP over embeddings (torch, seeded, full-batch-ish Adam with early stop)."""
    import torch

    torch.manual_seed(SEED)
    n_classes = int(y.max()) + 1
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    weight = None
    if class_weight:
        counts = np.bincount(y, minlength=n_classes)
        weight = torch.tensor(len(y) / (n_classes * counts), dtype=torch.float32)
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(hidden, n_classes)
    )
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=alpha)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    gen = torch.Generator().manual_seed(SEED)
    for _epoch in range(12):
        net.train()
        for idx in torch.randperm(len(xt), generator=gen).split(256):
            opt.zero_grad()
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
    net.eval()
    w1, b1, w2, b2 = (p.detach().numpy() for p in net.parameters())
    return {"emb_w1": w1.T.copy(), "emb_b1": b1, "emb_w2": w2.T.copy(), "emb_b2": b2}


def fit_linear(
    x: np.ndarray, y: np.ndarray, c: float, class_weight: str | None, sample_weight: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Multinomial logistic regression over embeddings (fast on 2 cores; the MLP gained ~1 point
    of macro-recall but took 20 minutes on the shared machine)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight).fit(x, y, sample_weight=sample_weight)
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # binary: two columns, so logits are per class as for n-grams
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    return {"emb_w1": coef.T.astype(np.float32).copy(), "emb_b1": intercept.astype(np.float32)}


def macro_recall(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Mean per-class recall (TweetEval's official metric)."""
    recalls = [float(np.mean(y_pred[y_true == k] == k)) for k in range(n_classes) if np.any(y_true == k)]
    return float(np.mean(recalls))


def calibrate(
    parts: dict[str, np.ndarray], y: np.ndarray, objective: Callable[[np.ndarray, np.ndarray], float]
) -> dict[str, Any]:
    """Mixing weights and class bias that maximise `objective` on validation, then a temperature
    that minimises log-loss. Few parameters, searched on a coarse grid, so it cannot memorise."""
    names = sorted(parts)
    logs = {p: log_softmax(parts[p]) for p in names}
    n_classes = next(iter(parts.values())).shape[1]
    grid = np.round(np.arange(0.0, 1.01, 0.1), 2)
    best: tuple[float, float, np.ndarray] = (-1.0, 1.0, np.zeros(n_classes))
    for w in grid if len(names) == 2 else [1.0]:
        mixed = logs[names[0]] * w + (logs[names[1]] * (1 - w) if len(names) == 2 else 0)
        for bias in bias_grid(n_classes):
            score = objective(y, np.argmax(mixed + bias, axis=1))
            if score > best[0] + 1e-9:
                best = (score, float(w), bias)
    _, w, bias = best
    weights = {names[0]: w} | ({names[1]: 1 - w} if len(names) == 2 else {})
    mixed = sum(weights[p] * logs[p] for p in names) + bias
    temperature = fit_temperature(mixed, y)
    return {"weights": weights, "bias": bias.tolist(), "temperature": temperature, "val_score": best[0]}


def bias_grid(n_classes: int) -> list[np.ndarray]:
    """Per-class logit shifts to search (first class fixed at 0)."""
    steps = np.round(np.arange(-1.0, 1.01, 0.1), 2)
    if n_classes == 2:
        return [np.array([0.0, b]) for b in steps]
    return [np.array([0.0, a, b]) for a in steps for b in steps]


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises validation log-loss (1-D search)."""
    best_t, best_loss = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.2), np.log(5.0), 81)):
        p = softmax(logits / t)
        loss = float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of exact matches."""
    return float(np.mean(y_true == y_pred))


def encode_labels(labels: Sequence[str], classes: list[str]) -> np.ndarray:
    """Word labels as class indices; a label outside `classes` is an error naming the valid ones."""
    index = {c: i for i, c in enumerate(classes)}
    bad = sorted({label for label in labels if label not in index})
    if bad:
        raise ValueError(f"labels {bad} not in {classes}")
    return np.array([index[label] for label in labels], dtype=np.int64)


def train_head(
    language: str,
    train: Dataset,
    val: Dataset,
    encode: Callable[[list[str]], np.ndarray] | None,
    config: dict[str, Any],
    public_rows: int | None = None,
    cross_lingual: Dataset | None = None,
    neutral: Dataset | None = None,
) -> tuple[SentimentHead, dict[str, float]]:
    """Fit one head (parts per `config`) on `train`, calibrate on `val`; returns head and val metrics.

    `cross_lingual` rows (another language, the head's classes) join the embedding part's training;
    `neutral` rows (3 classes) train the neutral gate of a binary head (see SentimentHead)."""
    classes = config["classes"]
    y_train, y_val = encode_labels(train.labels, classes), encode_labels(val.labels, classes)
    arrays: dict[str, np.ndarray] = {}
    val_parts: dict[str, np.ndarray] = {}
    parts: list[str] = []
    weights = adaptation_weights(len(train), public_rows)
    if config.get("ngrams"):
        features, coef, intercept = fit_ngrams(
            train.texts,
            y_train,
            config["ngram_specs"],
            config["ngram_c"],
            config.get("class_weight"),
            config["min_df"],
            config.get("nb_alpha"),
            weights,
        )
        arrays |= SentimentHead.ngram_arrays(features, coef, intercept)
        parts.append("ngrams")
    if config.get("embedding"):
        assert encode is not None, "the embedding part needs an encoder"
        # Public rows and added rows are cached apart, so new feedback does not re-encode the public set.
        cut = public_rows if public_rows is not None else len(train)
        x_train = cached_embeddings(train.texts[:cut], encode, f"{language}-train")
        if cut < len(train):
            x_train = np.vstack([x_train, cached_embeddings(train.texts[cut:], encode, f"{language}-extra")])
        y_emb, w_emb = y_train, weights
        if cross_lingual is not None and len(cross_lingual):
            # Rows of another language teach the embedding part only (n-grams do not transfer).
            x_train = np.vstack([x_train, cached_embeddings(cross_lingual.texts, encode, f"{language}-cross")])
            y_emb = np.concatenate([y_train, encode_labels(cross_lingual.labels, classes)])
            w_emb = None if weights is None else np.concatenate([weights, np.ones(len(cross_lingual))])
        if config["hidden"]:
            arrays |= fit_mlp(x_train, y_emb, config["hidden"], config["alpha"], bool(config.get("class_weight")))
        else:
            arrays |= fit_linear(x_train, y_emb, config["emb_c"], config.get("class_weight"), w_emb)
        parts.append("embedding")
    if neutral is not None and len(neutral) and encode is not None:
        x_neutral = cached_embeddings(neutral.texts, encode, f"{language}-neutral")
        gate = fit_linear(x_neutral, encode_labels(neutral.labels, list(SENTIMENTS)), 1.0, "balanced")
        arrays |= {"neutral_w": gate["emb_w1"], "neutral_b": gate["emb_b1"]}
    meta: dict[str, Any] = {
        "language": language,
        # The embedding part only makes sense with vectors of the model it learnt from.
        "encoder": encoder_model(encode) if "embedding" in parts or "neutral_w" in arrays else None,
        "classes": classes,
        "parts": parts,
        "ngram_specs": config.get("ngram_specs", []),
        "weights": dict.fromkeys(parts, 1.0),
        "bias": [0.0] * len(classes),
        "temperature": 1.0,
        "neutral_margin": config.get("neutral_margin", 1.0),
        "version": "",
    }
    head = SentimentHead(meta, {k: v.astype(np.float16) if k.startswith("emb_w") else v for k, v in arrays.items()})
    val_emb = cached_embeddings(val.texts, encode, f"{language}-val") if "embedding" in parts and encode else None
    val_parts = head.part_logits(val.texts, val_emb)
    objective = macro_recall_objective(len(classes)) if config["objective"] == "macro_recall" else accuracy
    meta |= calibrate(val_parts, y_val, per_source(objective, val.sources))
    meta["trained"] = {
        "train_rows": len(train),
        "val_rows": len(val),
        "cross_lingual_rows": len(cross_lingual) if cross_lingual is not None else 0,
        "neutral_gate_rows": len(neutral) if neutral is not None and "neutral_w" in arrays else 0,
        "seed": SEED,
        "config": config,
    }
    stamp_version(head)
    metrics = evaluate_head(head, val, encode)
    meta["val_metrics"] = metrics
    return head, metrics


def stamp_version(head: SentimentHead) -> None:
    """Name the head by a hash of what it is (its meta, validation metrics aside)."""
    meta = {k: v for k, v in head.meta.items() if k != "val_metrics"} | {"version": ""}
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True, default=str).encode()).hexdigest()[:10]
    head.meta["version"] = head.version = f"{head.language}-{digest}"


# How the pipeline reads a candidate head: (probabilities before the complaint rule, intents) per text.
PipelineReading = Callable[[SentimentHead, list[str]], tuple[list[dict[str, float]], list[str]]]


# A language's held-out brand posts judge its new head only from this many on: one or two posts
# say nothing (five corrections would be kept as "not worse" on the one held out), so below it the
# posts train too and public validation data judges, as with no brand posts at all.
MIN_JUDGE_ROWS = 10

# Fewer held-out posts than this leave the complaint rule as it is.
MIN_RULE_ROWS = 100


def choose_complaint_rule(head: SentimentHead, judge: Dataset, read: PipelineReading, metric: str) -> dict[str, Any]:
    """Whether, with `head`, a complaint's neutral share should count as negative: scored through
    the pipeline on the brand's held-out posts, with and without the rule, by `metric`. The rule
    stays on unless the brand's own labels read calm complaints as neutral (it scores better off).
    Sets the head's `complaint_rule` (and version); returns both scores."""
    from nlp.intent import complaint_sentiment

    scores: dict[str, float | None] = {"on": None, "off": None}
    # A few dozen held-out corrections cannot outvote the demo and public measurements the rule
    # rests on (one post is several points there): below MIN_RULE_ROWS the head keeps it.
    if len(judge) >= MIN_RULE_ROWS:
        probs, intents = read(head, judge.texts)
        for rule in (True, False):
            rows = [
                complaint_sentiment(p) if rule and intent == "complaint" else p
                for p, intent in zip(probs, intents, strict=True)
            ]
            table = np.array([[row[label] for label in SENTIMENTS] for row in rows])
            scores["on" if rule else "off"] = label_scores(table, judge.labels)[metric]
    on, off = scores["on"], scores["off"]
    head.meta["complaint_rule"] = on is None or off is None or on >= off - 1e-9
    head.meta["complaint_rule_scores"] = {"metric": metric, "rows": len(judge), **scores}
    stamp_version(head)
    return head.meta["complaint_rule_scores"] | {"rule": head.meta["complaint_rule"]}


# The brand's own rows (staff corrections, --data) weigh together this share of the public rows:
# a few dozen corrections must move a head trained on tens of thousands of public posts.
ADAPTATION_SHARE = 0.5


def adaptation_weights(rows: int, public_rows: int | None) -> np.ndarray | None:
    """Per-row training weights: 1 for public rows, more for the brand's own rows after them, so that
    they weigh ADAPTATION_SHARE of the public rows together (never less than 1 each)."""
    if public_rows is None or rows <= public_rows:
        return None
    own = rows - public_rows
    weights = np.ones(rows, dtype=np.float64)
    weights[public_rows:] = max(1.0, ADAPTATION_SHARE * public_rows / own)
    return weights


def per_source(
    objective: Callable[[np.ndarray, np.ndarray], float], sources: list[str]
) -> Callable[[np.ndarray, np.ndarray], float]:
    """`objective` averaged over the validation sources, each weighing the same: 4,000 movie
    reviews must not outvote 750 online comments when choosing how to mix the parts."""
    names = sorted(set(sources))
    if len(names) < 2:
        return objective
    groups = [np.array([s == name for s in sources]) for name in names]
    return lambda y, p: float(np.mean([objective(y[g], p[g]) for g in groups]))


def macro_recall_objective(n_classes: int) -> Callable[[np.ndarray, np.ndarray], float]:
    """macro_recall with the class count bound."""
    return lambda y, p: macro_recall(y, p, n_classes)


def evaluate_head(
    head: SentimentHead, data: Dataset, encode: Callable[[list[str]], np.ndarray] | None
) -> dict[str, float]:
    """Accuracy and macro-recall of one head on labelled data, scored on the data's own classes."""
    emb = (
        cached_embeddings(data.texts, encode, f"{head.language}-eval") if "embedding" in head.parts and encode else None
    )
    return label_scores(head.probabilities(data.texts, emb), data.labels)


def label_scores(probs: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro-recall of (n, 3) probabilities in SENTIMENTS order against word labels,
    the prediction taken among the classes the labels use (binary sets are scored as binary)."""
    classes = sorted(set(labels), key=SENTIMENTS.index)
    cols = [SENTIMENTS.index(c) for c in classes]
    y_true = encode_labels(labels, classes)
    y_pred = np.argmax(probs[:, cols], axis=1)
    return {"accuracy": accuracy(y_true, y_pred), "macro_recall": macro_recall(y_true, y_pred, len(classes))}


EN_CONFIG: dict[str, Any] = {
    "classes": list(SENTIMENTS),
    "ngrams": True,
    "ngram_specs": EN_NGRAMS,
    "ngram_c": 2.0,
    "min_df": 2,
    "embedding": True,
    "hidden": 0,
    "emb_c": 1.0,
    "alpha": 1e-2,
    "class_weight": "balanced",
    "objective": "macro_recall",
}
KO_CONFIG: dict[str, Any] = {
    "classes": ["negative", "positive"],
    "ngrams": True,
    "ngram_specs": KO_NGRAMS,
    "ngram_c": 4.0,
    "nb_alpha": 0.5,
    "val_to_train": 0.5,
    "min_df": 2,
    "embedding": True,
    "hidden": 0,
    "emb_c": 1.0,
    "class_weight": "balanced",
    "objective": "accuracy",
    "neutral_margin": 1.0,
    # Weakly labelled Korean comments beyond movies (KOTE, when present in the data folder).
    "weak": "kote",
    # English polar tweets teach the embedding part; English neutral tweets the neutral gate.
    "cross_lingual": "tweeteval",
}
CONFIGS = {"en": EN_CONFIG, "ko": KO_CONFIG}
PUBLIC = {"en": "tweeteval", "ko": "nsmc"}


class DefaultEncode:
    """The pipeline's configured encoder (int8 ONNX e5 by default; the static table when the
    environment selects `[nlp] profile = "fast"`), loaded on first use: heads learn from the vectors
    they will be given."""

    def __init__(self) -> None:
        from dangol.core.settings import load_settings
        from nlp.encoders.base import PACKAGED_MODEL, encoder_options, model_label
        from nlp.encoders.onnx_int8 import quantization

        self._encoder: Encoder | None = None
        self._settings = load_settings(None)  # defaults and the environment, as the encoder reads them
        self._fast = self._settings.nlp.profile == "fast"
        # The default's version and export recipe are known without loading e5; the static table's
        # version carries its digest.
        self._version = f"onnx-int8:{model_label(PACKAGED_MODEL)}"
        self.quantization = None if self._fast else quantization(PACKAGED_MODEL)
        self.max_length = encoder_options(self._settings).max_length
        if self._fast:
            self._load()  # the cut length is the static encoder's own (cache keys name it)

    @property
    def version(self) -> str:
        return str(self._load().version) if self._fast else self._version

    def _load(self) -> Encoder:
        from nlp.encoders import build_encoder
        from nlp.encoders.onnx_int8 import OnnxEncoder

        if self._encoder is None:
            self._encoder = build_encoder(self._settings) if self._fast else OnnxEncoder.from_settings(self._settings)
            self.max_length = int(getattr(self._encoder, "max_length", self.max_length))
        return self._encoder

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._load().encode(texts))


def default_encode() -> Callable[[list[str]], np.ndarray]:
    """The default encoder's `encode` (see DefaultEncode)."""
    return DefaultEncode()


def train_language(
    language: str,
    extra: Sequence[tuple[str, str, str]] = (),
    encode: Callable[[list[str]], np.ndarray] | None = None,
    data_dir: Path = DATA,
    extra_val: Sequence[tuple[str, str, str]] = (),
) -> tuple[SentimentHead, dict[str, float]]:
    """Train `language`'s head on its public data plus `extra` (text, label, language) rows (staff
    feedback, the brand's own labelled posts); `extra_val` rows join the validation split."""
    if language not in CONFIGS:
        raise ValueError(f"no training recipe for {language!r}; valid: {', '.join(CONFIGS)}")
    config = CONFIGS[language]
    train, val = public_split(language, data_dir)
    public_rows = len(train)
    add_rows(train, extra, language, config["classes"])
    add_rows(val, extra_val, language, config["classes"])
    cross, neutral = cross_lingual_sets(language, data_dir)
    return train_head(language, train, val, encode or default_encode(), config, public_rows, cross, neutral)


def cross_lingual_sets(language: str, data_dir: Path = DATA) -> tuple[Dataset | None, Dataset | None]:
    """(rows of another language for the embedding part, 3-class rows for the neutral gate) of a
    binary head whose recipe names `cross_lingual`; (None, None) when absent from `data_dir`."""
    config = CONFIGS[language]
    source = config.get("cross_lingual")
    if not source or not (data_dir / "tweeteval-sentiment").is_dir():
        return None, None
    tweets = load_public(source, "train", data_dir)
    polar = Dataset([], [], [])
    add_rows(polar, list(zip(tweets.texts, tweets.labels, tweets.languages, strict=True)), "en", config["classes"])
    # English only: Korean data here is all polar (NSMC, and KOTE but for ~90 emotion-less rows),
    # so with it the gate learns "Korean is never neutral". What it learns from English neutral
    # tweets carries over through the shared embedding space.
    neutral = Dataset(list(tweets.texts), list(tweets.labels), list(tweets.languages))
    return polar, neutral


def public_split(language: str, data_dir: Path = DATA) -> tuple[Dataset, Dataset]:
    """(train, validation) of `language`'s public data. With `val_to_train` in the recipe, that
    share of the validation file (seeded, fixed) joins training and the rest stays unseen: more
    training rows help more than a larger validation set once it is a few thousand rows. With
    `weak = "kote"` and KOTE in `data_dir`, its train and val parts join (polar rows only)."""
    config = CONFIGS[language]
    train = load_public(PUBLIC[language], "train", data_dir)
    val = load_public(PUBLIC[language], "val", data_dir)
    share = float(config.get("val_to_train", 0.0))
    if share:
        moved = np.zeros(len(val), dtype=bool)
        moved[np.random.default_rng(SEED).permutation(len(val))[: int(len(val) * share)]] = True
        for i in np.flatnonzero(moved):
            train.texts.append(val.texts[i])
            train.labels.append(val.labels[i])
            train.languages.append(val.languages[i])
        kept = np.flatnonzero(~moved)
        val = Dataset([val.texts[i] for i in kept], [val.labels[i] for i in kept], [val.languages[i] for i in kept])
    for data in (train, val):
        data.sources = [PUBLIC[language]] * len(data)
    if config.get("weak") == "kote" and (data_dir / "kote").is_dir():
        weak = kote_split(data_dir)
        for target, part in ((train, weak["train"]), (val, weak["val"])):
            rows = list(zip(part.texts, part.labels, part.languages, strict=True))
            add_rows(target, rows, language, config["classes"], source="kote")
    return train, val


def add_rows(
    data: Dataset, rows: Sequence[tuple[str, str, str]], language: str, classes: list[str], source: str = "own"
) -> None:
    """Append the (text, label, language) rows in `language` whose label the head knows."""
    if data.sources == [] and len(data):
        data.sources.extend(["public"] * len(data))
    for text, label, lang in rows:
        if lang == language and label in classes:
            data.texts.append(text)
            data.labels.append(label)
            data.languages.append(lang)
            data.sources.append(source)


def validation_set(language: str, extra_val: Sequence[tuple[str, str, str]], data_dir: Path = DATA) -> Dataset:
    """`language`'s public validation split plus the held-out part of the brand's own labelled data."""
    _, val = public_split(language, data_dir)
    add_rows(val, extra_val, language, CONFIGS[language]["classes"])
    return val


def split_holdout(
    rows: Sequence[tuple[str, str, str]], share: float = 0.2
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(train, holdout) of labelled rows, seeded and stratified by (language, label), so a head
    adapted to a brand's own data is judged on posts it did not learn from."""
    groups: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for row in rows:
        groups.setdefault((row[2], row[1]), []).append(row)
    rng = np.random.default_rng(SEED)
    train: list[tuple[str, str, str]] = []
    holdout: list[tuple[str, str, str]] = []
    for key in sorted(groups):
        group = groups[key]
        order = rng.permutation(len(group))
        cut = int(round(len(group) * share))
        holdout += [group[i] for i in order[:cut]]
        train += [group[i] for i in order[cut:]]
    return train, holdout


@dataclass
class RetrainResult:
    """Before/after validation metrics of one language's head and whether the new one was kept."""

    language: str
    metric: str
    before: dict[str, float]
    after: dict[str, float]
    kept: bool
    feedback_rows: int
    path: str
    holdout_rows: int = 0
    # The complaint rule chosen on the held-out rows: {"metric", "rows", "on", "off", "rule"}.
    complaint_rule: dict[str, Any] | None = None


def retrain(
    feedback: Sequence[tuple[str, str, str]],
    heads_dir: Path,
    languages: Sequence[str] = ("en", "ko"),
    encode: Callable[[list[str]], np.ndarray] | None = None,
    data_dir: Path = DATA,
    domain: Sequence[tuple[str, str, str]] = (),
    out: Path | None = None,
    packaged: Path | None = None,
    read: PipelineReading | None = None,
) -> list[RetrainResult]:
    """Retrain each language's head on public data plus staff `feedback` and the brand's own
    labelled `domain` rows (all (text, label, language)), which weigh more than public rows (see
    `adaptation_weights`). A seeded, stratified fifth of the brand's rows (staff corrections and
    domain rows alike) is held out: when a language has at least MIN_JUDGE_ROWS of them, the current
    and the new head are judged on them alone (the brand's posts, not public data), else on the
    public validation split (and those few rows train).
    The new head replaces the one in `heads_dir` only if not worse; with `out` it is written there
    instead, whatever the verdict, to be judged before use.
    `packaged`: the shipped heads a language without a retrained one starts from (the profile's).
    `read`: how the pipeline reads a candidate head; with it and held-out rows, the new head's
    complaint rule is chosen on them (`choose_complaint_rule`)."""
    from nlp.profiles import PACKAGED_HEADS
    from nlp.sentiment import head_path

    encode = encode or default_encode()
    own_train, own_holdout = split_holdout([*feedback, *domain])
    results = []
    for language in languages:
        metric = "macro_recall" if CONFIGS[language]["objective"] == "macro_recall" else "accuracy"
        current = SentimentHead.load(head_path(language, heads_dir, packaged or PACKAGED_HEADS))
        holdout = [row for row in own_holdout if row[2] == language]
        rows = [row for row in own_train if row[2] == language]
        if len(holdout) < MIN_JUDGE_ROWS:  # too few to judge by: they train, public data judges
            rows, holdout = rows + holdout, []
        judge = (
            Dataset([r[0] for r in holdout], [r[1] for r in holdout], [r[2] for r in holdout])
            if holdout
            else validation_set(language, [], data_dir)
        )
        before = evaluate_head(current, judge, encode)
        head, _ = train_language(language, rows, encode, data_dir, extra_val=holdout)
        after = evaluate_head(head, judge, encode)
        rule = choose_complaint_rule(head, judge, read, metric) if read is not None and holdout else None
        kept = after[metric] >= before[metric] - 1e-9
        path = (out or heads_dir) / f"sentiment-{language}.npz"
        if kept or out is not None:
            head.save(path)
        results.append(RetrainResult(language, metric, before, after, kept, len(rows), str(path), len(holdout), rule))
    return results


def main(argv: list[str] | None = None) -> int:
    """CLI: `python -m nlp.train sentiment-en|sentiment-ko [--out DIR]` trains a head;
    `python -m nlp.train heldout-en|heldout-ko --out FILE.tsv` writes the validation rows the
    recipe never trains on (text, label), to score the head with `dangol eval sentiment`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["sentiment-en", "sentiment-ko", "heldout-en", "heldout-ko", "heldout-kote"])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "models")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="The public training data (default: %(default)s).")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except ConfigError as exc:  # missing data: say which file and how to point at it, no traceback
        sys.stderr.write(f"error: {exc}\n")
        return 2


def _run(args: argparse.Namespace) -> int:
    kind, language = args.target.split("-")
    if args.target == "heldout-kote":  # polar KOTE comments never trained or calibrated on
        test = kote_split(args.data_dir)["test"]
        keep = [i for i, label in enumerate(test.labels) if label != "neutral"]
        write_labelled(args.out, Dataset([test.texts[i] for i in keep], [test.labels[i] for i in keep]))
        sys.stdout.write(json.dumps({"file": str(args.out), "rows": len(keep)}) + "\n")
        return 0
    if kind == "heldout":
        _, val = public_split(language, args.data_dir)
        write_labelled(args.out, val)
        sys.stdout.write(json.dumps({"file": str(args.out), "rows": len(val)}) + "\n")
        return 0
    started = time.perf_counter()
    head, metrics = train_language(language, data_dir=args.data_dir)
    path = args.out / f"sentiment-{language}.npz"
    head.save(path)
    sys.stdout.write(
        json.dumps(
            {
                "head": str(path),
                "version": head.version,
                "val": metrics,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        + "\n"
    )
    return 0


def write_labelled(path: Path, data: Dataset) -> None:
    """`data` as a TSV with columns text and label (words)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter="\t")
        writer.writerow(["text", "label"])
        writer.writerows(zip(data.texts, data.labels, strict=True))


if __name__ == "__main__":
    raise SystemExit(main())
