"""Interfaces and plain records of the NLP stage, and the registries of its implementations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from dangol.core.registry import Registry

# Posts are cut to this many characters before analysis: the encoder reads 128 tokens anyway, and
# rules and regexes must not spend minutes on one 300 KB blog post.
MAX_ANALYSIS_CHARS = 10_000


# X's retweet marker before the retweeted words ("RT @hannah_sips: "), nested ones too.
_RETWEET_MARKER = re.compile(r"^(?:\s*RT @\w{1,50}:\s*)+")


def analysis_text(text: str | None) -> str:
    """The part of a post the NLP stage reads: its first MAX_ANALYSIS_CHARS characters, without a
    leading retweet marker. Why: a retweet says what its original says; with the marker and the
    original author's handle in front, the encoder read "RT @roast_ster746: 스탬프 9개가 사라졌어요"
    under another complaint topic than the post it repeats, and encoded every retweet again."""
    return _RETWEET_MARKER.sub("", (text or "")[:MAX_ANALYSIS_CHARS], count=1)


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 embeddings, one row per text."""

    version: str
    dim: int
    # Languages whose embeddings look alike whatever they say (English MiniLM on Hangul): topics
    # use character n-grams and near-duplicates exact text for these.
    blind_languages: frozenset[str]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of shape (len(texts), dim)."""
        ...


class SentimentClassifier(Protocol):
    """Three-class sentiment with calibrated probabilities."""

    version: str

    def predict(self, texts: list[str], embeddings: np.ndarray, languages: list[str]) -> list[dict[str, float]]:
        """One {negative, neutral, positive} probability dict per text (each sums to 1)."""
        ...


encoders = Registry(
    "encoder",
    {
        "sentence-transformers": "nlp.encoders.sentence_transformer:SentenceTransformerEncoder",
        "onnx": "nlp.encoders.onnx_int8:OnnxEncoder",
        "static": "nlp.encoders.static:StaticEncoder",
    },
    group="dangol.encoders",
)

classifiers = Registry(
    "sentiment classifier",
    {
        "head": "nlp.sentiment:HeadSentimentClassifier",
        "huggingface": "nlp.sentiment:HuggingFaceSentimentClassifier",
    },
    group="dangol.classifiers",
)


@dataclass(slots=True)
class PostText:
    """What the analyzer needs to know of one post."""

    post_id: int
    text: str
    platform: str
    created_at: datetime
    lang_hint: str | None = None
    followers: int | None = None
    engagement: int = 0
    customer_tier: str | None = None
    # The customer's value score (storage.customer_scores), when computed; else risk uses the tier.
    customer_value: float | None = None
    is_retweet: bool = False
    is_quote: bool = False
    referenced_id: str | None = None
    external_id: str = ""
    # A review's star rating (1–5, `metrics["rating"]`), mixed into its sentiment (nlp.rating).
    rating: int | None = None


@dataclass(slots=True)
class Understanding:
    """What the analyzer concluded about one post, with the versions of the models used."""

    post_id: int
    language: str
    sentiment: str
    sentiment_probs: dict[str, float]
    topics: dict[str, float]
    primary_topic: str
    is_complaint: bool
    is_question: bool
    is_spam: bool
    risk: float
    risk_breakdown: dict[str, Any]
    embedding: np.ndarray
    text_hash: str
    cluster_key: str
    model_versions: dict[str, str] = field(default_factory=dict)
    # complaint | question | praise | suggestion | other (nlp/intent.py); is_complaint is intent == complaint.
    intent: str = "other"


@dataclass(slots=True)
class KnownCustomer:
    """A customer as the linker sees it: names, handles, e-mail, order numbers, tier."""

    customer_id: int
    name: str
    email: str | None = None
    tier: str = "standard"
    handles: dict[str, list[str]] = field(default_factory=dict)  # platform -> handles
    order_numbers: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LinkCandidate:
    """A proposed link from an author to a customer, with how and how sure."""

    customer_id: int
    method: str  # platform_id | handle | email | order | fuzzy_name
    confidence: float
    evidence: str
