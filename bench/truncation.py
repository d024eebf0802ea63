"""Sentiment accuracy and encoder speed against the encoder's `max_length` (issue #20).

    python -m bench.truncation [--lengths 32 48 64 96 128] [--speed-texts 500] [--rounds 3]
    python -m bench.truncation --lengths 128 --onnx-dir DIR --parts accuracy   # another export's accuracy

Accuracy is what `dangol eval sentiment` scores (language id, encoder, heads, intent: the whole
pipeline) with `[nlp.encoder] max_length` overridden, on the held-out sets `nlp.train` writes:
TweetEval val (`heldout-en`, macro recall), the NSMC held-out half (the NSMC rows of `heldout-ko`,
accuracy) and the polar KOTE test fifth (`heldout-kote`, accuracy). Speed is the raw int8 encoder
on English tweets and Korean reviews at each length, every batch encoded at every length in turn
(see `speed_by_length`), so their ratios hold on a loaded machine. Results go to
bench/results/truncation.json; BENCHMARKS.md (NLP) records the table.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.machine import describe, load_average
from bench.pieces import language_samples
from dangol.core.settings import Settings, load_settings
from nlp.evaluate import LabelledTexts
from nlp.train import DATA, kote_split, public_split

RESULTS = Path(__file__).parent / "results"
LENGTHS = (32, 48, 64, 96, 128)
Heldout = dict[str, tuple[LabelledTexts, str]]


def heldout_sets(data_dir: Path = DATA) -> Heldout:
    """{name: (rows never trained on, the metric the head is judged by)}."""
    _, english = public_split("en", data_dir)
    _, korean = public_split("ko", data_dir)
    nsmc = [i for i, source in enumerate(korean.sources) if source == "nsmc"]
    kote = kote_split(data_dir)["test"]
    polar = [i for i, label in enumerate(kote.labels) if label != "neutral"]
    return {
        "tweeteval_val": (LabelledTexts(english.texts, english.labels), "macro_recall"),
        "nsmc_heldout": (LabelledTexts([korean.texts[i] for i in nsmc], [korean.labels[i] for i in nsmc]), "accuracy"),
        "kote_test": (LabelledTexts([kote.texts[i] for i in polar], [kote.labels[i] for i in polar]), "accuracy"),
    }


def settings_at(config: Path, max_length: int, onnx_dir: str | None = None) -> Settings:
    """The configured settings with the encoder cutting posts at `max_length` tokens."""
    encoder: dict[str, Any] = {"max_length": max_length} | ({"onnx_dir": onnx_dir} if onnx_dir else {})
    return load_settings(config, overrides={"nlp": {"encoder": encoder}})


def pipeline_scores(settings: Settings, sets: Heldout) -> dict[str, float]:
    """Each held-out set's metric, scored as `dangol eval sentiment` scores it."""
    from nlp.analyzer import Analyzer
    from nlp.evaluate import evaluate_sentiment, pipeline_predictor

    analyzer = Analyzer.from_settings(settings)  # a fresh one: its encoder cache is per instance
    predict = pipeline_predictor(analyzer)
    return {
        name: round(evaluate_sentiment(data, predict, settings.nlp.batch_size)[metric], 4)
        for name, (data, metric) in sets.items()
    }


def speed_by_length(settings: Settings, lengths: list[int], per_language: int, rounds: int) -> dict[str, Any]:
    """Raw int8 encoder posts/s (wall and per CPU-second of this process) per language and length.

    Every batch is encoded at every length in turn, the order rotating from batch to batch, so a
    swing in the shared machine's load hits all lengths alike (whole passes one after the other,
    half a minute each under load, did not: lengths that cut no post differed by 1.5x)."""
    from nlp.encoders.onnx_int8 import OnnxEncoder

    encoder = OnnxEncoder.from_settings(settings)
    out: dict[str, Any] = {}
    for language, (source, texts) in language_samples(per_language).items():
        counts = np.array(encoder.token_counts(texts))
        wall, cpu = dict.fromkeys(lengths, 0.0), dict.fromkeys(lengths, 0.0)
        encoder.encode(texts[: encoder.batch_size])  # warm-up
        batches = [texts[i : i + encoder.batch_size] for i in range(0, len(texts), encoder.batch_size)] * rounds
        for k, batch in enumerate(batches):
            for n in lengths[k % len(lengths) :] + lengths[: k % len(lengths)]:
                encoder.max_length = n
                started, cpu_started = time.perf_counter(), time.process_time()
                encoder.encode(batch)
                wall[n] += time.perf_counter() - started
                cpu[n] += time.process_time() - cpu_started
        posts = len(texts) * rounds
        out[language] = {
            "source": source,
            "texts": len(texts),
            "tokens_mean": round(float(counts.mean()), 1),
            "tokens_p95": int(np.percentile(counts, 95)),
            "by_length": {
                n: {
                    "share_cut": round(float(np.mean(counts > n)), 4),
                    "posts_per_s": round(posts / wall[n], 1),
                    "posts_per_cpu_s": round(posts / cpu[n], 1),
                    "speedup_over_longest": round(wall[max(lengths)] / wall[n], 2),
                }
                for n in lengths
            },
            "load_average": load_average(),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", nargs="+", type=int, default=list(LENGTHS))
    parser.add_argument("--config", type=Path, default=Path("config.toml"))
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the public data (default: %(default)s)")
    parser.add_argument("--onnx-dir", help="score this int8 export instead of [nlp.encoder] onnx_dir")
    parser.add_argument("--speed-texts", type=int, default=500, help="texts per language for the speed rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parts", nargs="+", choices=["speed", "accuracy"], default=["speed", "accuracy"])
    parser.add_argument("--out", type=Path, default=RESULTS / "truncation.json")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    lengths = sorted(args.lengths)
    results: dict[str, Any] = {
        "machine": describe(),
        "command": "python -m bench.truncation " + shlex.join(argv or sys.argv[1:]),
    }

    def save(key: str, value: Any) -> None:
        results[key] = value
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"{key}: {json.dumps(value)}", file=sys.stderr, flush=True)

    if "speed" in args.parts:
        save("speed", speed_by_length(settings_at(args.config, max(lengths), args.onnx_dir), lengths,
                                      args.speed_texts, args.rounds))  # fmt: skip
    if "accuracy" not in args.parts:
        return
    sets = heldout_sets(args.data_dir)
    save("rows", {name: len(data.texts) for name, (data, _) in sets.items()})
    accuracy: dict[int, Any] = {}
    for n in lengths[::-1]:  # the current default first
        accuracy[n] = {
            **pipeline_scores(settings_at(args.config, n, args.onnx_dir), sets),
            "load_average": load_average(),
        }
        save("accuracy", accuracy)


if __name__ == "__main__":
    main()
