"""`dangol analyze` with the previous English MiniLM setup and with multilingual e5, in one run.

    python -m bench.encoder_change [--posts 2000] [--rounds 2]

The previous setup is MiniLM int8 ONNX with the sentiment heads shipped before e5 (read from git at
PREVIOUS_HEADS_COMMIT); the current one is config.toml's. Rounds alternate the two so both see the
same machine load; the ratio of their posts/s is what BENCHMARKS.md records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

from bench.machine import describe
from bench.pipeline import bench_pipeline
from dangol.core.settings import load_settings
from nlp.encoders.base import MINILM
from nlp.encoders.onnx_int8 import export_onnx, is_exported

REPO = Path(__file__).resolve().parents[1]
# The last commit whose nlp/models held the MiniLM heads.
PREVIOUS_HEADS_COMMIT = "38f2e49"
MINILM_ONNX = Path("var/models/minilm-onnx")


def previous_heads(folder: Path) -> Path:
    """The MiniLM-era sentiment heads, written into `folder` from git."""
    folder.mkdir(parents=True, exist_ok=True)
    for language in ("en", "ko"):
        blob = subprocess.run(
            ["git", "show", f"{PREVIOUS_HEADS_COMMIT}:nlp/models/sentiment-{language}.npz"],
            cwd=REPO,
            check=True,
            capture_output=True,
        ).stdout
        (folder / f"sentiment-{language}.npz").write_bytes(blob)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not is_exported(MINILM_ONNX):
        export_onnx(MINILM_ONNX, MINILM)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        heads = previous_heads(work / "heads")
        setups = {
            "minilm (previous)": load_settings(
                REPO / "config.toml",
                overrides={
                    "nlp": {
                        "encoder": {"use": "onnx", "model": MINILM, "onnx_dir": str(MINILM_ONNX)},
                        "sentiment": {"heads_dir": str(heads)},
                    }
                },
            ),
            "e5 (current)": load_settings(REPO / "config.toml"),
        }
        runs: dict[str, list[float]] = {name: [] for name in setups}
        for _ in range(args.rounds):
            for name, settings in setups.items():
                result = bench_pipeline(settings, args.posts, work)
                runs[name].append(round(result.posts / result.seconds, 1))
    best = {name: max(values) for name, values in runs.items()}
    print(
        json.dumps(
            {
                "machine": describe(),
                "load_avg": os.getloadavg()[0],
                "posts": args.posts,
                "posts_per_s": runs,
                "best": best,
                "ratio_e5_to_minilm": round(best["e5 (current)"] / best["minilm (previous)"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
