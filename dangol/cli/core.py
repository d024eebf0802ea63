"""Core commands: config, database, pipeline stages, worker, dashboard, demo, customers."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the core commands to `app`."""
