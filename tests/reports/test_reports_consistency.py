"""The weekly report's figures, recomputed independently from raw rows in Python, must agree."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlmodel import Session, select

from dangol.core.settings import Settings
from reports.weekly import build_weekly
from storage.models import Analysis, Author, Post, QueueItem, Source

PLATFORMS = ["x", "reddit", "mastodon", "naver"]
TOPICS = ["delivery", "billing", "app", "quality", "other"]
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
SEOUL = ZoneInfo("Asia/Seoul")


def _random_world(world, seed: int = 3) -> None:
    """Six weeks of posts with random platforms, sources, moods, metrics and queue outcomes."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 10, tzinfo=UTC)
    for n in range(400):
        at = start + timedelta(minutes=rng.randrange(6 * 7 * 24 * 60))
        sentiment = rng.choice(["negative", "neutral", "positive"])
        post = world.post(
            at,
            sentiment=sentiment,
            topic=rng.choice(TOPICS),
            complaint=rng.random() < 0.4,
            platform=rng.choice(PLATFORMS),
            source=rng.choice(["maru_x", "maru_reddit", None]),
            handle=f"h{rng.randrange(80)}",
            followers=rng.choice([None, 0, 10, 500, 20_000]),
            metrics={"like_count": rng.randrange(300), "reply_count": rng.randrange(20)} if rng.random() < 0.7 else {},
            analyzed=rng.random() < 0.95,
        )
        if rng.random() < 0.3:
            responded = timedelta(minutes=rng.randrange(600)) if rng.random() < 0.8 else None
            world.queue_item(
                post,
                created_at=at + timedelta(minutes=3),
                responded_after=responded,
                due_after=timedelta(minutes=rng.choice([60, 240])),
                breached=rng.random() < 0.1,
            )
        if n % 97 == 0:
            post.deleted_at = at + timedelta(days=1)


def _week_of(moment: datetime) -> str:
    year, week, _ = moment.astimezone(SEOUL).isocalendar()
    return f"{year}-W{week:02d}"


@pytest.mark.parametrize("week", ["2026-W47", "2026-W45"])
def test_report_figures_equal_an_independent_recount_of_raw_rows(
    world, session: Session, settings: Settings, week: str
) -> None:
    _random_world(world)
    session.commit()
    report = build_weekly(session=session, settings=settings, week=week, now=NOW)

    posts = [p for p in session.exec(select(Post)).all() if p.deleted_at is None]
    analyses = {a.post_id: a for a in session.exec(select(Analysis)).all()}
    authors = {a.id: a for a in session.exec(select(Author)).all()}
    sources = {s.id: s.name for s in session.exec(select(Source)).all()}
    in_week = [p for p in posts if _week_of(p.created_at) == week]

    assert report.volume_by_platform == dict(Counter(p.platform for p in in_week))
    assert report.volume_by_source == dict(Counter(sources.get(p.source_id, p.platform) for p in in_week))
    for point in report.trend:
        expected = Counter(
            analyses[p.id].sentiment for p in posts if _week_of(p.created_at) == point.week and p.id in analyses
        )
        assert point.counts == dict(expected), point.week
    assert [p.week for p in report.trend][-1] == week and len(report.trend) == 5

    previous = report.trend[-2].week
    complaints = Counter(
        analyses[p.id].primary_topic for p in in_week if p.id in analyses and analyses[p.id].is_complaint
    )
    before = Counter(
        analyses[p.id].primary_topic
        for p in posts
        if _week_of(p.created_at) == previous and p.id in analyses and analyses[p.id].is_complaint
    )
    assert {t.key: (t.count, t.previous) for t in report.complaint_topics} == {
        k: (complaints[k], before[k]) for k in set(complaints) | set(before)
    }

    def reach(p: Post) -> int:
        return (authors[p.author_id].followers or 0) + sum(v for v in p.metrics.values() if isinstance(v, int))

    for sentiment, notable in (("negative", report.notable_negative), ("positive", report.notable_positive)):
        ranked = sorted(
            (p for p in in_week if p.id in analyses and analyses[p.id].sentiment == sentiment),
            key=lambda p: (-reach(p), p.id),
        )
        assert [(n.post_id, n.reach) for n in notable] == [(p.id, reach(p)) for p in ranked[:3]]

    items = [q for q in session.exec(select(QueueItem)).all() if _week_of(q.created_at) == week]
    minutes = [(q.first_responded_at - q.created_at).total_seconds() / 60 for q in items if q.first_responded_at]
    assert report.response.answered == len(minutes)
    assert report.response.median_minutes == pytest.approx(np.percentile(minutes, 50))
    assert report.response.p90_minutes == pytest.approx(np.percentile(minutes, 90))
    met = sum(
        1
        for q in items
        if not q.sla_breached and q.first_responded_at and q.first_responded_at <= q.first_response_due_at
    )
    pending = sum(1 for q in items if not q.sla_breached and not q.first_responded_at and q.first_response_due_at > NOW)
    assert (report.response.sla_met, report.response.sla_missed, report.response.sla_pending) == (
        met,
        len(items) - met - pending,
        pending,
    )
    assert report.total_posts > 30 and report.response.answered > 3
