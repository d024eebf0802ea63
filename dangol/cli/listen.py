"""Listener commands: `dangol listen parse` (a recorded response through its parser) and `dangol sources`."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import typer

from dangol.cli.context import friendly_errors, state

listen_app = typer.Typer(help="Collectors and their platform parsers.", no_args_is_help=True)


class Platform(StrEnum):
    """The platforms a response file can come from."""

    x = "x"
    reddit = "reddit"
    mastodon = "mastodon"
    bluesky = "bluesky"
    rss = "rss"
    naver = "naver"


def register(app: typer.Typer) -> None:
    """Add `listen` and `sources` to `app`."""
    app.add_typer(listen_app, name="listen")
    app.command("sources")(sources)


@listen_app.command("parse")
@friendly_errors
def parse(
    platform: Platform = typer.Option(..., "--platform", "-p", help="Which platform's API the file came from."),
    file: Path = typer.Argument(..., help="One API response body: JSON, or RSS/Atom XML."),
) -> None:
    """Print each post of FILE as one JSON line, then {"posts": N, "dead_letters": M}."""
    from listener.base import parse_file

    posts, dead = parse_file(platform.value, file)
    for post in posts:
        line = {
            "platform": post.platform,
            "external_id": post.external_id,
            "author_handle": post.author.handle,
            "author_id": post.author.platform_id,
            "text": post.text,
            "created_at": post.created_at.isoformat(),
            "url": post.url,
            "lang_hint": post.lang_hint,
            "reply_to_id": post.reply_to_id,
            "is_retweet": post.is_retweet,
            "is_reply": post.is_reply,
            "metrics": post.metrics,
        }
        typer.echo(json.dumps(line, ensure_ascii=False))
    for letter in dead:
        typer.secho(f"dead letter: {letter.reason}", fg=typer.colors.YELLOW, err=True)
    typer.echo(json.dumps({"posts": len(posts), "dead_letters": len(dead)}))


@friendly_errors
def sources(ctx: typer.Context) -> None:
    """Configured sources with their health: last run, last error, posts, budget, throttling."""
    from sqlmodel import Session, select

    from dangol.types import utcnow
    from storage.models import Source
    from storage.sources import budget_period

    st = state(ctx)
    with Session(st.engine) as session:
        rows = {row.name: row for row in session.exec(select(Source))}
    period = budget_period(utcnow())
    header = ("source", "use", "enabled", "last run", "posts", "budget", "throttled until", "last error")
    table = [header]
    for name, config in st.settings.sources.items():
        row = rows.get(name)
        limit = config.options().get("monthly_read_budget")
        used = row.budget_used if row is not None and row.budget_period == period else 0
        table.append(
            (
                name,
                config.use,
                "yes" if config.enabled else "no",
                _when(row.last_run_at) if row else "never",
                str(row.posts_collected) if row else "0",
                f"{used}/{limit}" if limit else f"{used}/-",
                _when(row.throttled_until) if row and row.throttled_until else "-",
                (row.last_error or "-").splitlines()[0][:80] if row else "-",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for cells in table:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"
