"""RssCollector and NaverCollector drive httpx against fake servers on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from dangol.core.errors import AuthError, CollectError, ConfigError, RateLimited
from dangol.core.settings import load_settings
from dangol.core.types import utcnow
from listener.base import build_collector
from listener.naver import NaverCollector, NaverOptions, make_client
from listener.rss import RssCollector, RssOptions
from tests.conftest import FIXTURES
from tests.listener.conftest import FakeApi, Reply

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Coffee Blog</title><link>https://blog.example/</link>{items}</channel></rss>"""
ITEM = "<item><title>{title}</title><guid>{guid}</guid><pubDate>Sun, 22 Nov 2026 21:0{n}:00 +0900</pubDate></item>"


def feed(*titles: str) -> bytes:
    items = "".join(ITEM.format(title=t, guid=f"g{i}", n=i) for i, t in enumerate(titles))
    return FEED.format(items=items).encode()


def rss(api: FakeApi, query: str = "", **extra: Any) -> RssCollector:
    # The fake feed server is on 127.0.0.1: allowed like an intranet feed would be.
    options = RssOptions(url=f"{api.url}/feed.xml", timeout_seconds=0.5, allow_private=["127.0.0.1"], **extra)
    return RssCollector(httpx.Client(timeout=0.5), query, options)


def test_rss_refuses_a_feed_on_a_private_address_unless_allowed(api: FakeApi) -> None:
    api.add("GET", "/feed.xml", Reply(body=feed("maru latte")))
    options = RssOptions(url=f"{api.url}/feed.xml", timeout_seconds=0.5)
    with pytest.raises(CollectError, match="allow_private"):
        list(RssCollector(httpx.Client(timeout=0.5), "", options).fetch({}))
    assert api.requests("/feed.xml") == []  # refused before asking
    assert [p.title for p in list(rss(api).fetch({}))[0].posts] == ["maru latte"]


def test_rss_checks_every_redirect_target_before_following_it(api: FakeApi) -> None:
    metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    api.add("GET", "/feed.xml", Reply(302, headers={"location": metadata}))
    with pytest.raises(CollectError, match="169.254.169.254"):
        list(rss(api).fetch({}))
    api.add("GET", "/feed.xml", Reply(301, headers={"location": "/moved.xml"}))
    api.add("GET", "/moved.xml", Reply(body=feed("moved here")))
    assert [p.title for p in list(rss(api).fetch({}))[0].posts] == ["moved here"]


def test_rss_refuses_a_body_over_the_size_cap_and_endless_redirects(api: FakeApi) -> None:
    api.add("GET", "/feed.xml", Reply(body=feed(*["x" * 100] * 50)))
    with pytest.raises(CollectError, match="max_bytes"):
        list(rss(api, max_bytes=2048).fetch({}))
    api.add("GET", "/feed.xml", *[Reply(302, headers={"location": "/feed.xml"})] * 3)
    with pytest.raises(CollectError, match="more than 2 redirects"):
        list(rss(api, max_redirects=2).fetch({}))


def test_rss_sends_conditional_headers_and_skips_an_unchanged_feed(api: FakeApi) -> None:
    headers = {"etag": '"v1"', "last-modified": "Sun, 22 Nov 2026 12:00:00 GMT", "content-type": "application/rss+xml"}
    api.add("GET", "/feed.xml", Reply(body=feed("maru latte", "other"), headers=headers), Reply(304))
    first = list(rss(api).fetch({}))
    assert [p.title for p in first[0].posts] == ["maru latte", "other"]
    assert first[0].cursor == {"etag": '"v1"', "last_modified": headers["last-modified"], "seen": ["g0", "g1"]}
    second = list(rss(api).fetch(first[0].cursor))
    assert second[0].posts == [] and second[0].cursor == first[0].cursor
    sent = api.requests("/feed.xml")[1].headers
    assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == headers["last-modified"]


def test_rss_yields_only_new_entries_that_match_the_query(api: FakeApi) -> None:
    api.add("GET", "/feed.xml", Reply(body=feed("maru latte", "tea time", "maru mocha")))
    pages = list(rss(api, query="maru").fetch({"seen": ["g0"]}))
    assert [p.title for p in pages[0].posts] == ["maru mocha"]
    assert pages[0].cursor["seen"] == ["g1", "g2", "g0"]


def test_rss_errors_are_collect_errors_or_rate_limits(api: FakeApi) -> None:
    api.add("GET", "/feed.xml", Reply(500, b"oops"))
    with pytest.raises(CollectError, match="answered HTTP 500"):
        list(rss(api).fetch({}))
    api.add("GET", "/feed.xml", Reply(429, b"slow down", {"retry-after": "120"}))
    with pytest.raises(RateLimited) as info:
        list(rss(api).fetch({}))
    assert info.value.retry_at is not None and info.value.retry_at - utcnow() <= timedelta(seconds=120)
    api.add("GET", "/feed.xml", Reply(200, feed("x"), delay=1.5))
    with pytest.raises(CollectError, match="Timeout"):
        list(rss(api).fetch({}))


def test_rss_broken_xml_is_a_dead_letter(api: FakeApi) -> None:
    api.add("GET", "/feed.xml", Reply(200, b"<html>502 Bad Gateway"))
    pages = list(rss(api).fetch({}))
    assert pages[0].posts == [] and pages[0].dead_letters[0].reason.startswith("not a readable RSS/Atom feed")


def test_rss_budget_of_zero_makes_no_request(api: FakeApi) -> None:
    assert list(rss(api).fetch({}, max_requests=0)) == [] and api.seen == []


BLOG = "/v1/search/blog.json"


def blog_items(*numbers: int) -> list[dict[str, Any]]:
    recorded = json.loads((FIXTURES / "naver" / "synthetic_blog.json").read_text())["items"][0]
    return [recorded | {"link": f"https://blog.naver.com/example_blogger/{n}"} for n in numbers]


def blog_page(numbers: tuple[int, ...], start: int = 1) -> Reply:
    body = {
        "lastBuildDate": "Sun, 22 Nov 2026 21:00:00 +0900",
        "total": 50,
        "start": start,
        "display": len(numbers),
        "items": blog_items(*numbers),
    }
    return Reply(body=body)


def naver(api: FakeApi, query: str = "테스트", **extra: Any) -> NaverCollector:
    options = NaverOptions(kinds=["blog"], display=10, api_base=api.url, timeout_seconds=0.5, **extra)
    return NaverCollector(make_client("naver-id", "naver-secret", options), query, options)


def link(n: int) -> str:
    return f"https://blog.naver.com/example_blogger/{n}"


def test_naver_pages_with_start_and_sends_the_app_headers(api: FakeApi) -> None:
    api.add("GET", BLOG, blog_page(tuple(range(20, 10, -1))), blog_page((10, 9, 8), start=11))
    pages = list(naver(api, query='테스트 OR "신제품 후기"').fetch({}))
    assert [len(p.posts) for p in pages] == [10, 3]
    first, second = api.requests(BLOG)
    assert first.headers["X-Naver-Client-Id"] == "naver-id" and first.headers["X-Naver-Client-Secret"] == "naver-secret"
    assert first.query == {"query": ['테스트 | "신제품 후기"'], "display": ["10"], "start": ["1"], "sort": ["date"]}
    assert second.query["start"] == ["11"]
    assert pages[0].cursor["blog"]["start"] == 11
    assert pages[-1].cursor["blog"]["seen"][:2] == [link(20), link(19)] and "start" not in pages[-1].cursor["blog"]


def test_naver_next_run_stops_at_a_seen_link(api: FakeApi) -> None:
    api.add("GET", BLOG, blog_page((22, 21, *range(20, 12, -1))))
    pages = list(naver(api).fetch({"blog": {"seen": [link(20), link(19)]}}))
    assert [p.external_id for p in pages[0].posts] == [link(22), link(21)]
    assert len(api.requests(BLOG)) == 1


def test_naver_restart_in_the_middle_loses_and_duplicates_nothing(api: FakeApi) -> None:
    page1, page2 = blog_page(tuple(range(20, 10, -1))), blog_page((10, 9), start=11)
    api.add("GET", BLOG, page1, page2)
    first = next(iter(naver(api).fetch({})))
    # Meanwhile two new posts arrived, pushing 12 and 11 onto the second page.
    api.add("GET", BLOG, blog_page((12, 11, 10, 9), start=11))
    rest = [p.external_id for page in naver(api).fetch(first.cursor) for p in page.posts]
    assert [p.external_id for p in first.posts] + rest == [link(n) for n in range(20, 8, -1)]


def test_naver_budget_counts_every_request(api: FakeApi) -> None:
    api.add("GET", BLOG, blog_page(tuple(range(20, 10, -1))))
    assert len(list(naver(api).fetch({}, max_requests=1))) == 1 and len(api.requests(BLOG)) == 1


def test_naver_errors(api: FakeApi) -> None:
    error_401 = json.loads((FIXTURES / "naver" / "synthetic_error_401_auth.json").read_text())
    api.add("GET", BLOG, Reply(401, error_401))
    with pytest.raises(AuthError, match="024 Authentication failed"):
        list(naver(api).fetch({}))
    api.add("GET", BLOG, Reply(429, {"errorMessage": "Rate limit exceeded", "errorCode": "012"}))
    with pytest.raises(RateLimited) as info:
        list(naver(api).fetch({}))
    assert info.value.retry_at is not None and info.value.retry_at > utcnow()
    error_400 = json.loads((FIXTURES / "naver" / "synthetic_error_400_SE03.json").read_text())
    api.add("GET", BLOG, Reply(400, error_400))
    with pytest.raises(CollectError, match="HTTP 400: SE03"):
        list(naver(api).fetch({}))
    api.add("GET", BLOG, Reply(200, {"items": []}, delay=1.5))
    with pytest.raises(CollectError, match="Timeout"):
        list(naver(api).fetch({}))


def test_naver_error_text_loses_the_secret_before_it_is_cut(api: FakeApi) -> None:
    # The secret straddles character 200: cut first, its first half would stay in the message.
    echo = "x" * 195 + " naver-secret and naver-id echoed back"
    api.add("GET", BLOG, Reply(400, {"errorCode": "SE99", "errorMessage": echo}))
    with pytest.raises(CollectError) as info:
        list(naver(api).fetch({}))
    assert "naver-s" not in str(info.value) and "naver-id" not in str(info.value)


def test_naver_malformed_json_is_a_dead_letter_and_the_cursor_stays(api: FakeApi) -> None:
    api.add("GET", BLOG, Reply(200, b'{"items": [{"title": '))
    cursor = {"blog": {"seen": [link(1)]}}
    pages = list(naver(api).fetch(cursor))
    assert pages[0].cursor == cursor and pages[0].dead_letters[0].reason.startswith("response is not valid JSON")


def test_naver_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    source = {"use": "naver", "query": "마루커피"}
    with pytest.raises(ConfigError, match="DANGOL_SOURCES__N__CLIENT_ID"):
        build_collector("n", load_settings(None, overrides={"sources": {"n": source}}).sources)
    monkeypatch.setenv("DANGOL_SOURCES__N__CLIENT_ID", "abc")
    monkeypatch.setenv("DANGOL_SOURCES__N__CLIENT_SECRET", "def")
    assert isinstance(
        build_collector("n", load_settings(None, overrides={"sources": {"n": source}}).sources), NaverCollector
    )
    grouped = source | {"query": "(a b) OR c"}
    with pytest.raises(ConfigError, match="sources.n.query"):
        build_collector("n", load_settings(None, overrides={"sources": {"n": grouped}}).sources)
