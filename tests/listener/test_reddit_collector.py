"""RedditCollector drives the real praw.Reddit (read-only OAuth) against a fake Reddit on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from dangol.core.errors import AuthError, CollectError, ConfigError, RateLimited
from dangol.core.settings import load_settings
from dangol.core.types import utcnow
from listener.base import build_collector
from listener.reddit import RedditCollector, RedditOptions, make_client
from tests.listener.conftest import FakeApi, Reply, reddit_body

TOKEN = {"access_token": "read-only-token", "token_type": "bearer", "expires_in": 3600, "scope": "*"}
NEW = "/r/coffee+korea/new"


def listing(children: list[Any], after: str | None) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": after, "before": None, "children": children}}


@pytest.fixture
def recorded() -> list[Any]:
    """The 100 real posts of r/askreddit/new, newest first."""
    children: list[Any] = json.loads(reddit_body("TestSubredditListings.test_new.json", "/new"))["data"]["children"]
    return children


def collector(api: FakeApi, streams: list[str] | None = None, query: str = "", **extra: Any) -> RedditCollector:
    api.add("POST", "/api/v1/access_token", Reply(body=TOKEN))
    options = RedditOptions(
        subreddits=["coffee", "korea"],
        streams=streams or ["posts"],
        oauth_url=api.url,
        reddit_url=api.url,
        timeout_seconds=0.3,
        **extra,
    )
    client, limits = make_client("app-id", "app-secret", options)
    return RedditCollector(client, query, options, limits)


def test_new_posts_page_with_after_until_the_listing_ends(api: FakeApi, recorded: list[Any]) -> None:
    after = recorded[49]["data"]["name"]
    api.add("GET", NEW, Reply(body=listing(recorded[:50], after)), Reply(body=listing(recorded[50:], None)))
    pages = list(collector(api).fetch({}))
    assert [len(p.posts) for p in pages] == [50, 50]
    assert pages[0].cursor["posts"]["next"] == after
    assert pages[1].cursor == {"posts": {"seen": "t3_48fbm9"}}
    first, second = api.requests(NEW)
    assert first.headers["Authorization"] == "bearer read-only-token"
    assert first.query["limit"] == ["100"] and second.query["after"] == [after]
    token_request = api.requests("/api/v1/access_token")[0]
    assert b"grant_type=client_credentials" in token_request.body


def test_next_run_stops_at_the_newest_post_already_seen(api: FakeApi, recorded: list[Any]) -> None:
    api.add("GET", NEW, Reply(body=listing(recorded[5:], "t3_more")))
    cursor = list(collector(api).fetch({}))[-1].cursor
    api.add("GET", NEW, Reply(body=listing(recorded, "t3_more")))
    pages = list(collector(api).fetch(cursor))
    assert [p.external_id for p in pages[0].posts] == [c["data"]["name"] for c in recorded[:5]]
    assert len(pages) == 1 and pages[0].cursor == {"posts": {"seen": "t3_48fbm9"}}


def test_restart_in_the_middle_loses_and_duplicates_nothing(api: FakeApi, recorded: list[Any]) -> None:
    after = recorded[49]["data"]["name"]
    replies = [Reply(body=listing(recorded[:50], after)), Reply(body=listing(recorded[50:], None))]
    api.add("GET", NEW, *replies)
    first = next(iter(collector(api).fetch({})))
    api.add("GET", NEW, replies[1])
    rest = [p.external_id for page in collector(api).fetch(first.cursor) for p in page.posts]
    ids = [p.external_id for p in first.posts] + rest
    assert ids == [c["data"]["name"] for c in recorded]


def test_search_and_comments_streams_use_their_endpoints(api: FakeApi) -> None:
    search = json.loads(reddit_body("TestSubreddit.test_search.json", "/search"))
    comments = json.loads(reddit_body("TestSubredditListings.test_comments.json", "/comments"))
    api.add("GET", "/r/coffee+korea/search", Reply(body=search))
    api.add("GET", "/r/coffee+korea/comments", Reply(body=comments))
    pages = list(collector(api, ["search", "comments"], query='praw OR "to anyone"').fetch({}))
    sent = api.requests("/r/coffee+korea/search")[0].query
    assert sent["q"] == ['praw OR "to anyone"'] and sent["sort"] == ["new"] and sent["restrict_sr"] == ["on"]
    kinds = {p.external_id[:3] for page in pages for p in page.posts}
    assert kinds == {"t3_", "t1_"}
    assert set(pages[-1].cursor) == {"search", "comments"}


def test_budget_counts_every_listing_request(api: FakeApi, recorded: list[Any]) -> None:
    api.add("GET", NEW, Reply(body=listing(recorded[:50], "t3_x")), Reply(body=listing(recorded[50:], None)))
    assert len(list(collector(api).fetch({}, max_requests=1))) == 1
    assert len(api.requests(NEW)) == 1


def test_exhausted_rate_limit_window_raises_instead_of_sleeping(api: FakeApi, recorded: list[Any]) -> None:
    spent = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "100", "x-ratelimit-reset": "240"}
    api.add("GET", NEW, Reply(body=listing(recorded[:50], "t3_x"), headers=spent))
    pages = collector(api).fetch({})
    next(pages)
    with pytest.raises(RateLimited) as info:
        next(pages)
    assert info.value.retry_at is not None
    assert timedelta(seconds=230) < info.value.retry_at - utcnow() <= timedelta(seconds=240)
    assert len(api.requests(NEW)) == 1


def test_429_with_retry_after_raises_rate_limited(api: FakeApi) -> None:
    # The real 429 of prawcore's recording: an HTML body and `retry-after: 4`.
    body = reddit_body("TestSession.test_request__too__many_requests__with_retry_headers.json", "/me")
    api.add("GET", NEW, Reply(429, body, {"retry-after": "4", "content-type": "text/html"}))
    with pytest.raises(RateLimited) as info:
        list(collector(api).fetch({}))
    assert info.value.retry_at is not None and info.value.retry_at - utcnow() <= timedelta(seconds=4)


def test_429_without_headers_backs_off(api: FakeApi) -> None:
    api.add("GET", NEW, Reply(429, {"message": "Too Many Requests", "error": 429}))
    with pytest.raises(RateLimited) as info:
        list(collector(api).fetch({}))
    assert info.value.retry_at is not None and info.value.retry_at > utcnow() + timedelta(seconds=14)


def test_refused_credentials_are_an_auth_error(api: FakeApi) -> None:
    api.add("POST", "/api/v1/access_token", Reply(401, {"message": "Unauthorized", "error": 401}))
    options = RedditOptions(subreddits=["coffee"], oauth_url=api.url, reddit_url=api.url, streams=["posts"])
    client, limits = make_client("bad", "bad", options)
    with pytest.raises(AuthError):
        list(RedditCollector(client, "", options, limits).fetch({}))


def test_expired_token_on_a_listing_is_an_auth_error(api: FakeApi) -> None:
    api.add("GET", NEW, Reply(403, {"message": "Forbidden", "error": 403}))
    with pytest.raises(AuthError):
        list(collector(api).fetch({}))


def test_server_errors_are_collect_errors(api: FakeApi) -> None:
    api.add("GET", NEW, Reply(500, {"message": "Internal Server Error"}))
    with pytest.raises(CollectError, match="Reddit request failed"):
        list(collector(api).fetch({}))


def test_malformed_json_is_a_dead_letter_and_the_cursor_stays(api: FakeApi) -> None:
    api.add("GET", NEW, Reply(200, b'{"kind": "Listing", "data": {'))
    cursor = {"posts": {"seen": "t3_48fbm9"}}
    pages = list(collector(api).fetch(cursor))
    assert len(pages) == 1 and pages[0].cursor == cursor
    assert pages[0].dead_letters[0].reason == "response is not valid JSON"


def settings_for(**source: Any) -> Any:
    base = {"use": "reddit", "query": "maru", "subreddits": ["coffee"]}
    return load_settings(None, overrides={"sources": {"maru_reddit": base | source}})


def test_placeholder_secret_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGOL_SOURCES__MARU_REDDIT__CLIENT_ID", "abc123")
    monkeypatch.setenv("DANGOL_SOURCES__MARU_REDDIT__CLIENT_SECRET", "<your secret>")
    with pytest.raises(ConfigError, match="DANGOL_SOURCES__MARU_REDDIT__CLIENT_SECRET"):
        build_collector("maru_reddit", settings_for().sources)


def test_streams_other_than_search_need_subreddits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGOL_SOURCES__MARU_REDDIT__CLIENT_ID", "abc123")
    monkeypatch.setenv("DANGOL_SOURCES__MARU_REDDIT__CLIENT_SECRET", "real-secret")
    with pytest.raises(ConfigError, match="need at least one subreddit"):
        build_collector("maru_reddit", settings_for(subreddits=[]).sources)
    assert isinstance(build_collector("maru_reddit", settings_for().sources), RedditCollector)


def test_slow_server_is_a_collect_error(api: FakeApi) -> None:
    api.add("GET", NEW, Reply(body=listing([], None), delay=1.5))
    with pytest.raises(CollectError, match="Reddit request failed"):
        list(collector(api).fetch({}))
