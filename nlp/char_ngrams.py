"""Hashed character n-gram counts for a batch of texts, computed with numpy.

The sentiment heads' character views were scikit-learn `HashingVectorizer`s (analyzer "char" or
"char_wb"): a Python string per n-gram, each encoded to UTF-8 and hashed one at a time, several
hundred per Korean post, the largest part of what `analyze` does besides encoding. Here the
n-grams stay offsets into one UTF-8 buffer of the whole batch and MurmurHash3 (x86, 32-bit, seed
0, as scikit-learn's) runs over all of them at once. The counts are exactly scikit-learn's, bucket
for bucket (`tests/nlp/test_char_ngrams.py` compares them on real and hostile texts), so heads
trained with either read the same features.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

# scikit-learn's own white-space rule for character analyzers (runs of two or more become one space).
_WHITE_SPACES = re.compile(r"\s\s+")
_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
# Texts hashed together: a batch is one piece; a training set of 150,000 reviews is cut into pieces
# so the per-n-gram arrays (~60 bytes an n-gram) stay near 100 MB.
_CHUNK_TEXTS = 4096


def char_ngram_counts(texts: list[str], analyzer: str, ngram_range: tuple[int, int], n_features: int) -> csr_matrix:
    """(len(texts), n_features) counts of hashed n-grams, as `HashingVectorizer(analyzer=analyzer,
    ngram_range=ngram_range, n_features=n_features, alternate_sign=False, norm=None,
    lowercase=False)` gives for already preprocessed `texts`."""
    from scipy.sparse import csr_matrix, vstack

    if analyzer not in ("char", "char_wb"):
        raise ValueError(f"analyzer must be 'char' or 'char_wb', not {analyzer!r}")
    if len(texts) > _CHUNK_TEXTS:
        pieces = range(0, len(texts), _CHUNK_TEXTS)
        return vstack(
            [char_ngram_counts(texts[i : i + _CHUNK_TEXTS], analyzer, ngram_range, n_features) for i in pieces]
        ).tocsr()
    low, high = ngram_range
    segments: list[str] = []
    rows: list[int] = []
    for row, text in enumerate(texts):
        text = _WHITE_SPACES.sub(" ", text)
        if analyzer == "char":
            segments.append(text)
            rows.append(row)
        else:  # n-grams inside each word, the word padded with a space on both sides
            words = [f" {word} " for word in text.split()]
            segments.extend(words)
            rows.extend([row] * len(words))
    lengths = np.fromiter((len(s) for s in segments), dtype=np.int64, count=len(segments))
    starts = np.cumsum(lengths) - lengths
    begin, size, owner = _windows(starts, lengths, np.asarray(rows, dtype=np.int64), low, high, analyzer)
    encoded = "".join(segments).encode("utf-8")
    buffer = np.frombuffer(encoded + b"\0\0\0\0", dtype=np.uint8)
    # Byte offset of every code point (and of the end): where each UTF-8 sequence starts, i.e. every
    # byte that is not a continuation byte (10xxxxxx).
    offsets = np.append(np.flatnonzero((buffer[: len(encoded)] & 0xC0) != 0x80), len(encoded))
    first = offsets[begin]
    hashes = _murmur3(buffer, first, offsets[begin + size] - first)
    buckets = _bucket(hashes, n_features)
    counts = csr_matrix((np.ones(len(buckets), dtype=np.float64), (owner, buckets)), shape=(len(texts), n_features))
    counts.sum_duplicates()
    return counts


def _windows(
    starts: np.ndarray, lengths: np.ndarray, rows: np.ndarray, low: int, high: int, analyzer: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first code point, length, text row) of every n-gram of every segment.

    "char": every window of each length in [low, high] that fits the segment. "char_wb" (a padded
    word): the windows shorter than the word, and the whole word once if it is no longer than
    `high` (scikit-learn counts a word shorter than `low` whole, once)."""
    begin, size, owner = [], [], []
    for n in range(low, high + 1):
        fits = lengths >= n if analyzer == "char" else lengths > n
        count = (lengths - n + 1) * fits
        total = int(count.sum())
        if total:
            ends = np.cumsum(count)
            within = np.arange(total) - np.repeat(ends - count, count)
            begin.append(np.repeat(starts, count) + within)
            size.append(np.full(total, n, dtype=np.int64))
            owner.append(np.repeat(rows, count))
    if analyzer == "char_wb":
        whole = lengths <= high
        begin.append(starts[whole])
        size.append(lengths[whole])
        owner.append(rows[whole])
    if not begin:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(begin), np.concatenate(size), np.concatenate(owner)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _murmur3(buffer: np.ndarray, first: np.ndarray, length: np.ndarray) -> np.ndarray:
    """MurmurHash3_x86_32 with seed 0 of each byte range [first, first + length) of `buffer`
    (which ends in four zero bytes, so a 4-byte read past a range's end stays inside it)."""
    b = buffer.astype(np.uint32)
    # The little-endian 32-bit word starting at each byte.
    words = b[:-3] | (b[1:-2] << np.uint32(8)) | (b[2:-1] << np.uint32(16)) | (b[3:] << np.uint32(24))
    h = np.zeros(len(first), dtype=np.uint32)
    blocks = length // 4
    with np.errstate(over="ignore"):
        for j in range(int(blocks.max()) if len(blocks) else 0):
            active = blocks > j
            k = words[first[active] + 4 * j]
            k = _rotl(k * _C1, 15) * _C2
            mixed = _rotl(h[active] ^ k, 13) * np.uint32(5) + np.uint32(0xE6546B64)
            h[active] = mixed
        tail = (length & 3).astype(np.uint32)
        has_tail = tail > 0
        k = words[first[has_tail] + 4 * blocks[has_tail]]
        k &= (np.uint32(1) << (np.uint32(8) * tail[has_tail])) - np.uint32(1)
        h[has_tail] ^= _rotl(k * _C1, 15) * _C2
        h ^= length.astype(np.uint32)
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    return h


def _bucket(hashes: np.ndarray, n_features: int) -> np.ndarray:
    """scikit-learn's bucket of each hash: |h| mod n_features of the hash read as a signed 32-bit
    integer, with |-2^31| taken as 2^31."""
    signed = hashes.view(np.int32).astype(np.int64)
    return (np.abs(signed) % n_features).astype(np.int32)
