"""XCollector drives the real tweepy.Client against a fake X API on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dangol.core.errors import AuthError, CollectError, ConfigError, RateLimited
from dangol.core.settings import Settings, load_settings
from dangol.core.types import utcnow
from listener.base import build_collector
from listener.x import XCollector, XOptions, make_client
from tests.listener.conftest import FakeApi, Reply, x_fixture

SEARCH = "/2/tweets/search/recent"


def page(name: str, next_token: str | None) -> Reply:
    body = json.loads(x_fixture(name))
    body.setdefault("meta", {}).pop("next_token", None)
    if next_token:
        body["meta"]["next_token"] = next_token
    return Reply(body=body, headers={"x-rate-limit-remaining": "449", "x-rate-limit-reset": "1700000000"})


def collector(api: FakeApi, query: str = "-is:retweet", **options: object) -> XCollector:
    opts = XOptions(**options)
    return XCollector(make_client("test-bearer", api.url, timeout=0.5), query, opts)


@pytest.fixture
def two_pages(api: FakeApi) -> FakeApi:
    api.add(
        "GET",
        SEARCH,
        page("searches_search_tweets_query.json", "tok2"),
        page("tweet_tweets_resp.json", None),
    )
    return api


def test_search_pages_until_there_is_no_next_token(two_pages: FakeApi) -> None:
    pages = list(collector(two_pages).fetch({}))
    assert [len(p.posts) for p in pages] == [4, 2]
    assert pages[0].cursor == {"search": {"seen": None, "next": "tok2", "top": "1276035977375477760", "pages": 1}}
    assert pages[1].cursor == {"search": {"seen": "1278347468690915330"}}  # the newest of the run
    first, second = two_pages.requests(SEARCH)
    assert first.headers["Authorization"] == "Bearer test-bearer"
    assert first.query["query"] == ["-is:retweet"]
    assert first.query["expansions"] == ["author_id,referenced_tweets.id,referenced_tweets.id.author_id"]
    assert "public_metrics" in first.query["tweet.fields"][0] and "username" in first.query["user.fields"][0]
    assert "next_token" not in first.query and second.query["next_token"] == ["tok2"]


def test_next_run_asks_only_for_posts_newer_than_the_last_seen(two_pages: FakeApi) -> None:
    x = collector(two_pages)
    cursor = list(x.fetch({}))[-1].cursor
    list(x.fetch(cursor))
    assert two_pages.requests(SEARCH)[-1].query["since_id"] == ["1278347468690915330"]


def test_restart_after_first_page_loses_nothing_and_duplicates_nothing(api: FakeApi) -> None:
    replies = [page("searches_search_tweets_query.json", "tok2"), page("tweet_tweets_resp.json", None)]
    api.add("GET", SEARCH, *replies)
    uninterrupted = [p.external_id for pg in collector(api).fetch({}) for p in pg.posts]
    api.add("GET", SEARCH, *replies)
    first = next(iter(collector(api).fetch({})))  # the worker dies after storing page 1
    resumed = [p.external_id for pg in collector(api).fetch(first.cursor) for p in pg.posts]
    assert [p.external_id for p in first.posts] + resumed == uninterrupted
    assert len(set(uninterrupted)) == len(uninterrupted) == 6
    assert api.requests(SEARCH)[-1].query["next_token"] == ["tok2"]


def test_budget_stops_before_exceeding_max_requests(two_pages: FakeApi) -> None:
    pages = list(collector(two_pages).fetch({}, max_requests=1))
    assert len(pages) == 1 and pages[0].requests == 1
    assert len(two_pages.requests(SEARCH)) == 1
    assert pages[0].cursor["search"]["next"] == "tok2"  # the next run goes on from here
    assert list(collector(two_pages).fetch({}, max_requests=0)) == []


def test_every_post_and_user_returned_is_billed_whether_kept_or_not(two_pages: FakeApi) -> None:
    # The recorded search page returns 4 posts, 3 referenced posts and 3 users; the query keeps none.
    pages = list(collector(two_pages, query="nothing-matches-this").fetch({}))
    assert [p.posts for p in pages] == [[], []]
    assert [p.billed for p in pages] == [{"posts": 7, "users": 3}, {"posts": 2, "users": 2}]


def test_x_billing_caps_posts_and_money_at_the_published_prices() -> None:
    billing = XCollector.billing(XOptions(monthly_post_reads=1000, monthly_spend_usd=10, max_results=50))
    assert (billing.unit, billing.period, billing.limit) == ("posts", "month", 1000)
    assert billing.prices_micros == {"posts": 5000, "users": 10000}
    assert billing.worst_case == {"posts": 150, "users": 150}
    assert billing.cost_micros({"posts": 7, "users": 3}) == 65_000  # $0.065
    assert billing.spend_limit_micros == 10_000_000


def test_query_is_applied_locally_too(api: FakeApi) -> None:
    api.add("GET", SEARCH, page("searches_search_tweets_for_nyc.json", None))
    posts = [p for pg in collector(api).fetch({}) for p in pg.posts]
    assert posts and not any(p.is_retweet for p in posts)


def test_mentions_stream_uses_pagination_token(api: FakeApi) -> None:
    mentions = "/2/users/2244994945/mentions"
    api.add("GET", mentions, page("searches_search_tweets_query.json", "m2"), page("tweet_tweets_resp.json", None))
    pages = list(collector(api, query="", mentions_user_id="2244994945").fetch({}))
    assert sum(len(p.posts) for p in pages) == 6
    assert api.requests(mentions)[1].query["pagination_token"] == ["m2"]
    assert set(pages[-1].cursor) == {"mentions"}


def test_429_with_reset_header_raises_rate_limited_at_that_time(api: FakeApi) -> None:
    reset = int((utcnow() + timedelta(minutes=7)).timestamp())
    api.add("GET", SEARCH, Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(reset)}))
    with pytest.raises(RateLimited) as info:
        list(collector(api).fetch({}))
    assert info.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_429_without_reset_header_backs_off_with_jitter(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(429, {"title": "Too Many Requests"}))
    before = utcnow()
    with pytest.raises(RateLimited) as info:
        list(collector(api).fetch({}))
    assert info.value.retry_at is not None
    assert before + timedelta(seconds=14) <= info.value.retry_at <= utcnow() + timedelta(seconds=31)


def test_expired_token_is_an_auth_error(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}))
    with pytest.raises(AuthError, match="rejected the bearer token"):
        list(collector(api).fetch({}))


def test_server_error_is_a_collect_error(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(503, {"title": "Service Unavailable"}))
    with pytest.raises(CollectError, match="X request failed"):
        list(collector(api).fetch({}))


def test_slow_server_times_out(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(200, {"data": []}, delay=1.5))
    with pytest.raises(CollectError, match="Timeout"):
        list(collector(api).fetch({}))


def test_malformed_json_is_a_dead_letter_and_the_cursor_stays(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(200, b'{"data": [{"id": "1"'))
    cursor = {"search": {"seen": "100"}}
    pages = list(collector(api).fetch(cursor))
    assert len(pages) == 1 and pages[0].posts == []
    assert pages[0].dead_letters[0].reason.startswith("response is not valid JSON")
    assert pages[0].cursor == cursor


def settings_for(**source: object) -> Settings:
    return load_settings(None, overrides={"sources": {"maru_x": {"use": "x", "query": "maru", **source}}})


def test_placeholder_token_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGOL_SOURCES__MARU_X__BEARER_TOKEN", "changeme")
    with pytest.raises(ConfigError, match="DANGOL_SOURCES__MARU_X__BEARER_TOKEN"):
        build_collector("maru_x", settings_for().sources)


def test_missing_token_names_the_environment_variable() -> None:
    with pytest.raises(ConfigError, match="set DANGOL_SOURCES__MARU_X__BEARER_TOKEN"):
        build_collector("maru_x", settings_for().sources)


def test_token_from_the_environment_builds_a_real_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGOL_SOURCES__MARU_X__BEARER_TOKEN", "AAAA-real-looking")
    x = build_collector("maru_x", settings_for(monthly_post_reads=2000).sources)
    assert isinstance(x, XCollector) and x.client.bearer_token == "AAAA-real-looking"
    assert x.options.monthly_post_reads == 2000


def test_unknown_option_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="sources.maru_x.budget: unknown key; valid: bearer_token"):
        build_collector("maru_x", settings_for(budget=5).sources)
