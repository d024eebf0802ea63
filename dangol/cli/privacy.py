"""Privacy requests: export and erase a customer's data (commands added by the privacy work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
