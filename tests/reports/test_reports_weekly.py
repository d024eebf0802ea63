"""The weekly report: week boundaries in the brand's zone, figures, and the HTML/PDF files."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from dangol.core.errors import ConfigError
from dangol.core.settings import Settings
from reports.period import last_complete_week, parse_week
from reports.weekly import build_weekly, percentile, render_html, write_weekly
from storage.models import Alert, ComplaintTopic

# 2026-W47 in Asia/Seoul (the sample config's zone) starts Monday 16 Nov 00:00 KST = 15 Nov 15:00 UTC.
W47_START = datetime(2026, 11, 15, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
EMPTY_JSON = {"sentiment_probs": {}, "topics": {}, "risk_breakdown": {}, "model_versions": {}}


def test_iso_week_starts_on_monday_midnight_in_the_brand_timezone() -> None:
    week = parse_week("2026-W47", "Asia/Seoul")
    assert (week.start, week.end) == (W47_START, W47_START + timedelta(days=7))


def test_default_week_is_the_last_complete_one() -> None:
    assert last_complete_week(NOW, "Asia/Seoul").label == "2026-W47"


@pytest.mark.parametrize("text", ["2026-47", "2026-W54", "last week", "2026-W00"])
def test_malformed_week_is_refused_with_the_accepted_form(text: str) -> None:
    with pytest.raises(ConfigError, match="YEAR-Wnn"):
        parse_week(text, "UTC")


def test_post_just_before_monday_local_midnight_belongs_to_the_previous_week(
    world, session: Session, settings: Settings
) -> None:
    world.post(W47_START - timedelta(seconds=1), sentiment="negative")
    world.post(W47_START, sentiment="positive")
    session.commit()
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    assert report.sentiment == {"positive": 1}
    assert report.trend[-2].counts == {"negative": 1}


def test_net_sentiment_is_positive_minus_negative_over_all_analyzed(
    world, session: Session, settings: Settings
) -> None:
    for sentiment in ["positive"] * 5 + ["negative"] * 2 + ["neutral"] * 3:
        world.post(W47_START + timedelta(hours=1), sentiment=sentiment)
    world.post(W47_START + timedelta(hours=1), analyzed=False)
    session.commit()
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    assert report.total_posts == 11
    assert report.analyzed_posts == 10
    assert report.net_sentiment == pytest.approx(0.3)
    assert report.sentiment_share["neutral"] == pytest.approx(0.3)


def test_net_sentiment_headline_names_the_change_and_last_weeks_value(
    world, session: Session, settings: Settings
) -> None:
    for sentiment in ["positive"] * 3 + ["negative"]:  # last week: +0.50
        world.post(W47_START - timedelta(days=2), sentiment=sentiment)
    for sentiment in ["negative"] * 3 + ["positive"]:  # this week: -0.50
        world.post(W47_START + timedelta(hours=1), sentiment=sentiment)
    session.commit()
    page = render_html(build_weekly(session=session, settings=settings, week="2026-W47", now=NOW))
    # "vs last week -1.00" read as last week's value; it is the change.
    assert "-1.00 on last week's +0.50" in page and "vs last week" not in page
    assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d \(Asia/Seoul\)", page)  # the time's zone named


def test_net_sentiment_headline_says_when_last_week_had_none(world, session: Session, settings: Settings) -> None:
    world.post(W47_START + timedelta(hours=1), sentiment="positive")
    session.commit()
    page = render_html(build_weekly(session=session, settings=settings, week="2026-W47", now=NOW))
    assert "none last week" in page


def test_notable_negative_post_ranks_by_followers_plus_engagement(world, session: Session, settings: Settings) -> None:
    at = W47_START + timedelta(days=1)
    world.post(at, sentiment="negative", followers=1000, text="big account, no engagement")
    world.post(at, sentiment="negative", followers=10, metrics={"like_count": 1500, "retweet_count": 20}, text="viral")
    world.post(at, sentiment="positive", followers=5000, text="happy fan")
    session.commit()
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    assert [p.text for p in report.notable_negative] == ["viral", "big account, no engagement"]
    assert report.notable_negative[0].reach == 1530
    assert [p.text for p in report.notable_positive] == ["happy fan"]
    # Written as people read numbers: "1,530", not "1530".
    page = render_html(report)
    assert "reach 1,530 (10 followers + 1,520 engagement)" in page and "reach 5,000 (5,000 followers" in page


def test_the_brands_own_posts_are_never_notable(world, session: Session, settings: Settings) -> None:
    at = W47_START + timedelta(days=1)
    settings.brand.own_handles = ["x:marucoffee"]
    world.post(at, sentiment="positive", followers=48_000, handle="marucoffee", text="our new menu")
    world.post(at, sentiment="positive", followers=50, text="lovely latte")
    session.commit()
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    assert [p.text for p in report.notable_positive] == ["lovely latte"]


def test_topic_movers_compare_with_last_week(world, session: Session, settings: Settings) -> None:
    for _ in range(6):
        world.post(W47_START + timedelta(hours=2), sentiment="negative", topic="delivery")
    world.post(W47_START - timedelta(days=2), sentiment="negative", topic="delivery")
    for _ in range(4):
        world.post(W47_START - timedelta(days=3), sentiment="negative", topic="billing")
    world.post(W47_START + timedelta(hours=3), sentiment="negative", topic="billing")
    session.commit()
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    assert [(t.key, t.count, t.previous) for t in report.complaint_topics] == [("delivery", 6, 1), ("billing", 1, 4)]
    assert [(t.name, t.change) for t in report.movers] == [("Delivery", 5), ("Billing and refunds", -3)]


def test_topics_added_or_renamed_on_the_admin_page_are_named_by_their_stored_name(
    world, session: Session, settings: Settings
) -> None:
    world.post(W47_START + timedelta(hours=2), sentiment="negative", topic="parking")
    world.post(W47_START + timedelta(hours=3), sentiment="negative", topic="delivery")
    session.add(ComplaintTopic(key="parking", name="Parking", description="no parking", examples=["no parking"]))
    session.add(ComplaintTopic(key="delivery", name="Delivery and pickup", enabled=False))
    session.commit()
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    assert sorted(t.name for t in report.complaint_topics) == ["Delivery and pickup", "Parking"]


def test_response_times_and_sla_attainment_cover_items_queued_that_week(
    world, session: Session, settings: Settings
) -> None:
    at = W47_START + timedelta(days=2)
    for minutes in (10, 20, 30, 40, 200):
        post = world.post(at, sentiment="negative", topic="app")
        world.queue_item(post, created_at=at, responded_after=timedelta(minutes=minutes), due_after=timedelta(hours=1))
    late_flagged = world.post(at, sentiment="negative", topic="app")
    world.queue_item(late_flagged, created_at=at, responded_after=None, breached=True)
    waiting = world.post(NOW - timedelta(minutes=5), sentiment="negative", topic="app")
    world.queue_item(waiting, created_at=W47_START + timedelta(days=6, hours=23), responded_after=None)
    session.commit()
    report = build_weekly(
        session=session, settings=settings, week="2026-W47", now=W47_START + timedelta(days=6, hours=23, minutes=30)
    )
    assert report.response.answered == 5
    assert report.response.median_minutes == pytest.approx(30)
    assert report.response.p90_minutes == pytest.approx(136)
    assert (report.response.sla_met, report.response.sla_missed, report.response.sla_pending) == (4, 2, 1)
    assert report.response.sla_attainment == pytest.approx(4 / 6)


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([], 0.5) is None


def test_spike_episodes_of_the_week_are_listed(world, session: Session, settings: Settings) -> None:
    session.add(
        Alert(
            kind="volume",
            scope="topic:app",
            started_at=W47_START + timedelta(days=3),
            observed=40,
            expected=3,
            explanation={"summary": "App crashes"},
        )
    )
    session.add(
        Alert(
            kind="volume",
            scope="topic:app",
            started_at=W47_START - timedelta(days=3),
            observed=9,
            expected=3,
            ended_at=W47_START - timedelta(days=2),
        )
    )
    session.commit()
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    assert [a.summary for a in report.alerts] == ["App crashes"]


def _pdf_font_names(pdf: bytes) -> str:
    """The PDF's text with its compressed streams inflated, to look for embedded font names."""
    parts = [pdf.decode("latin-1")]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(parts)


def test_report_is_written_as_html_and_pdf_with_korean_text_in_a_cjk_font(
    world, session: Session, settings: Settings, tmp_path: Path
) -> None:
    world.post(
        W47_START + timedelta(hours=5), sentiment="negative", topic="delivery", text="배달이 너무 늦어요", followers=900
    )
    world.post(W47_START + timedelta(hours=6), sentiment="positive", text="great latte")
    session.commit()
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    paths = write_weekly(report, tmp_path / "out")
    assert [p.name for p in paths] == ["weekly-2026-W47.html", "weekly-2026-W47.pdf"]
    html = paths[0].read_text(encoding="utf-8")
    assert "배달이 너무 늦어요" in html and html.count("<svg") == 3
    pdf = paths[1].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert "NotoSansCJK" in _pdf_font_names(pdf)


def test_sqlite_statistics_are_sampled_so_the_covering_index_serves_the_report(session: Session) -> None:
    from sqlalchemy import insert, text

    from storage.models import Analysis, Author, Post
    from storage.read_models import refresh_statistics

    session.execute(insert(Author), [{"platform": "x", "platform_id": "a", "handle": "a"}])
    author_id = session.execute(text("SELECT id FROM author")).scalar_one()
    at = W47_START + timedelta(hours=1)
    session.execute(
        insert(Post),
        [
            {
                "platform": "x",
                "external_id": str(i),
                "author_id": author_id,
                "text": "t",
                "created_at": at,
                "collected_at": at,
                "metrics": {},
            }
            for i in range(1200)
        ],
    )
    post_ids = session.execute(text("SELECT id FROM post")).scalars().all()
    session.execute(
        insert(Analysis), [{"post_id": i, "language": "en", "sentiment": "neutral", **EMPTY_JSON} for i in post_ids]
    )
    is_sqlite = session.get_bind().dialect.name == "sqlite"
    assert refresh_statistics(session=session) is is_sqlite
    assert refresh_statistics(session=session) is False  # fresh statistics are left alone
    if is_sqlite:
        plan = session.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT analysis.sentiment, count(*) FROM post"
                " JOIN analysis ON analysis.post_id = post.id WHERE post.created_at >= '2026-11-15'"
                " AND post.deleted_at IS NULL GROUP BY analysis.sentiment"
            )
        ).all()
        assert "COVERING INDEX ix_analysis_post_labels" in " ".join(str(row) for row in plan)
