"""The feed and report files follow the tables: an erased customer and texts past retention leave
them; reports of other weeks and files Dangol did not write are left as they were."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.settings import Settings
from reports.erasure import erase_customer
from reports.jobs import feeds_job, purge_job, weekly_job
from storage.models import Customer, IdentityLink
from tests.conftest import an_admin
from tests.reliability.traces import file_texts, squash

OLD_WORDS = "The oat latte came cold and spilled all over the bag"
NEW_WORDS = "My order from the Hongdae store never arrived at all"
KIM_WORDS = "I was charged twice for one americano, order MC-2026-7777"


@pytest.fixture
def out(settings: Settings, tmp_path: Path) -> Settings:
    settings.reports.out_dir = str(tmp_path / "reports")
    settings.reports.feeds_dir = str(tmp_path / "feeds")
    return settings


def shown(settings: Settings) -> dict[str, str]:
    """File name -> its searchable text (PDFs by their text layer)."""
    folders = [Path(settings.reports.out_dir), Path(settings.reports.feeds_dir)]
    return {path.name: body for path, body in file_texts(folders).items()}


def holding(settings: Settings, words: str) -> list[str]:
    return sorted(name for name, body in shown(settings).items() if squash(words) in body)


def test_a_retention_purge_takes_expired_texts_out_of_the_files_and_leaves_newer_reports_alone(
    world, session: Session, out: Settings, engine: Engine
) -> None:
    out.retention.post_text_days = 30
    world.post(datetime(2026, 11, 4, 3, tzinfo=UTC), text=OLD_WORDS, sentiment="negative", topic="delivery")
    world.post(datetime(2026, 11, 18, 3, tzinfo=UTC), text=NEW_WORDS, sentiment="negative", topic="delivery")
    session.commit()
    weekly_job(out, engine, week="2026-W45", now=datetime(2026, 11, 9, 1, tzinfo=UTC))
    weekly_job(out, engine, week="2026-W47", now=datetime(2026, 11, 23, 1, tzinfo=UTC))
    feeds_job(out, engine, now=datetime(2026, 11, 5, tzinfo=UTC))
    newer = (Path(out.reports.out_dir) / "weekly-2026-W47.pdf").read_bytes()
    assert holding(out, OLD_WORDS) == ["delivery.atom", "delivery.json", "weekly-2026-W45.html", "weekly-2026-W45.pdf"]

    purged = purge_job(out, engine, now=datetime(2026, 12, 10, tzinfo=UTC))  # texts before Nov 10 expire

    assert purged["post_texts"] == 1 and holding(out, OLD_WORDS) == []
    assert holding(out, NEW_WORDS) == ["weekly-2026-W47.html", "weekly-2026-W47.pdf"]
    assert (Path(out.reports.out_dir) / "weekly-2026-W47.pdf").read_bytes() == newer  # not written again
    page = (Path(out.reports.out_dir) / "weekly-2026-W45.html").read_text(encoding="utf-8")
    assert '<meta name="dangol:as-of" content="2026-11-09T01:00:00+00:00">' in page  # figured as of the same moment
    feed = json.loads((Path(out.reports.feeds_dir) / "delivery.json").read_text(encoding="utf-8"))
    assert (feed["_dangol"]["until"], feed["_dangol"]["posts"]) == ("2026-11-05T00:00:00+00:00", 1)


def test_an_erased_customer_leaves_every_feed_and_report_file_and_others_stay(
    world, session: Session, out: Settings, engine: Engine
) -> None:
    kim_post = world.post(
        datetime(2026, 11, 18, 3, tzinfo=UTC), text=KIM_WORDS, sentiment="negative", topic="billing", handle="kim_m"
    )
    world.post(datetime(2026, 11, 18, 4, tzinfo=UTC), text=NEW_WORDS, sentiment="negative", topic="billing")
    kim = Customer(name="Kim Minji", email="kim@example.com", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(kim)
    session.flush()
    session.add(IdentityLink(author_id=kim_post.author_id, customer_id=kim.id, method="handle", confidence=1.0))
    session.commit()
    weekly_job(out, engine, week="2026-W47", now=datetime(2026, 11, 23, 1, tzinfo=UTC))
    feeds_job(out, engine, now=datetime(2026, 11, 19, tzinfo=UTC))
    stranger = Path(out.reports.feeds_dir) / "notes.json"
    stranger.write_text('{"kim_m": "someone else\'s file"}', encoding="utf-8")
    assert "weekly-2026-W47.pdf" in holding(out, "@kim_m") and "billing.json" in holding(out, KIM_WORDS)

    counts = erase_customer(kim.id or 0, session=session, settings=out, actor=an_admin(session))
    session.commit()

    assert counts["files"] == 2 * len(out.topics) + 2  # every feed, and the report that showed Kim
    assert holding(out, "kim_m") == ["notes.json"]  # Dangol's files only; the stranger's is left alone
    assert holding(out, KIM_WORDS) == [] and holding(out, "MC-2026-7777") == []
    assert holding(out, NEW_WORDS) == ["billing.atom", "billing.json", "weekly-2026-W47.html", "weekly-2026-W47.pdf"]


def test_a_feed_file_of_a_topic_that_no_longer_exists_is_removed(
    world, session: Session, out: Settings, engine: Engine
) -> None:
    feeds_job(out, engine, now=datetime(2026, 11, 19, tzinfo=UTC))
    out.topics.pop("billing")  # taken out of config.toml: nothing can write its feed again
    kim = Customer(name="Kim Minji", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(kim)
    session.commit()
    erase_customer(kim.id or 0, session=session, settings=out, actor=an_admin(session))
    names = sorted(p.name for p in Path(out.reports.feeds_dir).iterdir())
    assert "billing.json" not in names and "billing.atom" not in names and "delivery.json" in names
