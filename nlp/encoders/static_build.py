"""Build the static token table of the `fast` profile from the default encoder (model2vec-style).

Each token of a fixed vocabulary is run alone through the default encoder (int8 ONNX e5 with
Dangol's adapter: `<s> token </s>`, mean-pooled as a sentence), the vectors are reduced by PCA and
scaled by SIF weights from the Unigram tokenizer's own log-probabilities (frequent pieces such as
"," or "▁the" weigh little). A post is then the normalised sum of its tokens' rows: no network.

The vocabulary is shipped (nlp/models/static-vocab.npz, ~40k token ids) because running all 250k
pieces through e5 takes ~8 minutes on 2 cores against ~80 s for the shipped list. It holds the
pieces seen at least twice in the training splits (TweetEval train, NSMC train, KOTE's train part;
never a validation or test row, nor the demo) plus the tokenizer's 20,000 most probable pieces for
text beyond those corpora; `python -m nlp.encoders.static_build vocab` rewrites it from the data.
On TweetEval val and NSMC val it covers 99.9 % of token occurrences.

The PCA projection is shipped in the same file, with the teacher it was computed from. Why: the
int8 teacher's outputs differ in their last bits between CPUs (ONNX Runtime picks other kernels on
an Intel Xeon than on an AMD EPYC), and an eigen-decomposition of slightly different vectors may
flip or reorder near-equal components: a table built with a PCA of its own could put another
direction in a column than the one the shipped heads learnt. With the shipped projection every
machine's table has the same columns, and rows that differ only by the teacher's rounding; the
table's version names the token ids, the projection and the recipe, not the rounded rows. A
teacher without a shipped projection (another model or adapter) gets a PCA of its own vectors and
a version naming it, so heads trained on it refuse tables of other projections.
`python -m nlp.encoders.static_build projection` rewrites the projection for the current teacher.

The teacher is the int8 export as it was when the table, its projection and the fast profile's
heads were measured: every block's feed-forward output fp32 (`TEACHER_FP32_BLOCKS`). The serving
export keeps fewer blocks fp32 since 2026-12-06 (`nlp.encoders.base.TRAITS`); a table distilled
from it read 9 of the demo's 224 Korean intents otherwise (BENCHMARKS.md, NLP). So the teacher is
exported the table's own way into a temporary folder (`teacher_export`), whatever the serving one is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

VOCAB_FILE = Path(__file__).resolve().parents[1] / "models" / "static-vocab.npz"
TABLE_FILE = "table.npy"
INDEX_FILE = "index.npy"
INFO_FILE = "static.json"
TOKENIZER_FILE = "tokenizer.json"
DIMS = 256
# SIF's a: a token of probability p weighs a / (a + p) (Arora et al. 2017 use 1e-3 on word counts).
SIF_A = 1e-3
MIN_COUNT = 2
TOP_PROBABLE = 20_000
BUILD_BATCH = 512
BUILD_VERSION = "2"  # 2: the PCA projection shipped with the vocabulary
# The blocks whose feed-forward output the teacher keeps fp32 (`nlp.encoders.onnx_int8.quantize_int8`):
# None, every block, as when the shipped projection and the fast heads were made.
TEACHER_FP32_BLOCKS: frozenset[int] | None = None


def unigram_log_probs(tokenizer_json: Path) -> np.ndarray:
    """The Unigram model's log-probability of every vocabulary piece, by token id."""
    model = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]
    if model.get("type") != "Unigram":
        raise ValueError(f"{tokenizer_json} is not a Unigram tokenizer; SIF weights need its log-probabilities")
    return np.array([score for _, score in model["vocab"]], dtype=np.float64)


def sif_weights(log_probs: np.ndarray) -> np.ndarray:
    """a / (a + p) per token: rare pieces ~1, the most frequent ones a few hundredths."""
    return (SIF_A / (SIF_A + np.exp(log_probs))).astype(np.float32)


def pca(vectors: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, components (dims, features)) of `vectors`, each component's sign fixed so that its
    largest-magnitude loading is positive: an eigen-solver may return either sign, and the table
    (and so its digest) must come out the same on every build."""
    data = vectors.astype(np.float64)
    mean = data.mean(axis=0)
    centred = data - mean
    values, vectors_ = np.linalg.eigh(centred.T @ centred)
    components = vectors_[:, np.argsort(values)[::-1][:dims]].T
    signs = np.sign(components[np.arange(len(components)), np.argmax(np.abs(components), axis=1)])
    return mean, components * signs[:, np.newaxis]


Projection = tuple[np.ndarray, np.ndarray]  # (mean (features,), components (dims, features))


def build_table(token_vectors: np.ndarray, weights: np.ndarray, projection: Projection) -> np.ndarray:
    """Each row projected (`pca`'s mean and components), then scaled by its token's weight, as
    float16 (what is stored)."""
    mean, components = projection
    reduced = (token_vectors.astype(np.float64) - mean) @ np.asarray(components, dtype=np.float64).T
    return (reduced * weights[:, np.newaxis]).astype(np.float16)


def table_digest(token_ids: np.ndarray, projection: Projection) -> str:
    """The table's version: a hash of its token ids, its projection and the recipe, so heads trained
    on one table refuse another; not of the rows, which differ by CPU in their last bits."""
    mean, components = projection
    digest = hashlib.sha256(f"{BUILD_VERSION}|{SIF_A}|".encode())
    digest.update(np.ascontiguousarray(token_ids, dtype=np.int32).tobytes())
    digest.update(np.ascontiguousarray(mean, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(components, dtype=np.float32).tobytes())
    return digest.hexdigest()[:12]


def shipped_projection(vocab_file: Path, teacher: str) -> Projection | None:
    """The projection shipped for `teacher` in the vocabulary file, or None for another teacher."""
    with np.load(vocab_file) as data:
        if "pca_teacher" not in data.files or str(data["pca_teacher"]) != teacher:
            return None
        return data["pca_mean"].astype(np.float32), data["pca_components"].astype(np.float32)


def fitted_projection(vectors: np.ndarray, dims: int = DIMS) -> Projection:
    """A PCA of `vectors` to `dims` columns, stored as float32 (the shipped file's precision)."""
    mean, components = pca(vectors, min(dims, vectors.shape[1]))
    return mean.astype(np.float32), components.astype(np.float32)


def teacher_vectors(onnx_dir: Path, token_ids: np.ndarray, batch: int = BUILD_BATCH) -> np.ndarray:
    """Each token alone (`<s> token </s>`) through the int8 ONNX encoder, mean-pooled: (tokens, 384)."""
    from nlp.encoders.onnx_int8 import int8_session

    session = int8_session(onnx_dir)
    names = {i.name for i in session.get_inputs()}
    out = []
    for start in range(0, len(token_ids), batch):
        ids = token_ids[start : start + batch].astype(np.int64)
        # XLM-R's <s> is 0 and </s> is 2 (the e5 tokenizer's special tokens).
        seq = np.stack([np.zeros_like(ids), ids, np.full_like(ids, 2)], axis=1)
        feed = {"input_ids": seq, "attention_mask": np.ones_like(seq)}
        if "token_type_ids" in names:
            feed["token_type_ids"] = np.zeros_like(seq)
        out.append(session.run(None, {k: v for k, v in feed.items() if k in names})[0].mean(axis=1))
    return np.concatenate(out).astype(np.float32)


def build_static(onnx_dir: Path, out_dir: Path, teacher: str, vocab_file: Path = VOCAB_FILE) -> dict[str, Any]:
    """Write table.npy (rows), index.npy (token id -> row, -1 when absent), the tokenizer and
    static.json into `out_dir`; returns what static.json records."""
    import shutil

    token_ids = np.load(vocab_file)["token_ids"].astype(np.int32)
    log_probs = unigram_log_probs(onnx_dir / TOKENIZER_FILE)
    vectors = teacher_vectors(onnx_dir, token_ids)
    projection = shipped_projection(vocab_file, teacher)
    shipped = projection is not None
    if projection is None:
        projection = fitted_projection(vectors)
    table = build_table(vectors, sif_weights(log_probs[token_ids]), projection)
    index = np.full(len(log_probs), -1, dtype=np.int32)
    index[token_ids] = np.arange(len(token_ids), dtype=np.int32)
    np.save(out_dir / TABLE_FILE, table)
    np.save(out_dir / INDEX_FILE, index)
    shutil.copyfile(onnx_dir / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    info = {
        "teacher": teacher,
        "build_version": BUILD_VERSION,
        "digest": table_digest(token_ids, projection),
        "projection": "shipped" if shipped else "fitted here",
        "tokens": int(len(token_ids)),
        "dim": int(table.shape[1]),
        "sif_a": SIF_A,
    }
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2))
    return info


def teacher_export(workdir: Path, teacher: str) -> Path:
    """`teacher` exported to int8 ONNX into `workdir` the table's way (`TEACHER_FP32_BLOCKS`), with
    its tokenizer; the folder to read teacher vectors from (~40 s, plus the fp32 graph on disk)."""
    from nlp.encoders.onnx_int8 import FP32_FILE, export_int8

    export_int8(workdir, teacher, TEACHER_FP32_BLOCKS)
    (workdir / FP32_FILE).unlink()
    return workdir


@contextmanager
def exported_teacher(teacher: str) -> Iterator[Path]:
    """`teacher_export` into a temporary folder, removed when the block ends."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dangol-teacher-") as workdir:
        yield teacher_export(Path(workdir), teacher)


def build_from_teacher(out_dir: Path, teacher: str, vocab_file: Path = VOCAB_FILE) -> dict[str, Any]:
    """`build_static` of `teacher` (a model name) into `out_dir`, from a teacher exported the table's
    way in a temporary folder that is removed afterwards."""
    from nlp.encoders.base import model_label

    with exported_teacher(teacher) as folder:
        return build_static(folder, out_dir, model_label(teacher), vocab_file)


def corpus_vocabulary(tokenizer_json: Path, texts: list[str]) -> np.ndarray:
    """Sorted token ids: the pieces seen MIN_COUNT times in `texts` and the TOP_PROBABLE most probable."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    log_probs = unigram_log_probs(tokenizer_json)
    ids = np.concatenate(
        [np.asarray(e.ids, dtype=np.int64) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
    )
    counts = np.bincount(ids, minlength=len(log_probs))
    keep = counts >= MIN_COUNT
    keep[np.argsort(-log_probs, kind="stable")[:TOP_PROBABLE]] = True
    keep[:4] = False  # <s>, <pad>, </s>, <unk>: no meaning of their own
    return np.flatnonzero(keep).astype(np.int32)


def main(argv: list[str] | None = None) -> int:
    """`python -m nlp.encoders.static_build vocab [--data-dir DIR]` rewrites the shipped vocabulary
    (without a projection); `… projection` adds the PCA projection of the current teacher to it."""
    from nlp.encoders.base import E5_TUNED, model_label

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["vocab", "projection"])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=VOCAB_FILE)
    args = parser.parse_args(argv)
    if args.target == "projection":
        token_ids = np.load(args.out)["token_ids"].astype(np.int32)
        with exported_teacher(E5_TUNED) as folder:
            vectors = teacher_vectors(folder, token_ids)
        mean, components = fitted_projection(vectors)
        teacher = model_label(E5_TUNED)
        np.savez_compressed(
            args.out, token_ids=token_ids, pca_mean=mean, pca_components=components, pca_teacher=np.array(teacher)
        )
        sys.stdout.write(json.dumps({"file": str(args.out), "teacher": teacher, "dims": len(components)}) + "\n")
        return 0
    from nlp.train import DATA, load_public

    data_dir = args.data_dir or DATA
    texts = [t for name in ("tweeteval", "nsmc", "kote") for t in load_public(name, "train", data_dir).texts]
    token_ids = corpus_vocabulary(args.onnx_dir / TOKENIZER_FILE, texts)
    np.savez_compressed(args.out, token_ids=token_ids)
    sys.stdout.write(json.dumps({"file": str(args.out), "tokens": len(token_ids), "texts": len(texts)}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
