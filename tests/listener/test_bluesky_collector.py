"""BlueskyCollector drives the real atproto Client against a fake AppView on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dangol.core.errors import AuthError, CollectError, ConfigError, RateLimited
from dangol.core.settings import load_settings
from dangol.core.types import utcnow
from listener.base import build_collector
from listener.bluesky import BlueskyCollector, BlueskyOptions, make_client
from tests.conftest import FIXTURES
from tests.listener.conftest import FakeApi, Reply

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
KEY = 'search:"maru coffee"'
RECORDED = json.loads((FIXTURES / "bluesky" / "thread_view_post_with_embed_media.json").read_text())["thread"]["post"]


def views(*rkeys: str) -> list[dict[str, Any]]:
    """Copies of the recorded postView with the given record keys (TIDs, newest first)."""
    out = []
    for rkey in rkeys:
        view = json.loads(json.dumps(RECORDED))
        view["uri"] = view["uri"].rsplit("/", 1)[0] + "/" + rkey
        view["record"]["text"] = f"maru coffee post {rkey}"
        out.append(view)
    return out


def uri(rkey: str) -> str:
    return RECORDED["uri"].rsplit("/", 1)[0] + "/" + rkey


def search_page(rkeys: tuple[str, ...], cursor: str | None) -> Reply:
    body: dict[str, Any] = {"posts": views(*rkeys)}
    if cursor:
        body["cursor"] = cursor
    return Reply(body=body)


def collector(api: FakeApi, query: str = '"maru coffee"', **extra: Any) -> BlueskyCollector:
    options = BlueskyOptions(public_api=api.url, limit=2, timeout_seconds=0.5, **extra)
    client, tap = make_client(options)
    return BlueskyCollector(client, query, options, tap)


def test_search_pages_with_the_cursor(api: FakeApi) -> None:
    api.add("GET", SEARCH, search_page(("3kaheyt6vpc29", "3kaheyt6vpc28"), "c2"), search_page(("3kaheyt6vpc27",), None))
    pages = list(collector(api).fetch({}))
    assert [[p.external_id for p in page.posts] for page in pages] == [
        [uri("3kaheyt6vpc29"), uri("3kaheyt6vpc28")],
        [uri("3kaheyt6vpc27")],
    ]
    first, second = api.requests(SEARCH)
    assert first.query == {"q": ['"maru coffee"'], "sort": ["latest"], "limit": ["2"]}
    assert second.query["cursor"] == ["c2"]
    assert pages[-1].cursor == {KEY: {"seen": uri("3kaheyt6vpc29")}}


def test_next_run_stops_at_the_last_seen_post(api: FakeApi) -> None:
    api.add("GET", SEARCH, search_page(("3kaheyt6vpc2b", "3kaheyt6vpc29"), "c2"))
    pages = list(collector(api).fetch({KEY: {"seen": uri("3kaheyt6vpc29")}}))
    assert [p.external_id for p in pages[0].posts] == [uri("3kaheyt6vpc2b")]
    assert len(api.requests(SEARCH)) == 1 and pages[-1].cursor == {KEY: {"seen": uri("3kaheyt6vpc2b")}}


def test_restart_in_the_middle_loses_and_duplicates_nothing(api: FakeApi) -> None:
    replies = [search_page(("3kaheyt6vpc29", "3kaheyt6vpc28"), "c2"), search_page(("3kaheyt6vpc27",), None)]
    api.add("GET", SEARCH, *replies)
    first = next(iter(collector(api).fetch({})))
    api.add("GET", SEARCH, replies[1])
    rest = [p.external_id for page in collector(api).fetch(first.cursor) for p in page.posts]
    assert [p.external_id for p in first.posts] + rest == [
        uri(k) for k in ("3kaheyt6vpc29", "3kaheyt6vpc28", "3kaheyt6vpc27")
    ]
    assert api.requests(SEARCH)[-1].query["cursor"] == ["c2"]


def test_budget_is_respected(api: FakeApi) -> None:
    api.add("GET", SEARCH, search_page(("3kaheyt6vpc29", "3kaheyt6vpc28"), "c2"))
    pages = list(collector(api).fetch({}, max_requests=1))
    assert len(pages) == 1 and len(api.requests(SEARCH)) == 1 and pages[0].cursor[KEY]["next"] == "c2"


def test_429_reads_ratelimit_reset(api: FakeApi) -> None:
    reset = int((utcnow() + timedelta(minutes=4)).timestamp())
    api.add(
        "GET",
        SEARCH,
        Reply(
            429,
            {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            {"ratelimit-reset": str(reset), "ratelimit-remaining": "0"},
        ),
    )
    with pytest.raises(RateLimited) as info:
        list(collector(api).fetch({}))
    assert info.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_429_without_reset_backs_off(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(429, {"error": "RateLimitExceeded"}))
    with pytest.raises(RateLimited) as info:
        list(collector(api).fetch({}))
    assert info.value.retry_at is not None and info.value.retry_at > utcnow() + timedelta(seconds=14)


def test_expired_session_is_an_auth_error(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(401, {"error": "ExpiredToken", "message": "Token has expired"}))
    with pytest.raises(AuthError):
        list(collector(api).fetch({}))


def test_server_error_and_timeout_are_collect_errors(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(500, {"error": "InternalServerError"}))
    with pytest.raises(CollectError, match="Bluesky request failed"):
        list(collector(api).fetch({}))
    api.add("GET", SEARCH, Reply(200, {"posts": []}, delay=1.5))
    with pytest.raises(CollectError, match="Timeout"):
        list(collector(api).fetch({}))


def test_malformed_json_is_a_dead_letter_and_the_cursor_stays(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(200, b'{"posts": [{"uri": '))
    cursor = {KEY: {"seen": uri("3kaheyt6vpc29")}}
    pages = list(collector(api).fetch(cursor))
    assert len(pages) == 1 and pages[0].cursor == cursor
    assert pages[0].dead_letters[0].reason.startswith("response is not valid JSON")


def jwt(seconds: int) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"scope": "com.atproto.appPass", "sub": RECORDED["author"]["did"], "exp": int(time.time()) + seconds}
    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part(claims)}.c2ln"


def test_app_password_logs_in_and_searches_with_the_session(api: FakeApi) -> None:
    session = {
        "did": RECORDED["author"]["did"],
        "handle": "test.marshal.dev",
        "accessJwt": jwt(3600),
        "refreshJwt": jwt(86400),
        "active": True,
    }
    api.add("POST", "/xrpc/com.atproto.server.createSession", Reply(body=session))
    api.add("GET", "/xrpc/app.bsky.actor.getProfile", Reply(body=RECORDED["author"]))
    api.add("GET", SEARCH, search_page(("3kaheyt6vpc29",), None))
    options = BlueskyOptions(service=api.url, handle="test.marshal.dev", app_password="abcd-efgh-ijkl-mnop")
    client, tap = make_client(options)
    pages = list(BlueskyCollector(client, "maru", options, tap).fetch({}))
    assert len(pages[0].posts) == 1
    login = json.loads(api.requests("/xrpc/com.atproto.server.createSession")[0].body)
    assert login["identifier"] == "test.marshal.dev"
    assert api.requests(SEARCH)[0].headers["Authorization"] == f"Bearer {session['accessJwt']}"


def test_refused_app_password_is_an_auth_error(api: FakeApi) -> None:
    api.add(
        "POST",
        "/xrpc/com.atproto.server.createSession",
        Reply(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
    )
    with pytest.raises(AuthError, match="refused the handle and app password"):
        make_client(BlueskyOptions(service=api.url, handle="a.bsky.social", app_password="wrong-pass-word-xxxx"))


def test_half_configured_credentials_and_or_queries_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGOL_SOURCES__B__HANDLE", "maru.bsky.social")
    settings = load_settings(None, overrides={"sources": {"b": {"use": "bluesky", "query": "maru"}}})
    with pytest.raises(ConfigError, match="set both handle and app_password"):
        build_collector("b", settings.sources)
    monkeypatch.delenv("DANGOL_SOURCES__B__HANDLE")
    settings = load_settings(None, overrides={"sources": {"b": {"use": "bluesky", "query": "maru OR is:reply"}}})
    with pytest.raises(ConfigError, match="Bluesky needs words to search for in every OR branch"):
        build_collector("b", settings.sources)


def test_or_query_runs_one_search_per_branch(api: FakeApi) -> None:
    api.add("GET", SEARCH, search_page(("3kaheyt6vpc29",), None))
    pages = list(collector(api, query='("maru coffee" OR 마루커피) -is:reply').fetch({}))
    assert [r.query["q"] for r in api.requests(SEARCH)] == [['"maru coffee"'], ["마루커피"]]
    assert set(pages[-1].cursor) == {'search:"maru coffee"', "search:마루커피"}
