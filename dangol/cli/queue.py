"""The response queue from the command line: `dangol queue list|claim|reply|resend|close|suggest` and `dangol audit`.

Commands that change something act as a staff member (`--as USERNAME`), with that person's role
checked exactly as in the dashboard.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from dangol.cli.context import clip, fail, friendly_errors, printable, state
from dangol.core.types import MAX_ROW_ID

if TYPE_CHECKING:
    from storage.models import Reply

queue_app = typer.Typer(help="The response queue: list, claim, reply, resend, close.", no_args_is_help=True)
# `queue list`: the columns before a row's text ("#40     p1  new  …  x             2 "), and the
# fewest columns of text shown however narrow the terminal.
ROW_PREFIX, MIN_TEXT_COLUMNS = 65, 30


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(queue_app, name="queue")
    app.command("audit")(audit_command)


def _actor(session, username: str):  # type: ignore[no-untyped-def]
    from dangol.core.errors import NotFound
    from storage.staff import staff_by_username

    staff = staff_by_username(session=session, username=username)
    if staff is None:
        raise NotFound(f"no staff member named {username!r}; `dangol staff list` shows them")
    return staff


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"--since {value!r} is not a date; use ISO form such as 2026-11-16 or 2026-11-16T09:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@queue_app.command("list")
@friendly_errors
def list_command(
    ctx: typer.Context,
    status: list[str] = typer.Option(None, "--status", help="Only these statuses (repeatable); default: open ones."),
    team: str | None = typer.Option(None, "--team", help="Only this team's items."),
    assignee: str | None = typer.Option(None, "--assignee", help="Only items assigned to this username."),
    sort: str = typer.Option("priority", "--sort", help="priority | oldest | newest | due"),
    page: int = typer.Option(1, "--page", min=1, max=MAX_ROW_ID),
    page_size: int = typer.Option(25, "--page-size", min=1, max=500),
) -> None:
    """List queue items, most urgent first."""
    from responder.queue import QueueFilters, list_queue
    from responder.sla import sla_state
    from responder.statuses import OPEN_STATUSES
    from storage.engine import session_scope
    from storage.models import Post

    with session_scope(state(ctx).engine) as session:
        assignee_id = _actor(session, assignee).id if assignee else None
        filters = QueueFilters(status=status or OPEN_STATUSES, team=team, assignee_id=assignee_id)
        result = list_queue(filters, session=session, sort=sort, page=page, page_size=page_size)
        typer.echo(result.describe())
        if result.items:
            # "posts": the item's cluster, the copies and retweets of one complaint answered as one.
            typer.echo(
                f"{'item':<7} {'pri':<3} {'status':<16} {'team':<10} {'sla':<8} {'platform':<9} {'posts':>5} text"
            )
        # The text fills the rest of the terminal's width (70 columns when not printed to one).
        text_columns = max(MIN_TEXT_COLUMNS, shutil.get_terminal_size((ROW_PREFIX + 70, 24)).columns - ROW_PREFIX)
        for item in result.items:
            post = session.get(Post, item.post_id)
            text = clip(printable(" ".join((post.text if post else "").split())), text_columns)
            typer.echo(
                f"#{item.id:<6} p{item.priority:<2} {item.status:<16} {item.team:<10} {sla_state(item):<8} "
                f"{post.platform if post else '?':<9} {item.cluster_size:>5} {text}"
            )


@queue_app.command("claim")
@friendly_errors
def claim_command(
    ctx: typer.Context,
    item_id: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="Queue item id."),
    actor: str = typer.Option(..., "--as", help="Your staff username."),
) -> None:
    """Claim an unassigned item."""
    from responder.assignment import claim
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        item = claim(item_id, actor=_actor(session, actor), session=session)
        typer.echo(f"#{item.id} is now {item.status}, assigned to {actor}")


@queue_app.command("suggest")
@friendly_errors
def suggest_command(
    ctx: typer.Context, item_id: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="Queue item id.")
) -> None:
    """Show suggested replies for an item."""
    from responder.suggest import suggest
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        for n, suggestion in enumerate(suggest(item_id, session=session), 1):
            typer.echo(printable(f"[{n}] {suggestion.source} — {suggestion.explanation}\n    {suggestion.text}"))


@queue_app.command("reply")
@friendly_errors
def reply_command(
    ctx: typer.Context,
    item_id: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="Queue item id."),
    text: str | None = typer.Argument(None, help="The reply; leave out to use suggestion --use N."),
    use: int | None = typer.Option(None, "--use", help="Send suggestion number N (see `dangol queue suggest`)."),
    actor: str = typer.Option(..., "--as", help="Your staff username."),
) -> None:
    """Reply to an item: it is sent (dry-run unless enabled) or waits for PR approval."""
    from dangol.core.errors import SendError
    from responder.approval import submit_reply
    from responder.suggest import suggest
    from storage.engine import session_scope

    settings = state(ctx).settings
    with session_scope(state(ctx).engine) as session:
        source = "staff"
        if text is None:
            if use is None:
                raise fail("give the reply text, or --use N to send suggestion N")
            options = suggest(item_id, session=session)
            if not 1 <= use <= len(options):
                raise fail(f"--use {use}: there are {len(options)} suggestions (1-{len(options)})")
            text, source = options[use - 1].text, options[use - 1].source
        try:
            reply = submit_reply(
                item_id, text, actor=_actor(session, actor), session=session, settings=settings, source=source
            )
        except SendError as exc:
            if exc.reply_id is None:
                raise
            raise fail(
                f"reply {exc.reply_id} was not sent: {exc}. It is kept: `dangol queue resend {exc.reply_id} "
                f"--as {actor}` sends it again after looking on the platform for an earlier copy"
            ) from None
        if reply.status == "pending_approval":
            typer.echo(f"reply {reply.id} waits for PR approval")
        else:
            _sent(reply)


@queue_app.command("resend")
@friendly_errors
def resend_command(
    ctx: typer.Context,
    reply_id: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="Reply id (as `queue reply` printed it)."),
    actor: str = typer.Option(..., "--as", help="Your staff username."),
) -> None:
    """Send again a reply the platform did not take (looking for an earlier copy first).

    The platform is asked whether the reply is already there before anything is posted, so the
    customer never gets it twice."""
    from responder.sending import send_reply
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        _sent(send_reply(reply_id, actor=_actor(session, actor), session=session, settings=state(ctx).settings))


def _sent(reply: Reply) -> None:
    mode = " (dry run: nothing was posted)" if reply.dry_run else ""
    typer.echo(f"reply {reply.id} {reply.status}{mode}: {reply.external_id}")


@queue_app.command("close")
@friendly_errors
def close_command(
    ctx: typer.Context,
    item_id: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="Queue item id."),
    actor: str = typer.Option(..., "--as", help="Your staff username."),
    spam: bool = typer.Option(False, "--spam", help="Close as spam."),
) -> None:
    """Close an item (resolved, or spam)."""
    from responder.queue import close, mark_spam
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        staff = _actor(session, actor)
        item = (mark_spam if spam else close)(item_id, actor=staff, session=session)
        typer.echo(f"#{item.id} is now {item.status}")


@friendly_errors
def audit_command(
    ctx: typer.Context,
    actor: str | None = typer.Option(None, "--actor", help="Only this actor (username or system:<part>)."),
    action: str | None = typer.Option(None, "--action", help="Only this action, or a prefix ending in '.' (queue.)."),
    since: str | None = typer.Option(None, "--since", help="Only since this ISO date/time (UTC if no offset)."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
) -> None:
    """List audited actions: who did what, and when."""
    from storage.audit import list_events
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        events = list_events(session=session, actor=actor, action=action, since=_since(since), limit=limit)
        if not events:
            typer.echo("no matching audit events")
        for e in events:
            change = ", ".join(f"{k}={v}" for k, v in e.after.items())
            when = e.at.isoformat(timespec="seconds") if e.at else "?"
            typer.echo(printable(f"{when} {e.actor:<16} {e.action:<22} {e.entity_type}:{e.entity_id} {change}"))
