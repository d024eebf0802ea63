"""Listener commands: `dangol listen parse` (a recorded response through its parser), `dangol sources`
(their health) and `dangol sources recheck-deletions`."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dangol.cli.context import friendly_errors, state

if TYPE_CHECKING:
    from dangol.core.types import Billing
    from storage.models import Source

listen_app = typer.Typer(help="Collectors and their platform parsers.", no_args_is_help=True)
sources_app = typer.Typer(
    help="Sources: their health (no command), or re-check deletions.", invoke_without_command=True
)


class Platform(StrEnum):
    """The platforms a response file can come from."""

    x = "x"
    reddit = "reddit"
    mastodon = "mastodon"
    bluesky = "bluesky"
    rss = "rss"
    naver = "naver"
    youtube = "youtube"
    appstore = "appstore"
    googleplay = "googleplay"


def register(app: typer.Typer) -> None:
    """Add `listen` and `sources` to `app`."""
    app.add_typer(listen_app, name="listen")
    app.add_typer(sources_app, name="sources")


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


def _budget(billing: Billing | None, row: Source | None) -> str:
    """This period's use against the caps, or "-" for a free source."""
    from storage.sources import Usage, budget_period, describe_usage, usage

    if billing is None:
        return "-"
    used = usage(row, billing) if row is not None else Usage(budget_period(billing), 0, 0)
    return describe_usage(billing, used)


@sources_app.callback()
@friendly_errors
def sources(ctx: typer.Context) -> None:
    """Configured sources with their health: last run, last error, posts, budget, throttling."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlmodel import Session

    from listener.base import source_billing
    from storage.sources import all_sources

    st = state(ctx)
    with Session(st.engine) as session:
        rows = {row.name: row for row in all_sources(session=session)}
    header = ("source", "use", "enabled", "last run", "posts", "budget", "throttled until", "last error")
    table = [header]
    for name, config in st.settings.sources.items():
        row = rows.get(name)
        table.append(
            (
                name,
                config.use,
                "yes" if config.enabled else "no",
                _when(row.last_run_at) if row else "never",
                str(row.posts_collected) if row else "0",
                _budget(source_billing(name, st.settings.sources), row),
                _when(row.throttled_until) if row and row.throttled_until else "-",
                (row.last_error or "-").splitlines()[0][:80] if row else "-",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for cells in table:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())


@sources_app.command("recheck-deletions")
@friendly_errors
def recheck_deletions(
    ctx: typer.Context,
    source: list[str] = typer.Option(None, "--source", "-s", help="Only this source (repeatable)."),
    days: int = typer.Option(
        None, "--days", min=1, help="Posts of the last N days (default: worker.deletion_recheck_days)."
    ),
    limit: int = typer.Option(
        None, "--limit", min=1, help="At most N posts per source (default: worker.deletion_recheck_max_posts)."
    ),
) -> None:
    """Ask X, Mastodon and Bluesky whether recent posts still exist; remove the deleted ones."""
    from dangol.jobs import deletion_recheck_job

    st = state(ctx)
    done = deletion_recheck_job(st.settings, st.engine, names=source or None, days=days, max_posts=limit)
    for run in done.sources:
        typer.echo(str(run))
    if not done.sources:
        typer.echo("no enabled source can be re-checked (X, Mastodon and Bluesky can)")
    if done.feeds:
        typer.echo(f"topic feeds rewritten: {len(done.feeds)} files")
    if any(run.status in ("failed", "unsupported") for run in done.sources):
        raise typer.Exit(1)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"
