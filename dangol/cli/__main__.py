"""`python -m dangol.cli` runs the CLI."""

from dangol.cli import app

app()
