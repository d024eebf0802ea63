"""The encoder exported to ONNX and quantized to int8 (per-channel, dynamic).

`export_onnx(out_dir)` (CLI: `dangol nlp export-onnx`) writes `model.onnx` (fp32),
`model.int8.onnx` and the tokenizer files into one folder, then checks that the int8 vectors
stay within cosine 0.98 of the torch fp32 ones. `OnnxEncoder` runs the int8 model with ONNX
Runtime: mean pooling over the attention mask, then L2 normalisation, as sentence-transformers does.
A packaged model (`nlp.encoders.base.TRAITS`) is exported on first use when its folder is missing,
or holds another model's export or one quantized by another recipe (which blocks stay fp32).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dangol.core.errors import AnalysisError
from nlp.encoders.base import (
    DEFAULT_ONNX_DIR,
    PACKAGED_MODEL,
    TRAITS,
    ModelTraits,
    encoder_options,
    l2_normalise,
    model_label,
    model_name,
    model_traits,
    publish_folder,
    resolve_model_path,
)
from nlp.encoders.sentence_transformer import SentenceTransformerEncoder

if TYPE_CHECKING:
    from dangol.core.settings import Settings

log = logging.getLogger(__name__)

INT8_FILE = "model.int8.onnx"
FP32_FILE = "model.onnx"
INFO_FILE = "export.json"
MIN_COSINE = 0.98


def is_exported(folder: Path) -> bool:
    """True when `folder` holds a finished export (int8 model, tokenizer and export.json)."""
    return (folder / INT8_FILE).is_file() and (folder / "tokenizer.json").is_file() and (folder / INFO_FILE).is_file()


def exported_as(folder: Path, model: str) -> bool:
    """True when `folder` holds a finished export of `model` (for the tuned model, of the shipped
    adapter): an export of another model or adapter is stale and is exported again."""
    if not is_exported(folder):
        return False
    info = json.loads((folder / INFO_FILE).read_text())
    # An export quantized by an earlier recipe (other blocks kept fp32) is exported again as well.
    return bool(info.get("model") == model_label(model) and info.get("quantization") == quantization(model))


class OnnxEncoder:
    """int8 MiniLM on ONNX Runtime; same interface and (to cosine >= 0.98) same vectors as the torch one."""

    def __init__(self, folder: Path | str = DEFAULT_ONNX_DIR, batch_size: int = 64, max_length: int = 128) -> None:
        folder = Path(folder)
        if not is_exported(folder):
            raise AnalysisError(f"no ONNX export in {folder}; create it with `dangol nlp export-onnx --out {folder}`")
        info = json.loads((folder / INFO_FILE).read_text())
        self._session = int8_session(folder)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = load_tokenizer(folder, max_length)
        # `token_counts` lifts the cut for one call; the lock keeps an `encode` from running meanwhile.
        self._tokenizer_lock = threading.Lock()
        self.batch_size = batch_size
        self.max_length = max_length
        self.dim = int(info["dim"])
        # e5 models were trained with "query: " / "passage: " in front of every text.
        self.prefix = str(info.get("prefix", ""))
        self.blind_languages = frozenset(info.get("blind_languages", []))
        # A packaged model's calibration comes from this release's TRAITS, not from when it was exported.
        name = model_name(str(info["model"]))
        self.zero_shot = (
            TRAITS[name].zero_shot if name in TRAITS else tuple(info.get("zero_shot", ModelTraits.zero_shot))
        )
        self.version = f"onnx-int8:{info['model']}"
        # How the export was quantized (an export of before 2026-12-06 does not say): caches of vectors key on it.
        self.quantization: str | None = info.get("quantization")

    @classmethod
    def from_settings(cls, settings: Settings) -> OnnxEncoder:
        """Build from `[nlp.encoder]` (`onnx_dir`, `batch_size`, `max_length`)."""
        opts = encoder_options(settings)
        folder = Path(opts.onnx_dir)
        ensure_exported(folder, opts.model)
        return cls(folder, batch_size=opts.batch_size, max_length=opts.max_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = np.argsort([len(t) for t in texts])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def token_counts(self, texts: list[str]) -> list[int]:
        """The tokens each text becomes before `max_length` cuts it (prefix and special tokens included)."""
        if self.prefix:
            texts = [self.prefix + t for t in texts]
        with self._tokenizer_lock:
            self._tokenizer.no_truncation()
            try:
                encodings = self._tokenizer.encode_batch(texts)
            finally:
                self._tokenizer.enable_truncation(self.max_length)
        return [sum(e.attention_mask) for e in encodings]

    def model_inputs(self, texts: list[str]) -> dict[str, np.ndarray]:
        """One batch as the model reads it: prefixed, cut at `max_length`, padded to its longest."""
        if self.prefix:
            texts = [self.prefix + t for t in texts]
        with self._tokenizer_lock:
            encodings = self._tokenizer.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        batch = self.model_inputs(texts)
        hidden = self._session.run(None, {k: v for k, v in batch.items() if k in self._inputs})[0]
        mask = batch["attention_mask"][:, :, np.newaxis].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return l2_normalise(pooled)


def ensure_exported(folder: Path, model: str) -> None:
    """Export a packaged `model` to int8 ONNX in `folder` on first use (about a minute); any other
    model must have been exported by `dangol nlp export-onnx`."""
    if model in TRAITS and not exported_as(folder, model):
        log.warning("exporting %s to int8 ONNX in %s (once, about a minute)", model, folder)
        export_onnx(folder, model)


def int8_session(folder: Path) -> Any:
    """An ONNX Runtime session of the int8 model in `folder`, on the CPU, all graph optimisations on."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle intra-op threads sleep instead of spinning: on a shared machine spinning burns the
    # cores other processes wait for. Same texts, batches interleaved, load ~10: 29 % less CPU
    # per post and no slower (BENCHMARKS.md, Pipeline); on a quiet machine equal speed.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(folder / INT8_FILE), options, providers=["CPUExecutionProvider"])


def load_tokenizer(folder: Path, max_length: int) -> Any:
    """The export's tokenizer.json through the `tokenizers` library, set as `AutoTokenizer` is for a
    padded, cut batch (same ids, `tests/nlp/test_onnx_tokenizer.py`). `AutoTokenizer` would import
    transformers and with it torch: ~250 MiB of a worker's RSS for nothing the worker runs."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    pad = json.loads((folder / "tokenizer_config.json").read_text())["pad_token"]
    pad = pad["content"] if isinstance(pad, dict) else pad
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad), pad_token=pad)
    tokenizer.enable_truncation(max_length)
    return tokenizer


def export_onnx(out_dir: Path, model: str = PACKAGED_MODEL, check_texts: list[str] | None = None) -> dict[str, Any]:
    """Export `model` to ONNX, quantize it to int8 and check it; returns what export.json records.

    The export is written beside `out_dir` and moved into place only once it passed its check, so a
    worker never reads half an export, and two processes exporting at once do not mix files."""

    def build(staging: Path) -> dict[str, Any]:
        info = _export_into(staging, model, check_texts)
        (staging / FP32_FILE).unlink()  # only the int8 model is read; the fp32 one is ~4x larger
        return info

    return publish_folder(out_dir, build, done=lambda folder: exported_as(folder, model))


def _export_into(out_dir: Path, model: str, check_texts: list[str] | None) -> dict[str, Any]:
    info = export_int8(out_dir, model, model_traits(model).fp32_blocks)
    info["min_cosine"] = check_export(out_dir, model, check_texts or DEFAULT_CHECK_TEXTS)
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2))
    if info["min_cosine"] < MIN_COSINE:
        (out_dir / INFO_FILE).unlink()  # an export that fails the check must not be picked up
        raise AnalysisError(f"int8 export drifted: min cosine {info['min_cosine']:.4f} < {MIN_COSINE}; not used")
    return info


def export_int8(out_dir: Path, model: str, fp32_blocks: frozenset[int] | None) -> dict[str, Any]:
    """`model` exported to fp32 ONNX (`FP32_FILE`, left for the caller), quantized with `fp32_blocks`
    kept fp32 (`INT8_FILE`), its tokenizer and export.json, in `out_dir`; what export.json says."""
    dim = export_fp32(out_dir, model)
    quantize_int8(out_dir / FP32_FILE, out_dir / INT8_FILE, fp32_blocks)
    return write_info(out_dir, model, dim, fp32_blocks)


def export_fp32(out_dir: Path, model: str) -> int:
    """`model` as an fp32 ONNX graph (`FP32_FILE`) with its tokenizer files, in `out_dir`; its width."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    source = resolve_model_path(model)
    tokenizer = AutoTokenizer.from_pretrained(source)
    transformer = AutoModel.from_pretrained(source).eval()
    sample = tokenizer(["an example post", "another one"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"last_hidden_state": {0: "batch", 1: "tokens"}}

    class Wrapped(torch.nn.Module):
        # Keyword arguments: the model's positional order changes between transformers versions.
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *tensors: Any) -> Any:
            return self.inner(**dict(zip(names, tensors, strict=True))).last_hidden_state

    # The tracer's notices (legacy exporter, data-dependent branches fixed at trace time) do not
    # apply to this model's dynamic axes; the cosine check after quantizing is what proves the export.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapped().eval(),
            tuple(sample[n] for n in names),
            str(out_dir / FP32_FILE),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    tokenizer.save_pretrained(str(out_dir))
    return int(transformer.config.hidden_size)


def write_info(out_dir: Path, model: str, dim: int, fp32_blocks: frozenset[int] | None) -> dict[str, Any]:
    """export.json: what `OnnxEncoder` reads of the model besides its weights, and how it was
    quantized (`fp32_blocks` as `quantize_int8` took them); returned as written."""
    traits = model_traits(model)
    info: dict[str, Any] = {
        "model": model_label(model),
        "dim": dim,
        "prefix": traits.prefix,
        "blind_languages": sorted(traits.blind_languages),
        "zero_shot": list(traits.zero_shot),
        "quantization": describe_quantization(fp32_blocks),
    }
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2))
    return info


def quantization(model: str) -> str:
    """How `model`'s export is quantized, as export.json records it (an export made otherwise is stale)."""
    return describe_quantization(model_traits(model).fp32_blocks)


def describe_quantization(fp32_blocks: frozenset[int] | None) -> str:
    """The recipe of `quantize_int8` with `fp32_blocks`, in words."""
    if fp32_blocks is None:
        kept = "every block"
    else:
        kept = ("block " + ", ".join(str(b) for b in sorted(fp32_blocks))) if fp32_blocks else "none"
    return f"dynamic int8 per-channel MatMul and word embeddings; feed-forward outputs fp32: {kept}"


def quantize_int8(fp32: Path, out: Path, fp32_blocks: frozenset[int] | None) -> None:
    """Dynamic int8 (per-channel weights) of every MatMul and of the word-embedding table, except the
    feed-forward output projections of `fp32_blocks` (all of them when None), which stay fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    outputs = feed_forward_outputs(fp32)
    root = logging.getLogger()
    root.addFilter(_no_preprocessing_advice)
    try:
        quantize_dynamic(
            str(fp32),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # Gather: the word-embedding table, most of e5's size (250k tokens x 384) and memory.
            op_types_to_quantize=["MatMul", "Gather"],
            nodes_to_exclude=[name for block, name in outputs.items() if fp32_blocks is None or block in fp32_blocks],
        )
    finally:
        root.removeFilter(_no_preprocessing_advice)


def _no_preprocessing_advice(record: logging.LogRecord) -> bool:
    """False for ONNX Runtime's advice to pre-process before quantizing (a root-logger WARNING with
    a link, printed at every first-use export): it is about static quantization of vision models,
    and the cosine check after quantizing is what proves this export."""
    return not record.getMessage().startswith("Please consider to run pre-processing before quantization")


def feed_forward_outputs(path: Path) -> dict[int, str]:
    """Block number -> name of the MatMul of its feed-forward output projection. Their inputs carry
    the large outlier activations BERT models are known for, in some blocks far more than others:
    with all twelve of e5's int8, min cosine to fp32 is still 0.990 (500 tweets, 500 Korean reviews)
    but TweetEval macro-recall dropped 0.55 points through the pipeline, and block 4 alone makes
    most of that drift (BENCHMARKS.md, NLP, 2026-12-06)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    found = {}
    for node in graph.node:
        match = _FEED_FORWARD_OUTPUT.search(node.name)
        if node.op_type == "MatMul" and match:
            found[int(match.group(1))] = node.name
    return found


# BERT's ONNX node names: ".../encoder/layer.4/output/dense/MatMul" (the attention's output
# projection is ".../layer.4/attention/output/dense/MatMul").
_FEED_FORWARD_OUTPUT = re.compile(r"/layer\.(\d+)/output/dense/")


def check_export(out_dir: Path, model: str, texts: list[str]) -> float:
    """The smallest cosine between int8 ONNX and torch fp32 embeddings of `texts`."""
    reference = SentenceTransformerEncoder(model).encode(texts)
    candidate = OnnxEncoder(out_dir).encode(texts)
    return float(np.min(np.sum(reference * candidate, axis=1)))


DEFAULT_CHECK_TEXTS = [
    "My latte was cold again and nobody answered my DM",
    "Thanks for the quick refund, great service!",
    "What time does the Gangnam store open on Sunday?",
    "배달이 너무 늦어요. 환불해 주세요",
    "직원분이 친절하고 커피도 맛있어요",
    "Il caffè era freddo oggi",
]
