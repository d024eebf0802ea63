"""Benchmark commands (the full suite is `make bench`).

The measuring code lives in the repository's `bench/` package, which is development code and not
installed with Dangol: these commands work from a source checkout (an editable install) only.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from dangol.cli.context import fail, friendly_errors, state

# dangol/cli/bench.py → the checkout's root, where bench/ sits beside dangol/.
CHECKOUT = Path(__file__).resolve().parents[2]

bench_app = typer.Typer(help="Measure throughput on this machine.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `dangol bench` to `app`."""
    app.add_typer(bench_app, name="bench")


def load_bench_pipeline() -> Callable[..., Any]:
    """`bench.pipeline.bench_pipeline`, from the checkout this package was installed from.

    The `dangol` script does not run from the checkout's root, so an editable install finds its own
    packages but not `bench/`; the checkout's root is put on the import path when it holds one.
    """
    if importlib.util.find_spec("bench") is None:
        if not (CHECKOUT / "bench" / "pipeline.py").is_file():
            raise fail("dangol bench needs a source checkout: bench/ is not installed with the package")
        sys.path.insert(0, str(CHECKOUT))
    from bench.pipeline import bench_pipeline

    return bench_pipeline


@bench_app.command("pipeline")
@friendly_errors
def pipeline_bench(
    ctx: typer.Context,
    posts: int = typer.Option(2000, "--posts", "-n", min=64, help="How many posts to analyze."),
) -> None:
    """Analyze N posts end to end and the raw encoder on the same texts; JSON on the last line."""
    from tqdm import tqdm

    bench_pipeline = load_bench_pipeline()
    settings = state(ctx).settings
    with tempfile.TemporaryDirectory(prefix="dangol-bench-") as workdir:
        with tqdm(total=posts, desc="analyzing", unit="post", file=sys.stderr, disable=None, leave=False) as bar:
            result = bench_pipeline(settings, posts, Path(workdir), progress=bar.update)
    typer.echo(json.dumps(result.as_json()))
