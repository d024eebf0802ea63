"""Benchmark commands (the full suite is `make bench`)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import typer

from dangol.cli.context import friendly_errors, state

bench_app = typer.Typer(help="Measure throughput on this machine.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `dangol bench` to `app`."""
    app.add_typer(bench_app, name="bench")


@bench_app.command("pipeline")
@friendly_errors
def pipeline_bench(
    ctx: typer.Context,
    posts: int = typer.Option(2000, "--posts", "-n", min=64, help="How many posts to analyze."),
) -> None:
    """Analyze N posts end to end and the raw encoder on the same texts; JSON on the last line."""
    from tqdm import tqdm

    from dangol.benchmark import bench_pipeline

    settings = state(ctx).settings
    with tempfile.TemporaryDirectory(prefix="dangol-bench-") as workdir:
        with tqdm(total=posts, desc="analyzing", unit="post", file=sys.stderr, disable=None, leave=False) as bar:
            result = bench_pipeline(settings, posts, Path(workdir), progress=bar.update)
    typer.echo(json.dumps(result.as_json()))
