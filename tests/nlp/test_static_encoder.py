"""The fast profile: its static table (deterministic, versioned by a digest), the encoder reading it,
heads refusing another encoder's vectors, and English and Korean posts analyzed end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from dangol.core.errors import AnalysisError
from dangol.core.settings import Settings, load_settings
from nlp.base import PostText
from nlp.encoders import build_encoder
from nlp.encoders.base import DEFAULT_ONNX_DIR, PACKAGED_MODEL, model_label, model_traits
from nlp.encoders.static import StaticEncoder, built_from
from nlp.encoders.static_build import (
    BUILD_VERSION,
    INDEX_FILE,
    INFO_FILE,
    TABLE_FILE,
    TEACHER_FP32_BLOCKS,
    TOKENIZER_FILE,
    VOCAB_FILE,
    build_from_teacher,
    build_static,
    build_table,
    fitted_projection,
    pca,
    shipped_projection,
    sif_weights,
    table_digest,
    teacher_export,
)
from nlp.profiles import FAST_HEADS, PACKAGED_HEADS, encoder_use, packaged_heads, retrained_heads
from nlp.sentiment import HeadSentimentClassifier

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def fast_settings(tmp_path: Path) -> Settings:
    return load_settings(
        REPO / "config.toml",
        overrides={"database": {"url": f"sqlite:///{tmp_path}/t.db"}, "nlp": {"profile": "fast"}},
    )


def test_pca_fixes_each_components_sign_and_the_table_is_reproducible() -> None:
    vectors = np.random.default_rng(7).normal(size=(300, 24)).astype(np.float32)
    _, components = pca(vectors, 8)
    assert components.shape == (8, 24)
    largest = components[np.arange(8), np.argmax(np.abs(components), axis=1)]
    assert (largest > 0).all()
    # The same components whichever sign the solver picked: negated data has the same covariance.
    _, again = pca(-vectors, 8)
    np.testing.assert_allclose(again, components, atol=1e-9)
    weights = np.linspace(0.1, 1.0, 300).astype(np.float32)
    table = build_table(vectors, weights, fitted_projection(vectors, 8))
    assert table.dtype == np.float16 and table.shape == (300, 8)
    assert table.tobytes() == build_table(vectors.copy(), weights.copy(), fitted_projection(vectors, 8)).tobytes()


def test_the_version_names_the_ids_and_the_projection_not_the_rows_a_cpu_rounds() -> None:
    """Another CPU's int8 kernels change the teacher's vectors in their last bits: with the same
    projection the table keeps its columns and its version. A PCA of its own could flip or reorder
    near-equal components: another projection is another version."""
    rng = np.random.default_rng(1)
    ids = np.arange(300, dtype=np.int32)
    vectors = rng.normal(size=(300, 24)).astype(np.float32)
    projection = fitted_projection(vectors, 8)
    digest = table_digest(ids, projection)
    assert table_digest(ids, (projection[0].copy(), projection[1].copy())) == digest
    flipped = projection[1].copy()
    flipped[7] *= -1
    assert table_digest(ids, (projection[0], flipped)) != digest
    assert table_digest(ids + 1, projection) != digest
    weights = np.ones(300, dtype=np.float32)
    here = build_table(vectors, weights, projection).astype(np.float32)
    rounded_elsewhere = vectors + rng.normal(scale=1e-4, size=vectors.shape).astype(np.float32)
    there = build_table(rounded_elsewhere, weights, projection).astype(np.float32)
    cosines = (here * there).sum(1) / np.linalg.norm(here, axis=1) / np.linalg.norm(there, axis=1)
    assert cosines.min() > 0.999


def test_the_shipped_vocabulary_carries_the_projection_of_the_shipped_teacher() -> None:
    """Whoever changes the adapter rewrites the projection (`python -m nlp.encoders.static_build
    projection`), or every machine would fit its own and the shipped fast heads would refuse it."""
    projection = shipped_projection(VOCAB_FILE, model_label(PACKAGED_MODEL))
    assert projection is not None
    mean, components = projection
    assert mean.shape == (384,) and components.shape == (256, 384)
    np.testing.assert_allclose(components @ components.T, np.eye(256), atol=1e-4)  # orthonormal rows


def test_sif_weighs_frequent_pieces_less() -> None:
    weights = sif_weights(np.log(np.array([0.03, 1e-3, 1e-7])))
    assert weights[0] < 0.05 and weights[1] == pytest.approx(0.5) and weights[2] > 0.99


def tiny_table(folder: Path, vectors: dict[int, list[float]], vocabulary: int, tokenizer: Path) -> Path:
    """A hand-made table folder: token id -> row."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.array(sorted(vectors), dtype=np.int32)
    table = np.array([vectors[i] for i in ids], dtype=np.float16)
    index = np.full(vocabulary, -1, dtype=np.int32)
    index[ids] = np.arange(len(ids))
    np.save(folder / TABLE_FILE, table)
    np.save(folder / INDEX_FILE, index)
    (folder / TOKENIZER_FILE).write_bytes(tokenizer.read_bytes())
    digest = table_digest(ids, (np.zeros(2), np.eye(2)))
    info = {"teacher": "t@1", "build_version": BUILD_VERSION, "digest": digest, "tokens": len(ids), "dim": 2}
    (folder / INFO_FILE).write_text(json.dumps(info))
    return folder


@pytest.mark.slow
def test_a_post_is_the_normalised_sum_of_its_known_token_rows(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    tokenizer_file = DEFAULT_ONNX_DIR / TOKENIZER_FILE
    if not tokenizer_file.is_file():
        build_encoder(load_settings(None))  # exports the default encoder, whose tokenizer the table reads
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    coffee, late = (tokenizer.encode(w, add_special_tokens=False).ids[0] for w in ("coffee", "late"))
    folder = tiny_table(
        tmp_path / "t", {coffee: [3.0, 0.0], late: [0.0, 1.0]}, tokenizer.get_vocab_size(), tokenizer_file
    )
    encoder = StaticEncoder(folder)
    vectors = encoder.encode(["coffee late", "coffee", "zzzqqq"])
    np.testing.assert_allclose(vectors[0], np.array([3.0, 1.0]) / np.sqrt(10), atol=1e-6)
    np.testing.assert_allclose(vectors[1], [1.0, 0.0], atol=1e-6)
    assert not vectors[2].any()  # no known token: all zeros, not NaN
    assert encoder.version.startswith("static:t@1-static@") and encoder.dim == 2


@pytest.mark.slow
def test_the_build_is_deterministic_and_versioned(tmp_path: Path) -> None:
    build_encoder(load_settings(None))  # the int8 export the table is distilled from
    vocab = tmp_path / "vocab.npz"
    np.savez_compressed(vocab, token_ids=np.arange(1000, 1300, dtype=np.int32))
    teacher = model_label(PACKAGED_MODEL)
    infos = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        infos.append(build_static(DEFAULT_ONNX_DIR, tmp_path / name, teacher, vocab))
    assert infos[0] == infos[1] and infos[0]["tokens"] == 300 and infos[0]["dim"] == 256
    assert infos[0]["projection"] == "fitted here"  # no projection shipped with this vocabulary
    assert (tmp_path / "a" / TABLE_FILE).read_bytes() == (tmp_path / "b" / TABLE_FILE).read_bytes()
    assert built_from(tmp_path / "a", PACKAGED_MODEL)
    assert StaticEncoder(tmp_path / "a").version == f"static:{teacher}-static@{infos[0]['digest']}"
    # Another vocabulary is another table, with another version.
    np.savez_compressed(vocab, token_ids=np.arange(1000, 1299, dtype=np.int32))
    (tmp_path / "c").mkdir()
    assert build_static(DEFAULT_ONNX_DIR, tmp_path / "c", teacher, vocab)["digest"] != infos[0]["digest"]
    # A projection shipped for this teacher is used as it is; one of another teacher is not.
    ids = np.arange(1000, 1300, dtype=np.int32)
    projection = (np.zeros(384, np.float32), np.eye(384, dtype=np.float32)[:256])
    for name, owner in (("d", teacher), ("e", "another@1")):
        np.savez_compressed(
            vocab, token_ids=ids, pca_mean=projection[0], pca_components=projection[1], pca_teacher=np.array(owner)
        )
        (tmp_path / name).mkdir()
        info = build_static(DEFAULT_ONNX_DIR, tmp_path / name, teacher, vocab)
        assert info["projection"] == ("shipped" if owner == teacher else "fitted here")
        assert (info["digest"] == table_digest(ids, projection)) is (owner == teacher)


@pytest.mark.slow
def test_the_table_is_distilled_from_a_teacher_exported_as_when_its_heads_were_measured(tmp_path: Path) -> None:
    # The serving export keeps fewer blocks fp32 than the teacher the shipped projection and fast
    # heads were made with; the table's teacher is exported the table's way, whatever the serving one.
    import onnx

    assert TEACHER_FP32_BLOCKS is None
    assert model_traits(PACKAGED_MODEL).fp32_blocks != TEACHER_FP32_BLOCKS
    folder = teacher_export(tmp_path, PACKAGED_MODEL)
    graph = onnx.load(str(folder / "model.int8.onnx"), load_external_data=False).graph
    outputs = [n for n in graph.node if "/output/dense/MatMul" in n.name and "attention" not in n.name]
    assert len(outputs) == 12 and {n.op_type for n in outputs} == {"MatMul"}  # all twelve fp32
    assert json.loads((folder / "export.json").read_text())["quantization"].endswith("fp32: every block")
    assert not (folder / "model.onnx").exists()  # the fp32 graph (~470 MB) is not left behind
    # The first-use build goes through it and leaves no teacher folder of its own.
    vocab = tmp_path / "vocab.npz"
    np.savez_compressed(vocab, token_ids=np.arange(1000, 1100, dtype=np.int32))
    (tmp_path / "table").mkdir()
    built = build_from_teacher(tmp_path / "table", PACKAGED_MODEL, vocab)
    (tmp_path / "direct").mkdir()
    assert built == build_static(folder, tmp_path / "direct", model_label(PACKAGED_MODEL), vocab)
    assert (tmp_path / "table" / TABLE_FILE).read_bytes() == (tmp_path / "direct" / TABLE_FILE).read_bytes()


def test_the_fast_profile_picks_the_static_encoder_and_its_own_heads(tmp_path: Path, settings: Settings) -> None:
    fast = fast_settings(tmp_path)
    assert encoder_use(fast) == "static" and encoder_use(settings) == "onnx"
    assert packaged_heads(fast) == FAST_HEADS and packaged_heads(settings) == PACKAGED_HEADS
    assert retrained_heads(fast) != retrained_heads(settings)
    assert {p.name for p in FAST_HEADS.glob("sentiment-*.npz")} == {"sentiment-en.npz", "sentiment-ko.npz"}


def test_heads_refuse_the_other_profiles_vectors(tmp_path: Path, settings: Settings) -> None:
    fast_heads = HeadSentimentClassifier.from_settings(fast_settings(tmp_path))
    default_heads = HeadSentimentClassifier.from_settings(settings)
    trained_on = fast_heads.heads["en"].meta["encoder"]
    assert "-static@" in trained_on
    fast_heads.check_encoder(f"static:{trained_on}")
    with pytest.raises(AnalysisError, match="trained on"):
        fast_heads.check_encoder(f"onnx-int8:{model_label(PACKAGED_MODEL)}")
    with pytest.raises(AnalysisError, match="trained on"):  # a table of another digest
        fast_heads.check_encoder(f"static:{trained_on.rsplit('@', 1)[0]}@000000000000")
    with pytest.raises(AnalysisError, match="trained on"):
        default_heads.check_encoder(f"static:{trained_on}")


@pytest.mark.slow
def test_the_fast_profile_analyzes_english_and_korean_posts_end_to_end(tmp_path: Path) -> None:
    from nlp.analyzer import Analyzer

    analyzer = Analyzer.from_settings(fast_settings(tmp_path), head_path=tmp_path / "no-topic-head.npz")
    texts = [
        "My delivery never arrived, two hours late and the driver left it at the wrong door. Awful!",
        "Best latte in town, the staff were so kind. Thank you!",
        "배달이 두 시간이나 늦었고 커피는 다 식었어요. 정말 최악이에요",
        "커피 정말 맛있어요! 직원분도 친절하시고 또 갈게요",
    ]
    posts = [PostText(post_id=i, text=t, platform="x", created_at=NOW) for i, t in enumerate(texts)]
    results = analyzer.analyze(posts, [])
    assert [r.language for r in results] == ["en", "en", "ko", "ko"]
    assert [r.sentiment for r in results] == ["negative", "positive", "negative", "positive"]
    assert results[0].primary_topic == "delivery" and results[2].primary_topic == "delivery"
    assert results[0].is_complaint and not results[1].is_complaint
    assert all(r.embedding.shape == (256,) for r in results)
    assert results[0].model_versions["encoder"].startswith("static:")


def test_both_profiles_analyze_256_posts_a_batch_unless_told(tmp_path: Path, settings: Settings) -> None:
    assert settings.nlp.batch_size == 256 and fast_settings(tmp_path).nlp.batch_size == 256
    told = load_settings(None, overrides={"nlp": {"profile": "fast", "batch_size": 32}})
    assert told.nlp.batch_size == 32


@pytest.mark.slow
def test_a_topic_head_of_the_other_profiles_vectors_is_ignored(tmp_path: Path) -> None:
    from nlp.analyzer import Analyzer
    from nlp.topics import FewShotHead

    def head_for(dim: int) -> Path:
        kept = np.array([1, 2, 3], dtype=np.int32)
        head = FewShotHead(
            classes=["delivery", "other"],
            coef=np.zeros((2, len(kept) + dim), dtype=np.float32),
            intercept=np.zeros(2, dtype=np.float32),
            kept=kept,
            idf=np.ones(3, dtype=np.float32),
            class_counts=np.array([5.0, 5.0], dtype=np.float32),
        )
        return head.save(tmp_path / f"head-{dim}.npz")

    fast = fast_settings(tmp_path)
    assert Analyzer.from_settings(fast, head_path=head_for(384)).topics.head is None  # e5's 384 dimensions
    assert Analyzer.from_settings(fast, head_path=head_for(256)).topics.head is not None


def test_the_shipped_fast_heads_read_the_table_the_shipped_projection_gives() -> None:
    """The version a table built anywhere from the shipped vocabulary gets (no build needed: it
    names the ids, the projection and the recipe) is the one the shipped fast heads were trained on;
    rewriting the projection without retraining them fails here, not at a user's start-up."""
    from nlp.encoders.static import STATIC_SUFFIX

    teacher = model_label(PACKAGED_MODEL)
    projection = shipped_projection(VOCAB_FILE, teacher)
    assert projection is not None
    token_ids = np.load(VOCAB_FILE)["token_ids"]
    expected = f"{teacher}{STATIC_SUFFIX}@{table_digest(token_ids, projection)}"
    heads = HeadSentimentClassifier(FAST_HEADS, packaged=FAST_HEADS)
    assert {h.meta["encoder"] for h in heads.heads.values()} == {expected}
