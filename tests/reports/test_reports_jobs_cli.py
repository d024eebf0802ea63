"""The report jobs and the `dangol report|feeds|alerts` commands (their schedule: tests/dangol/test_worker.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from dangol.cli import app
from dangol.core.settings import Settings
from dangol.core.types import utcnow
from reports.jobs import run_all, weekly_job
from storage.models import Alert

REPO = Path(__file__).resolve().parents[2]


def test_weekly_job_writes_the_report_and_emails_the_pdf(
    world, session: Session, settings: Settings, engine: Engine, smtp, tmp_path: Path
) -> None:
    world.post(
        datetime(2026, 11, 17, tzinfo=UTC), sentiment="negative", topic="delivery", text="주문한 커피가 안 왔어요"
    )
    session.commit()
    port, received = smtp
    settings.reports.out_dir = str(tmp_path / "reports")
    settings.reports.smtp_host, settings.reports.smtp_port = "127.0.0.1", port
    settings.reports.smtp_tls = "none"  # the loopback test server speaks plain SMTP
    settings.reports.email_to = ["pr@maru.test"]
    paths = weekly_job(settings, engine, now=datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    assert [p.name for p in paths] == ["weekly-2026-W47.html", "weekly-2026-W47.pdf"]
    message = received.messages[0]
    assert message["Subject"] == "[Maru Coffee] Weekly sentiment report 2026-W47"
    attachments = [part.get_filename() for part in message.walk() if part.get_filename()]
    assert attachments == ["weekly-2026-W47.pdf"]


def _burst_world(world, end: datetime) -> None:
    """Five quiet days, then thirty app-crash posts in two hours."""
    start = end - timedelta(days=5)
    for hour in range(5 * 24 - 6):
        world.post(start + timedelta(hours=hour), topic=["delivery", "store", "other"][hour % 3], sentiment="neutral")
    for n in range(30):
        world.post(
            end - timedelta(hours=3) + timedelta(minutes=4 * n),
            topic="app",
            sentiment="negative",
            text="the app keeps crashing",
        )


def test_run_all_treats_the_newest_post_as_now_and_raises_one_alert_for_a_burst(
    world, session: Session, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    _burst_world(world, datetime(2026, 11, 12, 12, tzinfo=UTC))
    session.commit()
    settings.reports.out_dir, settings.reports.feeds_dir = str(tmp_path / "r"), str(tmp_path / "f")
    summary = run_all(settings, engine)
    assert [(a.kind, a.scope) for a in summary.alerts] == [("volume", "topic:app")]
    # The data ends on Thursday of W46: the report is of the last complete week, never a partial one.
    assert [p.name for p in summary.report] == ["weekly-2026-W45.html", "weekly-2026-W45.pdf"]
    assert len(summary.feeds) == 2 * len(settings.topics)
    assert run_all(settings, engine).alerts == []  # the second run finds the stored episode


@pytest.fixture
def cli(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch):
    """Run `dangol …` against the test database with the repository's config.toml."""
    monkeypatch.setenv("DANGOL_DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["--config", str(REPO / "config.toml"), *args])


def test_report_weekly_command_prints_the_html_and_pdf_paths(world, session: Session, cli, tmp_path: Path) -> None:
    world.post(datetime(2026, 11, 17, tzinfo=UTC), sentiment="positive", text="great latte")
    session.commit()
    result = cli("report", "weekly", "--week", "2026-W47", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output.split() == [str(tmp_path / "weekly-2026-W47.html"), str(tmp_path / "weekly-2026-W47.pdf")]
    assert (tmp_path / "weekly-2026-W47.pdf").stat().st_size > 1000


def test_report_weekly_with_a_bad_week_says_what_is_accepted_without_a_traceback(cli, tmp_path: Path) -> None:
    result = cli("report", "weekly", "--week", "week 47", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "use YEAR-Wnn such as 2026-W47" in result.output and "Traceback" not in result.output


def test_feeds_write_and_csv_commands(world, session: Session, cli, tmp_path: Path) -> None:
    world.post(utcnow() - timedelta(days=1), sentiment="negative", topic="billing", text="charged twice")
    session.commit()
    written = cli("feeds", "write", str(tmp_path / "feeds"))
    assert written.exit_code == 0, written.output
    assert str(tmp_path / "feeds" / "billing.atom") in written.output.split()
    exported = cli("feeds", "csv", "billing", "--out", str(tmp_path / "billing.csv"))
    assert exported.exit_code == 0, exported.output
    assert "charged twice" in (tmp_path / "billing.csv").read_text(encoding="utf-8")


def test_feeds_csv_of_an_unknown_topic_lists_the_configured_ones(cli) -> None:
    result = cli("feeds", "csv", "weather")
    assert result.exit_code == 2
    assert "unknown topic 'weather'; configured topics: delivery, billing" in result.output


def test_alerts_check_stores_one_alert_and_alerts_list_shows_it(world, session: Session, cli) -> None:
    _burst_world(world, utcnow())
    session.commit()
    checked = cli("alerts", "check", "--no-notify")
    assert checked.exit_code == 0, checked.output
    assert "1 new alert(s)" in checked.output and "topic:app" in checked.output
    assert cli("alerts", "check", "--no-notify").output.strip().endswith("0 new alert(s)")
    listed = cli("alerts", "list")
    assert listed.exit_code == 0 and listed.output.count("topic:app") == 1
    # No webhook or e-mail in the test config: the alert reached the inboxes and nothing else.
    assert " UTC volume topic:app (inboxes only: no webhook or e-mail configured): " in listed.output
    assert len(session.exec(select(Alert)).all()) == 1


def test_feeds_write_notify_posts_the_digest_to_the_webhook(
    world, session: Session, cli, webhook, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, received = webhook
    monkeypatch.setenv("DANGOL_REPORTS__WEBHOOK_URL", url)
    world.post(utcnow() - timedelta(hours=2), sentiment="negative", topic="app", text="app crashes")
    session.commit()
    result = cli("feeds", "write", str(tmp_path), "--notify")
    assert result.exit_code == 0, result.output
    assert "digest posted to the webhook" in result.output
    assert "App and website: 1 complaint (1 distinct)" in received.bodies[0]["text"]


def test_a_weekly_report_says_when_it_was_really_generated(world, session: Session, settings: Settings) -> None:
    from reports.weekly import build_weekly

    world.post(datetime(2026, 11, 17, tzinfo=UTC), sentiment="negative", topic="delivery", text="late")
    session.commit()
    report = build_weekly(session=session, settings=settings, week=None, now=datetime(2026, 11, 23, 3, tzinfo=UTC))
    assert report.week == "2026-W47"
    assert abs((report.generated_at - utcnow()).total_seconds()) < 600  # today, not the replayed "now"


def test_four_workers_send_the_weekly_report_once_per_week(
    world, session: Session, settings: Settings, engine: Engine, smtp, tmp_path: Path
) -> None:
    import threading

    from dangol.jobs import once_per_slot, weekly_trigger

    world.post(datetime(2026, 11, 17, tzinfo=UTC), sentiment="negative", topic="delivery", text="late again")
    session.commit()
    port, received = smtp
    settings.reports.out_dir = str(tmp_path / "reports")
    settings.reports.smtp_host, settings.reports.smtp_port, settings.reports.smtp_tls = "127.0.0.1", port, "none"
    settings.reports.email_to = ["pr@maru.test"]
    monday = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    trigger = weekly_trigger(settings)

    def worker(n: int, at: datetime) -> threading.Thread:
        job = once_per_slot(
            "report:weekly",
            trigger,
            lambda: weekly_job(settings, engine, now=at),
            engine,
            worker=f"w{n}",
            clock=lambda: at,
        )
        return threading.Thread(target=job)

    for week in (monday, monday + timedelta(days=7)):
        threads = [worker(n, week + timedelta(minutes=n)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    subjects = [m["Subject"] for m in received.messages]
    assert subjects == [
        "[Maru Coffee] Weekly sentiment report 2026-W47",
        "[Maru Coffee] Weekly sentiment report 2026-W48",
    ]
