"""The int8 encoder tokenizes through `tokenizers` alone: the same model inputs `AutoTokenizer` gave,
and a default-profile worker that analyzes posts never imports transformers or torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dangol.core.settings import load_settings
from nlp.encoders import build_encoder
from nlp.encoders.base import DEFAULT_ONNX_DIR
from nlp.encoders.onnx_int8 import OnnxEncoder, is_exported
from tests.nlp.test_encoder import real_posts

REPO = Path(__file__).resolve().parents[2]

AWKWARD = [
    "Cold latte again 😡☕ https://t.co/abc123?x=1&y=2 @barista #fail",
    "배달이 너무 늦어요 😭😭 https://example.com/주문/123 환불해 주세요!!",
    "Mixed 한국어 and English 🇰🇷 <b>html</b> &amp; \u200b zero-width\ttab\nnewline",
    "",
    "   ",
    "👍",
    "a" * 3000,
    "정말 최고예요 " * 200,
    "The service was great but " * 100 + "🎉",
]


@pytest.fixture(scope="module")
def onnx_dir() -> Path:
    if not is_exported(DEFAULT_ONNX_DIR):
        build_encoder(load_settings(None))  # exports the default encoder on first use
    return DEFAULT_ONNX_DIR


@pytest.mark.slow
@pytest.mark.parametrize("max_length", [16, 64, 512])
def test_model_inputs_match_what_auto_tokenizer_gave(onnx_dir: Path, max_length: int) -> None:
    from transformers import AutoTokenizer

    encoder = OnnxEncoder(onnx_dir, max_length=max_length)
    reference = AutoTokenizer.from_pretrained(str(onnx_dir))
    texts = real_posts(40) + AWKWARD
    for start in range(0, len(texts), 16):
        batch = texts[start : start + 16]
        prefixed = [encoder.prefix + t for t in batch]
        expected = reference(prefixed, padding=True, truncation=True, max_length=max_length, return_tensors="np")
        got = encoder.model_inputs(batch)
        for name in ("input_ids", "attention_mask"):
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    uncut = reference([encoder.prefix + t for t in texts], truncation=False)["input_ids"]
    assert encoder.token_counts(texts) == [len(ids) for ids in uncut]
    # Counting lifted the cut for that call only.
    assert encoder.model_inputs(["정말 최고예요 " * 200])["input_ids"].shape == (1, max_length)


PROBE = """
import json, sys
from datetime import UTC, datetime
from dangol.core.settings import load_settings
from nlp.analyzer import Analyzer
from nlp.base import PostText

settings = load_settings(sys.argv[1], overrides={"database": {"url": "sqlite://"}})
analyzer = Analyzer.from_settings(settings)
now = datetime(2026, 12, 1, tzinfo=UTC)
texts = ["my latte was cold and nobody answered", "배달이 너무 늦어요 환불해 주세요"]
done = analyzer.analyze([PostText(i, t, "x", now) for i, t in enumerate(texts)], [])
print(json.dumps({"version": analyzer.encoder.version, "analyzed": len(done),
                  "imported": sorted(m for m in ("torch", "transformers") if m in sys.modules)}))
"""


@pytest.mark.slow
def test_a_default_profile_worker_analyzes_without_torch_or_transformers(onnx_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DANGOL_NLP__PROFILE"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO / "config.toml")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["version"].startswith("onnx-int8:") and result["analyzed"] == 2
    assert result["imported"] == []
