"""App Store reviews: the parser on every shape of Apple's customer-reviews JSON feed (hand-built,
see tests/fixtures/platforms/appstore/README.md), and the collector over the real httpx client
against a fake feed server on 127.0.0.1."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dangol.core.errors import CollectError, ConfigError, RateLimited
from dangol.core.settings import load_settings
from listener.appstore import RAW_KEY, AppStoreCollector, AppStoreOptions, parse_appstore
from listener.base import build_collector, parse_file
from tests.conftest import FIXTURES
from tests.listener.conftest import FakeApi, Reply

AS = FIXTURES / "appstore"
APP = "1234567"


def path(country: str, number: int, app: str = APP) -> str:
    return f"/{country}/rss/customerreviews/page={number}/id={app}/sortby=mostrecent/json"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((AS / name).read_text(encoding="utf-8"))


def reviews(*numbers: int, app_entry: bool = False) -> dict[str, Any]:
    """A feed page of reviews numbered `numbers` (newer numbers are newer reviews, one minute apart)."""
    doc = recorded("synthetic_reviews_with_app_entry.json")
    app, template = doc["feed"]["entry"][0], doc["feed"]["entry"][1]
    entries = [app] if app_entry else []
    for n in numbers:
        entry = copy.deepcopy(template)
        entry["id"]["label"] = str(10_000 + n)
        when = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n)
        entry["updated"]["label"] = when.astimezone().isoformat()
        entry["title"]["label"] = f"review {n}"
        entries.append(entry)
    doc["feed"]["entry"] = entries
    return doc


def collector(api: FakeApi, query: str = "", **extra: Any) -> AppStoreCollector:
    options = AppStoreOptions(apps=[APP], base_url=api.url, timeout_seconds=0.5, **extra)
    return AppStoreCollector.from_options("a", query, options)


# --- parser ----------------------------------------------------------------------------------------


def test_a_review_with_its_rating_version_and_country() -> None:
    posts, dead = parse_appstore((AS / "synthetic_reviews_with_app_entry.json").read_bytes())
    assert dead == [] and [p.external_id for p in posts] == ["11223344556", "11223344001"]  # the app entry left out
    first = posts[0]
    assert first.platform == "appstore" and first.metrics == {"rating": 1}
    assert first.title == "결제가 안 돼요"
    assert first.text == "결제가 안 돼요\n\n업데이트 후 앱에서 카드 결제가 계속 실패합니다.\n빨리 고쳐주세요."
    assert first.created_at == datetime(2026, 11, 27, 4, 5, 33, tzinfo=UTC)  # -07:00 kept, stored in UTC
    assert first.author.handle == first.author.display_name == "라떼러버"
    assert first.author.platform_id == first.author.url == "https://itunes.apple.com/kr/reviews/id987654321"
    # The country and app come from the feed's own address; version and country live in raw.
    assert first.url == "https://apps.apple.com/kr/app/id1234567?see-all=reviews"
    # The app's name comes from the page's app entry: the reports name the app by it.
    app = {"country": "kr", "app_id": "1234567", "app_name": "마루커피 - Maru Coffee", "version": "3.2.1"}
    assert first.raw[RAW_KEY] == app
    assert posts[1].metrics == {"rating": 5}


def test_every_shape_of_the_feed() -> None:
    with_app, _ = parse_appstore(recorded("synthetic_reviews_with_app_entry.json"))
    without_app, dead = parse_appstore(recorded("synthetic_reviews_without_app_entry.json"))
    assert dead == [] and [p.external_id for p in without_app] == [p.external_id for p in with_app]
    assert {p.raw[RAW_KEY]["app_name"] for p in without_app} == {None}  # a page with no app entry names none
    single, dead = parse_appstore(recorded("synthetic_reviews_single_entry.json"))
    assert dead == [] and [p.external_id for p in single] == ["11223344556"]
    assert parse_appstore(recorded("synthetic_reviews_empty.json")) == ([], [])
    lone_app = recorded("synthetic_reviews_with_app_entry.json")
    lone_app["feed"]["entry"] = lone_app["feed"]["entry"][0]  # only the app, as an object
    assert parse_appstore(lone_app) == ([], [])


def test_an_app_name_that_cannot_be_stored_leaves_the_reviews_unnamed_not_refused() -> None:
    for bad in ("Maru\x00Coffee", "\ud800", "   ", 42):
        doc = recorded("synthetic_reviews_with_app_entry.json")
        doc["feed"]["entry"][0]["im:name"]["label"] = bad
        posts, dead = parse_appstore(doc)
        assert dead == [] and len(posts) == 2 and {p.raw[RAW_KEY]["app_name"] for p in posts} == {None}, bad
    doc = recorded("synthetic_reviews_with_app_entry.json")
    doc["feed"]["entry"][0]["im:name"]["label"] = "  " + "M" * 300
    assert parse_appstore(doc)[0][0].raw[RAW_KEY]["app_name"] == "M" * 200  # trimmed and bounded


def test_the_callers_country_and_app_win_over_the_feed_address() -> None:
    posts, _ = parse_appstore(recorded("synthetic_reviews_single_entry.json"), country="us", app_id="99")
    assert (
        posts[0].raw[RAW_KEY]["country"] == "us"
        and posts[0].url == "https://apps.apple.com/us/app/id99?see-all=reviews"
    )


def test_bad_reviews_are_dead_letters_and_the_rest_kept() -> None:
    doc = reviews(1, 2, 3, 4, 5)
    entries = doc["feed"]["entry"]
    entries[0]["im:rating"]["label"] = "7"
    del entries[1]["content"]
    entries[2]["updated"]["label"] = "yesterday"
    entries[3]["id"]["label"] = "../../etc"
    posts, dead = parse_appstore(doc)
    assert [p.title for p in posts] == ["review 5"]
    assert [d.reason for d in dead] == [
        "field 'im:rating.label' must be 1 to 5, got '7'",
        "missing field 'content'",
        "field 'updated.label' is not an ISO-8601 time: 'yesterday'",
        "field 'id.label' must be a number, got '../../etc'",
    ]


def test_something_that_is_not_a_feed_is_one_dead_letter() -> None:
    posts, dead = parse_appstore({"resultCount": 0, "results": []})
    assert posts == [] and dead[0].reason == "missing field 'response.feed'"
    posts, dead = parse_appstore({"feed": {"entry": "nope"}})
    assert posts == [] and dead[0].reason == "feed.entry must be a list or an object, got str"


def test_listen_parse_reads_a_feed_page_as_apple_returns_it() -> None:
    posts, dead = parse_file("appstore", AS / "synthetic_reviews_with_app_entry.json")
    assert len(posts) == 2 and dead == []


# --- collector -------------------------------------------------------------------------------------


def test_pages_per_app_and_country_until_a_short_page(api: FakeApi) -> None:
    api.add("GET", path("kr", 1), Reply(body=reviews(*range(100, 51, -1), app_entry=True)))
    api.add("GET", path("kr", 2), Reply(body=reviews(51, 50, 49)))
    api.add("GET", path("us", 1), Reply(body=recorded("synthetic_reviews_empty.json")))
    pages = list(collector(api, countries=["kr", "us"]).fetch({}))
    assert [len(p.posts) for p in pages] == [49, 3, 0]
    assert [s.path for s in api.seen] == [path("kr", 1), path("kr", 2), path("us", 1)]
    assert api.seen[0].headers["User-Agent"].startswith("dangol/")
    assert pages[0].cursor[f"{APP}/kr"]["page"] == 2
    done = pages[-1].cursor[f"{APP}/kr"]
    assert done == {"since": "2026-11-01T01:40:00.000000Z", "at_since": ["10100"]}
    assert pages[1].posts[0].raw[RAW_KEY]["country"] == "kr"


def test_the_next_run_stops_at_the_newest_review_already_read(api: FakeApi) -> None:
    api.add("GET", path("kr", 1), Reply(body=reviews(5, 4, 3)))
    first = list(collector(api, countries=["kr"]).fetch({}))
    api.add("GET", path("kr", 1), Reply(body=reviews(*range(50, 2, -1))))  # a full page reaching 5, 4, 3
    second = list(collector(api, countries=["kr"]).fetch(first[-1].cursor))
    assert [p.title for p in second[0].posts] == [f"review {n}" for n in range(50, 5, -1)]
    assert len(api.requests(path("kr", 2))) == 0  # the page reached the last run's newest: no page 2


def test_restart_in_the_middle_resumes_at_the_next_page(api: FakeApi) -> None:
    api.add("GET", path("kr", 1), Reply(body=reviews(*range(100, 50, -1))))
    api.add("GET", path("kr", 2), Reply(body=reviews(50, 49)))
    [first] = list(collector(api, countries=["kr"]).fetch({}, max_requests=1))
    rest = list(collector(api, countries=["kr"]).fetch(first.cursor))
    assert [p.title for p in rest[0].posts] == ["review 50", "review 49"]
    assert len(api.requests(path("kr", 1))) == 1


def test_max_pages_and_the_query_filter(api: FakeApi) -> None:
    api.add("GET", path("kr", 1), Reply(body=reviews(*range(100, 50, -1))))
    pages = list(collector(api, query='"review 99" OR "review 100"', countries=["kr"], max_pages=1).fetch({}))
    assert [p.title for p in pages[0].posts] == ["review 100", "review 99"] and len(api.seen) == 1


def test_errors_timeouts_and_the_size_cap(api: FakeApi) -> None:
    api.add("GET", path("us", 1), Reply(503, b"busy", {"retry-after": "60"}))
    with pytest.raises(RateLimited):
        list(collector(api).fetch({}))
    api.add("GET", path("us", 1), Reply(404, b"<html>not found</html>"))
    with pytest.raises(CollectError, match="HTTP 404"):
        list(collector(api).fetch({}))
    api.add("GET", path("us", 1), Reply(body=reviews(*range(1, 50))))
    with pytest.raises(CollectError, match="max_bytes"):
        list(collector(api, max_bytes=4096).fetch({}))
    api.add("GET", path("us", 1), Reply(body=reviews(1), delay=1.5))
    with pytest.raises(CollectError, match="Timeout"):
        list(collector(api).fetch({}))


def test_an_unreadable_page_is_a_dead_letter_and_the_cursor_stays(api: FakeApi) -> None:
    api.add("GET", path("us", 1), Reply(200, b"<html>Service Unavailable</html>"))
    cursor = {f"{APP}/us": {"since": "2026-11-01T00:05:00.000000Z", "at_since": ["10005"]}}
    pages = list(collector(api).fetch(cursor))
    assert pages[0].cursor == cursor and pages[0].dead_letters[0].reason.startswith("response is not valid JSON")


def test_options_are_checked() -> None:
    def build(**source: Any) -> Any:
        return build_collector(
            "a", load_settings(None, overrides={"sources": {"a": {"use": "appstore", **source}}}).sources
        )

    assert isinstance(build(apps=["1234567"], countries=["kr", "us"]), AppStoreCollector)
    with pytest.raises(ConfigError, match="apps"):
        build()
    with pytest.raises(ConfigError, match="two lower-case letters"):
        build(apps=["1234567"], countries=["KR"])
    with pytest.raises(ConfigError, match="max_pages"):
        build(apps=["1234567"], max_pages=11)
