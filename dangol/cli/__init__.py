"""The `dangol` command line. Each command is a thin wrapper over a function elsewhere.

Commands are grouped by area, one module each; every module has `register(app)`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dangol.cli import api, bench, core, listen, nlp, privacy, queue, report, staff, topics
from dangol.cli.context import AppState

app = typer.Typer(
    help="Dangol: listen to public social posts, understand them, remember customers, answer sincerely.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    config: Path = typer.Option(
        Path("config.toml"), "--config", "-c", envvar="DANGOL_CONFIG", help="Configuration file (TOML)."
    ),
) -> None:
    """Global options; settings are loaded once, on first use, and passed down."""
    ctx.obj = AppState(config_path=config)


for module in (core, listen, nlp, topics, queue, staff, report, privacy, api, bench):
    module.register(app)
