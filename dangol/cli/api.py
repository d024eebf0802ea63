"""The HTTP API from the command line: `dangol api` serves it; `dangol api token create|list|revoke`;
`dangol api webhooks` lists the outbound webhook outbox.

The CLI is trusted (whoever runs it holds the server): it creates a token for the staff member
named, revokes any, and both are audited as "system:cli"."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dangol.cli.context import fail, friendly_errors, literal, printable, state
from dangol.core.types import MAX_ROW_ID

if TYPE_CHECKING:
    from fastapi import FastAPI

api_app = typer.Typer(
    help="The HTTP API: `dangol api` serves it (docs at /docs); `dangol api token …` manages tokens.",
    invoke_without_command=True,
)
token_app = typer.Typer(help="Personal API tokens: create, list, revoke.", no_args_is_help=True)
api_app.add_typer(token_app, name="token")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(api_app, name="api")


@api_app.callback()
@friendly_errors
def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help=literal("Address to listen on (default: [api] host).")),
    port: int | None = typer.Option(None, "--port", help=literal("Port (default: [api] port).")),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Processes serving the API; each counts the per-token rate limit on its own."
    ),
) -> None:
    """Serve the HTTP API with uvicorn (when no subcommand is given)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from dangol.api import create_app

    app_state = state(ctx)
    settings = app_state.settings
    host, port = host or settings.api.host, port or settings.api.port
    if workers == 1:
        uvicorn.run(create_app(settings, engine=app_state.engine), host=host, port=port, log_level="info")
        return
    # One process runs Python on one core at a time (the GIL); workers are processes of their own,
    # each building the app by name from the same config file.
    os.environ[CONFIG_ENV] = str(app_state.config_path or "")
    uvicorn.run(f"{__name__}:app_from_config", factory=True, workers=workers, host=host, port=port, log_level="info")


CONFIG_ENV = "DANGOL_CONFIG"  # also what the top-level --config option reads


def app_from_config() -> FastAPI:
    """The API in one uvicorn worker process, on the config file `serve` was given."""
    from dangol.api import create_app
    from dangol.core.settings import load_settings

    return create_app(load_settings(Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None))


@token_app.command("create")
@friendly_errors
def create(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", help="The staff member the token acts as (with their role)."),
    name: str = typer.Option(..., "--name", help="What uses the token, e.g. crm-sync."),
    days: int | None = typer.Option(None, "--days", min=1, help="Expire after this many days (default: never)."),
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from dangol.core.types import utcnow
    from responder.accounts.api_tokens import create_token
    from responder.accounts.auth import find_staff
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        owner = find_staff(session, user)
        if owner is None:
            raise fail(f"no staff member named {user!r}; see `dangol staff list`")
        expires = utcnow() + timedelta(days=days) if days else None
        row, token = create_token(session=session, actor=None, owner=owner, name=name, expires_at=expires)
        token_id = row.id
    typer.echo(f"created API token {token_id} ({printable(name)}) for {owner.username}, role {owner.role}")
    typer.echo("store it now; it is not shown again:")
    typer.echo(token)


@token_app.command("list")
@friendly_errors
def list_(
    ctx: typer.Context, user: str | None = typer.Option(None, "--user", help="Only this staff member's tokens.")
) -> None:
    """List tokens: id, owner, name, created, last used, expiry, revoked."""
    from sqlmodel import Session

    from responder.accounts.api_tokens import list_tokens
    from responder.accounts.auth import find_staff
    from storage.staff import usernames

    with Session(state(ctx).engine) as session:
        owner_id = None
        if user:
            owner = find_staff(session, user)
            if owner is None:
                raise fail(f"no staff member named {user!r}; see `dangol staff list`")
            owner_id = owner.id
        rows = list_tokens(session=session, staff_id=owner_id)
        names = usernames({r.staff_id for r in rows}, session=session)

    def when(value: object) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value else "-"

    typer.echo(f"{'id':>4}  {'owner':<16} {'name':<20} {'created':<16} {'last used':<16} {'expires':<16} state")
    for r in rows:
        status = f"revoked {when(r.revoked_at)}" if r.revoked_at else "live"
        typer.echo(
            f"{r.id:>4}  {names.get(r.staff_id, '?'):<16} {printable(r.name):<20} {when(r.created_at):<16} "
            f"{when(r.last_used_at):<16} {when(r.expires_at):<16} {status}"
        )


@token_app.command("revoke")
@friendly_errors
def revoke(
    ctx: typer.Context,
    token_id: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="The token's id (`dangol api token list`)."),
) -> None:
    """Revoke a token: it is refused from the next request on."""
    from responder.accounts.api_tokens import revoke_token
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        revoke_token(session=session, actor=None, token_id=token_id)
    typer.echo(f"revoked API token {token_id}")


@api_app.command("webhooks")
@friendly_errors
def webhooks(
    ctx: typer.Context,
    subscription: str | None = typer.Option(None, "--subscription", help=literal("Only this [api.webhooks.<key>].")),
) -> None:
    """List the outbound webhook outbox: each event per subscription, delivered, waiting or given up."""
    from sqlmodel import Session

    from storage.webhooks import outbox

    with Session(state(ctx).engine) as session:
        rows = outbox(session=session, subscription=subscription)

    def when(value: object) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value else "-"

    typer.echo(f"{'id':>5}  {'subscription':<14} {'event':<12} {'type':<24} {'item':>6} {'tries':>5}  state")
    for r in rows:
        if r.delivered_at:
            status = f"delivered {when(r.delivered_at)}"
        elif r.given_up_at:
            status = f"given up {when(r.given_up_at)}: {printable(r.last_error or '')}"
        else:
            status = f"waiting (next {when(r.not_before)})" + (f": {printable(r.last_error)}" if r.last_error else "")
        typer.echo(
            f"{r.id:>5}  {r.subscription:<14} {'evt_' + str(r.event_id):<12} {r.event_type:<24} {r.item_id:>6} "
            f"{r.attempts:>5}  {status}"
        )
