"""Each distinct text reaches the encoder once, in one call per batch, and comes back in place."""

from __future__ import annotations

import numpy as np

from nlp.encoders.cache import CachedEncoder


class CountingEncoder:
    version = "counting-1"
    dim = 4

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.asarray([[len(t), t.count("a"), t.count("e"), 1.0] for t in texts], dtype=np.float32)


def test_repeated_texts_are_encoded_once_and_returned_in_order() -> None:
    inner = CountingEncoder()
    cached = CachedEncoder(inner)
    texts = ["the app crashed", "RT same", "the app crashed", "late again", "the app crashed"]
    out = cached.encode(texts)
    assert inner.calls == [["the app crashed", "RT same", "late again"]]
    np.testing.assert_array_equal(out, inner.encode(texts))
    assert (cached.hits, cached.misses) == (2, 3)


def test_a_later_batch_reuses_what_an_earlier_one_encoded_and_sends_only_new_texts() -> None:
    inner = CountingEncoder()
    cached = CachedEncoder(inner)
    cached.encode(["a", "b"])
    cached.encode(["b", "c", "a"])
    assert inner.calls == [["a", "b"], ["c"]]
    cached.encode(["a", "b"])
    assert len(inner.calls) == 2  # nothing new: no encoder call at all


def test_the_oldest_texts_leave_a_full_cache_first() -> None:
    inner = CountingEncoder()
    cached = CachedEncoder(inner, max_texts=2)
    cached.encode(["a", "b"])
    cached.encode(["a"])  # "a" used again: "b" is now the oldest
    cached.encode(["c"])
    cached.encode(["a", "b"])
    assert inner.calls[-1] == ["b"]


def test_the_wrapped_encoders_traits_show_through() -> None:
    assert CachedEncoder(CountingEncoder()).version == "counting-1"


def test_forget_drops_only_the_named_texts() -> None:
    inner = CountingEncoder()
    cached = CachedEncoder(inner)
    cached.encode(["a", "b", "c"])
    cached.forget(["b", "never seen"])
    cached.encode(["a", "b", "c"])
    assert inner.calls == [["a", "b", "c"], ["b"]]
