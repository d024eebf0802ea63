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
