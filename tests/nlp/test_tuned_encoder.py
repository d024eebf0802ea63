"""The tuned e5 (the shipped sentiment adapter merged into the rebuilt weights): built once, built
again when the adapter changes, and exports, caches and heads of another adapter never mixed in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nlp.encoders.adapter import adapter_version, scale_adapter
from nlp.encoders.base import E5_SMALL, E5_TUNED, TUNED_ADAPTER, model_label, rebuilt_e5, tuned_e5
from nlp.encoders.onnx_int8 import INFO_FILE, exported_as, quantization

pytestmark = pytest.mark.slow

LAYER = "encoder.layer.11.output.dense"


def _adapter(path: Path, version: str, scale: float) -> Path:
    """An adapter file in the shipped format that moves one layer by a fixed random update."""
    rng = np.random.default_rng(7)
    meta = {"version": version, "base": E5_SMALL}
    np.savez_compressed(
        path,
        **{
            f"{LAYER}::a": rng.normal(size=(4, 1536)).astype(np.float16),
            f"{LAYER}::b": (rng.normal(size=(384, 4)) * scale).astype(np.float16),
            "meta": np.array(json.dumps(meta)),
        },
    )
    return path


def _weight(folder: Path) -> np.ndarray:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))[f"{LAYER}.weight"]


def test_the_shipped_adapter_is_in_the_package_and_names_the_model_version() -> None:
    version = adapter_version(TUNED_ADAPTER)
    assert version and len(version) == 12
    assert model_label(E5_TUNED) == f"{E5_TUNED}@{version}"
    assert model_label(E5_SMALL) == E5_SMALL


def test_the_tuned_folder_is_the_base_plus_the_adapter_and_follows_a_new_adapter(tmp_path: Path) -> None:
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(rebuilt_e5(), root / E5_SMALL)  # the base, so only the merge runs here
    base = _weight(root / E5_SMALL)
    first = tuned_e5(root, _adapter(tmp_path / "a1.npz", "aaaaaaaaaaaa", 0.01))
    moved = _weight(first)
    assert json.loads((first / "adapter.json").read_text())["version"] == "aaaaaaaaaaaa"
    assert not np.allclose(moved, base) and np.abs(moved - base).max() < 1.0
    again = tuned_e5(root, _adapter(tmp_path / "a2.npz", "bbbbbbbbbbbb", 0.02))
    assert again == first and json.loads((again / "adapter.json").read_text())["version"] == "bbbbbbbbbbbb"
    assert not np.allclose(_weight(again), moved)


def test_an_export_of_another_model_or_adapter_is_stale(tmp_path: Path) -> None:
    folder = tmp_path / "onnx"
    folder.mkdir()
    for name in ("model.int8.onnx", "tokenizer.json"):
        (folder / name).write_text("x")
    (folder / INFO_FILE).write_text(json.dumps({"model": E5_SMALL, "quantization": quantization(E5_SMALL)}))
    assert exported_as(folder, E5_SMALL)
    assert not exported_as(folder, E5_TUNED)
    tuned = quantization(E5_TUNED)
    (folder / INFO_FILE).write_text(json.dumps({"model": f"{E5_TUNED}@000000000000", "quantization": tuned}))
    assert not exported_as(folder, E5_TUNED)
    (folder / INFO_FILE).write_text(json.dumps({"model": model_label(E5_TUNED), "quantization": tuned}))
    assert exported_as(folder, E5_TUNED)


def test_an_export_quantized_by_another_recipe_is_stale(tmp_path: Path) -> None:
    # Exports made before blocks 0, 4 and 5 alone kept their feed-forward output fp32 kept all
    # twelve: they are exported again on first use, not served as if they were today's.
    folder = tmp_path / "onnx"
    folder.mkdir()
    for name in ("model.int8.onnx", "tokenizer.json"):
        (folder / name).write_text("x")
    earlier = "dynamic int8 per-channel MatMul and word embeddings; feed-forward outputs fp32"
    (folder / INFO_FILE).write_text(json.dumps({"model": model_label(E5_TUNED), "quantization": earlier}))
    assert not exported_as(folder, E5_TUNED)
    (folder / INFO_FILE).write_text(json.dumps({"model": model_label(E5_TUNED)}))
    assert not exported_as(folder, E5_TUNED)
    assert quantization(E5_TUNED).endswith("feed-forward outputs fp32: block 0, 4, 5")
    assert quantization(E5_SMALL).endswith("feed-forward outputs fp32: every block")


def _delta(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        return data[f"{LAYER}::b"].astype(np.float32) @ data[f"{LAYER}::a"].astype(np.float32)


def test_a_scaled_adapter_moves_the_weights_part_of_the_way_and_has_a_version_of_its_own(tmp_path: Path) -> None:
    full = _adapter(tmp_path / "full.npz", "aaaaaaaaaaaa", 0.01)
    meta = scale_adapter(full, 0.5, tmp_path / "half.npz")
    assert np.allclose(_delta(tmp_path / "half.npz"), 0.5 * _delta(full), atol=1e-4)
    assert (meta["scaled_from"], meta["scale"]) == ("aaaaaaaaaaaa", 0.5)
    assert adapter_version(tmp_path / "half.npz") == meta["version"] not in ("aaaaaaaaaaaa", None)
    with pytest.raises(ValueError, match="scale"):
        scale_adapter(full, 1.5, tmp_path / "bad.npz")


def test_the_shipped_adapter_is_the_fine_tuned_run_scaled_by_half() -> None:
    # nlp/models/MODEL_CARD.md: halfway in weight space between e5 and the fine-tuned run keeps the
    # topic calibration of e5; the card's figures are for this scale.
    with np.load(TUNED_ADAPTER, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
    assert meta["scale"] == 0.5 and len(meta["scaled_from"]) == 12
