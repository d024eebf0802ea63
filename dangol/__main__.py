"""`python -m dangol` runs the CLI."""

from dangol.cli import app

app()
