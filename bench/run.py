"""The benchmark suite (`make bench`): writes bench/results/<name>.json and the tables in BENCHMARKS.md.

    python -m bench.run            # everything: 10k, 100k and 1M posts on SQLite and PostgreSQL
    python -m bench.run --quick    # a smoke run: 10k posts only, small samples
    python -m bench.run --only queue weekly --sizes 1000000   # re-run some pieces, merged into the file

PostgreSQL runs on --postgres URL, else on DANGOL_BENCH_POSTGRES_URL (or DANGOL_TEST_POSTGRES_URL),
else on a server answering at 127.0.0.1:5432 as user postgres (`--postgres ''` leaves it out); the
benchmark creates its own databases there (bench_<size>, bench_collect; --pg-prefix renames them),
leaving the named one alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import markdown, pieces
from bench.machine import describe
from dangol.core.settings import load_settings
from nlp.encoders.base import encoder_options
from storage.engine import make_engine

RESULTS = Path(__file__).parent / "results"
PIECES = ("encoder", "pipeline", "collect", "queue", "weekly", "score", "memory")
WEEK, NOW = "2026-W47", datetime(2026, 11, 23, 3, tzinfo=UTC)  # the generator's data ends 2026-11-22


def database_urls(size: int, var: Path, postgres: str | None, prefix: str = "bench") -> dict[str, str]:
    """Where the generated database of `size` posts lives, per backend."""
    urls = {"sqlite": f"sqlite:///{var / f'bench-{size}.db'}"}
    if postgres:
        urls["postgresql"] = make_url(postgres).set(database=f"{prefix}_{size}").render_as_string(hide_password=False)
    return urls


def run(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    """Run the chosen pieces; results are merged into (and saved to) bench/results/<name>.json."""
    out = RESULTS / f"{args.name}.json"
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() and args.only else {}
    results["machine"] = describe()
    results["command"] = "python -m bench.run " + shlex.join(args.argv)
    settings = load_settings(args.config)
    chosen = args.only or PIECES

    def save(piece: str, value: Any) -> None:
        results[piece] = value
        RESULTS.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        log(f"{piece}: {json.dumps(value)}")

    if "encoder" in chosen:
        samples = pieces.language_samples(args.posts // 2)
        max_length = encoder_options(settings).max_length
        save("encoder", pieces.encoder_throughput(samples, batch_size=settings.nlp.batch_size, max_length=max_length))
    if "pipeline" in chosen:
        save("pipeline", pieces.pipeline_throughput(settings, args.posts))
        # The fast profile beside the configured one, same run: issue #20 compares them side by side.
        fast = load_settings(args.config, overrides={"nlp": {"profile": "fast"}})
        save("pipeline_fast", pieces.pipeline_throughput(fast, args.posts))
    if "collect" in chosen:
        save("collect", _collect(args))
        save("collect_parallel", _collect_parallel(args))
    if {"queue", "weekly", "score"} & set(chosen):
        queue: dict[str, Any] = results.get("queue", {}) if args.only else {}
        weekly: dict[str, Any] = results.get("weekly", {}) if args.only else {}
        score: dict[str, Any] = results.get("score", {}) if args.only else {}
        for size in args.sizes:
            for backend, url in database_urls(size, args.var, args.postgres, args.pg_prefix).items():
                key = f"{backend}/{size}"
                made = pieces.ensure_database(url, size)
                log(f"database {key}: {made}")
                engine = make_engine(url)
                if "queue" in chosen:
                    queue[key] = {"generated": made, **pieces.queue_latency(engine, args.repeats)}
                    save("queue", queue)
                if "weekly" in chosen and size == max(args.sizes):
                    weekly[key] = pieces.weekly_time(engine, settings, WEEK, NOW)
                    save("weekly", weekly)
                if "score" in chosen and size == max(args.sizes):
                    score[key] = pieces.score_time(engine, settings, NOW)
                    save("score", score)
                engine.dispose()
    if "memory" in chosen:
        for key, profile in (("memory", settings.nlp.profile), ("memory_fast", "fast")):
            with tempfile.TemporaryDirectory(prefix="dangol-bench-memory-") as workdir:
                save(key, pieces.worker_memory(args.config, args.memory_posts, Path(workdir), profile=profile))
    if args.markdown:
        markdown.update(Path(args.markdown), results)
    return results


def _collect(args: argparse.Namespace) -> dict[str, Any]:
    """Each replayed platform into its own empty database, per backend; rates also as a ratio to
    Mastodon's in the same run (same machine, same moment)."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="dangol-bench-collect-") as workdir:
        for platform in pieces.REPLAY_PLATFORMS:
            pieces.write_replay_pages(Path(workdir) / platform, args.collect_pages, platform=platform)
            # Untimed: the first collection of a run pays the one-off imports and parser set-up.
            pieces.write_replay_pages(Path(workdir) / f"warm-{platform}", 1, platform=platform)
            warm = f"sqlite:///{workdir}/warm-{platform}.db"
            pieces.collect_throughput(args.config, warm, Path(workdir) / f"warm-{platform}", platform)
        urls = {"sqlite": f"sqlite:///{workdir}/collect.db"}
        if args.postgres:
            urls["postgresql"] = _postgres_url(args, "collect")
        for backend, url in urls.items():
            runs: dict[str, list[dict[str, Any]]] = {platform: [] for platform in pieces.REPLAY_PLATFORMS}
            # Rounds over all platforms rather than one platform's runs back to back: a burst of
            # another tenant's load then touches one run of several platforms, not every run of one.
            for _round in range(args.collect_rounds):
                for platform in pieces.REPLAY_PLATFORMS:
                    pieces.fresh_database(url)
                    runs[platform].append(
                        pieces.collect_throughput(args.config, url, Path(workdir) / platform, platform)
                    )
            rates = {platform: _median_run(platform_runs) for platform, platform_runs in runs.items()}
            baseline = rates[pieces.REPLAY_PLATFORM]["posts_per_s"]
            for rate in rates.values():
                rate["ratio_to_mastodon"] = round(rate["posts_per_s"] / baseline, 2)
            out[backend] = rates
    return out


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median posts/s (the lower middle one of an even count), with every run's
    posts/s beside it: on a shared machine one run swings by a fifth either way."""
    ordered = sorted(runs, key=lambda run: run["posts_per_s"])
    return {**ordered[(len(ordered) - 1) // 2], "runs_posts_per_s": [run["posts_per_s"] for run in ordered]}


# (sources collected at once, in threads of one worker rather than in processes of their own)
PARALLEL_RUNS = ((1, False), (2, False), (4, False), (2, True), (4, True))


def _collect_parallel(args: argparse.Namespace) -> dict[str, Any]:
    """Mastodon pages collected by 1, 2 and 4 worker processes at once (a source each, the pages
    shared out), then by one process collecting 2 and 4 sources in threads as one worker does, per
    backend: the rates a deployment with several sources and workers stores at."""
    out: dict[str, Any] = {}
    urls = {"sqlite": None, **({"postgresql": _postgres_url(args, "collect")} if args.postgres else {})}
    with tempfile.TemporaryDirectory(prefix="dangol-bench-parallel-") as workdir:
        for backend, url in urls.items():
            out[backend] = [
                pieces.collect_parallel(
                    args.config, url or f"sqlite:///{workdir}/parallel.db", Path(workdir),
                    workers=workers, pages=args.collect_pages * 2 // workers, threads=threads,
                )
                for workers, threads in PARALLEL_RUNS
            ]  # fmt: skip
    return out


def _postgres_url(args: argparse.Namespace, name: str) -> str:
    """The benchmark's own database `<prefix>_<name>` on the --postgres server."""
    return make_url(args.postgres).set(database=f"{args.pg_prefix}_{name}").render_as_string(hide_password=False)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options; --quick shrinks every size for a smoke run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k posts only and small samples")
    parser.add_argument("--only", nargs="+", choices=PIECES, help="run only these pieces (merged into the file)")
    parser.add_argument("--sizes", nargs="+", type=int, help="database sizes in posts")
    parser.add_argument("--name", help="results file name (default: full, or quick with --quick)")
    parser.add_argument("--config", type=Path, default=Path("config.toml"))
    parser.add_argument("--var", type=Path, default=Path("var/bench"), help="where the SQLite databases go")
    parser.add_argument("--postgres", default=os.environ.get("DANGOL_BENCH_POSTGRES_URL")
                        or os.environ.get("DANGOL_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL ('' for none; default: the local one, if up)")  # fmt: skip
    parser.add_argument("--pg-prefix", default="bench", help="name prefix of the PostgreSQL databases made")
    parser.add_argument("--markdown", default="BENCHMARKS.md", help="file whose tables to update ('' for none)")
    args = parser.parse_args(argv)
    args.argv = argv
    args.sizes = args.sizes or ([10_000] if args.quick else [10_000, 100_000, 1_000_000])
    args.name = args.name or ("quick" if args.quick else "full")
    args.posts = 256 if args.quick else 2000
    args.collect_pages = 50 if args.quick else 250
    args.collect_rounds = 1 if args.quick else 3  # each platform's collection runs this often: the median is kept
    args.repeats = 10 if args.quick else 30
    args.memory_posts = 400 if args.quick else 3000
    return args


LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def local_postgres(url: str = LOCAL_POSTGRES) -> str | None:
    """`url` when a PostgreSQL server answers there within 2 seconds, else None."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error:
        return None
    return url


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.var.mkdir(parents=True, exist_ok=True)
    if args.postgres is None:  # none named: the local server, when there is one (both backends, issue #20)
        args.postgres = local_postgres()
    args.postgres = args.postgres or None  # --postgres '' leaves PostgreSQL out
    print(f"PostgreSQL: {args.postgres or 'not measured (no server named or at 127.0.0.1:5432)'}", file=sys.stderr)
    run(args, lambda line: print(line, file=sys.stderr, flush=True))


if __name__ == "__main__":
    main()
