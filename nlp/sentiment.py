"""Three-class sentiment (negative / neutral / positive) with calibrated probabilities.

`HeadSentimentClassifier` (default) keeps one small head per language in `nlp/models/`
(`sentiment-<lang>.npz`, no pickle). A head combines up to two parts, each giving class logits:

- `embedding`: a one-hidden-layer MLP (or a linear layer) over the shared MiniLM embedding;
- `ngrams`: TF-IDF over hashed word and character n-grams (no vocabulary to ship) and a linear
  layer, which carries what the English-only encoder misses (Korean, slang, emoji).

The parts' log-probabilities are mixed with weights, shifted by a per-class bias and divided by a
temperature, all fitted on validation data (`python -m nlp.train`). A binary head (NSMC has no
neutral class) becomes three classes through two ordinal cut points at ±`neutral_margin`: a post
the head is unsure about is neutral. Retrained heads in `heads_dir` (var/models/sentiment)
replace the shipped ones. `HuggingFaceSentimentClassifier` runs any configured text-classification
model instead.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from dangol.core.errors import AnalysisError, ConfigError
from dangol.core.registry import Options, parse_options
from dangol.core.types import SENTIMENTS
from nlp.bucket_index import BucketIndex
from nlp.char_ngrams import char_ngram_counts
from nlp.encoders.base import model_name
from nlp.profiles import DEFAULT_HEADS_DIR, PACKAGED_HEADS, packaged_heads, retrained_heads

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from dangol.core.settings import Settings
    from nlp.base import SentimentClassifier


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def binary_to_three(logit: np.ndarray, margin: float) -> np.ndarray:
    """Ordinal three-class probabilities from a positive-vs-negative logit and cut points ±margin."""
    upper = 1.0 / (1.0 + np.exp(-np.clip(logit - margin, -50, 50)))
    lower = 1.0 / (1.0 + np.exp(-np.clip(logit + margin, -50, 50)))
    negative = 1.0 - lower
    positive = upper
    neutral = np.clip(lower - upper, 0.0, 1.0)
    return np.stack([negative, neutral, positive], axis=1)


_REPEATS = re.compile(r"(.)\1{2,}")
PREPROCESSORS: dict[str, Callable[[str], str]] = {
    # "ㅋㅋㅋㅋㅋ" and "!!!!!" say the same as three of them.
    "squeeze": lambda t: _REPEATS.sub(r"\1\1", t),
    # Hangul syllables split into jamo, so verb endings and particles share n-grams.
    "jamo": lambda t: unicodedata.normalize("NFD", t),
    # Korean spacing is inconsistent; n-grams across the gaps see through it.
    "nospace": lambda t: re.sub(r"\s+", "", t),
}


def preprocess(text: str, steps: list[str]) -> str:
    """`text` lower-cased and passed through the named PREPROCESSORS in order."""
    text = text.lower()
    for step in steps:
        text = PREPROCESSORS[step](text)
    return text


def subword_ngrams(text: str, steps: list[str], ngram_range: tuple[int, int]) -> list[str]:
    """n-grams of e5's own SentencePiece pieces of the preprocessed `text` (the "subword" analyzer):
    for Korean the Unigram pieces fall near morphemes (stems, endings, particles), units that carry
    across domains better than raw characters."""
    from nlp.e5_rebuild import packaged_tokenizer

    pieces = packaged_tokenizer().encode(preprocess(text, steps), add_special_tokens=False).tokens
    low, high = ngram_range
    return [" ".join(pieces[i : i + n]) for n in range(low, high + 1) for i in range(len(pieces) - n + 1)]


def _view_counter(spec: dict[str, Any]) -> Callable[[list[str]], csr_matrix]:
    """Texts → hashed counts of one view: character views through `nlp.char_ngrams` (scikit-learn's
    counts, computed for the whole batch at once), word and subword views through scikit-learn."""
    from sklearn.feature_extraction.text import HashingVectorizer

    steps = list(spec.get("prep", []))
    ngram_range = (int(spec["ngram_range"][0]), int(spec["ngram_range"][1]))
    n_features = int(spec["n_features"])
    if spec["analyzer"] in ("char", "char_wb"):
        analyzer = spec["analyzer"]
        return lambda texts: char_ngram_counts([preprocess(t, steps) for t in texts], analyzer, ngram_range, n_features)
    if spec["analyzer"] == "subword":
        subwords = functools.partial(subword_ngrams, steps=steps, ngram_range=ngram_range)
        return HashingVectorizer(analyzer=subwords, n_features=n_features, alternate_sign=False, norm=None).transform
    return HashingVectorizer(
        analyzer=spec["analyzer"],
        ngram_range=ngram_range,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        lowercase=False,
        preprocessor=functools.partial(preprocess, steps=steps),
        token_pattern=r"(?u)\b\w+\b|[^\w\s]",
    ).transform


class NgramFeatures:
    """TF-IDF over hashed word and character n-grams, restricted to the buckets kept in training.

    Only the kept buckets (sorted ids in the hashed space) and their IDF are stored; `weigh` maps a
    text's buckets onto them, so nothing the size of the hashed space (millions) is ever allocated.
    """

    def __init__(self, specs: list[dict[str, Any]], columns: np.ndarray, idf: np.ndarray) -> None:
        self.specs = specs
        self._columns = np.asarray(columns, dtype=np.int64)
        self.idf = np.asarray(idf, dtype=np.float32)
        self._index = BucketIndex(self._columns, sum(int(spec["n_features"]) for spec in specs))
        self._counters = [_view_counter(spec) for spec in specs]

    @property
    def columns(self) -> np.ndarray:
        """The kept buckets, sorted (read-only: the lookup index is built from them)."""
        return self._columns

    def counts(self, texts: list[str]) -> csr_matrix:
        """Raw hashed n-gram counts, the blocks of every spec side by side (the whole hashed space)."""
        from scipy.sparse import hstack

        return hstack([count(texts) for count in self._counters]).tocsr()

    @staticmethod
    def fit_idf(counts: csr_matrix, min_df: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(kept buckets, their IDF): buckets seen in at least `min_df` documents, with the smoothed
        IDF scikit-learn's TfidfTransformer computes."""
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        columns = np.flatnonzero(df >= min_df)
        idf = np.log((1 + counts.shape[0]) / (1 + df[columns])) + 1.0
        return columns, idf.astype(np.float32)

    def weigh(self, counts: csr_matrix) -> csr_matrix:
        """Sublinear TF times IDF over the kept buckets, rows L2-normalised: (texts, kept buckets)."""
        from scipy.sparse import csr_matrix
        from sklearn.preprocessing import normalize

        counts = counts.tocsr()
        counts.sum_duplicates()  # each row's buckets sorted and distinct, so their positions are too
        known, position = self._index.lookup(counts.indices)
        values = (1.0 + np.log(counts.data[known].astype(np.float32))) * self.idf[position[known]]
        indptr = np.concatenate([[0], np.cumsum(known)])[counts.indptr]
        x = csr_matrix((values, position[known], indptr), shape=(counts.shape[0], len(self.columns)))
        return normalize(x, norm="l2", copy=False)

    def transform(self, texts: list[str]) -> csr_matrix:
        """TF-IDF rows for `texts` over the kept buckets."""
        return self.weigh(self.counts(texts))


class SentimentHead:
    """One language's head, loaded from an .npz written by `nlp.train`.

    The n-gram part is stored sparsely: only the hashed buckets seen in training (`ngram_columns`)
    carry an IDF and class weights, so a head over millions of buckets stays a few megabytes on
    disk and in memory."""

    def __init__(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.meta = meta
        self.arrays = arrays
        self.language: str = meta["language"]
        self.classes: list[str] = list(meta["classes"])
        self.version: str = meta["version"]
        self.parts: list[str] = list(meta["parts"])
        self.ngrams: NgramFeatures | None = None
        if "ngrams" in self.parts:
            self.ngrams = NgramFeatures(meta["ngram_specs"], arrays["ngram_columns"], arrays["ngram_idf"])

    @property
    def complaint_rule(self) -> bool:
        """Whether a complaint's neutral share counts as negative (`nlp.intent.complaint_sentiment`)
        for this head's posts. On unless the head says otherwise: a head adapted to a brand's own
        labels says off when those labels read calm complaints as neutral (`nlp.train.retrain`)."""
        return bool(self.meta.get("complaint_rule", True))

    @staticmethod
    def ngram_arrays(features: NgramFeatures, coef: np.ndarray, intercept: np.ndarray) -> dict[str, np.ndarray]:
        """The stored form of an n-gram part: kept buckets, their IDF and (classes, kept) weights."""
        return {
            "ngram_columns": features.columns.astype(np.int32),
            "ngram_idf": features.idf.astype(np.float16),
            "ngram_coef": coef.astype(np.float16),
            "ngram_intercept": intercept.astype(np.float32),
        }

    @functools.cached_property
    def _ngram_weights(self) -> np.ndarray:
        # (kept buckets, classes), converted once rather than per batch.
        return self._array("ngram_coef").T.copy()

    @classmethod
    def load(cls, path: Path) -> SentimentHead:
        """Read a head file; AnalysisError says which file is unusable."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: np.asarray(data[k]) for k in data.files}
            return cls(json.loads(str(arrays.pop("meta"))), arrays)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            # KeyError also covers a head written by an older Dangol in another layout.
            raise AnalysisError(
                f"sentiment head {path} is unreadable ({type(exc).__name__}: {exc}); "
                "retrain it with `dangol nlp retrain` or delete it to use the shipped head"
            ) from exc

    def save(self, path: Path) -> None:
        """Write the head as a compressed .npz (float16 weights keep it small). Written beside it
        first and then renamed over it: a running worker reloads heads that change
        (`HeadSentimentClassifier.reload_if_changed`) and must never read half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {"meta": np.array(json.dumps(self.meta, sort_keys=True)), **self.arrays}
        partial = path.with_name(f".{path.name}.partial")  # not "sentiment-*.npz": never taken for a head
        try:
            with partial.open("wb") as fh:
                np.savez_compressed(fh, **arrays)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    def _array(self, name: str) -> np.ndarray:
        return self.arrays[name].astype(np.float32)

    def part_logits(self, texts: list[str], embeddings: np.ndarray | None) -> dict[str, np.ndarray]:
        """Each part's class logits."""
        out: dict[str, np.ndarray] = {}
        if "embedding" in self.parts:
            if embeddings is None or len(embeddings) != len(texts):
                raise AnalysisError(f"the {self.language} sentiment head needs one embedding per text")
            h = np.asarray(embeddings, dtype=np.float32)
            if "emb_w2" in self.arrays:
                h = np.maximum(h @ self._array("emb_w1") + self._array("emb_b1"), 0.0)
                out["embedding"] = h @ self._array("emb_w2") + self._array("emb_b2")
            else:
                out["embedding"] = h @ self._array("emb_w1") + self._array("emb_b1")
        if self.ngrams is not None:
            x = self.ngrams.transform(texts)
            out["ngrams"] = np.asarray(x @ self._ngram_weights) + self._array("ngram_intercept")
        return out

    def combine(self, logits: dict[str, np.ndarray]) -> np.ndarray:
        """Mixed, biased and temperature-scaled logits over `self.classes`."""
        weights = self.meta["weights"]
        total = sum(weights[p] * log_softmax(logits[p]) for p in self.parts)
        return (total + np.asarray(self.meta["bias"], dtype=np.float32)) / float(self.meta["temperature"])

    def probabilities(self, texts: list[str], embeddings: np.ndarray | None) -> np.ndarray:
        """(n, 3) probabilities in SENTIMENTS order."""
        if not texts:
            return np.zeros((0, 3), dtype=np.float32)
        z = self.combine(self.part_logits(texts, embeddings))
        if self.classes == ["negative", "positive"]:
            if "neutral_w" in self.arrays and embeddings is not None:
                return self._gated(z[:, 1] - z[:, 0], np.asarray(embeddings, dtype=np.float32))
            return binary_to_three(z[:, 1] - z[:, 0], float(self.meta.get("neutral_margin", 1.0)))
        probs = softmax(z)
        return probs[:, [self.classes.index(s) for s in SENTIMENTS]]

    def _gated(self, logit: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """Three classes from a binary head with a neutral gate: P(neutral) from a 3-class model over
        the embedding (learnt mostly from English neutral tweets: the shared space carries it to
        Korean), the rest split by the calibrated positive-vs-negative logit."""
        gate = softmax(embeddings @ self._array("neutral_w") + self._array("neutral_b"))
        neutral = gate[:, SENTIMENTS.index("neutral")]
        positive = 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))
        return np.stack([(1 - neutral) * (1 - positive), neutral, (1 - neutral) * positive], axis=1)


@cache
def _load_head(path: str, mtime: float) -> SentimentHead:
    # Keyed on mtime so a head replaced by `dangol nlp retrain` is picked up by a new classifier.
    return SentimentHead.load(Path(path))


class HeadOptions(Options):
    """`[nlp.sentiment] use = "head"` options."""

    # Retrained heads written here by `dangol nlp retrain` win over the shipped ones.
    heads_dir: str = str(DEFAULT_HEADS_DIR)
    # Languages without a head of their own use this one (MiniLM carries some cross-lingual signal).
    fallback: str = "en"


class HeadSentimentClassifier:
    """Per-language heads over the shared embedding and the text itself."""

    def __init__(
        self, heads_dir: Path | str = DEFAULT_HEADS_DIR, fallback: str = "en", packaged: Path = PACKAGED_HEADS
    ) -> None:
        self.heads_dir = Path(heads_dir)
        self.fallback = fallback
        self.packaged = packaged
        self._files: dict[str, tuple[Path, float]] = {}
        self.heads: dict[str, SentimentHead] = {}
        self.reload_if_changed()
        if fallback not in self.heads:
            raise AnalysisError(
                f"no sentiment head for the fallback language {fallback!r}; "
                f"heads found: {', '.join(sorted(self.heads)) or 'none'}"
            )

    @property
    def version(self) -> str:
        return "head:" + ",".join(f"{lang}={h.version}" for lang, h in sorted(self.heads.items()))

    def _head_files(self) -> dict[str, tuple[Path, float]]:
        """language -> (the head file in force, its mtime): retrained over shipped."""
        files = {}
        for language in available_languages(self.heads_dir, self.packaged):
            path = head_path(language, self.heads_dir, self.packaged)
            files[language] = (path, path.stat().st_mtime)
        return files

    def reload_if_changed(self) -> bool:
        """Read the heads again when a retraining wrote, replaced or removed one; True if it did.
        A worker keeps one classifier for its lifetime: the weekly retraining reaches it this way."""
        files = self._head_files()
        if files == self._files:
            return False
        self.heads = {language: _load_head(str(path), mtime) for language, (path, mtime) in files.items()}
        self._files = files
        return True

    def check_encoder(self, encoder_version: str) -> None:
        """AnalysisError when a head reads embeddings of another model than `encoder_version`'s:
        its weights would be applied to vectors that mean something else."""
        model = encoder_version.split(":", 1)[-1]
        for language, head in sorted(self.heads.items()):
            trained_on = head.meta.get("encoder")
            if trained_on and trained_on != model:
                # "name@adapter": the config names the model; the adapter comes with the package.
                name = model_name(trained_on)
                raise AnalysisError(
                    f"the {language} sentiment head was trained on {trained_on} embeddings, but the encoder is "
                    f"{model}; set [nlp.encoder] model = {name!r} or retrain with `dangol nlp retrain`"
                )

    @classmethod
    def from_settings(cls, settings: Settings) -> HeadSentimentClassifier:
        """Build from `[nlp.sentiment]`."""
        opts = parse_options(HeadOptions, settings.nlp.sentiment.options(), "nlp.sentiment")
        heads_dir, packaged = head_folders(settings)
        return cls(heads_dir, opts.fallback, packaged)

    @contextlib.contextmanager
    def serving(self, head: SentimentHead) -> Iterator[None]:
        """Serve `head` for its language inside the block (a candidate judged through the pipeline
        before it is written), then the head that was there."""
        previous = self.heads.get(head.language)
        self.heads[head.language] = head
        try:
            yield
        finally:
            if previous is None:
                del self.heads[head.language]
            else:
                self.heads[head.language] = previous

    def complaint_rule(self, language: str) -> bool:
        """Whether complaints in `language` count their neutral share as negative (the head's say)."""
        return self.head_for(language).complaint_rule

    def head_for(self, language: str) -> SentimentHead:
        """The head that judges posts in `language`."""
        return self.heads.get(language) or self.heads[self.fallback]

    def predict_array(self, texts: list[str], embeddings: np.ndarray | None, languages: list[str]) -> np.ndarray:
        """(n, 3) probabilities in SENTIMENTS order; each language's posts go to its head in one batch."""
        if not (len(texts) == len(languages) and (embeddings is None or len(embeddings) == len(texts))):
            raise AnalysisError("predict needs one embedding and one language per text")
        out = np.zeros((len(texts), 3), dtype=np.float32)
        groups: dict[str, list[int]] = {}
        for i, language in enumerate(languages):
            groups.setdefault(self.head_for(language).language, []).append(i)
        for language, idx in groups.items():
            head = self.heads[language]
            emb = None if embeddings is None else np.asarray(embeddings)[idx]
            out[idx] = head.probabilities([texts[i] for i in idx], emb)
        return out

    def predict(self, texts: list[str], embeddings: np.ndarray, languages: list[str]) -> list[dict[str, float]]:
        """One {negative, neutral, positive} dict per text, summing to 1."""
        return to_dicts(self.predict_array(texts, embeddings, languages))


def head_folders(settings: Settings) -> tuple[Path, Path]:
    """(retrained heads, shipped heads) of the configured profile: each profile's retrained heads have
    their own default folder, as they read different vectors (nlp.profiles)."""
    given = settings.nlp.sentiment.options()
    opts = parse_options(HeadOptions, given, "nlp.sentiment")
    heads_dir = Path(opts.heads_dir) if "heads_dir" in given else retrained_heads(settings)
    return heads_dir, packaged_heads(settings)


def to_dicts(rows: np.ndarray) -> list[dict[str, float]]:
    """Probability rows as dicts in SENTIMENTS order, each renormalised after float rounding (the
    whole array at once: per row, numpy's overhead was a tenth of `predict`)."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, len(SENTIMENTS))
    rows = rows / rows.sum(axis=1, keepdims=True)
    return [dict(zip(SENTIMENTS, row, strict=True)) for row in rows.tolist()]


def head_path(language: str, heads_dir: Path | None = None, packaged: Path = PACKAGED_HEADS) -> Path:
    """The head file for `language`: the retrained one in `heads_dir` if any, else the shipped one."""
    name = f"sentiment-{language}.npz"
    if heads_dir is not None and (heads_dir / name).exists():
        return heads_dir / name
    return packaged / name


def available_languages(heads_dir: Path | None = None, packaged: Path = PACKAGED_HEADS) -> list[str]:
    """Languages with a head, shipped or retrained."""
    dirs = [packaged] + ([heads_dir] if heads_dir is not None and heads_dir.is_dir() else [])
    found = {p.stem.removeprefix("sentiment-") for d in dirs for p in d.glob("sentiment-*.npz")}
    return sorted(found)


class HuggingFaceOptions(Options):
    """`[nlp.sentiment] use = "huggingface"` options."""

    # A Hugging Face model id (available offline) or a local directory.
    model: str
    # The model's label names -> negative / neutral / positive; guessed from the names when empty.
    labels: dict[str, str] = Field(default_factory=dict)
    batch_size: int = Field(default=32, ge=1)
    max_length: int = Field(default=128, ge=8, le=512)


def guess_label_map(id2label: dict[int, str]) -> dict[str, str]:
    """negative/neutral/positive for a model's labels, by name (neg/neu/pos) or by position."""
    mapping: dict[str, str] = {}
    for name in id2label.values():
        low = name.lower()
        for sentiment in SENTIMENTS:
            if low.startswith(sentiment[:3]):
                mapping[name] = sentiment
    if len(mapping) == len(id2label):
        return mapping
    ordered = [id2label[i] for i in sorted(id2label)]
    if len(ordered) == 3:
        return dict(zip(ordered, SENTIMENTS, strict=True))
    if len(ordered) == 2:
        return {ordered[0]: "negative", ordered[1]: "positive"}
    raise ConfigError(
        f"cannot map the model's labels {ordered} to negative/neutral/positive; "
        'set [nlp.sentiment] labels = { "<model label>" = "negative", ... }'
    )


class HuggingFaceSentimentClassifier:
    """Any Hugging Face text-classification model, loaded on first use."""

    def __init__(self, model: str, labels: dict[str, str] | None = None, batch_size: int = 32, max_length: int = 128):
        bad = {k: v for k, v in (labels or {}).items() if v not in SENTIMENTS}
        if bad:
            raise ConfigError(f"nlp.sentiment.labels: {bad} must map to one of {', '.join(SENTIMENTS)}")
        self.model_name = model
        self.labels = dict(labels or {})
        self.batch_size = batch_size
        self.max_length = max_length
        self.version = f"hf:{Path(model.rstrip('/')).name or model}"
        self._loaded: tuple[Any, Any, list[str]] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> HuggingFaceSentimentClassifier:
        """Build from `[nlp.sentiment]` (the model loads on the first prediction)."""
        opts = parse_options(HuggingFaceOptions, settings.nlp.sentiment.options(), "nlp.sentiment")
        return cls(opts.model, opts.labels, opts.batch_size, opts.max_length)

    def _load(self) -> tuple[Any, Any, list[str]]:
        if self._loaded is None:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            try:
                tokenizer = AutoTokenizer.from_pretrained(self.model_name)
                model = AutoModelForSequenceClassification.from_pretrained(self.model_name).eval()
            except (OSError, ValueError) as exc:
                raise AnalysisError(
                    f"could not load sentiment model {self.model_name!r}: {exc}; "
                    "give a local directory or a Hugging Face id available offline"
                ) from exc
            id2label = {int(k): str(v) for k, v in model.config.id2label.items()}
            mapping = self.labels or guess_label_map(id2label)
            missing = [name for name in id2label.values() if name not in mapping]
            if missing:
                raise ConfigError(f"nlp.sentiment.labels: no mapping for the model's labels {missing}")
            self._loaded = (tokenizer, model, [mapping[id2label[i]] for i in sorted(id2label)])
        return self._loaded

    def predict(self, texts: list[str], embeddings: np.ndarray, languages: list[str]) -> list[dict[str, float]]:
        """Probabilities per text; a label missing from the model (e.g. neutral) gets 0."""
        import torch

        tokenizer, model, targets = self._load()
        rows: list[dict[str, float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = tokenizer(
                texts[start : start + self.batch_size],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            with torch.no_grad():
                probs = torch.softmax(model(**batch).logits, dim=-1).numpy()
            for p in probs:
                row = dict.fromkeys(SENTIMENTS, 0.0)
                for target, value in zip(targets, p, strict=True):
                    row[target] += float(value)
                rows.append(row)
        return rows


def build_sentiment(settings: Settings) -> SentimentClassifier:
    """The configured sentiment classifier (`[nlp.sentiment] use`)."""
    from nlp.base import classifiers

    implementation = classifiers.get(settings.nlp.sentiment.use)
    classifier: SentimentClassifier = implementation.from_settings(settings)
    return classifier
