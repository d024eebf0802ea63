"""Store reviews put in through the real App Store and Google Play parsers, and the star-rating
figures computed again from the post table by this test code alone.

`expected_ratings` reads every post, parses its raw payload with `json` and buckets it into ISO weeks
with `zoneinfo`; it shares no code with `storage.read_models` or `reports.ratings`, so they can disagree.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from dangol.core.types import Page
from listener.appstore import parse_appstore
from listener.googleplay import parse_googleplay
from storage.ingest import get_or_create_source, store_page
from storage.models import Author, Post

APP_ID = "1234567"
PACKAGE = "com.marucoffee.app"


def appstore_feed(reviews: list[tuple[str, datetime, int, str | None, str]], country: str = "kr") -> dict[str, Any]:
    """An App Store customer-reviews page: (id, updated, stars, version or None, text) per review,
    after the entry describing the app, as Apple serves it."""
    entries: list[dict[str, Any]] = [
        {"im:name": {"label": "마루커피"}, "id": {"label": f"https://apps.apple.com/app/id{APP_ID}"}}
    ]
    for review_id, updated, stars, version, text in reviews:
        entry: dict[str, Any] = {
            "author": {
                "name": {"label": f"reviewer{review_id}"},
                "uri": {"label": f"https://itunes.apple.com/{country}/reviews/id{review_id}"},
            },
            "updated": {"label": updated.isoformat()},
            "im:rating": {"label": str(stars)},
            "id": {"label": review_id},
            "title": {"label": text.split(" ")[0]},
            "content": {"label": text, "attributes": {"type": "text"}},
        }
        if version is not None:
            entry["im:version"] = {"label": version}
        entries.append(entry)
    address = f"https://itunes.apple.com/{country}/rss/customerreviews/page=1/id={APP_ID}/sortby=mostrecent/json"
    return {"feed": {"id": {"label": address}, "entry": entries}}


def googleplay_records(reviews: list[tuple[str, datetime, int, str | None, str]]) -> list[dict[str, Any]]:
    """Google Play reviews as google-play-scraper returns them (JSON form: zone-less UTC times)."""
    return [
        {
            "reviewId": f"gp:{review_id}",
            "userName": f"player{review_id}",
            "userImage": None,
            "content": text,
            "score": stars,
            "thumbsUpCount": 0,
            "reviewCreatedVersion": version,
            "at": at.strftime("%Y-%m-%d %H:%M:%S"),
            "replyContent": None,
            "repliedAt": None,
            "appVersion": version,
        }
        for review_id, at, stars, version, text in reviews
    ]


def store_reviews(session: Session, *, appstore: list[Any], googleplay: list[Any]) -> None:
    """Parse both stores' pages with the real parsers and store them as a collector would."""
    source = get_or_create_source(session, name="stores", use="replay")
    posts, dead = parse_appstore(json.dumps(appstore_feed(appstore)))
    more, dead_more = parse_googleplay(
        json.dumps(googleplay_records(googleplay)), app_id=PACKAGE, lang="ko", country="kr"
    )
    assert not dead and not dead_more
    store_page(session, source=source, page=Page(posts=posts + more, cursor={}))


def week_of(moment: datetime, timezone: str) -> str:
    year, number, _ = moment.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{number:02d}"


def expected_ratings(
    session: Session, weeks: list[str], timezone: str
) -> dict[tuple[str, str, str, str | None], tuple[list[int], float]]:
    """(week, platform, app, version or None for all versions) → (reviews per star 1–5, average) for
    the live store reviews not written by a brand account, in the named weeks."""
    per_version: dict[tuple[str, str, str, str], Counter[int]] = defaultdict(Counter)
    for post in session.exec(select(Post)).all():
        author = session.get(Author, post.author_id)
        if post.platform not in ("appstore", "googleplay") or post.deleted_at is not None or author.is_brand:
            continue
        assert post.created_at is not None and post.raw is not None
        week = week_of(post.created_at, timezone)
        if week not in weeks:
            continue
        meta = json.loads(post.raw).get(f"dangol:{post.platform}", {})
        per_version[(week, post.platform, meta.get("app_id") or "", meta.get("version") or "")][
            post.metrics["rating"]
        ] += 1
    out: dict[tuple[str, str, str, str | None], tuple[list[int], float]] = {}
    per_app: dict[tuple[str, str, str], Counter[int]] = defaultdict(Counter)
    for (week, platform, app, version), stars in per_version.items():
        per_app[(week, platform, app)].update(stars)
        out[(week, platform, app, version)] = _figures(stars)
    for (week, platform, app), stars in per_app.items():
        out[(week, platform, app, None)] = _figures(stars)
    return out


def _figures(stars: Counter[int]) -> tuple[list[int], float]:
    counts = [stars[s] for s in range(1, 6)]
    return counts, sum(s * n for s, n in zip(range(1, 6), counts, strict=True)) / sum(counts)


def hours(start: datetime, n: int) -> list[datetime]:
    return [start + timedelta(hours=3 * i) for i in range(n)]
