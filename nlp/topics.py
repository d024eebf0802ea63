"""Complaint topics: zero-shot from the taxonomy, a few-shot head from labels, emerging topics.

Zero-shot: each topic's prototypes (name with description, and the examples) are embedded once;
a post's similarity to the topic is the cosine to their normalized mean, mapped to 0..1 by a
logistic calibration of the encoder's (`zero_shot` in `nlp.encoders.base.ModelTraits`: each model
spreads its cosines differently, e5 far higher than MiniLM). Multi-label:
every topic whose score reaches `topic_threshold` applies; none reaching it means "other".

Few-shot: `FewShotHead` is a class-balanced logistic regression over the embedding and hashed
TF-IDF word and character n-grams (they carry product words and Korean the English encoder
misses). It is trained from labelled examples and staff corrections
(`LabelFeedback` kind="topic", given here as plain (text, topic key) tuples), saved as .npz (no
pickle) and mixed with the zero-shot score by how many examples each topic had, so topics it
never saw still work.

Emerging topics: `propose_topics` clusters uncategorized complaints (agglomerative, cosine) and
describes each large cluster by its distinctive terms and most central posts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dangol.core.errors import AnalysisError
from dangol.core.text import words
from nlp.taxonomy import OTHER, Taxonomy, Topic

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from nlp.base import Encoder

# Cosine at which a zero-shot score is 0.5, and how steeply it rises around it, for encoders that
# do not say their own (the values of all-MiniLM-L6-v2).
ZERO_SHOT_MIDPOINT = 0.38
ZERO_SHOT_SLOPE = 12.0
# Lexical share x this = score: a post holding 30% of an example's bigrams reaches 0.45.
LEXICAL_SCALE = 1.5
# Encoder similarities of text the encoder cannot read are noise: scaled so that alone they never
# reach a topic threshold, they only break ties between lexical matches.
BLIND_EMBEDDING_WEIGHT = 0.3
# A second topic applies only this close to the best one's score: a multilingual encoder finds every
# complaint of one brand somewhat alike, and an app crash filed under billing too would be routed
# to the billing team.
SECONDARY_MARGIN = 0.1
# Training examples at which the head and the prototypes weigh the same for a topic.
HEAD_PRIOR = 20.0
# Staff corrections count this many times as much as a labelled example.
FEEDBACK_WEIGHT = 3.0
HASH_FEATURES = 2**18
# An n-gram must occur in this many training texts to become a feature (rarer ones only add noise).
MIN_DF = 2
DEFAULT_HEAD_PATH = Path("var/models/topics/head.npz")


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, clipped for stability."""
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


class PrototypeScorer:
    """Zero-shot topic similarity: cosine of a post to each topic's mean prototype embedding."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        centroids: np.ndarray,
        zero_shot: tuple[float, float] = (ZERO_SHOT_MIDPOINT, ZERO_SHOT_SLOPE),
    ) -> None:
        if centroids.shape[0] != len(taxonomy):
            raise ValueError(f"{centroids.shape[0]} centroids for {len(taxonomy)} topics")
        self.taxonomy = taxonomy
        self.centroids = centroids.astype(np.float32)
        # (cosine at which a score is 0.5, steepness): the encoder's, see ModelTraits.zero_shot.
        self.zero_shot = zero_shot

    @classmethod
    def from_encoder(
        cls, taxonomy: Taxonomy, encoder: Encoder, reuse: PrototypeScorer | None = None
    ) -> PrototypeScorer:
        """Embed the topics' prototypes in one encoder call and average them per topic.

        With `reuse` (the scorer of the taxonomy before an edit), topics whose prototypes did not
        change keep their centroid, so only added or edited topics are encoded again.
        """
        known = reuse.centroids_by_prototypes() if reuse is not None else {}
        fresh = [t for t in taxonomy.topics if tuple(t.prototypes()) not in known]
        known.update(zip((tuple(t.prototypes()) for t in fresh), _centroids(fresh, encoder), strict=True))
        zero_shot = tuple(getattr(encoder, "zero_shot", (ZERO_SHOT_MIDPOINT, ZERO_SHOT_SLOPE)))
        if not len(taxonomy):
            return cls(taxonomy, np.zeros((0, int(getattr(encoder, "dim", 0))), dtype=np.float32), zero_shot)
        return cls(taxonomy, np.stack([known[tuple(t.prototypes())] for t in taxonomy.topics]), zero_shot)

    def centroids_by_prototypes(self) -> dict[tuple[str, ...], np.ndarray]:
        """Each topic's centroid keyed by the prototype texts it was computed from."""
        return {tuple(t.prototypes()): self.centroids[k] for k, t in enumerate(self.taxonomy.topics)}

    def similarities(self, embeddings: np.ndarray) -> np.ndarray:
        """Cosine similarities, shape (n posts, n topics)."""
        if not len(self.taxonomy):
            return np.zeros((len(embeddings), 0), dtype=np.float32)
        return np.asarray(embeddings, dtype=np.float32) @ self.centroids.T

    def calibrate(self, similarities: np.ndarray) -> np.ndarray:
        """Similarities mapped to 0..1 scores."""
        midpoint, slope = self.zero_shot
        return sigmoid(slope * (similarities - midpoint))


def _centroids(topics: list[Topic], encoder: Encoder) -> np.ndarray:
    """The normalized mean prototype embedding of each topic, shape (n topics, dim); one encoder call."""
    texts = [p for topic in topics for p in topic.prototypes()]
    if not texts:
        return np.zeros((0, int(getattr(encoder, "dim", 0))), dtype=np.float32)
    owners = np.array([k for k, topic in enumerate(topics) for _ in topic.prototypes()], dtype=np.int64)
    vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
    sums = np.zeros((len(topics), vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, owners, vectors)
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)


class LexicalScorer:
    """Zero-shot topic scores from characters, for languages the encoder cannot read (Korean...).

    A topic's score is the best share of one of its prototypes' character bigrams (spaces
    removed, since Korean spacing varies) found in the post: "앱이 계속 꺼져요" scores 1.0 against
    a post containing it and about 0.3 against one that only says "꺼져요".
    """

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.prototypes = [[_bigrams(p) for p in topic.prototypes()] for topic in taxonomy.topics]

    def scores(self, texts: list[str]) -> np.ndarray:
        """Scores 0..1, shape (n posts, n topics)."""
        out = np.zeros((len(texts), len(self.prototypes)), dtype=np.float32)
        for i, text in enumerate(texts):
            grams = _bigrams(text)
            for k, prototypes in enumerate(self.prototypes):
                shares = [len(p & grams) / len(p) for p in prototypes if p]
                out[i, k] = max(shares, default=0.0)
        return np.clip(out * LEXICAL_SCALE, 0.0, 1.0)


def _bigrams(text: str) -> set[str]:
    squeezed = "".join(text.lower().split())
    return {squeezed[i : i + 2] for i in range(len(squeezed) - 1)}


class NgramVectorizer:
    """Hashed word (1-2) and character (2-5) n-gram TF-IDF; only n-grams seen in >= MIN_DF texts are kept.

    Nothing but two integer/float arrays is stored: the kept hash buckets and their IDF.
    """

    def __init__(self, kept: np.ndarray | None = None, idf: np.ndarray | None = None) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        common: dict[str, Any] = {"n_features": HASH_FEATURES, "alternate_sign": False, "norm": None}
        self._words = HashingVectorizer(ngram_range=(1, 2), **common)
        self._chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common)
        self.kept = kept
        self.idf = idf

    def counts(self, texts: list[str]) -> csr_matrix:
        """Raw hashed counts, words then characters, all buckets."""
        from scipy.sparse import hstack

        return hstack([self._words.transform(texts), self._chars.transform(texts)]).tocsr()

    def fit(self, texts: list[str]) -> NgramVectorizer:
        """Choose the buckets seen in at least MIN_DF texts and learn their (smoothed) IDF."""
        df = np.bincount(self.counts(texts).indices, minlength=2 * HASH_FEATURES)
        self.kept = np.flatnonzero(df >= MIN_DF).astype(np.int32)
        self.idf = (np.log((1 + len(texts)) / (1 + df[self.kept])) + 1).astype(np.float32)
        return self

    def transform(self, texts: list[str]) -> csr_matrix:
        """Sub-linear TF × IDF over the kept buckets; the word and the character parts each L2-normalized."""
        from scipy.sparse import hstack
        from sklearn.preprocessing import normalize

        if self.kept is None or self.idf is None:
            raise AnalysisError("the n-gram vectorizer was used before it was fitted")
        matrix = self.counts(texts)[:, self.kept].astype(np.float32).tocsr()
        matrix.data = 1 + np.log(matrix.data)
        matrix = matrix.multiply(self.idf).tocsr()
        # Normalized apart, so neither part dominates the other (nor the embedding) by its size.
        n_words = int(np.searchsorted(self.kept, HASH_FEATURES))
        parts = [matrix[:, :n_words], matrix[:, n_words:]]
        # A part can be empty (two short corrections share no word); sklearn refuses to normalize that.
        return hstack([normalize(part) if part.shape[1] else part for part in parts]).tocsr()


@dataclass(slots=True)
class FewShotHead:
    """A linear classifier over [n-gram TF-IDF, embedding]; its classes are topic keys (and maybe "other")."""

    classes: list[str]
    coef: np.ndarray  # (n classes, n features)
    intercept: np.ndarray
    kept: np.ndarray
    idf: np.ndarray
    # Training examples per class: how far the head's opinion is trusted over the prototypes.
    class_counts: np.ndarray
    # Embeddings are centred on the training mean and scaled to unit mean length before the linear
    # layer: e5 vectors share a large common part (any two posts at cosine ~0.85), which would leave
    # the differences that tell topics apart too small to count against the n-grams.
    embedding_center: np.ndarray | None = None
    embedding_scale: float = 1.0
    _vectorizer: NgramVectorizer | None = field(default=None, repr=False)

    @property
    def trained_on(self) -> int:
        """The number of training examples."""
        return int(self.class_counts.sum())

    def features(self, texts: list[str], embeddings: np.ndarray) -> csr_matrix:
        """The feature matrix the head reads."""
        from scipy.sparse import csr_matrix, hstack

        if self._vectorizer is None:
            self._vectorizer = NgramVectorizer(self.kept, self.idf)
        vectors = np.asarray(embeddings, dtype=np.float32)
        if self.embedding_center is not None:
            vectors = (vectors - self.embedding_center) * self.embedding_scale
        return hstack([self._vectorizer.transform(texts), csr_matrix(vectors)]).tocsr()

    def predict_proba(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n posts, n classes)."""
        logits = np.asarray(self.features(texts, embeddings) @ self.coef.T) + self.intercept
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, path: Path | str) -> Path:
        """Write the head as a plain .npz (arrays only, no pickle).

        Written beside and then renamed over `path`, so a worker reloading the head never reads half a file.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as fh:
            np.savez_compressed(
                fh,
                classes=np.array(self.classes, dtype=str),
                coef=self.coef.astype(np.float32),
                intercept=self.intercept.astype(np.float32),
                kept=self.kept.astype(np.int32),
                idf=self.idf.astype(np.float32),
                class_counts=self.class_counts.astype(np.float32),
                embedding_center=(self.embedding_center if self.embedding_center is not None else np.zeros(0)).astype(
                    np.float32
                ),
                embedding_scale=np.float32(self.embedding_scale),
            )
        partial.replace(path)
        return path

    @classmethod
    def load(cls, path: Path | str) -> FewShotHead:
        """Read a head written by `save`; AnalysisError if the file is not one."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(
                    classes=[str(c) for c in data["classes"]],
                    coef=data["coef"],
                    intercept=data["intercept"],
                    kept=data["kept"],
                    idf=data["idf"],
                    class_counts=data["class_counts"],
                    # Heads written before centring existed have neither: they read raw embeddings.
                    embedding_center=(
                        data["embedding_center"]
                        if "embedding_center" in data.files and len(data["embedding_center"])
                        else None
                    ),
                    embedding_scale=float(data["embedding_scale"]) if "embedding_scale" in data.files else 1.0,
                )
        except (OSError, KeyError, ValueError) as exc:
            raise AnalysisError(f"{path}: not a topic head written by `dangol topics train`: {exc}") from exc


def train_head(
    texts: list[str],
    labels: list[str],
    embeddings: np.ndarray,
    taxonomy: Taxonomy,
    *,
    feedback: list[tuple[str, str]] | None = None,
    feedback_embeddings: np.ndarray | None = None,
    c: float = 8.0,
) -> FewShotHead:
    """Fit the few-shot head on labelled examples plus staff corrections.

    `labels` and the second items of `feedback` are topic keys of `taxonomy` (or "other");
    corrections weigh FEEDBACK_WEIGHT times an example. At least two distinct labels are needed.
    Classes are balanced, so a rare topic is not drowned by a common one.
    """
    from sklearn.linear_model import LogisticRegression

    feedback = feedback or []
    all_texts = list(texts) + [t for t, _ in feedback]
    all_labels = np.array(list(labels) + [label for _, label in feedback])
    valid = set(taxonomy.keys) | {OTHER}
    unknown = sorted(set(all_labels.tolist()) - valid)
    if unknown:
        raise AnalysisError(f"labels {unknown} are not topic keys; valid: {', '.join(sorted(valid))}")
    if len(set(all_labels.tolist())) < 2:
        raise AnalysisError("the topic head needs examples of at least two topics")
    parts = [np.asarray(embeddings, dtype=np.float32)] if len(texts) else []
    if feedback:
        if feedback_embeddings is None or len(feedback_embeddings) != len(feedback):
            raise ValueError("give one embedding per feedback item")
        parts.append(np.asarray(feedback_embeddings, dtype=np.float32))
    vectors = np.vstack(parts)
    weights = np.array([1.0] * len(texts) + [FEEDBACK_WEIGHT] * len(feedback))
    vectorizer = NgramVectorizer().fit(all_texts)
    assert vectorizer.kept is not None and vectorizer.idf is not None
    center = vectors.mean(axis=0)
    scale = 1.0 / max(float(np.linalg.norm(vectors - center, axis=1).mean()), 1e-6)
    head = FewShotHead(
        [], np.zeros(0), np.zeros(0), vectorizer.kept, vectorizer.idf, np.zeros(0), center, scale, vectorizer
    )
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit(head.features(all_texts, vectors), all_labels, sample_weight=weights)
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:
        # sklearn keeps one row for two classes; two symmetric rows give the same softmax.
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    head.classes = [str(k) for k in model.classes_]
    head.coef = coef.astype(np.float32)
    head.intercept = intercept.astype(np.float32)
    head.class_counts = np.array([weights[all_labels == k].sum() for k in model.classes_], dtype=np.float32)
    return head


class TopicModel:
    """Topic scores 0..1 for posts: zero-shot prototypes, mixed with the few-shot head when there is one.

    For a topic the head knows, score = w·P_head + (1−w)·zero-shot with w = n / (n + HEAD_PRIOR)
    and n its training examples: a topic with five corrections leans on its description, one with
    hundreds of examples on the head.
    """

    def __init__(
        self,
        scorer: PrototypeScorer,
        threshold: float,
        head: FewShotHead | None = None,
        blind_languages: frozenset[str] = frozenset(),
    ) -> None:
        self.scorer = scorer
        # Languages the encoder cannot read: their topics come from the examples' characters.
        self.blind_languages = blind_languages
        self.taxonomy = scorer.taxonomy
        self.lexical = LexicalScorer(self.taxonomy)
        self.threshold = threshold
        self.head = head
        # Columns of the head's probabilities that are topics of this taxonomy, and where they go.
        keys = self.taxonomy.keys
        pairs = [(i, keys.index(k)) for i, k in enumerate(head.classes) if k in keys] if head else []
        self._head_cols = np.array([i for i, _ in pairs], dtype=np.int64)
        self._topic_cols = np.array([k for _, k in pairs], dtype=np.int64)
        counts = head.class_counts[self._head_cols] if head is not None else np.zeros(0, dtype=np.float32)
        self._head_weights = counts / (counts + HEAD_PRIOR)

    @property
    def version(self) -> str:
        """A label for model_versions: zero-shot, or few-shot with the number of training examples."""
        return f"fewshot:{self.head.trained_on}" if self.head else "zeroshot"

    def scores(self, texts: list[str], embeddings: np.ndarray, languages: list[str] | None = None) -> np.ndarray:
        """Scores, shape (n posts, n topics); topics limited to other languages score 0."""
        scores = self.scorer.calibrate(self.scorer.similarities(embeddings))
        blind = [i for i, lang in enumerate(languages or []) if lang in self.blind_languages]
        if blind and len(self.taxonomy):
            lexical = self.lexical.scores([texts[i] for i in blind])
            scores[blind] = np.maximum(lexical, BLIND_EMBEDDING_WEIGHT * scores[blind])
        if self.head is not None and len(self._head_cols) and len(texts):
            probs = self.head.predict_proba(texts, embeddings)[:, self._head_cols]
            w = self._head_weights
            scores[:, self._topic_cols] = w * probs + (1 - w) * scores[:, self._topic_cols]
        if languages is not None:
            scores *= self._language_mask(languages)
        return scores

    def _language_mask(self, languages: list[str]) -> np.ndarray:
        mask = np.ones((len(languages), len(self.taxonomy)), dtype=np.float32)
        for k, topic in enumerate(self.taxonomy.topics):
            if topic.languages:
                mask[:, k] = [lang in topic.languages for lang in languages]
        return mask

    def assign(self, scores: np.ndarray) -> list[tuple[dict[str, float], str]]:
        """Per post: the topics at or above the threshold and within SECONDARY_MARGIN of the best one,
        with their scores, and the primary topic."""
        keys = self.taxonomy.keys
        result: list[tuple[dict[str, float], str]] = []
        for row in scores:
            floor = max(self.threshold, float(row.max(initial=0.0)) - SECONDARY_MARGIN)
            applied = {keys[k]: round(float(row[k]), 4) for k in np.flatnonzero(row >= floor)}
            primary = max(applied, key=lambda key: applied[key]) if applied else OTHER
            result.append((applied, primary))
        return result

    def classify(
        self, texts: list[str], embeddings: np.ndarray, languages: list[str] | None = None
    ) -> list[tuple[dict[str, float], str]]:
        """`assign(scores(...))`: the topics of each post and its primary topic ("other" when none)."""
        return self.assign(self.scores(texts, embeddings, languages))

    def best(self, texts: list[str], embeddings: np.ndarray) -> list[str]:
        """The single most likely topic key of each post, never "other" (forced choice, for evaluation)."""
        if not len(self.taxonomy):
            return [OTHER] * len(texts)
        keys = self.taxonomy.keys
        return [keys[k] for k in self.scores(texts, embeddings).argmax(axis=1)]


@dataclass(slots=True)
class ProposedTopic:
    """A cluster of uncategorized complaints that may deserve a topic of its own."""

    size: int
    terms: list[str]
    members: list[int]  # indices into the texts given, most central first
    representatives: list[str]
    cohesion: float  # mean cosine of members to the cluster centre

    @property
    def name(self) -> str:
        """A suggested name from the top terms."""
        return " / ".join(self.terms[:3]) if self.terms else "unnamed"


def propose_topics(
    texts: list[str],
    embeddings: np.ndarray,
    *,
    min_size: int = 5,
    distance_threshold: float = 0.6,
    max_topics: int = 10,
    n_terms: int = 6,
    n_representatives: int = 3,
) -> list[ProposedTopic]:
    """Group uncategorized complaints into candidate topics, largest first.

    Average-linkage agglomerative clustering on cosine distance, cut at `distance_threshold`;
    clusters smaller than `min_size` are left out. Terms are ranked by how much more often they
    occur in the cluster than in all the texts (with document frequency in the cluster >= 2).
    """
    from sklearn.cluster import AgglomerativeClustering

    if len(texts) != len(embeddings):
        raise ValueError(f"{len(texts)} texts but {len(embeddings)} embeddings")
    if len(texts) < max(min_size, 2):
        return []
    vectors = np.asarray(embeddings, dtype=np.float32)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance_threshold
    ).fit_predict(vectors)
    docs = [set(words(t)) for t in texts]
    overall = Counter(t for d in docs for t in d)
    proposals = []
    for label, count in Counter(labels.tolist()).most_common():
        if count < min_size:
            break
        members = np.flatnonzero(labels == label)
        proposals.append(_describe(members, vectors, texts, docs, overall, n_terms, n_representatives))
        if len(proposals) >= max_topics:
            break
    return proposals


def _describe(
    members: np.ndarray,
    vectors: np.ndarray,
    texts: list[str],
    docs: list[set[str]],
    overall: Counter[str],
    n_terms: int,
    n_representatives: int,
) -> ProposedTopic:
    centre = vectors[members].mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    closeness = vectors[members] @ centre
    order = members[np.argsort(-closeness, kind="stable")]
    inside = Counter(t for i in members for t in docs[i])
    total = len(texts)
    ranked = sorted(
        (t for t, n in inside.items() if n >= 2),
        key=lambda t: (-(inside[t] / len(members)) * np.log(total / overall[t]), t),
    )
    return ProposedTopic(
        size=len(members),
        terms=ranked[:n_terms],
        members=[int(i) for i in order],
        representatives=[texts[i] for i in order[:n_representatives]],
        cohesion=round(float(closeness.mean()), 4),
    )
