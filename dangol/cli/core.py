"""Core commands: config, database, pipeline stages, worker, dashboard, demo, customers."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from dangol.cli.context import fail, friendly_errors, literal, state

# The st.App around dashboard/app.py that adds the login form whose cookie survives a reload.
DASHBOARD_APP = Path(__file__).resolve().parents[2] / "dashboard" / "server.py"

config_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
customers_app = typer.Typer(help="Customers from the brand's own records.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the core commands to `app`."""
    app.add_typer(config_app, name="config")
    app.add_typer(db_app, name="db")
    app.add_typer(customers_app, name="customers")
    for command in (collect, analyze, route, run, dashboard, demo):
        app.command()(command)


@config_app.command("check")
@friendly_errors
def config_check(ctx: typer.Context, file: Path = typer.Argument(None, help="Defaults to --config.")) -> None:
    """Print every problem of a config file; exit non-zero if there is any."""
    from dangol.checks import check_settings
    from dangol.core.errors import ConfigError
    from dangol.core.settings import load_settings

    path = file or state(ctx).config_path
    try:
        problems = check_settings(load_settings(path))
    except ConfigError as exc:
        problems = exc.problems
    for problem in problems:
        typer.echo(f"{path}: {problem}")
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{path}: ok")


@db_app.command("upgrade")
@friendly_errors
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the newest revision."""
    from storage.migrate import current_revision

    engine = state(ctx).engine  # building the engine upgrades the schema
    typer.echo(f"{engine.url.render_as_string(hide_password=True)} at revision {current_revision(engine)}")


@customers_app.command("import")
@friendly_errors
def customers_import(ctx: typer.Context, file: Path) -> None:
    """Create or update customers from a CSV file (see README for the columns)."""
    from storage.customers import import_customers_csv
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        result = import_customers_csv(file, session=session)
    for problem in result.problems:
        typer.secho(problem, fg=typer.colors.YELLOW, err=True)
    typer.echo(f"customers: {result.created} created, {result.updated} updated, {len(result.problems)} rows refused")
    if result.problems:
        raise typer.Exit(1)


@customers_app.command("score")
@friendly_errors
def customers_score(ctx: typer.Context) -> None:
    """Recompute every customer's scores and segments now; prints the counts and the time taken.

    The worker does it every worker.customer_scores_every_hours."""
    from dangol import pipeline

    st = state(ctx)
    run = pipeline.score_customers(st.settings, st.engine)
    typer.echo(f"customers: {run.customers} scored in {run.seconds:.2f} s")
    for key in sorted({*st.settings.segments, *run.joined, *run.left}):
        typer.echo(f"segment {key}: {run.joined.get(key, 0)} joined, {run.left.get(key, 0)} left")


@customers_app.command("segment-csv")
@friendly_errors
def customers_segment_csv(
    ctx: typer.Context,
    segment: str = typer.Argument(..., help=literal("Segment key ([segments.<key>] in config.toml), e.g. at_risk.")),
    out: Path = typer.Option(None, "--out", "-o", help="Write the CSV here instead of standard output."),
) -> None:
    """A segment's members as CSV, as last scored; audited as system:cli.

    Public handles and scores only: no name, e-mail or phone."""
    from reports.segments import export_segment
    from storage.engine import session_scope

    st = state(ctx)
    if segment not in st.settings.segments:
        raise fail(f"unknown segment {segment!r}; configured: {', '.join(st.settings.segments) or '(none)'}")
    with session_scope(st.engine) as session:
        text = export_segment(segment, session=session, actor=None)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"{out}: {text.count(chr(10)) - 1} customers")


@friendly_errors
def collect(
    ctx: typer.Context,
    source: list[str] = typer.Option(None, "--source", "-s", help="Only this source (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be stored; store nothing."),
) -> None:
    """Collect new posts from every enabled source (or the named ones)."""
    from dangol import pipeline

    st = state(ctx)
    runs = pipeline.collect(st.settings, st.engine, names=source or None, dry_run=dry_run)
    for run in runs:
        if dry_run:
            for post in run.preview:
                typer.echo(json.dumps(post, ensure_ascii=False))
        line = f"{run.source}: {run.status}, {run.pages} pages, {run.new_posts} new, {run.duplicates} already stored"
        line += f", {run.dead_letters} dead letters"
        typer.echo(line + (f" ({run.error})" if run.error else ""))
    if any(run.status == "failed" for run in runs):
        raise typer.Exit(1)


@friendly_errors
def analyze(ctx: typer.Context, limit: int = typer.Option(None, help="Stop after this many posts.")) -> None:
    """Analyze every post not analyzed yet (language, sentiment, topics, risk, clusters, links)."""
    from dangol import pipeline

    st = state(ctx)
    total = _unanalyzed_count(st.engine)
    with _progress(min(total, limit or total), "analyzing") as bar:
        run = pipeline.analyze(st.settings, st.engine, limit=limit, progress=bar.update)
    typer.echo(
        f"analyzed {run.analyzed} posts; customer links: {run.links_applied} applied, {run.links_proposed} proposed"
    )


@friendly_errors
def route(ctx: typer.Context) -> None:
    """Queue analyzed, actionable posts with team, priority, SLA and assignee."""
    from dangol import pipeline

    st = state(ctx)
    typer.echo(str(pipeline.route(st.settings, st.engine)))


@friendly_errors
def run(ctx: typer.Context, verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Run the worker: collect, analyze, route and the scheduled jobs, until Ctrl-C or SIGTERM."""
    from dangol.core.redact import install_log_redaction, secret_values
    from dangol.jobs import run_worker

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    if not verbose:
        # Their INFO lines (job added, job run, migration plugins) bury the worker's own.
        for chatty in ("apscheduler", "alembic"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    st = state(ctx)
    install_log_redaction(secret_values(st.settings))
    typer.echo("worker running; Ctrl-C to stop")
    run_worker(st.settings, st.engine)
    typer.echo("worker stopped")


@friendly_errors
def dashboard(
    ctx: typer.Context,
    port: int = typer.Option(8501, help="Port to serve on."),
    address: str = typer.Option("127.0.0.1", help="Address to bind (0.0.0.0 to serve the network)."),
) -> None:
    """Start the Streamlit dashboard."""
    st = state(ctx)
    st.settings  # noqa: B018 - fail here, with a clear message, on a bad config
    command = _streamlit_command(st.config_path, port, address)
    # This process becomes Streamlit: a Ctrl-C or SIGTERM meant for the dashboard reaches it directly.
    os.execv(command[0], command)


def _streamlit_command(config: Path | None, port: int, address: str) -> list[str]:
    command = [sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP), "--server.port", str(port)]
    command += ["--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    # No "Deploy" button: this is a self-hosted app, not a Streamlit Cloud one.
    command += ["--client.toolbarMode", "minimal"]
    return command + ["--", "--config", str(config)] if config else command


@friendly_errors
def demo(
    ctx: typer.Context,
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Start worker and dashboard afterwards."),
    port: int = typer.Option(8501, help="Dashboard port."),
    as_recorded: bool = typer.Option(
        False, "--as-recorded", help="Keep the recorded dates (Oct-Nov 2026) instead of ending last week."
    ),
) -> None:
    """Build var/demo.db from the demo data through the real pipeline, then serve the dashboard."""
    from dangol.core.types import utcnow
    from dangol.demo import DEMO_DB, build_demo, demo_settings, weeks_since_demo_data

    st = state(ctx)
    config = st.config_path if st.config_path and st.config_path.exists() else None
    # Moved by whole weeks (none into the future), so the demo's month of posts is a recent one.
    shift = 0 if as_recorded else weeks_since_demo_data(utcnow())
    settings = demo_settings(config, DEMO_DB, shift_weeks=shift, port=port)
    typer.echo("building the demo database (first run loads the language model; about a minute)...", err=True)
    with _progress(None, "analyzing") as bar:
        summary, engine = build_demo(settings, progress=bar.update)
    if serve:
        _serve_demo(summary.logins, port, settings.dashboard.base_url)
    typer.echo(json.dumps(summary.as_json()))


def _serve_demo(logins: dict[str, str], port: int, base_url: str) -> None:
    # The worker's alerts and feeds link to the dashboard where it is served (`demo_settings`).
    env = dict(
        os.environ,
        DANGOL_DATABASE_URL=f"sqlite:///{Path('var/demo.db').resolve()}",
        DANGOL_DASHBOARD__BASE_URL=base_url,
    )
    dangol = [sys.executable, "-m", "dangol.cli"]
    worker_log = Path("var/demo-worker.log")
    with worker_log.open("a") as log_file:
        worker = subprocess.Popen([*dangol, "run"], env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    ui = subprocess.Popen([*dangol, "dashboard", "--port", str(port)], env=env)
    typer.echo(f"\nDashboard: http://localhost:{port}   (worker log: {worker_log})\nDemo logins (username / password):")
    for username, password in logins.items():
        typer.echo(f"  {username:<10} {password}")
    typer.echo("Ctrl-C stops the demo.")
    # A service manager stops the demo with SIGTERM: shut the children down as for Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        ui.wait()
    except KeyboardInterrupt:
        pass
    finally:
        # SIGTERM, not SIGINT: a demo started in the background has SIGINT ignored, children too.
        for process in (ui, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (ui, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _unanalyzed_count(engine: Any) -> int:
    from sqlmodel import Session

    from storage.posts import unanalyzed_count

    with Session(engine) as session:
        return unanalyzed_count(session=session)


def _progress(total: int | None, label: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="post", file=sys.stderr, disable=None, leave=False)
