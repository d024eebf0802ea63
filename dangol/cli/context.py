"""What every command needs: the settings (loaded once) and a database engine built from them."""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from dangol.core.errors import ConfigError, DangolError
from dangol.core.settings import Settings, load_settings


def literal(text: str) -> str:
    """Help text shown as written. Typer reads help as Rich markup, where a settings table such as
    "[api]" or "[topics.*]" is a style tag and vanishes: "(default: [api] port)" was shown as
    "(default:  port)"."""
    from rich.markup import escape

    return escape(text)


@dataclass
class AppState:
    """Set by the top-level callback from --config; commands read it through `state(ctx)`."""

    config_path: Path | None = None
    _settings: Settings | None = None
    _engine: Engine | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from storage.engine import make_engine
            from storage.migrate import upgrade

            self._engine = make_engine(self.settings.database.url, echo=self.settings.database.echo)
            # Every command works on a current schema; upgrading an up-to-date one is a no-op.
            upgrade(self._engine)
        return self._engine


# C0 and C1 control characters but newline and tab: ESC starts terminal sequences (clear the
# screen, set the title, fake output), BEL and backspace rewrite what was printed.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text from posts and people, safe to print on a terminal: control characters become "?"."""
    return _CONTROL.sub("?", text)


def clip(text: str, columns: int) -> str:
    """`text` cut to fit `columns` terminal columns, with "…" where it was cut. Hangul and other wide
    characters take two columns: cut at 70 characters, a Korean post took ~130 and wrapped the
    table's row in two on an 80-column terminal."""
    from rich.text import Text

    clipped = Text(text)
    clipped.truncate(columns, overflow="ellipsis")
    return clipped.plain


def state(ctx: typer.Context) -> AppState:
    """The AppState of this invocation (the root context holds it)."""
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    return obj


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error to stderr and return the Exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def friendly_errors(func: Any) -> Any:
    """Turn Dangol errors into a clear message and exit code 1 instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                typer.secho(f"config: {problem}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        except DangolError as exc:
            raise fail(str(exc)) from None
        except OperationalError as exc:  # the database could not be reached or refused us
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise fail(f"cannot use the database: {reason}; check DANGOL_DATABASE_URL / [database] url") from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper
