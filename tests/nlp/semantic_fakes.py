"""Fakes for the semantic NLP tests: a deterministic bag-of-words encoder and a keyword sentiment.

They implement the Encoder and SentimentClassifier protocols of nlp/base.py, so the analyzer,
topics and dedup logic can be tested quickly; the real model is exercised by the slow tests.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import Any

import numpy as np

NEGATIVE_WORDS = {"late", "cold", "charged", "twice", "refund", "rude", "crash", "crashes", "crashing", "worst",
                  "never", "broken", "lawyer", "sue", "환불", "최악", "늦어요"}  # fmt: skip


class HashingEncoder:
    """Words hashed into `dim` buckets, L2-normalised: texts sharing words are similar."""

    version = "fake:hashing"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.calls: list[int] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class KeywordSentiment:
    """Negative when a negative word occurs, else neutral; probabilities sum to 1."""

    version = "fake:keywords"

    def predict(self, texts: list[str], embeddings: np.ndarray, languages: list[str]) -> list[dict[str, float]]:
        out = []
        for text in texts:
            negative = any(w in text.lower() for w in NEGATIVE_WORDS)
            out.append({"negative": 0.9, "neutral": 0.08, "positive": 0.02} if negative
                       else {"negative": 0.1, "neutral": 0.7, "positive": 0.2})  # fmt: skip
        return out


@cache
def real_encoder() -> Any:
    """The packaged all-MiniLM-L6-v2 through sentence-transformers (offline), loaded once."""
    from nlp.encoders.sentence_transformer import SentenceTransformerEncoder

    return SentenceTransformerEncoder()
