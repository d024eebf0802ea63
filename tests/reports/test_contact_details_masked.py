"""A customer's e-mail address or phone number written into a public complaint ("my account email
is …") is for the agent who answers it: the files, feeds, exports and alerts that leave the response
team show it masked, and the rest of the post as written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.settings import Settings
from reports.alerts import detect_spikes
from reports.feeds import topic_csv
from reports.jobs import feeds_job, weekly_job
from tests.reliability.traces import file_texts, squash
from tests.reports.test_reports_alerts import START, _background, _burst

EMAIL, PHONE = "kim.minji@example.com", "010-2345-6789"
WORDS = "Charged twice for one americano and nobody answers"
COMPLAINT = f"{WORDS}. My account email is {EMAIL}, call me on {PHONE}"


def _files_holding(settings: Settings, words: str) -> list[str]:
    folders = [Path(settings.reports.out_dir), Path(settings.reports.feeds_dir)]
    return sorted(path.name for path, body in file_texts(folders).items() if squash(words) in body)


def test_reports_feeds_and_exports_mask_contact_details_in_posts(
    world, session: Session, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    settings.reports.out_dir = str(tmp_path / "reports")
    settings.reports.feeds_dir = str(tmp_path / "feeds")
    # Reach puts it among the report's notable negative posts.
    world.post(
        datetime(2026, 11, 18, 3, tzinfo=UTC), text=COMPLAINT, sentiment="negative", topic="billing", followers=9000
    )
    session.commit()
    weekly_job(settings, engine, week="2026-W47", now=datetime(2026, 11, 23, 1, tzinfo=UTC))
    feeds_job(settings, engine, now=datetime(2026, 11, 19, tzinfo=UTC))

    written = ["billing.atom", "billing.json", "weekly-2026-W47.html", "weekly-2026-W47.pdf"]
    assert _files_holding(settings, WORDS) == written
    assert _files_holding(settings, EMAIL) == [] and _files_holding(settings, PHONE) == []
    assert _files_holding(settings, "[email]") == written

    csv = topic_csv(
        "billing", session=session, since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert WORDS in csv and "[email]" in csv and "[phone]" in csv
    assert EMAIL not in csv and PHONE not in csv


def test_an_alert_shows_the_posts_of_a_burst_without_their_contact_details(
    world, session: Session, settings: Settings
) -> None:
    _background(world)
    _burst(world, texts=[f"the app keeps crashing at checkout, reach me at angry{n}@example.com" for n in range(4)])
    session.commit()
    [alert] = detect_spikes(session=session, settings=settings, now=START + timedelta(days=15), since=START)
    shown = str(alert.explanation)
    assert "crashing at checkout" in shown and "[email]" in shown
    assert "@example.com" not in shown and "example" not in [t["term"] for t in alert.explanation["terms"]]
