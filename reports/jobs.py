"""The report jobs, for the worker and the demo: the weekly report, spike alerts, topic feeds and
the retention purge. When each runs is `dangol.jobs.periodic_jobs`'s to say (every trigger is
there); `run_all` runs them once for the demo. Each function opens its own transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.errors import SendError
from dangol.core.settings import Settings
from dangol.core.types import utcnow
from reports.alerts import detect_spikes, notify_alerts
from reports.feeds import write_feeds
from reports.notify import email_configured, send_email
from reports.weekly import WeeklyReport, build_weekly, render_html, write_weekly
from storage.engine import session_scope
from storage.models import Alert
from storage.posts import earliest_post_time, latest_post_time

log = logging.getLogger(__name__)


def weekly_job(
    settings: Settings, engine: Engine, *, week: str | None = None, now: datetime | None = None
) -> list[Path]:
    """Write the weekly report (default: the last complete week) and e-mail it when configured."""
    with session_scope(engine) as session:
        report = build_weekly(session=session, settings=settings, week=week, now=now)
    paths = write_weekly(report, settings.reports.out_dir)
    if email_configured(settings.reports):
        email_weekly(report, paths, settings)
    return paths


def email_weekly(report: WeeklyReport, paths: list[Path], settings: Settings) -> None:
    """Send the report to `reports.email_to`: the page as the body, the PDF attached."""
    net = "–" if report.net_sentiment is None else f"{report.net_sentiment:+.2f}"
    text = (
        f"{report.brand} weekly sentiment report {report.week}: {report.total_posts} posts, net sentiment {net}, "
        f"{len(report.alerts)} spike episode(s). The PDF is attached; in Dangol: {report.url}"
    )
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    subject = f"[{report.brand}] Weekly sentiment report {report.week}"
    send_email(settings.reports, subject=subject, text=text, html=render_html(report), attachments=pdfs)


def alerts_job(settings: Settings, engine: Engine, *, now: datetime | None = None) -> list[Alert]:
    """Detect spikes up to `now` and notify every alert not yet delivered; returns the new alerts."""
    now = now or utcnow()
    with session_scope(engine) as session:
        alerts = detect_spikes(session=session, settings=settings, now=now)
    with session_scope(engine) as session:
        notify_alerts(session=session, settings=settings, now=now)
    return alerts


def feeds_job(settings: Settings, engine: Engine, *, now: datetime | None = None) -> list[Path]:
    """Rewrite every topic's Atom and JSON feed in `reports.feeds_dir`."""
    with session_scope(engine) as session:
        return write_feeds(session=session, settings=settings, out_dir=settings.reports.feeds_dir, now=now)


def purge_job(settings: Settings, engine: Engine, *, now: datetime | None = None) -> dict[str, int]:
    """Apply the retention settings (storage.retention), then write again the feed and report files
    that showed what expired (reports.outputs); returns what was purged, with the files written."""
    from reports.outputs import rewrite_after_purge
    from storage.retention import expiring_texts, purge_expired

    now = now or utcnow()
    with session_scope(engine) as session:
        expired = expiring_texts(session=session, retention=settings.retention, now=now)
        purged = purge_expired(session=session, retention=settings.retention, now=now).as_dict()
        purged["files"] = len(rewrite_after_purge(expired, session=session, settings=settings, now=now))
    return purged


@dataclass
class RunSummary:
    """What `run_all` produced."""

    alerts: list[Alert] = field(default_factory=list)
    feeds: list[Path] = field(default_factory=list)
    report: list[Path] = field(default_factory=list)


def run_all(settings: Settings, engine: Engine) -> RunSummary:
    """Every report job once over the whole stored history, as if it were live (the demo uses this).

    "Now" is the newest post's time, so replayed data from the past gets its spikes scanned
    from the first post on, feeds for its last `reports.feed_days` and the report of its last
    complete week.
    """
    with Session(engine) as session:
        newest = latest_post_time(session=session)
        oldest = earliest_post_time(session=session)
    if newest is None or oldest is None:
        return RunSummary()
    now = newest + timedelta(minutes=1)
    summary = RunSummary()
    with session_scope(engine) as session:
        summary.alerts = detect_spikes(session=session, settings=settings, now=now, since=oldest)
    with session_scope(engine) as session:
        try:
            notify_alerts(session=session, settings=settings, now=now)
        except SendError as exc:  # a demo without a reachable webhook still finishes
            log.warning("alerts not delivered: %s", exc)
    summary.feeds = feeds_job(settings, engine, now=now)
    # The last complete week before "now" in the brand's time zone: the week holding the newest post
    # may have just begun there (a Sunday evening in Europe is Monday morning in Seoul).
    summary.report = weekly_job(settings, engine, now=now)
    return summary
