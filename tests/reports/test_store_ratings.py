"""Store reviews in the reports: ratings per app, version and week (weekly report), complaints per
app version (topic feeds), and spike alerts that name the version most of their reviews were on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from dangol.core.settings import Settings
from reports.alerts import alert_text, detect_spikes
from reports.feeds import build_topic_feed, json_feed
from reports.ratings import version_key
from reports.weekly import build_weekly, render_html
from storage.models import Post
from tests.reports.store_reviews import APP_ID, PACKAGE, expected_ratings, hours, store_reviews
from tests.reports.test_reports_alerts import BURST_AT, START, _background

W47_START = datetime(2026, 11, 15, 15, 0, tzinfo=UTC)  # Monday 16 Nov 00:00 in Seoul
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
LOGIN = "로그인이 안 돼요 login fails after the update"


def _seed(session: Session) -> None:
    w46, w47 = W47_START - timedelta(days=7), W47_START + timedelta(hours=2)
    appstore = [
        (str(100 + i), at, stars, "3.4.0", "좋아요 great app")
        for i, (at, stars) in enumerate(zip(hours(w46, 3), (5, 4, 4), strict=True))
    ]
    appstore.append(("190", W47_START - timedelta(seconds=1), 2, "3.4.0", "조금 느려요"))  # still week 46
    appstore += [
        (str(200 + i), at, stars, "3.5.0", LOGIN)
        for i, (at, stars) in enumerate(zip(hours(w47, 4), (1, 1, 2, 5), strict=True))
    ]
    appstore += [
        ("300", w47 + timedelta(days=1), 3, None, "그냥 그래요"),
        ("301", w47 + timedelta(days=2), 4, "3.10.0", "fixed"),
    ]
    googleplay = [("g1", w46 + timedelta(hours=5), 5, "3.4.0", "Love it")]
    googleplay += [
        (f"g{10 + i}", at, stars, "3.5.0", LOGIN)
        for i, (at, stars) in enumerate(zip(hours(w47, 3), (1, 1, 2), strict=True))
    ]
    googleplay.append(("g99", w47 + timedelta(hours=1), 1, "3.5.0", "this one is deleted upstream"))
    store_reviews(session, appstore=appstore, googleplay=googleplay)
    deleted = session.exec(select(Post).where(Post.external_id == "gp:g99")).one()
    deleted.deleted_at = NOW
    session.add(deleted)
    session.commit()


def test_weekly_report_ratings_per_app_version_and_week_equal_the_posts(session: Session, settings: Settings) -> None:
    _seed(session)
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    weeks = [p.week for p in report.trend]
    expected = expected_ratings(session, weeks, settings.brand.timezone)
    got = {
        (r.week, r.platform, r.app, r.version): ([r.stars[s] for s in range(1, 6)], r.average) for r in report.ratings
    }
    assert got == expected
    # What the seed says, spelled out: week 47's App Store 3.5.0 has two 1s, a 2 and a 5.
    assert got[("2026-W47", "appstore", APP_ID, "3.5.0")] == ([2, 1, 0, 0, 1], 2.25)
    assert got[("2026-W46", "appstore", APP_ID, "3.4.0")] == ([0, 1, 0, 2, 1], 3.75)
    assert got[("2026-W47", "googleplay", PACKAGE, None)][0] == [2, 1, 0, 0, 0]  # the deleted review is gone
    # Per week and app: all versions first, then versions in release order (3.10.0 after 3.5.0), unknown first.
    w47_appstore = [r.version for r in report.ratings if (r.week, r.platform) == ("2026-W47", "appstore")]
    assert w47_appstore == [None, "", "3.5.0", "3.10.0"]
    assert [r.week for r in report.ratings] == sorted(r.week for r in report.ratings)
    # The App Store app by the name its feed gave, with its number; Google Play's by its package name.
    assert {(r.platform, r.app_label) for r in report.ratings} == {
        ("appstore", f"마루커피 ({APP_ID})"),
        ("googleplay", PACKAGE),
    }
    page = render_html(report)
    assert "Store ratings" in page and "3.10.0" in page and "2.25" in page and f"<td>마루커피 ({APP_ID})</td>" in page


def test_versions_sort_in_release_order() -> None:
    assert sorted(["3.10.0", "3.5.0", "3.5.0-beta", "", "10.0"], key=version_key) == [
        "",
        "3.5.0",
        "3.5.0-beta",
        "3.10.0",
        "10.0",
    ]


def _review_burst(world, versions: list[str]) -> None:
    for n, version in enumerate(versions):
        world.post(
            BURST_AT + timedelta(minutes=4 * n),
            platform="googleplay",
            sentiment="negative",
            topic="app",
            source="maru_x",
            handle=f"reviewer{n}",
            metrics={"rating": 1},
            text="login fails after the update",
            raw={"reviewId": f"r{n}", "dangol:googleplay": {"app_id": PACKAGE, "version": version, "lang": "ko"}},
        )


def test_a_spike_of_store_reviews_mostly_on_one_version_names_it(world, session: Session, settings: Settings) -> None:
    _background(world)
    _review_burst(world, ["3.5.0"] * 22 + ["3.4.0"] * 8)
    session.commit()
    [alert] = detect_spikes(session=session, settings=settings, now=START + timedelta(days=15), since=START)
    session.commit()
    assert alert.explanation["app_version"] == {
        "version": "3.5.0",
        "reviews": 22,
        "of": 30,
        "apps": [f"Google Play {PACKAGE}"],
    }
    assert "22 of 30 store reviews on app version 3.5.0" in alert.explanation["summary"]
    assert "app version 3.5.0" in alert_text(alert, settings)


def test_a_spike_spread_over_versions_names_none(world, session: Session, settings: Settings) -> None:
    _background(world)
    _review_burst(world, ["3.5.0"] * 17 + ["3.4.0"] * 13)  # 57 %: below the 60 % that names a version
    session.commit()
    [alert] = detect_spikes(session=session, settings=settings, now=START + timedelta(days=15), since=START)
    assert alert.explanation["app_version"] is None
    assert "app version" not in alert.explanation["summary"]


def test_the_topic_feed_counts_store_complaints_per_app_version(world, session: Session, settings: Settings) -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    meta = {"app_id": PACKAGE, "lang": "ko", "country": "kr"}
    for days_ago, version in [(2, "3.5.0")] * 4 + [(3, "3.4.0")] + [(9, "3.4.0")] * 2:
        world.post(now - timedelta(days=days_ago), platform="googleplay", sentiment="negative", topic="app",
                   metrics={"rating": 1}, raw={"dangol:googleplay": {**meta, "version": version}})  # fmt: skip
    world.post(now - timedelta(days=1), sentiment="negative", topic="app")  # not a store review: no version
    session.commit()
    feed = build_topic_feed(session=session, settings=settings, key="app", now=now, days=7)
    assert [(v.version, v.posts, v.previous) for v in feed.versions] == [("3.5.0", 4, 0), ("3.4.0", 1, 2)]
    doc = json_feed(feed, settings)
    assert doc["_dangol"]["app_versions"][0] == {  # type: ignore[index]
        "store": "googleplay", "app": PACKAGE, "version": "3.5.0", "posts": 4, "previous_posts": 0,
    }  # fmt: skip
    assert f"Google Play {PACKAGE} 3.5.0: 4 (previous 0)" in str(doc["description"])
