"""Near-duplicate grouping: retweets, quotes and copy-paste campaigns become one cluster.

A new post joins, in this order: the cluster of the post it references (retweet/quote), the
cluster of a post with the same normalized text (URLs, mentions, "RT", punctuation, spacing and
case removed), the cluster of the most similar embedding at or above the threshold whose text
also shares most of its characters (`MIN_CHAR_SIMILARITY`: a copy-paste with edits, not two
people writing about the same thing; a multilingual encoder puts "the app logs me out" and "the
app crashes at login" close together). Candidates are the recent ClusterMembers and the earlier
posts of the same batch. Otherwise it starts its
own cluster. Keys are deterministic: the key of the cluster joined, else "r:<platform>:<id>" for a
reference to an unseen post, else "p:<post_id>". Very short texts ("thanks!") are never grouped
by text: two people saying the same two words are not a campaign.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dangol.core.types import ClusterMember
from nlp.base import analysis_text

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_RT = re.compile(r"^\s*rt\b\s*:?", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")
# Normalized texts shorter than this are not grouped by hash or embedding.
MIN_GROUP_CHARS = 20
# Character similarity (rapidfuzz ratio, 0-100, of the normalized texts) an embedding match needs.
# Measured on the demo posts with e5: an edited copy scores 91; posts of different people from one
# template that e5 puts at cosine 0.95-0.99 score below 80.
MIN_CHAR_SIMILARITY = 80.0


def normalize_text(text: str) -> str:
    """The text reduced to what a copy-paste keeps: no URLs, mentions, RT, punctuation; lower case."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _URL.sub(" ", text)
    text = _RT.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def text_hash(text: str) -> str:
    """A stable 20-hex-digit hash of the normalized text."""
    return hashlib.sha1(normalize_text(text).encode("utf-8")).hexdigest()[:20]


@dataclass(slots=True)
class DedupItem:
    """What grouping needs of one new post."""

    post_id: int
    platform: str
    text: str
    referenced_id: str | None = None
    language: str = ""
    external_id: str = ""


def cluster_keys(
    items: list[DedupItem],
    embeddings: np.ndarray,
    recent: list[ClusterMember],
    threshold: float,
    blind_languages: frozenset[str] = frozenset(),
) -> tuple[list[str], list[str]]:
    """The text hash and the cluster key of each item, in order (see the module docstring); items in
    `blind_languages` (which the encoder cannot read) are grouped by exact text only."""
    normalized = [normalize_text(item.text) for item in items]
    hashes = [hashlib.sha1(n.encode("utf-8")).hexdigest()[:20] for n in normalized]
    by_reference = {(m.platform, m.external_id): m.cluster_key for m in recent}
    by_hash: dict[str, str] = {}
    for member in recent:
        by_hash.setdefault(member.text_hash, member.cluster_key)
    recent_sims = _similarities(embeddings, recent)
    batch_sims = embeddings @ embeddings.T if len(items) else np.zeros((0, 0), dtype=np.float32)
    keys: list[str] = []
    # Clusters opened by a retweet or quote that arrived before its original: "r:<platform>:<id>".
    opened_for = {m.cluster_key for m in recent if m.cluster_key.startswith("r:")}

    @functools.cache
    def recent_text(j: int) -> str:
        # Normalized once per call, and only for members an embedding match brings up; cut like
        # the texts the analyzer reads, so a 300 KB post costs no more here than there.
        return normalize_text(analysis_text(recent[j].text))

    for i, item in enumerate(items):
        groupable = len(normalized[i]) >= MIN_GROUP_CHARS
        key = _referenced_key(item, by_reference)
        waiting = f"r:{item.platform}:{item.external_id}"
        if key is None and item.external_id and waiting in opened_for:
            key = waiting
        if key is None and groupable:
            key = by_hash.get(hashes[i])
            if key is None and item.language not in blind_languages:
                key = _similar_key(i, recent_sims, batch_sims, recent, keys, threshold, normalized, recent_text)
        if key is None:
            key = f"r:{item.platform}:{item.referenced_id}" if item.referenced_id else f"p:{item.post_id}"
        if item.referenced_id:
            by_reference.setdefault((item.platform, item.referenced_id), key)
        if key.startswith("r:"):
            opened_for.add(key)
        if groupable:
            by_hash.setdefault(hashes[i], key)
        keys.append(key)
    return hashes, keys


def _similarities(embeddings: np.ndarray, recent: list[ClusterMember]) -> np.ndarray:
    """Cosine similarity of each new embedding to each recent member's (rows are unit length)."""
    if not recent or not len(embeddings):
        return np.zeros((len(embeddings), 0), dtype=np.float32)
    matrix = np.stack([np.asarray(m.embedding, dtype=np.float32) for m in recent])
    return embeddings @ matrix.T


def _referenced_key(item: DedupItem, by_reference: dict[tuple[str, str], str]) -> str | None:
    if not item.referenced_id:
        return None
    return by_reference.get((item.platform, item.referenced_id))


def _similar_key(
    i: int,
    recent_sims: np.ndarray,
    batch_sims: np.ndarray,
    recent: list[ClusterMember],
    earlier_keys: list[str],
    threshold: float,
    normalized: list[str],
    recent_text: Callable[[int], str],
) -> str | None:
    """The key of the most similar recent member or earlier batch item at or above `threshold`
    whose text is also a near copy (MIN_CHAR_SIMILARITY)."""
    from rapidfuzz import fuzz

    # A copy-paste wave puts dozens of recent members above the threshold, and the most similar is
    # nearly always the one that matches: candidates are ordered as arrays and their texts are
    # normalized only when reached (a tuple and a closure per candidate were a tenth of grouping).
    near_recent = np.flatnonzero(recent_sims[i] >= threshold) if recent_sims.shape[1] else np.zeros(0, dtype=np.intp)
    near_batch = np.flatnonzero(batch_sims[i, :i] >= threshold) if i else np.zeros(0, dtype=np.intp)
    if not len(near_recent) and not len(near_batch):
        return None
    similarity = np.concatenate([recent_sims[i, near_recent], batch_sims[i, near_batch]])
    # Most similar first; among equals a recent member before a batch item (a stable sort of the
    # recent members followed by the batch items).
    for place in np.argsort(-similarity, kind="stable").tolist():
        if place < len(near_recent):
            j = int(near_recent[place])
            key, text = recent[j].cluster_key, recent_text(j)
        else:
            j = int(near_batch[place - len(near_recent)])
            key, text = earlier_keys[j], normalized[j]
        if fuzz.ratio(normalized[i], text) >= MIN_CHAR_SIMILARITY:
            return key
    return None


@dataclass(slots=True)
class Written:
    """A post for `regroup`: its grouping item, embedding, member entry and writing order."""

    item: DedupItem
    embedding: np.ndarray
    member: ClusterMember
    order: tuple[object, int]  # (created_at, post id): who wrote first


def regroup(
    starters: list[Written], window: list[Written], threshold: float, blind_languages: frozenset[str] = frozenset()
) -> dict[str, str]:
    """Cluster key → the key it should merge into: a starter is a post that began a cluster
    ("p:<post id>") although another worker may have been analyzing a copy of it at the same
    moment, each unseen by the other. Each starter is grouped again against the other posts of
    `window` (written before or after it: the other worker's copy may be the later one, and its
    cluster already routed); the clusters of starters that find one are returned (their other
    posts go with them). Starters are taken oldest first and never join a starter's cluster begun
    after theirs (that one comes to them), and each move is seen by the next, so a chain of
    copies ends in the cluster begun first."""
    moves: dict[str, str] = {}
    ordered = sorted(starters, key=lambda s: s.order)
    # Clusters begun later and not yet routed come to this one when their turn comes.
    later = {f"p:{s.item.post_id}" for s in ordered}
    for starter in ordered:
        own = f"p:{starter.item.post_id}"
        later.discard(own)
        others = [w.member for w in window if w.member.cluster_key != own and w.member.cluster_key not in later]
        if not others:
            continue
        _, (key,) = cluster_keys([starter.item], starter.embedding[np.newaxis, :], others, threshold, blind_languages)
        if key != own and not key.startswith("r:"):
            moves[own] = key
            for w in window:  # later copies in the window join where this cluster went
                if w.member.cluster_key == own:
                    w.member.cluster_key = key
    return moves
