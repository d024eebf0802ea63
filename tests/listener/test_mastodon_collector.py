"""MastodonCollector drives the real Mastodon.py client against a fake instance on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dangol.core.errors import AuthError, CollectError, ConfigError, RateLimited
from dangol.core.settings import load_settings
from dangol.core.types import utcnow
from listener.base import build_collector
from listener.mastodon import MastodonCollector, MastodonOptions, make_client
from tests.listener.conftest import FakeApi, Reply, mastodon_body

TAG = "/api/v1/timelines/tag/coffee"
SEARCH = "/api/v2/search"


def statuses(*ids: int) -> list[dict[str, Any]]:
    """Copies of the recorded #hoot status with the given ids (newest first)."""
    recorded = json.loads(mastodon_body("test_hashtag_tl.yaml", "/timelines/tag/hoot"))[0]
    out = []
    for n in ids:
        status = json.loads(json.dumps(recorded))
        status["id"] = str(n)
        status["content"] = f"<p>#coffee toot number {n}</p>"
        out.append(status)
    return out


def collector(
    api: FakeApi, query: str = "", hashtags: tuple[str, ...] = ("coffee",), **extra: Any
) -> MastodonCollector:
    # Mastodon.py asks the instance once which timelines it serves: answer with the recorded reply.
    api.add("GET", "/api/v2/instance/", Reply(body=mastodon_body("test_hashtag_tl.yaml", "/api/v2/instance/")))
    options = MastodonOptions(instance=api.url, hashtags=list(hashtags), limit=2, timeout_seconds=0.5, **extra)
    client, tap = make_client(api.url, "instance-token", options.timeout_seconds)
    return MastodonCollector(client, query, options, tap)


def limits(remaining: int = 299) -> dict[str, str]:
    return {"x-ratelimit-limit": "300", "x-ratelimit-remaining": str(remaining)}


def test_hashtag_timeline_pages_with_max_id(api: FakeApi) -> None:
    api.add("GET", TAG, Reply(body=statuses(9, 8), headers=limits()), Reply(body=statuses(7), headers=limits()))
    pages = list(collector(api).fetch({}))
    assert [[p.external_id for p in page.posts] for page in pages] == [["9", "8"], ["7"]]
    assert pages[0].posts[0].text == "#coffee toot number 9"
    first, second = api.requests(TAG)
    assert first.headers["Authorization"] == "Bearer instance-token"
    assert first.query["limit"] == ["2"] and "max_id" not in first.query
    assert second.query["max_id"] == ["8"]
    assert pages[-1].cursor == {"tag:coffee": {"seen": "9"}}


def test_next_run_sends_since_id_and_keeps_only_newer_posts(api: FakeApi) -> None:
    api.add("GET", TAG, Reply(body=statuses(10, 9)))
    pages = list(collector(api).fetch({"tag:coffee": {"seen": "9"}}))
    assert api.requests(TAG)[0].query["since_id"] == ["9"]
    assert [p.external_id for p in pages[0].posts] == ["10"]
    assert pages[-1].cursor == {"tag:coffee": {"seen": "10"}}


def test_restart_in_the_middle_loses_and_duplicates_nothing(api: FakeApi) -> None:
    replies = [Reply(body=statuses(9, 8)), Reply(body=statuses(7, 6)), Reply(body=statuses(5))]
    api.add("GET", TAG, *replies)
    whole = [p.external_id for page in collector(api, backfill_pages=5).fetch({}) for p in page.posts]
    api.add("GET", TAG, *replies)
    first = next(iter(collector(api, backfill_pages=5).fetch({})))
    api.add("GET", TAG, *replies[1:])
    rest = [p.external_id for page in collector(api, backfill_pages=5).fetch(first.cursor) for p in page.posts]
    assert [p.external_id for p in first.posts] + rest == whole == ["9", "8", "7", "6", "5"]
    assert api.requests(TAG)[-2].query["max_id"] == ["8"]


def test_search_runs_the_compiled_query(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(body={"accounts": [], "hashtags": [], "statuses": statuses(3)}))
    pages = list(collector(api, query='toot -latte "number 3"', hashtags=()).fetch({}))
    sent = api.requests(SEARCH)[0].query
    assert sent["q"] == ['toot -latte "number 3"'] and sent["type"] == ["statuses"]
    assert [p.external_id for p in pages[0].posts] == ["3"]


def test_query_filters_hashtag_posts_locally(api: FakeApi) -> None:
    api.add("GET", TAG, Reply(body=statuses(4)))
    pages = list(collector(api, query='"number 5"', search=False).fetch({}))
    assert pages[0].posts == [] and pages[0].cursor == {"tag:coffee": {"seen": "4"}}


def test_budget_is_respected_across_hashtags(api: FakeApi) -> None:
    api.add("GET", TAG, Reply(body=statuses(9, 8)))
    api.add("GET", "/api/v1/timelines/tag/latte", Reply(body=statuses(3)))
    pages = list(collector(api, hashtags=("coffee", "latte")).fetch({}, max_requests=2))
    timelines = [s for s in api.seen if s.path.startswith("/api/v1/timelines/")]
    assert len(timelines) == 2 and sum(p.requests for p in pages) == 2


def test_429_reads_the_iso_reset_time(api: FakeApi) -> None:
    reset = (utcnow() + timedelta(minutes=3)).replace(microsecond=70144)
    iso = reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    api.add("GET", TAG, Reply(429, {"error": "Too many requests"}, {**limits(0), "x-ratelimit-reset": iso}))
    with pytest.raises(RateLimited) as info:
        list(collector(api).fetch({}))
    assert info.value.retry_at == reset.astimezone(UTC)


def test_429_without_reset_backs_off(api: FakeApi) -> None:
    api.add("GET", TAG, Reply(429, {"error": "Too many requests"}))
    with pytest.raises(RateLimited) as info:
        list(collector(api).fetch({}))
    assert info.value.retry_at is not None and info.value.retry_at > utcnow() + timedelta(seconds=14)


def test_revoked_token_is_an_auth_error(api: FakeApi) -> None:
    api.add("GET", TAG, Reply(401, {"error": "The access token was revoked"}))
    with pytest.raises(AuthError, match="rejected the access token"):
        list(collector(api).fetch({}))


def test_server_error_and_timeout_are_collect_errors(api: FakeApi) -> None:
    api.add("GET", TAG, Reply(502, {"error": "Bad gateway"}))
    with pytest.raises(CollectError, match="request failed"):
        list(collector(api).fetch({}))
    api.add("GET", TAG, Reply(200, [], delay=1.5))
    with pytest.raises(CollectError, match="request failed"):
        list(collector(api).fetch({}))


def test_malformed_json_is_a_dead_letter_and_the_cursor_stays(api: FakeApi) -> None:
    api.add("GET", TAG, Reply(200, b'[{"id": "1", "content": '))
    cursor = {"tag:coffee": {"seen": "5"}}
    pages = list(collector(api).fetch(cursor))
    assert len(pages) == 1 and pages[0].cursor == cursor
    assert pages[0].dead_letters[0].reason.startswith("response is not valid JSON")


def test_placeholder_token_is_refused_and_hashtags_need_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    source = {"use": "mastodon", "instance": "https://mastodon.example", "hashtags": ["marucoffee"]}
    settings = load_settings(None, overrides={"sources": {"m": source}})
    assert isinstance(build_collector("m", settings.sources), MastodonCollector)
    monkeypatch.setenv("DANGOL_SOURCES__M__ACCESS_TOKEN", "changeme")
    settings = load_settings(None, overrides={"sources": {"m": source}})
    with pytest.raises(ConfigError, match="DANGOL_SOURCES__M__ACCESS_TOKEN"):
        build_collector("m", settings.sources)


def test_recorded_reset_header_is_read_as_iso_time() -> None:
    from listener.ratelimit import from_iso

    now = datetime(2026, 8, 1, 13, 55, tzinfo=UTC)
    assert from_iso("2026-08-01T14:00:00.070144Z", now=now) == datetime(2026, 8, 1, 14, 0, 0, 70144, tzinfo=UTC)


def test_or_query_is_searched_branch_by_branch(api: FakeApi) -> None:
    api.add("GET", SEARCH, Reply(body={"accounts": [], "hashtags": [], "statuses": statuses(3)}))
    pages = list(collector(api, query='"number 3" OR 마루커피', hashtags=()).fetch({}))
    assert [r.query["q"] for r in api.requests(SEARCH)] == [['"number 3"'], ["마루커피"]]
    assert set(pages[-1].cursor) == {'search:"number 3"', "search:마루커피"}
