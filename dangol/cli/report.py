"""Report commands: the weekly report, topic feeds and CSV export, spike alerts.

Each command is a thin wrapper over a function in `reports/`; heavy imports (WeasyPrint,
Jinja2, the database) happen inside the commands so `dangol --help` stays fast.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from dangol.cli.context import friendly_errors, literal, state
from dangol.core.errors import ConfigError

if TYPE_CHECKING:
    from dangol.core.settings import Settings

report_app = typer.Typer(help="The weekly sentiment report (HTML and PDF).", no_args_is_help=True)
feeds_app = typer.Typer(help="Complaint-topic feeds (Atom, JSON Feed) and CSV export.", no_args_is_help=True)
alerts_app = typer.Typer(help="Spike and crisis alerts.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `report`, `feeds` and `alerts` command groups to `app`."""
    app.add_typer(report_app, name="report")
    app.add_typer(feeds_app, name="feeds")
    app.add_typer(alerts_app, name="alerts")


@report_app.command("weekly")
@friendly_errors
def report_weekly(
    ctx: typer.Context,
    week: str = typer.Option(None, "--week", help="ISO week such as 2026-W47; default: the last complete week."),
    out: Path = typer.Option(None, "--out", help="Output folder; default: reports.out_dir."),
    email: bool = typer.Option(False, "--email", help="Also e-mail it to reports.email_to."),
) -> None:
    """Write the weekly sentiment report as HTML and PDF and print their paths."""
    from reports.jobs import email_weekly
    from reports.weekly import build_weekly, write_weekly
    from storage.engine import session_scope

    settings = state(ctx).settings
    with session_scope(state(ctx).engine) as session:
        report = build_weekly(session=session, settings=settings, week=week)
    paths = write_weekly(report, out or Path(settings.reports.out_dir))
    for path in paths:
        typer.echo(str(path))
    if email:
        email_weekly(report, paths, settings)
        typer.echo(f"e-mailed to {', '.join(settings.reports.email_to)}")


@feeds_app.command("write")
@friendly_errors
def feeds_write(
    ctx: typer.Context,
    out: Path = typer.Argument(None, help="Output folder; default: reports.feeds_dir."),
    notify: bool = typer.Option(False, "--notify", help="Post a digest to reports.webhook_url."),
) -> None:
    """Write every configured topic's Atom and JSON feed and print their paths."""
    from reports.feeds import build_feeds, digest_text, write_feeds
    from reports.notify import post_webhook
    from storage.engine import session_scope

    settings = state(ctx).settings
    with session_scope(state(ctx).engine) as session:
        paths = write_feeds(session=session, settings=settings, out_dir=out or Path(settings.reports.feeds_dir))
        feeds = build_feeds(session=session, settings=settings) if notify else []
    for path in paths:
        typer.echo(str(path))
    if notify:
        if not settings.reports.webhook_url:
            raise ConfigError("--notify needs reports.webhook_url (a Slack-compatible incoming webhook)")
        post_webhook(settings.reports.webhook_url, digest_text(feeds, settings))
        typer.echo("digest posted to the webhook")


def parse_day(text: str, timezone: str, option: str) -> datetime:
    """A date (YYYY-MM-DD) as local midnight in `timezone`, in UTC; ConfigError names the option."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not a date; use YYYY-MM-DD such as 2026-11-16") from None
    return datetime.combine(day, time(0), ZoneInfo(timezone))


@feeds_app.command("csv")
@friendly_errors
def feeds_csv(
    ctx: typer.Context,
    topic: str = typer.Argument(..., help=literal("Topic key (config.toml [topics.*] or the Admin page), or 'other'.")),
    out: Path = typer.Option(None, "--out", help="Write to this file instead of standard output."),
    since: str = typer.Option(None, "--since", help="First day (YYYY-MM-DD, brand time zone); default: 30 days ago."),
    until: str = typer.Option(None, "--until", help="Day after the last (YYYY-MM-DD); default: now."),
) -> None:
    """Export a topic's posts as CSV; audited as system:cli."""
    from dangol.core.types import utcnow
    from reports.feeds import export_topic
    from storage.engine import session_scope
    from storage.topics import list_topics

    settings = state(ctx).settings
    tz = settings.brand.timezone
    end = parse_day(until, tz, "--until") if until else utcnow()
    start = parse_day(since, tz, "--since") if since else end - timedelta(days=30)
    with session_scope(state(ctx).engine) as session:
        # Topics added on the Admin page (and retired ones) can be exported too.
        valid = [*(entry.key for entry in list_topics(session=session, catalog=settings.topic_catalog)), "other"]
        if topic not in valid:
            raise ConfigError(f"unknown topic {topic!r}; configured topics: {', '.join(valid)}")
        text = export_topic(topic, session=session, actor=None, since=start, until=end)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{out}: {text.count(chr(10)) - 1} posts")


@alerts_app.command("check")
@friendly_errors
def alerts_check(
    ctx: typer.Context,
    since: str = typer.Option(None, "--since", help="Scan from this day (YYYY-MM-DD); default: the last 48 hours."),
    notify: bool = typer.Option(True, "--notify/--no-notify", help="Send new alerts to the webhook / e-mail."),
) -> None:
    """Detect spike episodes now, store one alert per episode, and print the new ones."""
    from dangol.core.types import utcnow
    from reports.alerts import detect_spikes, notify_alerts
    from storage.engine import session_scope

    settings = state(ctx).settings
    start = parse_day(since, settings.brand.timezone, "--since") if since else None
    with session_scope(state(ctx).engine) as session:
        alerts = detect_spikes(session=session, settings=settings, now=utcnow(), since=start)
        session.flush()
        for alert in alerts:
            typer.echo(_alert_line(alert, settings))
        typer.echo(f"{len(alerts)} new alert(s)")
    if notify:
        with session_scope(state(ctx).engine) as session:
            delivered = notify_alerts(session=session, settings=settings)
        if delivered:
            typer.echo(f"{len(delivered)} alert(s) delivered")


@alerts_app.command("list")
@friendly_errors
def alerts_list(
    ctx: typer.Context, limit: int = typer.Option(20, "--limit", min=1, help="How many, newest first.")
) -> None:
    """Print the newest alerts."""
    from storage.alerts import recent_alerts
    from storage.engine import session_scope

    with session_scope(state(ctx).engine) as session:
        alerts = recent_alerts(session=session, limit=limit)
        for alert in alerts:
            typer.echo(_alert_line(alert, state(ctx).settings))
    if not alerts:
        typer.echo("no alerts")


def _alert_line(alert: object, settings: Settings) -> str:
    """One alert: when its episode began, what and where, where it was sent, and its summary."""
    from reports.alerts import alert_channels, delivery_summary
    from storage.models import Alert

    assert isinstance(alert, Alert)
    started = f"{alert.started_at:%Y-%m-%d %H:%M} UTC" if alert.started_at else "?"
    sent = delivery_summary(alert, alert_channels(settings))
    summary = alert.explanation.get("summary", "")
    return f"#{alert.id} {started} {alert.kind} {alert.scope} ({sent}): {summary}"
