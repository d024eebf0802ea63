"""Share of voice, net sentiment per brand and competitors' complaints: the Reports page and the
weekly report show the figures computed here straight from the tables (posts, their brand tags,
authors and analyses), never through storage.read_models."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from dangol.core.types import AuthorIn, Page, PostIn
from reports.weekly import build_weekly, render_html
from storage.ingest import get_or_create_source, store_page
from storage.models import Analysis, Author, Post, PostBrand
from tests.dashboard.conftest import DashboardDb, app_as, shown

WEEK = "2026-W47"
WEEKS = ["2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47"]


def week_bounds(label: str, timezone: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) of ISO week `label`, local time."""
    year, number = label.split("-W")
    monday = datetime.fromisocalendar(int(year), int(number), 1).replace(tzinfo=ZoneInfo(timezone))
    return monday, monday + timedelta(weeks=1)


# (handle, followers, text, metrics, source brand, tag it?, analysis or None, week offset, deleted)
POSTS = [
    ("ana", 100, "maru coffee latte was great", {"like_count": 5}, None, True,
     ("positive", "other", False, False), 0, False),
    ("ben", 50, "the latte was cold", {}, None, False, ("negative", "quality", True, False), 0, False),  # untagged
    ("cho", 1000, "byeol coffee delivery never arrived", {"like_count": 2, "retweet_count": 1}, None, True,
     ("negative", "delivery", True, False), 0, False),
    ("dan", 10, "the app crashes at checkout", {"reply_count": 4}, "byeol", True,
     ("negative", "app", True, False), 0, False),  # names no brand: the rival source's
    ("eun", 200, "maru coffee vs byeol coffee, same queue", {}, None, True,
     ("neutral", "store", False, False), 0, False),  # about both
    ("marucoffee", 48000, "byeol coffee who? try maru coffee", {"like_count": 90}, None, True,
     ("positive", "other", False, False), 0, False),  # our own account: never voice
    ("fay", 5, "byeol coffee free giveaway click", {}, None, True, ("neutral", "other", False, True), 0, False),  # spam
    ("gus", 70, "byeol coffee app is broken", {}, None, True, ("negative", "app", True, False), 0, True),  # deleted
    ("hye", 30, "별빛커피 오늘 갔어요", {"like_count": 1}, None, True, None, 0, False),  # not analyzed yet
    ("ivy", 400, "별빛커피 라떼 정말 맛있어요", {}, None, True, ("positive", "other", False, False), 0, False),
    ("jin", 5, "byeol coffee is nice", {}, None, True, ("positive", "other", False, False), -1, False),
    ("kai", 60, "maru coffee store was dirty", {}, None, True, ("negative", "store", True, False), -1, False),
]  # fmt: skip


def _seed(db: DashboardDb) -> None:
    start, _ = week_bounds(WEEK, db.settings.brand.timezone)
    catalog = db.settings.brand_catalog
    with Session(db.engine) as session:
        source = get_or_create_source(session, name="brands_x", use="x")
        for n, (handle, followers, text, metrics, brand, tag, _, offset, _) in enumerate(POSTS):
            post = PostIn(
                platform="x",
                external_id=f"sov{n}",
                author=AuthorIn("x", f"sov-u{n}", handle, handle, followers),
                text=text,
                created_at=start + timedelta(weeks=offset, hours=3 + n),
                metrics=metrics,
            )
            tagging = {"brands": catalog, "source_brand": brand} if tag else {}
            store_page(session, source=source, page=Page([post], {}), **tagging)
        stored = {p.external_id: p for p in session.exec(select(Post).where(Post.external_id.startswith("sov")))}
        for n, (*_, analysis, _, deleted) in enumerate(POSTS):
            post = stored[f"sov{n}"]
            if deleted:
                post.deleted_at = start + timedelta(days=2)
                session.add(post)
            if analysis is not None:
                sentiment, topic, complaint, spam = analysis
                session.add(
                    Analysis(post_id=post.id, language="en", sentiment=sentiment, primary_topic=topic,
                             is_complaint=complaint, is_spam=spam, intent="complaint" if complaint else "other")
                )  # fmt: skip
        session.commit()


def _truth(
    db: DashboardDb,
) -> tuple[dict[tuple[str, str], dict[str, int]], dict[tuple[str, str], tuple[int, int, int]]]:
    """Per (week, brand): mentions, reach, positive, negative, analyzed; and this week's competitor
    complaints per (brand, topic): complaints, negative, posts. From whole tables, in Python."""
    settings = db.settings
    catalog = settings.brand_catalog
    own = catalog.own.key
    with Session(db.engine) as session:
        posts = list(session.exec(select(Post)))
        authors = {a.id: a for a in session.exec(select(Author))}
        analyses = {a.post_id: a for a in session.exec(select(Analysis))}
        tags: dict[int, list[str]] = defaultdict(list)
        for row in session.exec(select(PostBrand)):
            tags[row.post_id].append(row.brand)
    bounds = {w: week_bounds(w, settings.brand.timezone) for w in WEEKS}
    voice: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    complaints: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for post in posts:
        author, analysis = authors[post.author_id], analyses.get(post.id)
        if post.deleted_at is not None or settings.brand.is_own(post.platform, author.handle):
            continue
        if analysis is not None and analysis.is_spam:
            continue
        week = next((w for w, (s, e) in bounds.items() if s <= post.created_at < e), None)
        if week is None:
            continue
        brands = tags.get(post.id) or [own]  # untagged: stored before brands, the own brand's
        reach = (author.followers or 0) + sum(
            v for v in post.metrics.values() if isinstance(v, int) and not isinstance(v, bool)
        )
        for brand in brands:
            figures = voice[(week, brand)]
            figures["mentions"] += 1
            figures["reach"] += reach
            if analysis is not None:
                figures["analyzed"] += 1
                figures["positive"] += analysis.sentiment == "positive"
                figures["negative"] += analysis.sentiment == "negative"
        unhappy = analysis is not None and (analysis.is_complaint or analysis.sentiment == "negative")
        if week == WEEK and unhappy and own not in brands:
            for brand in brands:
                counts = complaints[(brand, analysis.primary_topic)]  # type: ignore[union-attr]
                counts[0] += analysis.is_complaint  # type: ignore[union-attr]
                counts[1] += analysis.sentiment == "negative"  # type: ignore[union-attr]
                counts[2] += 1
    return {k: dict(v) for k, v in voice.items()}, {k: (a, b, c) for k, (a, b, c) in complaints.items()}


def _pct(part: int, whole: int) -> str:
    return "–" if not whole else f"{part / whole * 100:.1f}%"


def _net(figures: dict[str, int]) -> str:
    done = figures.get("analyzed", 0)
    return "–" if not done else f"{(figures['positive'] - figures['negative']) / done:+.2f}"


def _expected_rows(db: DashboardDb, voice: dict[tuple[str, str], dict[str, int]]) -> list[dict[str, object]]:
    rows = []
    for week in WEEKS:
        mentions = sum(v["mentions"] for (w, _), v in voice.items() if w == week)
        reach = sum(v["reach"] for (w, _), v in voice.items() if w == week)
        for brand in db.settings.brand_catalog.brands:
            figures = voice.get((week, brand.key), {"mentions": 0, "reach": 0, "analyzed": 0})
            rows.append(
                {
                    "week": week,
                    "brand": brand.name,
                    "mentions": figures["mentions"],
                    "share": _pct(figures["mentions"], mentions),
                    "reach": figures["reach"],
                    "reach share": _pct(figures["reach"], reach),
                    "net sentiment": _net(figures),
                }
            )
    return rows


def test_share_of_voice_and_competitor_complaints_equal_the_tables(dashboard_db: DashboardDb, monkeypatch) -> None:
    _seed(dashboard_db)
    voice, complaints = _truth(dashboard_db)
    expected = _expected_rows(dashboard_db, voice)
    # The data reaches the cases the figures must handle: both brands this week, a post about both,
    # an untagged post, one not analyzed yet, and a week before.
    assert voice[(WEEK, "maru")]["mentions"] == 3 and voice[(WEEK, "byeol")]["mentions"] == 5
    assert voice[(WEEK, "byeol")]["analyzed"] == 4 and voice[("2026-W46", "byeol")]["mentions"] == 1

    # The page.
    at = app_as(dashboard_db, "product1", monkeypatch, page="Reports", report_week=WEEK)
    assert not at.exception
    assert {"Share of voice", "Competitor complaints"} <= set(shown(at.subheader))
    [table] = [f.value for f in at.dataframe if "reach share" in f.value.columns]
    assert table.to_dict("records") == expected
    [shown_complaints] = [f.value for f in at.dataframe if "competitor" in f.value.columns]
    names = {k: t.name for k, t in dashboard_db.settings.topics.items()}
    assert {
        (r["competitor"], r["topic"]): (r["complaints"], r["negative"], r["posts"])
        for r in shown_complaints.to_dict("records")
    } == {("Byeol Coffee", names[topic]): counts for (brand, topic), counts in complaints.items()}
    assert complaints == {("byeol", "delivery"): (1, 1, 1), ("byeol", "app"): (1, 1, 1)}

    # The weekly report: the same figures, and the same table in its HTML.
    with Session(dashboard_db.engine) as session:
        report = build_weekly(session=session, settings=dashboard_db.settings, week=WEEK)
    assert [
        {
            "week": b.week,
            "brand": b.name,
            "mentions": b.mentions,
            "share": _pct(b.mentions, sum(x.mentions for x in report.brands if x.week == b.week)),
            "reach": b.reach,
            "reach share": _pct(b.reach, sum(x.reach for x in report.brands if x.week == b.week)),
            "net sentiment": "–" if b.net is None else f"{b.net:+.2f}",
        }
        for b in report.brands
    ] == expected
    html = render_html(report)
    section = html[html.index('id="share-of-voice"') : html.index('id="competitor-complaints"')]
    cells = [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr data-week.*?</tr>", section, re.S)
    ]
    assert cells == [  # counts written as people read them: "1,648"
        [
            r["week"],
            r["brand"],
            f"{r['mentions']:,}",
            r["share"],
            f"{r['reach']:,}",
            r["reach share"],
            r["net sentiment"],
        ]
        for r in expected
    ]
