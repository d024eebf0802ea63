"""The `fast` profile's encoder: a static token table distilled from the default encoder.

`[nlp] profile = "fast"` (or `[nlp.encoder] use = "static"`) encodes a post as the normalised sum
of its tokens' rows in a table built once from the default encoder (`static_build`: each token
through e5, PCA to 256 dimensions, SIF-weighted). Tokenizing is the whole cost: thousands of posts
a second on one core instead of ~80, for a few points of sentiment accuracy (MODEL_CARD.md).

The table is built on first use into `static_dir` (about two minutes on 2 cores, from a teacher
export of its own: `static_build`) or by `dangol nlp build-static`. Its version carries a digest of the
token ids, the PCA projection (shipped with the vocabulary, so every CPU's table has the same
columns) and the recipe, so heads trained on one table are refused with another
(`HeadSentimentClassifier.check_encoder`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dangol.core.errors import AnalysisError
from nlp.encoders.base import (
    DEFAULT_STATIC_DIR,
    encoder_options,
    l2_normalise,
    model_label,
    publish_folder,
)
from nlp.encoders.static_build import BUILD_VERSION, INDEX_FILE, INFO_FILE, TABLE_FILE, TOKENIZER_FILE

if TYPE_CHECKING:
    from dangol.core.settings import Settings

log = logging.getLogger(__name__)

STATIC_SUFFIX = "-static"
# Topic zero-shot calibration of the static table, measured as e5's was (`python -m
# bench.topic_midpoint --profile fast`): the 90th percentile of the best topic cosine of off-topic
# text is 0.587 for TweetEval neutral tweets and 0.269 for NSMC reviews (e5: 0.856 and 0.884), so
# the midpoint is 0.59. Off-topic tweets' median is 0.489, 0.10 below it (e5's ~0.03 below its own):
# the slope is 15 where e5's is 50, so that median scores the same (~0.18) under both.
STATIC_ZERO_SHOT = (0.59, 15.0)


def built_from(folder: Path, teacher: str) -> bool:
    """True when `folder` holds a finished table of `teacher` (the tuned model: of the shipped adapter)."""
    info = folder / INFO_FILE
    if not (info.is_file() and (folder / TABLE_FILE).is_file() and (folder / INDEX_FILE).is_file()):
        return False
    data = json.loads(info.read_text())
    return bool(data.get("teacher") == model_label(teacher) and data.get("build_version") == BUILD_VERSION)


def ensure_static(folder: Path, teacher: str) -> Path:
    """The table folder for `teacher`, built on first use (from a teacher export of its own)."""
    from nlp.encoders.static_build import build_from_teacher

    if not built_from(folder, teacher):
        log.warning("building the static table of %s in %s (once, about two minutes)", teacher, folder)
        publish_folder(
            folder, lambda staging: build_from_teacher(staging, teacher), done=lambda f: built_from(f, teacher)
        )
    return folder


class StaticEncoder:
    """Sum of SIF-weighted, PCA-reduced token rows, L2-normalised; the Encoder interface."""

    def __init__(self, folder: Path | str = DEFAULT_STATIC_DIR, batch_size: int = 1024, max_length: int = 256) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        if not (folder / INFO_FILE).is_file():
            raise AnalysisError(f"no static table in {folder}; build it with `dangol nlp build-static`")
        info = json.loads((folder / INFO_FILE).read_text())
        self._table = np.load(folder / TABLE_FILE).astype(np.float32)
        self._index = np.load(folder / INDEX_FILE)
        self._tokenizer: Any = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.batch_size = batch_size
        self.max_length = max_length
        self.dim = int(self._table.shape[1])
        # No "query: " prefix: the table's tokens were encoded alone, and a constant prefix would
        # add the same rows to every post.
        self.prefix = ""
        self.blind_languages: frozenset[str] = frozenset()
        # Korean posts sit far from every topic's prototypes in the table's space (the best topic
        # cosine of the demo's Korean posts is 0.10-0.27, of off-topic NSMC reviews up to 0.27):
        # their topics come from characters (nlp.topics, as for a language an encoder cannot read).
        self.lexical_topic_languages = frozenset({"ko"})
        self.zero_shot = STATIC_ZERO_SHOT
        self.version = f"static:{info['teacher']}{STATIC_SUFFIX}@{info['digest']}"

    @classmethod
    def from_settings(cls, settings: Settings) -> StaticEncoder:
        """Build from `[nlp.encoder]` (`model` the teacher, `static_dir`, `static_max_length`)."""
        opts = encoder_options(settings)
        folder = ensure_static(Path(opts.static_dir), opts.model)
        return cls(folder, batch_size=opts.batch_size, max_length=opts.static_max_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text (a text of no known token is all zeros)."""
        from scipy.sparse import csr_matrix

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        rows = [self._index[np.asarray(e.ids[: self.max_length], dtype=np.int64)] for e in encodings]
        lengths = np.array([len(r) for r in rows])
        cols = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
        post = np.repeat(np.arange(len(texts)), lengths)
        known = cols >= 0
        # Each post's row counts of its known tokens, times the table: one sparse product.
        counts = csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (post[known], cols[known])),
            shape=(len(texts), len(self._table)),
        )
        return l2_normalise(np.asarray(counts @ self._table))

    def token_counts(self, texts: list[str]) -> list[int]:
        """The tokens each text becomes before `max_length` cuts it."""
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]
