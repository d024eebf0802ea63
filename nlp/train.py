"""Train the shipped sentiment heads, reproducibly: `python -m nlp.train sentiment-en|sentiment-ko`.

English (TweetEval train, 45.6k tweets, 3 classes): an MLP over MiniLM embeddings and a linear
model over hashed word+char n-gram TF-IDF, mixed and calibrated on TweetEval validation.
Korean (NSMC train, 32k reviews, binary): the n-gram model alone (MiniLM does not read Korean),
calibrated on NSMC validation. The airline data set is NON-COMMERCIAL (CC BY-NC-SA 4.0), so it is
used to evaluate, never to train a shipped head. Embeddings are cached under var/cache.
Staff feedback joins the training data through `extra` (plain (text, label, language) tuples).
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

from nlp.base import SENTIMENTS
from nlp.sentiment import NgramFeatures, SentimentHead, log_softmax, softmax

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

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

    def __len__(self) -> int:
        return len(self.texts)


def read_table(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV or TSV file (by extension), every value a string, nothing treated as NA."""
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
    raise ValueError(f"unknown data set {name!r}; valid: tweeteval, airline, nsmc")


def cached_embeddings(texts: list[str], encode: Callable[[list[str]], np.ndarray], tag: str) -> np.ndarray:
    """Embeddings of `texts`, computed once and kept in var/cache keyed by the texts' hash."""
    digest = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"emb-{tag}-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = encode(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def fit_ngrams(
    texts: list[str],
    y: np.ndarray,
    specs: list[dict[str, Any]],
    c: float,
    class_weight: str | None,
    min_df: int = 1,
    nb_alpha: float | None = None,
) -> tuple[NgramFeatures, np.ndarray, np.ndarray]:
    """IDF and a logistic regression over the n-gram TF-IDF: (features, coef, intercept).

    With `nb_alpha` (binary only) each bucket is scaled by its naive-Bayes log-count ratio,
    smoothed by `nb_alpha`, before the regression (NB-SVM, Wang & Manning 2012): buckets that split
    the classes start out weighted up. The ratio is folded into the returned coefficients, so
    prediction needs nothing extra."""
    from scipy.sparse import diags
    from sklearn.linear_model import LogisticRegression

    features = NgramFeatures(specs, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    counts = features.counts(texts)
    features.columns, features.idf = NgramFeatures.fit_idf(counts, min_df)
    binary = len(set(y)) == 2
    if nb_alpha is not None and not binary:
        raise ValueError("naive-Bayes scaling needs a binary head")
    scale = (
        nb_log_count_ratio(counts, y, features.columns, nb_alpha)
        if nb_alpha is not None
        else np.ones(len(features.columns), dtype=np.float32)
    )
    model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight, solver="liblinear" if binary else "lbfgs")
    model.fit(features.weigh(counts) @ diags(scale), y)
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


def fit_linear(x: np.ndarray, y: np.ndarray, c: float, class_weight: str | None) -> dict[str, np.ndarray]:
    """Multinomial logistic regression over embeddings (fast on 2 cores; the MLP gained ~1 point
    of macro-recall but took 20 minutes on the shared machine)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight).fit(x, y)
    return {"emb_w1": model.coef_.T.astype(np.float32).copy(), "emb_b1": model.intercept_.astype(np.float32)}


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
) -> tuple[SentimentHead, dict[str, float]]:
    """Fit one head (parts per `config`) on `train`, calibrate on `val`; returns head and val metrics."""
    classes = config["classes"]
    y_train, y_val = encode_labels(train.labels, classes), encode_labels(val.labels, classes)
    arrays: dict[str, np.ndarray] = {}
    val_parts: dict[str, np.ndarray] = {}
    parts: list[str] = []
    if config.get("ngrams"):
        features, coef, intercept = fit_ngrams(
            train.texts,
            y_train,
            config["ngram_specs"],
            config["ngram_c"],
            config.get("class_weight"),
            config["min_df"],
            config.get("nb_alpha"),
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
        if config["hidden"]:
            arrays |= fit_mlp(x_train, y_train, config["hidden"], config["alpha"], bool(config.get("class_weight")))
        else:
            arrays |= fit_linear(x_train, y_train, config["emb_c"], config.get("class_weight"))
        parts.append("embedding")
    meta: dict[str, Any] = {
        "language": language,
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
    meta |= calibrate(val_parts, y_val, objective)
    meta["trained"] = {"train_rows": len(train), "val_rows": len(val), "seed": SEED, "config": config}
    meta["version"] = (
        f"{language}-" + hashlib.sha256(json.dumps(meta, sort_keys=True, default=str).encode()).hexdigest()[:10]
    )
    head.version = meta["version"]
    metrics = evaluate_head(head, val, encode)
    meta["val_metrics"] = metrics
    return head, metrics


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
    probs = head.probabilities(data.texts, emb)
    classes = sorted(set(data.labels), key=SENTIMENTS.index)
    cols = [SENTIMENTS.index(c) for c in classes]
    y_true = encode_labels(data.labels, classes)
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
    "embedding": False,
    "class_weight": None,
    "objective": "accuracy",
    "neutral_margin": 1.0,
}
CONFIGS = {"en": EN_CONFIG, "ko": KO_CONFIG}
PUBLIC = {"en": "tweeteval", "ko": "nsmc"}


def default_encode() -> Callable[[list[str]], np.ndarray]:
    """The default fp32 encoder's `encode` (training always uses fp32 embeddings)."""
    from nlp.encoder import SentenceTransformerEncoder

    encoder: SentenceTransformerEncoder | None = None

    def encode(texts: list[str]) -> np.ndarray:
        nonlocal encoder
        encoder = encoder or SentenceTransformerEncoder()
        return encoder.encode(texts)

    return encode


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
    return train_head(language, train, val, encode or default_encode(), config, public_rows)


def public_split(language: str, data_dir: Path = DATA) -> tuple[Dataset, Dataset]:
    """(train, validation) of `language`'s public data. With `val_to_train` in the recipe, that
    share of the validation file (seeded, fixed) joins training and the rest stays unseen: more
    training rows help more than a larger validation set once it is a few thousand rows."""
    train = load_public(PUBLIC[language], "train", data_dir)
    val = load_public(PUBLIC[language], "val", data_dir)
    share = float(CONFIGS[language].get("val_to_train", 0.0))
    if not share:
        return train, val
    moved = np.zeros(len(val), dtype=bool)
    moved[np.random.default_rng(SEED).permutation(len(val))[: int(len(val) * share)]] = True
    for i in np.flatnonzero(moved):
        train.texts.append(val.texts[i])
        train.labels.append(val.labels[i])
        train.languages.append(val.languages[i])
    kept = np.flatnonzero(~moved)
    return train, Dataset([val.texts[i] for i in kept], [val.labels[i] for i in kept], [val.languages[i] for i in kept])


def add_rows(data: Dataset, rows: Sequence[tuple[str, str, str]], language: str, classes: list[str]) -> None:
    """Append the (text, label, language) rows in `language` whose label the head knows."""
    for text, label, lang in rows:
        if lang == language and label in classes:
            data.texts.append(text)
            data.labels.append(label)
            data.languages.append(lang)


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


def retrain(
    feedback: Sequence[tuple[str, str, str]],
    heads_dir: Path,
    languages: Sequence[str] = ("en", "ko"),
    encode: Callable[[list[str]], np.ndarray] | None = None,
    data_dir: Path = DATA,
    domain: Sequence[tuple[str, str, str]] = (),
) -> list[RetrainResult]:
    """Retrain each language's head on public data plus staff `feedback` and the brand's own
    labelled `domain` rows (all (text, label, language)); a fifth of the domain rows is held out
    and joins the validation split. The new head is written to `heads_dir` only if its metric on
    that validation split is not worse than the current head's."""
    from nlp.sentiment import head_path

    encode = encode or default_encode()
    domain_train, domain_holdout = split_holdout(domain)
    results = []
    for language in languages:
        metric = "macro_recall" if CONFIGS[language]["objective"] == "macro_recall" else "accuracy"
        current = SentimentHead.load(head_path(language, heads_dir))
        holdout = [row for row in domain_holdout if row[2] == language]
        before = evaluate_head(current, validation_set(language, holdout, data_dir), encode)
        rows = [row for row in [*feedback, *domain_train] if row[2] == language]
        head, after = train_language(language, rows, encode, data_dir, extra_val=holdout)
        kept = after[metric] >= before[metric] - 1e-9
        path = heads_dir / f"sentiment-{language}.npz"
        if kept:
            head.save(path)
        results.append(RetrainResult(language, metric, before, after, kept, len(rows), str(path), len(holdout)))
    return results


def main(argv: list[str] | None = None) -> int:
    """CLI: `python -m nlp.train sentiment-en|sentiment-ko [--out DIR]` trains a head;
    `python -m nlp.train heldout-en|heldout-ko --out FILE.tsv` writes the validation rows the
    recipe never trains on (text, label), to score the head with `dangol eval sentiment`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["sentiment-en", "sentiment-ko", "heldout-en", "heldout-ko"])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "models")
    args = parser.parse_args(argv)
    kind, language = args.target.split("-")
    if kind == "heldout":
        _, val = public_split(language)
        write_labelled(args.out, val)
        sys.stdout.write(json.dumps({"file": str(args.out), "rows": len(val)}) + "\n")
        return 0
    started = time.perf_counter()
    head, metrics = train_language(language)
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
