"""`dangol bench` loads the repository's bench/ package, which is not installed with Dangol: from the
checkout beside the installed package, or with a clear error where there is none."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

import dangol.cli.bench as cli_bench
from tests.conftest import REPO


def is_bench(name: str) -> bool:
    return name == "bench" or name.startswith("bench.")


@pytest.fixture
def bench_off_the_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As under the `dangol` script: the checkout's root is not on the import path and bench is not
    imported yet. The bench modules imported before are put back afterwards, and only those."""
    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p or ".").resolve() != REPO])
    saved = {name: module for name, module in sys.modules.items() if is_bench(name)}
    for name in saved:
        del sys.modules[name]
    yield
    for name in [name for name in sys.modules if is_bench(name)]:
        del sys.modules[name]
    sys.modules.update(saved)


@pytest.mark.usefixtures("bench_off_the_path")
def test_the_checkouts_bench_package_is_found_when_the_import_path_lacks_it() -> None:
    bench_pipeline = cli_bench.load_bench_pipeline()
    assert Path(sys.modules[bench_pipeline.__module__].__file__ or "") == REPO / "bench" / "pipeline.py"
    assert bench_pipeline.__name__ == "bench_pipeline" and sys.path[0] == str(REPO)


@pytest.mark.usefixtures("bench_off_the_path")
def test_without_a_checkout_it_says_bench_is_not_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_bench, "CHECKOUT", tmp_path)
    with pytest.raises(typer.Exit) as exited:
        cli_bench.load_bench_pipeline()
    assert exited.value.exit_code == 1
    assert "bench/ is not installed" in capsys.readouterr().err
