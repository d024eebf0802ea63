"""Low-rank fine-tuning of the e5 encoder (nlp.finetune) on the real rebuilt model, a few rows."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from nlp.encoders.adapter import adapter_version, merge_adapter
from nlp.finetune import EN_CLASSES, KO_CLASSES, Recipe, add_adapters, finetune
from tests.conftest import DATA

pytestmark = pytest.mark.slow


def _rows() -> list[tuple[str, int, str]]:
    rows: list[tuple[str, int, str]] = []
    with (DATA / "nsmc" / "train.tsv").open(newline="", encoding="utf-8") as fh:
        for row in list(csv.DictReader(fh, delimiter="\t"))[:12]:
            rows.append((row["document"], KO_CLASSES.index("positive" if row["label"] == "1" else "negative"), "ko"))
    with (DATA / "demo-sentiment" / "en.csv").open(newline="", encoding="utf-8") as fh:
        for row in list(csv.DictReader(fh))[:12]:
            rows.append((row["text"], EN_CLASSES.index(row["label_name"]), "en"))
    return rows


def _embed(model_dir: Path, texts: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    batch = tokenizer(["query: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_adapters_start_as_the_original_model_and_wrap_only_the_chosen_layers() -> None:
    import torch
    from transformers import AutoModel

    from nlp.encoders.base import rebuilt_e5

    model = AutoModel.from_pretrained(str(rebuilt_e5())).eval()
    ids = torch.tensor([[0, 1000, 2000, 2]])
    with torch.no_grad():
        before = model(input_ids=ids).last_hidden_state
    wrapped = add_adapters(model, rank=4, alpha=8, first_layer=10)
    assert len(wrapped) == 2 * 6  # layers 10 and 11, six linear layers each
    assert all(".layer.10." in name or ".layer.11." in name for name in wrapped)
    with torch.no_grad():
        after = model(input_ids=ids).last_hidden_state
    assert torch.equal(before, after)  # B starts at zero
    assert not any(p.requires_grad for n, p in model.named_parameters() if "lora_" not in n)


def test_finetuning_writes_an_adapter_that_moves_the_model_a_little(tmp_path: Path) -> None:
    from nlp.encoders.base import rebuilt_e5

    base = rebuilt_e5()
    recipe = Recipe(batch_size=8, first_layer=10, rank=4, lr=5e-3, en_rows=12, ko_rows=12)
    out = tmp_path / "adapter.npz"
    meta = finetune(base, recipe, _rows(), out)
    assert meta["steps"] == 3 and meta["rows"] == 24 and adapter_version(out) == meta["version"]
    merged = tmp_path / "merged"
    merged.mkdir()
    merge_adapter(base, out, merged)
    texts = ["배송이 너무 늦어요", "the latte was great today"]
    cosines = np.sum(_embed(base, texts) * _embed(merged, texts), axis=1)
    assert np.all(cosines < 0.99999) and np.all(cosines > 0.9), cosines


def test_probe_layers_pool_each_chosen_block_like_the_sentence_vector() -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from nlp.encoders.base import rebuilt_e5
    from nlp.finetune import _layer_list, mean_pooled

    model_dir = rebuilt_e5()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    texts = ["배송이 너무 늦어요", "great service, thanks!", "ok"]
    with torch.no_grad():
        sentence = mean_pooled(model, tokenizer, texts, 64).numpy()
        both = mean_pooled(model, tokenizer, texts, 64, (6, 12)).numpy()
    np.testing.assert_allclose(sentence, _embed(model_dir, texts), atol=1e-5)
    assert both.shape == (3, 2 * sentence.shape[1])
    np.testing.assert_allclose(both[:, sentence.shape[1] :], sentence, atol=1e-5)  # block 12 is the last
    assert np.allclose(np.linalg.norm(both[:, : sentence.shape[1]], axis=1), 1.0, atol=1e-5)
    assert not np.allclose(both[:, : sentence.shape[1]], sentence, atol=1e-2)
    assert _layer_list("7,9,12") == (7, 9, 12)
    for bad in ("0,12", "x", ""):
        with pytest.raises(Exception, match="block numbers"):
            _layer_list(bad)
