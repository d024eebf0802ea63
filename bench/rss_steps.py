"""Where a worker's memory goes: RSS after each import and load step of the configured analyzer.

    python -m bench.rss_steps [--config config.toml] [--posts 3000]

Prints one line per step (RSS and peak, MiB) and which heavy modules ended up imported. Each step
runs in this one process, in the order a `dangol run` worker takes them, so a row's growth is what
that step added.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.machine import load_average, peak_rss_mib

HEAVY = ("torch", "transformers", "sklearn", "scipy", "onnxruntime", "tokenizers", "py3langid")


def _row(step: str) -> None:
    rss, peak = peak_rss_mib(os.getpid())
    sys.stdout.write(f"| {step} | {rss:.0f} | {peak:.0f} |\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--imports", nargs="*", default=[], help="modules to import first, one step each")
    args = parser.parse_args(argv)
    state: dict[str, Any] = {}

    def settings() -> None:
        from dangol.core.settings import load_settings
        from dangol.pipeline import run_once  # noqa: F401  (what a worker imports first)

        state["settings"] = load_settings(args.config)

    def encoder() -> None:
        from nlp.encoders import build_encoder

        state["encoder"] = build_encoder(state["settings"])

    def analyzer() -> None:
        import nlp.encoders
        from nlp.analyzer import Analyzer

        # The encoder built in the step before, not a second one.
        built = state["encoder"]
        nlp.encoders.build_encoder = lambda settings: built  # type: ignore[assignment]
        state["analyzer"] = Analyzer.from_settings(state["settings"])

    def analyze() -> None:
        from datetime import UTC, datetime

        from bench.pipeline import synthetic_posts
        from nlp.base import PostText

        now = datetime.now(UTC)
        posts = [PostText(i, p.text, p.platform, now) for i, p in enumerate(synthetic_posts(args.posts))]
        batch = state["settings"].nlp.batch_size
        for start in range(0, len(posts), batch):
            state["analyzer"].analyze(posts[start : start + batch], [])

    steps: list[tuple[str, Callable[[], None]]] = [
        ("settings and dangol.pipeline imported", settings),
        *((f"import {name}", functools.partial(importlib.import_module, name)) for name in args.imports),
        ("encoder built (model session, tokenizer)", encoder),
        ("analyzer built (heads, topics, intents, langid)", analyzer),
        (f"{args.posts:,} posts analyzed", analyze),
    ]
    sys.stdout.write(f"load average {load_average()}\n\n| step | RSS MiB | peak MiB |\n|---|---|---|\n")
    _row("python started")
    for name, run in steps:
        run()
        _row(name)
    sys.stdout.write("\nimported: " + ", ".join(m for m in HEAVY if m in sys.modules) + "\n")


if __name__ == "__main__":
    main()
