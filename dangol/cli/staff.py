"""Staff accounts from the command line: `dangol staff add|list|unlock|set-password`.

The CLI is trusted (whoever runs it holds the server), so it can create the first admin.
"""

from __future__ import annotations

import sys

import typer

from dangol.cli.context import fail, friendly_errors, state

staff_app = typer.Typer(help="Staff accounts: add, list, unlock, set a password.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(staff_app, name="staff")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise fail("--password-stdin was given but standard input held no password")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@staff_app.command("add")
@friendly_errors
def add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Login name: lowercase letters, digits, '.', '_' or '-'."),
    role: str = typer.Option(..., "--role", help="agent | pr_reviewer | product | admin"),
    team: str | None = typer.Option(None, "--team", help="Team key (created if new), e.g. support."),
    languages: str = typer.Option("", "--languages", help="Comma-separated languages handled, e.g. en,ko."),
    display_name: str = typer.Option("", "--name", help="Name shown in the dashboard."),
    capacity: int = typer.Option(10, "--capacity", help="Open items this person can hold."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Create a staff account (the first admin too)."""
    from dangol.core.permissions import validate_role
    from responder.accounts.staff import create_staff
    from storage.engine import session_scope

    validate_role(role)  # refuse a bad role before asking for a password
    password = _read_password(password_stdin)
    with session_scope(state(ctx).engine) as session:
        staff = create_staff(
            session=session,
            username=username,
            password=password,
            role=role,
            team=team,
            languages=languages.split(","),
            display_name=display_name,
            capacity=capacity,
        )
        typer.echo(f"created {staff.username} (id {staff.id}, role {staff.role})")


@staff_app.command("list")
@friendly_errors
def list_(ctx: typer.Context) -> None:
    """List staff accounts with role, team, languages and login state."""
    from sqlmodel import Session

    from responder.accounts.staff import list_staff, team_key
    from storage import login_throttles as throttles

    with Session(state(ctx).engine) as session:
        rows = list_staff(session=session)
        typer.echo(f"{'id':>4}  {'username':<16} {'role':<12} {'team':<12} {'languages':<10} state")
        for s in rows:
            status = "active" if s.active else "inactive"
            blocked = throttles.blocked_until(session, [throttles.user_key(s.username)])
            if blocked is not None:
                status += f", login blocked until {blocked:%Y-%m-%d %H:%M} UTC"
            team = team_key(session=session, staff=s) or "-"
            typer.echo(f"{s.id:>4}  {s.username:<16} {s.role:<12} {team:<12} {','.join(s.languages):<10} {status}")


def _staff_id(session: object, username: str) -> int:
    from responder.accounts.auth import find_staff

    staff = find_staff(session, username)  # type: ignore[arg-type]
    if staff is None or staff.id is None:
        raise fail(f"no staff member named {username!r}; see `dangol staff list`")
    return staff.id


@staff_app.command("unlock")
@friendly_errors
def unlock_(ctx: typer.Context, username: str = typer.Argument(..., help="Account to unlock.")) -> None:
    """Clear a login lockout now."""
    from responder.accounts.staff import unlock
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        unlock(session=session, actor=None, staff_id=_staff_id(session, username))
    typer.echo(f"unlocked {username}")


@staff_app.command("set-password")
@friendly_errors
def set_password(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Account whose password to set."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set a new password (and clear any lockout)."""
    from responder.accounts.staff import reset_password
    from storage.engine import session_scope

    password = _read_password(password_stdin)
    with session_scope(state(ctx).engine) as session:
        reset_password(session=session, actor=None, staff_id=_staff_id(session, username), password=password)
    typer.echo(f"password set for {username}")
