"""The worker's peak memory while the sentiment training job runs: in a child process (how the
worker runs it) and in the worker's own process (how it ran before), each in a fresh interpreter.

    python -m bench.training_memory [--database var/demo.db] [--per-class 40] [--language en]

Copies the database, stores `--per-class` staff sentiment corrections per label on its analyzed
posts of `--language` (the label each correction gives is the post's own analysis: the job's work
and memory do not depend on which labels staff chose), and then, per way, builds the configured
analyzer (what a worker holds) and runs `sentiment_train_job` once. Retrained heads go to a
temporary folder: the active ones are not touched. Prints per way the worker process's peak RSS
and the training child's (`getrusage`), as JSON lines. Needs the public training data in
`../shared/data`, as the job does.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, col, select

from bench.machine import load_average
from dangol.core.settings import Settings, load_settings
from storage.engine import make_engine
from storage.feedback import add_label_feedback
from storage.models import Analysis

LABELS = ("negative", "neutral", "positive")


def add_corrections(url: str, language: str, per_class: int) -> int:
    """`per_class` sentiment corrections per label on analyzed posts of `language`; how many stored."""
    engine = make_engine(url)
    stored = 0
    with Session(engine) as session:
        for label in LABELS:
            rows = session.exec(
                select(Analysis.post_id).where(col(Analysis.language) == language, col(Analysis.sentiment) == label)
            ).all()
            for post_id in rows[:per_class]:
                add_label_feedback(session=session, post_id=post_id, kind="sentiment", new_value=label, staff_id=None)
                stored += 1
        session.commit()
    engine.dispose()
    return stored


def settings_for(url: str, heads: Path) -> Settings:
    return load_settings(overrides={"database": {"url": url}, "nlp": {"sentiment": {"heads_dir": str(heads)}}})


def run_once(url: str, heads: Path, way: str) -> dict[str, object]:
    """In this process: the analyzer a worker holds, then the job `way` ("child" or "inline")."""
    from dangol.child_process import run_in_child
    from dangol.jobs import sentiment_train_job
    from nlp.analyzer import Analyzer

    settings = settings_for(url, heads)
    analyzer = Analyzer.from_settings(settings)
    started = time.perf_counter()
    if way == "child":
        outcome = run_in_child(sentiment_train_job, settings)
    else:
        engine = make_engine(url)
        outcome = sentiment_train_job(settings, engine)
        engine.dispose()
    del analyzer
    kib = 1024  # ru_maxrss is in KiB on Linux
    return {
        "way": way,
        "worker_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kib, 1),
        "training_child_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kib, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "outcome": outcome,
        "load_average": load_average(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=Path("var/demo.db"), help="a SQLite database to copy")
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--language", default="en")
    parser.add_argument("--ways", nargs="+", default=["child", "inline"], choices=["child", "inline"])
    parser.add_argument("--once", choices=["child", "inline"], help=argparse.SUPPRESS)  # one way, in this process
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--heads", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.once:
        print(json.dumps(run_once(args.url, args.heads, args.once)), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="dangol-bench-training-") as workdir:
        for way in args.ways:  # each on a fresh copy: the first run's record would stop the second
            copy = Path(workdir) / f"{way}.db"
            shutil.copyfile(args.database, copy)
            url = f"sqlite:///{copy}"
            stored = add_corrections(url, args.language, args.per_class)
            print(json.dumps({"way": way, "corrections": stored, "language": args.language}), flush=True)
            once = ["--once", way, "--url", url, "--heads", str(Path(workdir) / f"heads-{way}")]
            subprocess.run([sys.executable, "-m", "bench.training_memory", *once], check=True)


if __name__ == "__main__":
    main()
