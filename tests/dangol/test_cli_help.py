"""Every command's --help shows its text as written."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

from typer.main import get_command
from typer.testing import CliRunner

from dangol.cli import app

# What Rich markup, which typer renders help with, takes for a style tag: "[api]", "[topics.*]".
_TAG = re.compile(r"\[[a-z#/@][^\[\]]*\]")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_settings_tables_named_in_help_are_shown() -> None:
    """A settings table in a help text is shown: "(default: [api] port)" was shown as
    "(default:  port)", the table read as markup."""
    runner = CliRunner()
    checked, lost = 0, []
    for path, command in _commands(get_command(app)):
        texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
        wanted = {tag for text in texts for tag in _TAG.findall(text.replace("\\[", "["))}
        if not wanted:
            continue
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        shown = " ".join(result.output.split())
        checked += len(wanted)
        lost += [f"dangol {' '.join(path)}: {tag}" for tag in sorted(wanted) if tag not in shown]
    assert checked >= 6  # the check saw the help texts that name tables
    assert not lost, f"wrap these help texts in dangol.cli.context.literal: {lost}"


def test_each_command_sums_itself_up_in_one_line() -> None:
    """A group's list of commands shows the first paragraph of each command's help with its line
    breaks (typer's Rich layout), so a summary wrapped in the docstring was printed cut in two."""
    wrapped = [
        f"dangol {' '.join(path)}"
        for path, command in _commands(get_command(app))
        if "\n" in inspect.cleandoc(command.help or "").split("\n\n")[0]
    ]
    assert not wrapped, f"give these commands a one-line first paragraph: {wrapped}"
