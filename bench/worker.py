"""A `dangol run`-style worker pass for the memory benchmark: collect, analyze and route once.

    python -m bench.worker --pages DIR --db FILE [--config config.toml]

Prints one JSON line with what it did and its own peak RSS (VmHWM), which the parent checks
against its /proc samples.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench.machine import peak_rss_mib
from bench.pieces import replay_settings
from dangol.pipeline import run_once
from storage.engine import make_engine
from storage.migrate import upgrade


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", required=True, type=Path)
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    url = f"sqlite:///{args.db}"
    settings = replay_settings(args.config, url, args.pages)
    engine = make_engine(url)
    upgrade(engine)
    done = run_once(settings, engine)
    routed = done["routed"]
    result = {
        "collected": sum(s["new_posts"] for s in done["sources"]),
        "analyzed": done["analyzed"],
        "queued": routed.queued,
        "peak_rss_mib": round(peak_rss_mib(os.getpid())[1], 1),
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
