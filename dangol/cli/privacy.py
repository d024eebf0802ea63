"""Privacy requests: `dangol customers export ID` and `dangol customers erase ID --as USER --yes`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from dangol.cli.context import fail, friendly_errors, state
from dangol.cli.core import customers_app
from dangol.core.types import MAX_ROW_ID


def register(app: typer.Typer) -> None:
    """The commands live in the `customers` group that dangol.cli.core registers."""


@customers_app.command("export")
@friendly_errors
def customers_export(
    ctx: typer.Context,
    customer_id: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="The customer's numeric id."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the JSON here instead of standard output."),
) -> None:
    """Export everything stored about a customer as JSON (a privacy access request); audited as system:cli."""
    from responder.customers import export_customer
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        data = export_customer(session=session, actor=None, customer_id=customer_id)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"customer {customer_id}: {len(data['posts'])} posts, {len(data['replies'])} replies written to {out}")


@customers_app.command("erase")
@friendly_errors
def customers_erase(
    ctx: typer.Context,
    customer_id: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="The customer's numeric id."),
    actor: str = typer.Option(..., "--as", help="Username of the staff member carrying out the request."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: erasure cannot be undone."),
) -> None:
    """Erase a customer's personal data (a privacy erasure request) from the database and files.

    The feed and report files that show it are rewritten; the audit trail records who and when."""
    from reports.erasure import erase_customer
    from storage.engine import session_scope
    from storage.staff import staff_by_username

    if not yes:
        raise fail("erasure cannot be undone; add --yes to confirm")
    with session_scope(state(ctx).engine) as session:
        staff = staff_by_username(session=session, username=actor)
        if staff is None:
            raise fail(f"no staff member {actor!r}; --as takes a username from `dangol staff list`")
        counts = erase_customer(customer_id, session=session, settings=state(ctx).settings, actor=staff)
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    typer.echo(f"customer {customer_id} erased ({summary})")
