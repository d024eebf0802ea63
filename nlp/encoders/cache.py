"""Encode each distinct text once: within a batch and, for a worker's lifetime, across batches.

Retweets, copy-paste campaigns and bot waves repeat texts (the demo's 40 clustered complaints are
33 distinct texts); the encoder is the cost of analysis, so a text already encoded reuses its
vector. Keys are the exact text the encoder receives (a digest, so the cache holds no post text);
the cache belongs to one encoder instance, so a changed model never serves an old vector.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np

from nlp.base import Encoder

# About 1.5 KB a 384-dimension vector: 20,000 texts are ~30 MB of a worker's memory.
DEFAULT_MAX_TEXTS = 20_000


class CachedEncoder:
    """An encoder that sends only texts it has not seen to the wrapped encoder, in one call."""

    def __init__(self, inner: Encoder, max_texts: int = DEFAULT_MAX_TEXTS) -> None:
        self.inner = inner
        self.max_texts = max_texts
        self._vectors: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __getattr__(self, name: str) -> Any:
        # version, dim, prefix, blind_languages, zero_shot…: whatever the wrapped encoder says.
        return getattr(self.inner, name)

    def forget(self, texts: Iterable[str]) -> None:
        """Drop the vectors of `texts`, if held."""
        for text in texts:
            self._vectors.pop(_key(text), None)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of shape (len(texts), dim), each distinct unseen text encoded once."""
        if not texts:
            return np.asarray(self.inner.encode([]), dtype=np.float32)
        keys = [_key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}
        self.misses += len(todo)
        self.hits += len(texts) - len(todo)
        if todo:
            vectors = np.asarray(self.inner.encode(list(todo.values())), dtype=np.float32)
            self._vectors.update(zip(todo, vectors, strict=True))
        out = np.stack([self._vectors[k] for k in keys])
        for key in dict.fromkeys(keys):  # most recently used last: the oldest go first when full
            self._vectors.move_to_end(key)
        while len(self._vectors) > self.max_texts:
            self._vectors.popitem(last=False)
        return out


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
