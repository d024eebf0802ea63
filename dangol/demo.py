"""The demo: a fresh database built from the bundled demo data through the real pipeline.

`build_demo` imports the demo customers, creates demo staff accounts, replays the recorded
platform payloads through the real parsers, analyzes, routes, and runs the report jobs once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol import pipeline
from dangol.core.settings import DashboardSettings, Settings, load_settings
from dangol.core.types import utcnow
from dangol.demo_data import CUSTOMERS, DEMO_DATA
from reports.period import last_complete_week
from storage.customers import import_customers_csv
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.read_models import database_totals

DEMO_DB = Path("var/demo.db")
# (username, role, team, languages): one account per role, so every page can be tried.
DEMO_STAFF = [
    ("admin", "admin", "support", ["en", "ko"]),
    ("agent", "agent", "support", ["en"]),
    ("lead", "lead", "support", ["en", "ko"]),
    ("minji", "agent", "korea", ["ko", "en"]),
    ("billing", "agent", "billing", ["en", "ko"]),
    ("reviewer", "pr_reviewer", "pr", ["en", "ko"]),
    ("product", "product", "product", ["en", "ko"]),
]


@dataclass
class DemoSummary:
    posts: int
    analyzed: int
    queued: int
    linked_customers: int
    dead_letters: int
    database: str
    logins: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "analyzed": self.analyzed,
            "queued": self.queued,
            "linked_customers": self.linked_customers,
            "dead_letters": self.dead_letters,
            "database": self.database,
        }


# The newest post of the demo data (dangol/demo_data/expectations.json).
DEMO_DATA_NEWEST = datetime(2026, 11, 22, 22, 30, 48, tzinfo=UTC)


def weeks_since_demo_data(now: datetime) -> int:
    """The most whole weeks the demo posts can move later with none of them after `now`."""
    return max(0, (now - DEMO_DATA_NEWEST) // timedelta(weeks=1))


def demo_settings(
    config_path: Path | None, db_path: Path = DEMO_DB, *, shift_weeks: int = 0, port: int | None = None
) -> Settings:
    """The configured settings with the demo database and only the demo replay sources enabled;
    `shift_weeks` moves the demo posts later by whole weeks (see `weeks_since_demo_data`). With
    `port` (the dashboard's, when not 8501) the links in alerts, reports and feeds point at it,
    unless the config names an address of its own (a proxy's)."""
    base = load_settings(config_path)
    overrides: dict[str, Any] = {"database": {"url": f"sqlite:///{db_path}"}, "sources": {}}
    if port is not None and base.dashboard.base_url == DashboardSettings().base_url:
        overrides["dashboard"] = {"base_url": f"http://localhost:{port}"}
    for name, source in base.sources.items():
        is_demo = source.use == "replay"
        overrides["sources"][name] = {"enabled": is_demo}
        if is_demo:
            overrides["sources"][name]["shift_weeks"] = shift_weeks
        if is_demo and not Path(str(source.options().get("path", ""))).is_absolute():
            # Demo folders are relative to the package, so the demo works from any directory.
            overrides["sources"][name]["path"] = str(DEMO_DATA / Path(str(source.options()["path"])).name)
    return load_settings(config_path, overrides=overrides)


def build_demo(settings: Settings, *, progress: pipeline.Progress | None = None) -> tuple[DemoSummary, Engine]:
    """Build the demo database from scratch and return what it holds."""
    url = settings.database.url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        import_customers_csv(CUSTOMERS, session=session)
        logins = create_demo_staff(session)
    pipeline.collect(settings, engine)
    pipeline.analyze(settings, engine, progress=progress)
    pipeline.route(settings, engine)
    # Scored at once so the Customers page and the item panel show segments on the first visit (the
    # worker's job would do it only at its first slot); first as of the end of the week the weekly
    # report covers, as the daily job would have, so the report's customer section has a history.
    report_week = last_complete_week(utcnow(), settings.brand.timezone)
    pipeline.score_customers(settings, engine, now=report_week.end - timedelta(seconds=1))
    pipeline.score_customers(settings, engine)
    run_report_jobs(settings, engine)
    return summarize(engine, logins), engine


def create_demo_staff(session: Session) -> dict[str, str]:
    """One account per role with a fresh random password each build; returns username → password."""
    from responder.accounts.staff import create_staff

    logins = {}
    for username, role, team, languages in DEMO_STAFF:
        password = f"{username}-{secrets.token_hex(3)}"
        create_staff(session=session, username=username, password=password, role=role, team=team, languages=languages)
        logins[username] = password
    return logins


def run_report_jobs(settings: Settings, engine: Engine) -> None:
    """Spike detection, topic feeds and the weekly report over the demo data."""
    from reports import jobs as report_jobs

    report_jobs.run_all(settings, engine)


def summarize(engine: Engine, logins: dict[str, str]) -> DemoSummary:
    with Session(engine) as session:
        totals = database_totals(session=session)
    return DemoSummary(
        posts=totals["posts"],
        analyzed=totals["analyzed"],
        queued=totals["queued"],
        linked_customers=totals["linked_customers"],
        dead_letters=totals["dead_letters"],
        database=engine.url.render_as_string(hide_password=True),
        logins=logins,
    )
