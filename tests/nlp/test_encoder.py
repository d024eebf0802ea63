"""Encoders: the packaged e5 (default) and MiniLM with torch, the int8 ONNX export, and `use` choosing."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from dangol.core.errors import AnalysisError
from dangol.core.settings import load_settings
from nlp.base import encoders
from nlp.encoders import build_encoder
from nlp.encoders.base import MINILM, PACKAGED_MODEL, model_label, model_traits
from nlp.encoders.onnx_int8 import (
    OnnxEncoder,
    describe_quantization,
    export_onnx,
    feed_forward_outputs,
    is_exported,
    quantization,
    quantize_int8,
)
from nlp.encoders.sentence_transformer import SentenceTransformerEncoder
from tests.conftest import DATA
from tests.labelled_text import demo_posts, first_rows


def real_posts(n: int = 40) -> list[str]:
    """English demo posts (with handles, a link, emoji) and real Korean movie reviews and online comments."""
    english = [p.text for p in demo_posts() if p.language == "en"][:n]
    reviews = [row["document"] for row in first_rows(DATA / "nsmc" / "val.tsv", n // 2)]
    comments = [row["text"] for row in first_rows(DATA / "kote" / "val.tsv", n - n // 2)]
    return english + reviews + comments


@pytest.fixture(scope="module")
def torch_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "e5-onnx"
    export_onnx(folder)
    return folder


@pytest.mark.slow
def test_packaged_model_gives_normalised_float32_rows(torch_encoder: SentenceTransformerEncoder) -> None:
    vectors = torch_encoder.encode(["hello", "배달이 늦어요", ""])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1, 1, 1], abs=1e-4)
    assert torch_encoder.version == f"st:{model_label(PACKAGED_MODEL)}" and torch_encoder.dim == 384
    assert torch_encoder.prefix == "query: " and not torch_encoder.blind_languages


@pytest.mark.slow
def test_the_multilingual_encoder_reads_korean_and_matches_it_to_english(
    torch_encoder: SentenceTransformerEncoder,
) -> None:
    late_ko, late_en, crash_ko, crash_en = torch_encoder.encode(
        [
            "배달이 두 시간이나 늦게 왔어요",
            "my delivery came two hours late",
            "앱이 계속 꺼져요",
            "the app keeps crashing",
        ]
    )
    # The same complaint across languages is closer than two different complaints in one language.
    assert late_ko @ late_en > late_ko @ crash_ko
    assert crash_ko @ crash_en > crash_ko @ late_ko


@pytest.mark.slow
def test_english_minilm_stays_available_and_says_it_cannot_read_korean() -> None:
    minilm = SentenceTransformerEncoder(MINILM)
    assert minilm.version == f"st:{MINILM}" and minilm.prefix == ""
    assert {"ko", "ja", "zh"} <= minilm.blind_languages


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
    # The int8 graph (word embeddings included) is a third of fp32 e5's 470 MB; fp32 is not kept.
    assert (onnx_dir / "model.int8.onnx").stat().st_size < 160e6
    assert not (onnx_dir / "model.onnx").exists()
    assert not [p for p in onnx_dir.parent.iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.slow
def test_export_keeps_fp32_only_the_feed_forward_outputs_the_model_needs(onnx_dir: Path) -> None:
    import onnx

    graph = onnx.load(str(onnx_dir / "model.int8.onnx"), load_external_data=False).graph
    float_outputs = {n.name for n in graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name}
    int8 = {n.name for n in graph.node if n.op_type == "MatMulInteger"}
    # e5-dangol: the inputs of blocks 0, 4 and 5 hold the outliers (TRAITS); the other nine are int8.
    assert model_traits(PACKAGED_MODEL).fp32_blocks == frozenset({0, 4, 5})
    kept = {name.split("/")[-4] for name in float_outputs if "attention" not in name}
    assert kept == {"layer.0", "layer.4", "layer.5"}
    assert sum("/output/dense/" in name and "attention" not in name for name in int8) == 9
    assert json.loads((onnx_dir / "export.json").read_text())["quantization"] == quantization(PACKAGED_MODEL)


@pytest.mark.slow
def test_use_onnx_runs_the_export_with_the_models_prefix(onnx_dir: Path) -> None:
    settings = load_settings(None, overrides={"nlp": {"encoder": {"use": "onnx", "onnx_dir": str(onnx_dir)}}})
    encoder = build_encoder(settings)
    assert isinstance(encoder, OnnxEncoder)
    assert encoder.prefix == "query: " and encoder.version == f"onnx-int8:{model_label(PACKAGED_MODEL)}"


@pytest.mark.slow
def test_use_sentence_transformers_runs_torch_even_when_an_export_exists(onnx_dir: Path) -> None:
    overrides = {"nlp": {"encoder": {"use": "sentence-transformers", "onnx_dir": str(onnx_dir)}}}
    assert isinstance(build_encoder(load_settings(None, overrides=overrides)), SentenceTransformerEncoder)


@pytest.mark.parametrize(
    ("use", "implementation"), [("sentence-transformers", SentenceTransformerEncoder), ("onnx", OnnxEncoder)]
)
def test_each_use_names_the_encoder_that_runs(use: str, implementation: type) -> None:
    assert encoders.get(use) is implementation


def test_the_encoder_base_imports_no_encoder_and_nlp_imports_in_no_circle() -> None:
    import grimp

    graph = grimp.build_graph("nlp")
    for implementation in ("nlp.encoders.sentence_transformer", "nlp.encoders.onnx_int8"):
        assert not graph.chain_exists(importer="nlp.encoders.base", imported=implementation)
    circles = [
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    ]
    assert circles == []


def test_onnx_for_an_unpackaged_model_without_an_export_says_how_to_make_one(tmp_path: Path) -> None:
    overrides = {"nlp": {"encoder": {"use": "onnx", "model": str(tmp_path), "onnx_dir": str(tmp_path / "none")}}}
    with pytest.raises(AnalysisError, match="export-onnx"):
        build_encoder(load_settings(None, overrides=overrides))


def test_onnx_encoder_without_an_export_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="export-onnx"):
        OnnxEncoder(tmp_path)


def test_an_unloadable_model_is_an_analysis_error_naming_the_choices(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="local directory"):
        SentenceTransformerEncoder(str(tmp_path / "missing-model"))


def test_empty_input_gives_an_empty_matrix_without_work(torch_encoder: SentenceTransformerEncoder) -> None:
    assert torch_encoder.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_onnx_threads_sleep_when_idle_and_token_counts_are_not_cut(onnx_dir: Path) -> None:
    # Spinning threads burn cores other processes of a shared machine wait for (BENCHMARKS.md).
    encoder = OnnxEncoder(onnx_dir, max_length=16)
    options = encoder._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    short, long = encoder.token_counts(["hi", "배달이 늦어요 " * 20])
    assert short < 16 < long  # counted before max_length cuts the post


def test_quantizing_keeps_the_chosen_blocks_fp32_without_onnx_runtimes_advice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    # Two blocks' feed-forward output projections, named as the BERT export names them.
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal((8, 8)).astype(np.float32), f"w{i}") for i in range(2)]
    nodes = [
        helper.make_node("MatMul", ["x", "w0"], ["h"], name="/inner/encoder/layer.0/output/dense/MatMul"),
        helper.make_node("MatMul", ["h", "w1"], ["y"], name="/inner/encoder/layer.1/output/dense/MatMul"),
    ]
    io = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 8]) for name in ("x", "y")]
    graph = helper.make_graph(nodes, "two-blocks", io[:1], io[1:], weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "fp32.onnx"))
    assert feed_forward_outputs(tmp_path / "fp32.onnx") == {0: nodes[0].name, 1: nodes[1].name}
    with caplog.at_level(logging.WARNING):
        quantize_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx", frozenset({1}))
    quantized = onnx.load(str(tmp_path / "int8.onnx")).graph.node
    assert [n.op_type for n in quantized if n.op_type in ("MatMul", "MatMulInteger")] == ["MatMulInteger", "MatMul"]
    assert not [r for r in caplog.records if "pre-processing" in r.getMessage()]
    assert describe_quantization(frozenset({1})).endswith("fp32: block 1")
    assert describe_quantization(frozenset()).endswith("fp32: none")


def test_a_model_folder_is_built_without_transformers_bars_and_they_come_back_after(tmp_path: Path) -> None:
    from transformers.utils import logging as transformers_logging

    from nlp.encoders.base import publish_folder

    seen: list[bool] = []

    def build(staging: Path) -> None:
        seen.append(transformers_logging.is_progress_bar_enabled())
        (staging / "model.txt").write_text("built")

    transformers_logging.enable_progress_bar()
    publish_folder(tmp_path / "model", build, done=lambda folder: (folder / "model.txt").is_file())
    assert seen == [False]
    assert transformers_logging.is_progress_bar_enabled()
    assert (tmp_path / "model" / "model.txt").read_text() == "built"
