"""Low-rank adapters merged into an encoder's weights: what `nlp.finetune` trains, read at serving time.

An adapter file (.npz, no pickle) holds, for each adapted linear layer, the factors A (rank x in)
and B·scale (out x rank) in float16, and a JSON `meta` entry with the recipe and a content-hash
`version`. Merging adds B·A to the layer's weight once, so the adapted model runs exactly as fast
as the original and exports to ONNX like any other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def apply_adapter(model: Any, path: Path) -> dict[str, Any]:
    """Merge the adapter at `path` into `model`'s weights in place; returns its metadata."""
    import torch

    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        names = sorted({k.split("::")[0] for k in data.files if "::" in k})
        with torch.no_grad():
            for name in names:
                linear = model.get_submodule(name)
                delta = data[f"{name}::b"].astype(np.float32) @ data[f"{name}::a"].astype(np.float32)
                linear.weight += torch.from_numpy(delta)
    return dict(meta)


def adapter_digest(arrays: dict[str, np.ndarray]) -> str:
    """An adapter's version: a hash of its factor arrays, so the same weights always get the same one."""
    import hashlib

    return hashlib.sha256(b"".join(arrays[k].tobytes() for k in sorted(arrays))).hexdigest()[:12]


def scale_adapter(source: Path, scale: float, out: Path) -> dict[str, Any]:
    """Write to `out` the adapter at `source` with its update multiplied by `scale` (0..1): the model
    halfway (at 0.5) between the original weights and the fine-tuned ones in weight space. Such an
    interpolation keeps most of what fine-tuning taught while moving the embedding geometry (which
    topics, intent and duplicates read by closeness) less (nlp/models/MODEL_CARD.md).
    Returns the new metadata: a version of its own, and the source's version and the scale."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], not {scale}")
    with np.load(source, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        arrays = {k: data[k] for k in data.files if k != "meta"}
    for key in arrays:
        if key.endswith("::b"):  # B carries the update's scale; A stays as trained
            arrays[key] = (arrays[key].astype(np.float32) * scale).astype(arrays[key].dtype)
    meta = {**meta, "version": adapter_digest(arrays), "scaled_from": meta["version"], "scale": scale}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays, meta=np.array(json.dumps(meta)))  # type: ignore[arg-type]
    return dict(meta)


def merge_adapter(base_dir: Path, adapter: Path, out_dir: Path) -> dict[str, Any]:
    """Write into `out_dir` the model of `base_dir` with `adapter` merged into its weights (the
    tokenizer and every other file copied as they are); returns the adapter's metadata."""
    import shutil

    from transformers import AutoModel

    for item in base_dir.iterdir():
        if item.is_file():
            shutil.copy2(item, out_dir / item.name)
    model = AutoModel.from_pretrained(str(base_dir))
    meta = apply_adapter(model, adapter)
    model.save_pretrained(str(out_dir))
    (out_dir / "adapter.json").write_text(json.dumps(meta, indent=2))
    return meta


def adapter_version(path: Path) -> str | None:
    """The adapter's content hash (part of the encoder version), or None when there is none."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return str(json.loads(str(data["meta"]))["version"])
