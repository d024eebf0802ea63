"""The encoder run by sentence-transformers with torch in float32 (`[nlp.encoder] use = "sentence-transformers"`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from dangol.core.errors import AnalysisError
from nlp.encoders.base import (
    PACKAGED_MODEL,
    encoder_options,
    l2_normalise,
    model_label,
    model_traits,
    resolve_model_path,
)

if TYPE_CHECKING:
    from dangol.core.settings import Settings


class SentenceTransformerEncoder:
    """A sentence-transformers model run with torch in float32."""

    def __init__(self, model: str = PACKAGED_MODEL, batch_size: int = 64, max_length: int = 128) -> None:
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(model)
        try:
            self._model: Any = SentenceTransformer(path, device="cpu")
        except (OSError, ValueError) as exc:
            raise AnalysisError(
                f"could not load encoder model {model!r}: {exc}; give a packaged name "
                f"({PACKAGED_MODEL!r}), a Hugging Face id available offline, or a local directory"
            ) from exc
        self._model.max_seq_length = max_length
        self.batch_size = batch_size
        traits = model_traits(model)
        self.prefix = traits.prefix
        self.blind_languages = traits.blind_languages
        self.zero_shot = traits.zero_shot
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise AnalysisError(
                f"encoder model {model!r} does not say its embedding size; it is not a sentence encoder"
            )
        self.dim = int(dim)
        self.version = f"st:{model_label(model)}"

    @classmethod
    def from_settings(cls, settings: Settings) -> SentenceTransformerEncoder:
        """Build from `[nlp.encoder]`."""
        opts = encoder_options(settings)
        return cls(opts.model, batch_size=opts.batch_size, max_length=opts.max_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text, computed in batches."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            [self.prefix + t for t in texts],
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return l2_normalise(vectors)
