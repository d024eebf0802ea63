"""Which blocks' feed-forward output projection must stay fp32 in the int8 export (issue #20):

    python -m bench.quantization [--model NAME] [--texts 500] [--rounds 6] [--accuracy]

`model` is exported to fp32 ONNX once, then quantized several ways (`nlp.encoders.onnx_int8.quantize_int8`)
and compared with torch fp32 on TweetEval val tweets and NSMC val reviews (`--texts` of each):
1. block by block: every feed-forward output fp32 but this block's. Its mean and min cosine to fp32
   say how much of int8's drift that one block makes (the outlier activations are not spread evenly);
2. recipes: every block's kept fp32 (the export before 2026-12-06), the model's trait
   (`nlp.encoders.base.TRAITS`, `fp32_blocks`), and none: cosine, and posts/s per language with
   every batch encoded by every recipe in turn, so a swing in a shared machine's load hits all alike;
3. with `--nbits`, ONNX Runtime's block-quantized weights too (MatMulNBits, 4 and 8 bits, blocks of
   32, int8 arithmetic): cosine and posts/s beside the int8 recipes;
4. with `--accuracy`, each recipe's held-out sentiment through the whole pipeline, as
   `python -m bench.truncation` scores it (TweetEval val macro recall, NSMC held-out half and
   KOTE test fifth accuracy).
Results go to bench/results/quantization.json; BENCHMARKS.md (NLP) records the tables.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.machine import describe, load_average
from bench.pieces import language_samples
from nlp.encoders.base import PACKAGED_MODEL, TRAITS, ModelTraits, model_traits

RESULTS = Path(__file__).parent / "results"
BATCH = 64  # posts per encode call in the speed rounds, as `[nlp.encoder] batch_size` defaults


@contextmanager
def trait_as(model: str, fp32_blocks: frozenset[int] | None) -> Iterator[None]:
    """`model`'s trait in this process as if it kept `fp32_blocks` fp32: the pipeline serves an
    export of that recipe instead of exporting the configured one over it."""
    saved = TRAITS.get(model)
    TRAITS[model] = replace(saved or ModelTraits(), fp32_blocks=fp32_blocks)
    try:
        yield
    finally:
        if saved is None:
            del TRAITS[model]
        else:
            TRAITS[model] = saved


def build(fp32_dir: Path, out: Path, model: str, dim: int, fp32_blocks: frozenset[int] | None) -> Path:
    """An int8 export of the fp32 graph in `fp32_dir` into `out`, `fp32_blocks` kept fp32."""
    from nlp.encoders.onnx_int8 import FP32_FILE, INT8_FILE, quantize_int8

    out.mkdir(parents=True, exist_ok=True)
    quantize_int8(fp32_dir / FP32_FILE, out / INT8_FILE, fp32_blocks)
    return _with_tokenizer_and_info(fp32_dir, out, model, dim, fp32_blocks)


def _with_tokenizer_and_info(
    fp32_dir: Path, out: Path, model: str, dim: int, fp32_blocks: frozenset[int] | None
) -> Path:
    """`out`, its int8 model written, completed into an export `OnnxEncoder` reads."""
    from nlp.encoders.onnx_int8 import write_info

    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(fp32_dir / name, out / name)
    write_info(out, model, dim, fp32_blocks)
    return out


def build_nbits(fp32_dir: Path, out: Path, model: str, dim: int, bits: int) -> Path:
    """Every weight MatMul as ONNX Runtime's block-quantized MatMulNBits (`bits` 4 or 8, blocks of
    32, symmetric, accuracy level 4: int8 arithmetic on the activations), word embeddings int8."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    from nlp.encoders.onnx_int8 import FP32_FILE, INT8_FILE, quantize_int8

    out.mkdir(parents=True, exist_ok=True)
    config = DefaultWeightOnlyQuantConfig(
        block_size=32, is_symmetric=True, accuracy_level=4, bits=bits, op_types_to_quantize=("MatMul",)
    )
    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(fp32_dir / FP32_FILE)), bits=bits, block_size=32, is_symmetric=True, accuracy_level=4,
        algo_config=config,
    )  # fmt: skip
    quantizer.process()
    blocked = out / "blocked.onnx"
    quantizer.model.save_model_to_file(str(blocked), use_external_data_format=False)
    quantize_int8(blocked, out / INT8_FILE, None)  # the word-embedding table; no MatMul with weights is left
    blocked.unlink()
    return _with_tokenizer_and_info(fp32_dir, out, model, dim, None)


def cosines(folder: Path, reference: dict[str, np.ndarray], texts: dict[str, list[str]], max_length: int) -> dict:
    """Mean and min cosine of `folder`'s int8 vectors to the fp32 `reference`, per language."""
    from nlp.encoders.onnx_int8 import OnnxEncoder

    encoder = OnnxEncoder(folder, max_length=max_length)
    out = {}
    for language, rows in texts.items():
        sims = np.sum(reference[language] * encoder.encode(rows), axis=1)
        out[language] = {"mean": round(float(sims.mean()), 5), "min": round(float(sims.min()), 4)}
    return out


def speeds(folders: dict[str, Path], texts: dict[str, list[str]], max_length: int, rounds: int) -> dict:
    """Posts/s of each export per language, every batch run by every export in turn (order rotating)."""
    from nlp.encoders.onnx_int8 import OnnxEncoder

    encoders = {name: OnnxEncoder(folder, max_length=max_length) for name, folder in folders.items()}
    names = list(encoders)
    out: dict[str, dict[str, float]] = {name: {} for name in names}
    for language, rows in texts.items():
        wall = dict.fromkeys(names, 0.0)
        for encoder in encoders.values():
            encoder.encode(rows[:BATCH])  # warm-up
        batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)] * rounds
        for k, batch in enumerate(batches):
            for name in names[k % len(names) :] + names[: k % len(names)]:
                started = time.perf_counter()
                encoders[name].encode(batch)
                wall[name] += time.perf_counter() - started
        for name in names:
            out[name][language] = round(len(rows) * rounds / wall[name], 1)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=PACKAGED_MODEL)
    parser.add_argument("--texts", type=int, default=500, help="texts per language")
    parser.add_argument("--rounds", type=int, default=6, help="speed rounds over the texts")
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--accuracy", action="store_true", help="also score each recipe's held-out sentiment")
    parser.add_argument(
        "--nbits", action="store_true", help="also ONNX Runtime's 4- and 8-bit block quantization (MatMulNBits)"
    )
    parser.add_argument("--config", type=Path, default=Path("config.toml"))
    parser.add_argument("--keep", type=Path, help="leave the recipes' exports in this folder")
    parser.add_argument("--out", type=Path, default=RESULTS / "quantization.json")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from nlp.encoders.onnx_int8 import export_fp32, feed_forward_outputs
    from nlp.encoders.sentence_transformer import SentenceTransformerEncoder

    texts = {language: rows for language, (_, rows) in language_samples(args.texts).items()}
    reference = SentenceTransformerEncoder(args.model, max_length=args.max_length)
    fp32 = {language: reference.encode(rows) for language, rows in texts.items()}
    results: dict[str, Any] = {
        "machine": describe(),
        "command": "python -m bench.quantization " + shlex.join(argv or sys.argv[1:]),
        "model": args.model,
        "texts": {language: len(rows) for language, rows in texts.items()},
    }
    with tempfile.TemporaryDirectory(prefix="dangol-quantization-") as workdir:
        root = args.keep or Path(workdir)
        fp32_dir = root / "fp32"
        fp32_dir.mkdir(parents=True, exist_ok=True)
        dim = export_fp32(fp32_dir, args.model)
        blocks = sorted(feed_forward_outputs(fp32_dir / "model.onnx"))
        every = frozenset(blocks)
        by_block = {}
        for block in blocks:
            folder = build(fp32_dir, root / f"only-{block}", args.model, dim, every - {block})
            by_block[block] = cosines(folder, fp32, texts, args.max_length)
            shutil.rmtree(folder)
            print(json.dumps({"block int8": block, **by_block[block]}), flush=True)
        results["one_block_int8"] = by_block
        trait = model_traits(args.model).fp32_blocks
        recipes = {"every block fp32": every, "none fp32": frozenset()}
        if trait is not None and trait != every:
            recipes["block " + ", ".join(map(str, sorted(trait))) + " fp32 (the trait)"] = trait
        folders = {name: build(fp32_dir, root / f"recipe-{i}", args.model, dim, kept)
                   for i, (name, kept) in enumerate(recipes.items())}  # fmt: skip
        for bits in (4, 8) if args.nbits else ():
            folders[f"MatMulNBits {bits}-bit"] = build_nbits(fp32_dir, root / f"nbits-{bits}", args.model, dim, bits)
        results["recipes"] = {
            name: {"cosine": cosines(folder, fp32, texts, args.max_length)} for name, folder in folders.items()
        }
        for name, rates in speeds(folders, texts, args.max_length, args.rounds).items():
            results["recipes"][name]["posts_per_s"] = rates
        results["speed_load_average"] = load_average()
        if args.accuracy:
            from bench.truncation import heldout_sets, pipeline_scores, settings_at

            sets = heldout_sets()
            for name, kept in recipes.items():
                settings = settings_at(args.config, args.max_length, str(folders[name]))
                with trait_as(args.model, kept):  # else the pipeline would export its own recipe over it
                    results["recipes"][name]["heldout"] = pipeline_scores(settings, sets)
                print(json.dumps({name: results["recipes"][name]}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
