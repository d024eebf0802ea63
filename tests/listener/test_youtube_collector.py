"""YouTube comments: the parser on recorded Data API answers (old and new shapes), and the collector
driving google-api-python-client (packaged discovery document) against a fake API on 127.0.0.1."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol import pipeline
from dangol.core.errors import AuthError, CollectError, ConfigError, RateLimited
from dangol.core.settings import BrandSettings, load_settings
from dangol.core.types import utcnow
from listener.base import build_collector, parse_file, source_billing
from listener.youtube import YouTubeCollector, YouTubeOptions, make_client, next_pacific_midnight, parse_youtube
from storage.models import Source
from tests.conftest import FIXTURES
from tests.listener.conftest import FakeApi, Reply, Seen

YT = FIXTURES / "youtube"
THREADS = "/youtube/v3/commentThreads"
COMMENTS = "/youtube/v3/comments"
SEARCH = "/youtube/v3/search"
KEY = "yt-key-123"
# The one recorded thread that has replies (2) but embeds none (part=snippet).
THREAD_WITH_REPLIES = "UgwI_ylXVnzPS8Q-oAV4AaABAg"


def threads_doc() -> dict[str, Any]:
    return json.loads((YT / "comment_threads_by_video_paged_1.json").read_text())


def replies_doc() -> dict[str, Any]:
    return json.loads((YT / "comments_by_parent_paged_1.json").read_text())


def modern(doc: dict[str, Any]) -> dict[str, Any]:
    """The same answer as the API gives it now: unquoted etags, no milliseconds, @handles, channelId."""
    doc = copy.deepcopy(doc)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in list(node.items()):
                if key == "etag" and isinstance(value, str):
                    node[key] = value.strip('"').rsplit("/", 1)[-1]
                elif key in ("publishedAt", "updatedAt") and isinstance(value, str):
                    node[key] = value.replace(".000Z", "Z")
                elif key == "authorDisplayName" and isinstance(value, str):
                    node[key] = "@" + value.replace(" ", "").lower()
                else:
                    walk(value)
            if "textOriginal" in node:
                node["channelId"] = "UC_brand_channel"
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)
    return doc


def thread(thread_id: str, when: str, *, text: str = "hello", replies: list[dict[str, Any]] | None = None) -> dict:
    """A thread shaped like the recorded ones (copied from the first), with its own id and time."""
    base = copy.deepcopy(threads_doc()["items"][0])
    base["id"] = base["snippet"]["topLevelComment"]["id"] = thread_id
    top = base["snippet"]["topLevelComment"]["snippet"]
    top["publishedAt"] = top["updatedAt"] = when
    top["textOriginal"] = top["textDisplay"] = text
    base["snippet"]["totalReplyCount"] = len(replies or [])
    if replies:
        base["replies"] = {"comments": replies}
    return base


def reply(reply_id: str, parent: str, when: str, author: str = "@someone", text: str = "a reply") -> dict[str, Any]:
    snippet = copy.deepcopy(replies_doc()["items"][0]["snippet"])
    snippet.update(parentId=parent, publishedAt=when, updatedAt=when, textOriginal=text, textDisplay=text)
    snippet["authorDisplayName"] = author
    return {"kind": "youtube#comment", "id": reply_id, "snippet": snippet}


def page(*threads: dict[str, Any], next_token: str | None = None) -> Reply:
    body: dict[str, Any] = {"kind": "youtube#commentThreadListResponse", "items": list(threads)}
    if next_token:
        body["nextPageToken"] = next_token
    return Reply(body=body)


def error(status: int, reason: str, domain: str, message: str) -> Reply:
    body = {"error": {"code": status, "message": message, "errors": [{"reason": reason, "domain": domain}]}}
    return Reply(status, body)


def youtube(api: FakeApi, query: str = "", **extra: Any) -> YouTubeCollector:
    options = YouTubeOptions(api_base=api.url, timeout_seconds=2, **extra)
    return YouTubeCollector(make_client(KEY, options), query, options, KEY)


# --- parser ----------------------------------------------------------------------------------------


def test_threads_are_parsed_from_text_original_with_author_likes_and_thread() -> None:
    posts, dead = parse_youtube((YT / "comment_threads_by_video_paged_1.json").read_bytes())
    assert (len(posts), dead) == (5, [])
    first = posts[0]
    assert first.platform == "youtube" and first.external_id == "UgyZ1jqkHKYvi1-ruOZ4AaABAg"
    # textDisplay is the HTML link; the post keeps what the author typed.
    assert first.text == "Google.com" and "<a" not in first.text
    assert first.author.platform_id == "UCzj-CjKYmGlZ7vTL-vOe57A"
    assert (first.author.handle, first.author.display_name) == ("himani agarwal", "himani agarwal")
    assert first.author.url == "http://www.youtube.com/channel/UCzj-CjKYmGlZ7vTL-vOe57A"
    assert first.created_at == datetime(2019, 11, 26, 15, 51, 44, tzinfo=UTC)
    assert first.url == "https://www.youtube.com/watch?v=F1UP7wRCPH8&lc=UgyZ1jqkHKYvi1-ruOZ4AaABAg"
    assert first.thread_id == first.external_id and first.reply_to_id is None and not first.is_reply
    assert posts[2].metrics == {"likes": 4, "replies": 0}
    assert posts[4].metrics["replies"] == 2


def test_replies_point_at_their_parent_and_thread() -> None:
    posts, dead = parse_youtube((YT / "comments_by_parent_paged_1.json").read_bytes(), video_id="vid1")
    assert (len(posts), dead) == (2, [])
    assert [p.text for p in posts] == ["this is the third reply!", "this is the second reply!"]
    for post in posts:
        assert post.reply_to_id == post.thread_id == "Ugw5zYU6n9pmIgAZWvN4AaABAg" and post.is_reply
        assert post.url is not None and post.url.startswith("https://www.youtube.com/watch?v=vid1&lc=Ugw5zYU6n9pm")


def test_current_shapes_parse_like_the_recorded_ones() -> None:
    old, _ = parse_youtube(threads_doc())
    new, dead = parse_youtube(modern(threads_doc()))
    assert dead == [] and [p.external_id for p in new] == [p.external_id for p in old]
    assert [p.created_at for p in new] == [p.created_at for p in old]
    assert (new[0].author.handle, new[0].author.display_name) == ("himaniagarwal", "@himaniagarwal")


def test_embedded_replies_come_with_their_thread() -> None:
    item = thread("T1", "2026-11-26T15:51:44Z", replies=[reply("T1.r1", "T1", "2026-11-26T16:00:00Z")])
    posts, dead = parse_youtube({"items": [item]})
    assert dead == [] and [(p.external_id, p.reply_to_id, p.thread_id) for p in posts] == [
        ("T1", None, "T1"),
        ("T1.r1", "T1", "T1"),
    ]
    assert posts[1].url == "https://www.youtube.com/watch?v=F1UP7wRCPH8&lc=T1.r1"  # the thread's video


def test_a_comment_without_text_original_is_a_dead_letter_never_the_html() -> None:
    doc = threads_doc()
    del doc["items"][0]["snippet"]["topLevelComment"]["snippet"]["textOriginal"]
    doc["items"][1]["snippet"]["topLevelComment"]["snippet"]["publishedAt"] = "last tuesday"
    doc["items"][2]["snippet"] = {"videoId": "x", "topLevelComment": "gone"}
    posts, dead = parse_youtube(doc)
    assert len(posts) == 2
    assert [d.reason for d in dead] == [
        "missing field 'snippet.textOriginal'",
        "field 'snippet.publishedAt' is not an ISO-8601 time: 'last tuesday'",
        "comment thread without a usable topLevelComment",
    ]


def test_an_error_body_or_another_endpoint_is_one_dead_letter() -> None:
    posts, dead = parse_youtube((YT / "error_permission_resp.json").read_bytes())
    assert (
        posts == [] and dead[0].reason == "YouTube error 403: SERVICE_UNAVAILABLE: The caller does not have permission"
    )
    posts, dead = parse_youtube((YT / "videos_info_single.json").read_bytes())
    assert posts == [] and dead[0].reason == "not a comment thread or comment list: kind 'youtube#videoListResponse'"


def test_listen_parse_reads_a_thread_page_as_the_api_returns_it() -> None:
    posts, dead = parse_file("youtube", YT / "comment_threads_by_video_paged_1.json")
    assert len(posts) == 5 and dead == []


def test_the_brands_own_replies_are_recognised_by_own_handles() -> None:
    item = thread("T1", "2026-11-26T15:51:44Z", replies=[reply("T1.r1", "T1", "2026-11-26T16:00:00Z", "@MaruCoffee")])
    customer, answer = parse_youtube({"items": [item]})[0]
    brand = BrandSettings(own_handles=["youtube:@marucoffee"])
    assert brand.is_own("youtube", answer.author.handle) and not brand.is_own("youtube", customer.author.handle)


# --- collector -------------------------------------------------------------------------------------


def test_video_threads_and_their_replies_resumably_billed_in_units(api: FakeApi) -> None:
    recorded = threads_doc()
    api.add("GET", THREADS, Reply(body=recorded))
    replies_2 = {
        "kind": "youtube#commentListResponse",
        "items": [reply("R3", THREAD_WITH_REPLIES, "2019-12-02T00:00Z")],
    }
    api.add("GET", COMMENTS, Reply(body=replies_doc()), Reply(body=replies_2))
    pages = list(youtube(api, video_ids=["F1UP7wRCPH8"], backfill_pages=1).fetch({}))
    assert [len(p.posts) for p in pages] == [5, 2, 1]
    assert all(p.billed == {"units": 1} and p.requests == 1 for p in pages)
    first = api.requests(THREADS)[0].query
    assert first["videoId"] == ["F1UP7wRCPH8"] and first["key"] == [KEY] and first["part"] == ["snippet,replies"]
    asked = [s.query for s in api.requests(COMMENTS)]
    assert [q["parentId"] for q in asked] == [[THREAD_WITH_REPLIES]] * 2
    assert "pageToken" not in asked[0] and asked[1]["pageToken"] == [replies_doc()["nextPageToken"]]
    # After the thread page the replies still to read are in the cursor; after the last, nothing is.
    stream = "video:F1UP7wRCPH8"
    assert pages[0].cursor[stream]["pending"] == [[THREAD_WITH_REPLIES, None, "F1UP7wRCPH8"]]
    assert pages[0].cursor[stream]["since"] == "2019-11-26T15:51:44.000000Z"
    assert pages[-1].cursor == {
        stream: {"since": "2019-11-26T15:51:44.000000Z", "at_since": [recorded["items"][0]["id"]]}
    }


def test_a_run_stopped_between_a_thread_page_and_its_replies_resumes_with_the_replies(api: FakeApi) -> None:
    api.add("GET", THREADS, Reply(body=threads_doc()))
    api.add("GET", COMMENTS, Reply(body={"items": [reply("R1", THREAD_WITH_REPLIES, "2019-12-01T00:00:00Z")]}))
    collector = youtube(api, video_ids=["F1UP7wRCPH8"], backfill_pages=1)
    [first] = list(collector.fetch({}, max_requests=1))
    assert len(api.requests(COMMENTS)) == 0
    rest = list(collector.fetch(first.cursor, max_requests=5))
    assert [p.external_id for p in rest[0].posts] == ["R1"]
    # The walk of that stream had finished: the next thread page starts from the top, and the five
    # threads already read are not read again.
    assert [len(p.posts) for p in rest[1:]] == [0]
    assert len(api.requests(THREADS)) == 2


def test_the_next_run_keeps_only_new_threads_and_stops_at_the_last_seen(api: FakeApi) -> None:
    api.add(
        "GET",
        THREADS,
        page(thread("A", "2026-11-26T10:00:00Z"), thread("B", "2026-11-26T09:00:00Z"), next_token="p2"),
        page(thread("C", "2026-11-26T08:00:00Z")),
    )
    first = list(youtube(api, channel_id="UCbrand").fetch({}))
    assert [p.external_id for page_ in first for p in page_.posts] == ["A", "B", "C"]
    assert api.requests(THREADS)[0].query["allThreadsRelatedToChannelId"] == ["UCbrand"]
    assert api.requests(THREADS)[1].query["pageToken"] == ["p2"]
    new = thread("D", "2026-11-26T10:00:00Z")  # the same second as A, but another thread
    api.add("GET", THREADS, page(thread("E", "2026-11-26T11:00:00.123Z"), new, thread("A", "2026-11-26T10:00:00Z")))
    second = list(youtube(api, channel_id="UCbrand").fetch(first[-1].cursor))
    assert [p.external_id for page_ in second for p in page_.posts] == ["E", "D"]
    assert len(api.requests(THREADS)) == 3  # stopped at A: no further page asked for


def test_quota_exhausted_waits_for_midnight_in_california(api: FakeApi) -> None:
    api.add("GET", THREADS, error(403, "quotaExceeded", "youtube.quota", "The request cannot be completed"))
    with pytest.raises(RateLimited) as info:
        list(youtube(api, video_ids=["v1"]).fetch({}))
    retry_at = info.value.retry_at
    assert retry_at is not None and retry_at == next_pacific_midnight()
    pacific = retry_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (pacific.hour, pacific.minute) == (0, 0) and timedelta(0) < retry_at - utcnow() <= timedelta(hours=25)
    assert KEY not in str(info.value)


def test_next_pacific_midnight_follows_daylight_saving() -> None:
    # 2026-11-01 is the day clocks go back in California: midnight after it is 08:00 UTC, before it 07:00.
    assert next_pacific_midnight(datetime(2026, 11, 1, 12, tzinfo=UTC)) == datetime(2026, 11, 2, 8, tzinfo=UTC)
    assert next_pacific_midnight(datetime(2026, 10, 31, 12, tzinfo=UTC)) == datetime(2026, 11, 1, 7, tzinfo=UTC)


def test_a_video_with_comments_disabled_is_skipped_and_the_others_read(
    api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    def answer(seen: Seen) -> Reply:
        if seen.query["videoId"] == ["off"]:
            return error(403, "commentsDisabled", "youtube.commentThread", "comments disabled for this video")
        return page(thread("A", "2026-11-26T10:00:00Z"))

    api.add("GET", THREADS, answer)
    pages = list(youtube(api, video_ids=["off", "on"]).fetch({}))
    assert [[p.external_id for p in page_.posts] for page_ in pages] == [[], ["A"]]
    assert [p.billed for p in pages] == [{"units": 1}, {"units": 1}]  # the refused call spent its unit
    assert "video:off" not in pages[-1].cursor and "video:on" in pages[-1].cursor
    assert "commentsDisabled" in caplog.text


def test_replies_of_a_thread_deleted_meanwhile_are_skipped_and_the_queue_goes_on(api: FakeApi) -> None:
    many = [reply(f"{t}.r{i}", t, "2026-11-26T12:00:00Z") for t in ("A", "B") for i in range(5)]
    first, second = thread("A", "2026-11-26T10:00:00Z"), thread("B", "2026-11-26T09:00:00Z")
    first["snippet"]["totalReplyCount"] = second["snippet"]["totalReplyCount"] = 6
    first["replies"], second["replies"] = {"comments": many[:5]}, {"comments": many[5:]}
    api.add("GET", THREADS, page(first, second))

    def answer(seen: Seen) -> Reply:
        if seen.query["parentId"] == ["A"]:
            return error(404, "commentNotFound", "youtube.comment", "The comment cannot be found")
        return Reply(body={"items": [*many[5:], reply("B.r5", "B", "2026-11-26T13:00:00Z")]})

    api.add("GET", COMMENTS, answer)
    pages = list(youtube(api, video_ids=["v1"]).fetch({}))
    # Threads with more replies than embedded leave them to comments.list (which returns them all).
    assert [[p.external_id for p in page_.posts] for page_ in pages] == [
        ["A", "B"],
        [],
        ["B.r0", "B.r1", "B.r2", "B.r3", "B.r4", "B.r5"],
    ]
    assert "pending" not in pages[-1].cursor["video:v1"]


def test_other_errors_are_auth_collect_or_rate_limit_errors_without_the_key(api: FakeApi) -> None:
    api.add("GET", THREADS, Reply(403, (YT / "error_permission_resp.json").read_bytes()))
    with pytest.raises(AuthError, match="SERVICE_UNAVAILABLE") as auth:
        list(youtube(api, video_ids=["v1"]).fetch({}))
    api.add("GET", THREADS, error(400, "keyInvalid", "usageLimits", f"API key not valid: {KEY}"))
    with pytest.raises(AuthError) as invalid:
        list(youtube(api, video_ids=["v1"]).fetch({}))
    api.add("GET", THREADS, error(500, "backendError", "global", "Backend Error"))
    with pytest.raises(CollectError, match="HTTP 500 backendError") as backend:
        list(youtube(api, video_ids=["v1"]).fetch({}))
    api.add("GET", THREADS, error(403, "rateLimitExceeded", "youtube.quota", "too fast"))
    with pytest.raises(RateLimited):  # not the daily quota: retried after backoff
        list(youtube(api, video_ids=["v1"]).fetch({}))
    api.add("GET", THREADS, Reply(200, page(thread("A", "2026-11-26T10:00:00Z")).body, delay=2.5))
    with pytest.raises(CollectError, match="timed out|Timeout"):
        list(youtube(api, video_ids=["v1"]).fetch({}))
    assert not any(KEY in str(e.value) for e in (auth, invalid, backend))


def test_an_unreadable_thread_page_is_a_dead_letter_and_the_cursor_stays(api: FakeApi) -> None:
    api.add("GET", THREADS, Reply(200, b'{"items": [{"id": '))
    cursor = {"video:v1": {"since": "2026-11-26T10:00:00.000000Z", "at_since": ["A"]}}
    pages = list(youtube(api, video_ids=["v1"]).fetch(cursor))
    assert pages[0].cursor == cursor and pages[0].dead_letters[0].reason.startswith("response is not valid JSON")


def test_search_costs_100_units_and_runs_only_when_due_and_affordable(api: FakeApi) -> None:
    found = {"items": [{"id": {"kind": "youtube#video", "videoId": "new1"}}, {"id": {"kind": "youtube#channel"}}]}
    api.add("GET", SEARCH, Reply(body=found))
    api.add("GET", THREADS, page(thread("A", "2026-11-26T10:00:00Z")))
    collector = youtube(api, query='"maru coffee" OR 마루커피', search_videos=True)
    # 99 units left: the search does not fit, the (no) streams are read, nothing is spent on search.
    assert list(collector.fetch({}, max_requests=99)) == [] and api.requests(SEARCH) == []
    pages = list(collector.fetch({}, max_requests=101))
    assert [p.billed for p in pages] == [{"units": 100}, {"units": 1}]
    sent = api.requests(SEARCH)[0].query
    assert (sent["q"], sent["type"], sent["order"], sent["part"]) == (
        ['"maru coffee" | 마루커피'],
        ["video"],
        ["date"],
        ["id"],
    )
    assert pages[0].cursor["search"]["videos"] == ["new1"] and "video:new1" in pages[-1].cursor
    # Searched a moment ago: the next run reads the found video's comments without searching again.
    again = list(collector.fetch(pages[-1].cursor, max_requests=500))
    assert len(api.requests(SEARCH)) == 1 and [p.billed for p in again] == [{"units": 1}]


def test_options_secrets_and_billing(monkeypatch: pytest.MonkeyPatch) -> None:
    source = {"use": "youtube", "video_ids": ["v1"], "daily_unit_limit": 5000}
    settings = load_settings(None, overrides={"sources": {"yt": source}})
    with pytest.raises(ConfigError, match="DANGOL_SOURCES__YT__API_KEY"):
        build_collector("yt", settings.sources)
    monkeypatch.setenv("DANGOL_SOURCES__YT__API_KEY", "k")
    assert isinstance(
        build_collector("yt", load_settings(None, overrides={"sources": {"yt": source}}).sources), YouTubeCollector
    )
    nothing = load_settings(None, overrides={"sources": {"yt": {"use": "youtube"}}})
    with pytest.raises(ConfigError, match="channel_id, video_ids or search_videos"):
        build_collector("yt", nothing.sources)
    billing = source_billing("yt", settings.sources)
    assert billing is not None
    assert (billing.unit, billing.period, billing.timezone, billing.limit) == (
        "units",
        "day",
        "America/Los_Angeles",
        5000,
    )
    assert YouTubeOptions().daily_unit_limit == 10_000


def test_the_pipeline_debits_units_per_pacific_day_and_stops_at_the_limit(
    api: FakeApi, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANGOL_SOURCES__YT__API_KEY", KEY)
    api.add(
        "GET",
        THREADS,
        page(thread("A", "2026-11-26T10:00:00Z"), next_token="p2"),
        page(thread("B", "2026-11-26T09:00:00Z")),
    )
    source = {"use": "youtube", "video_ids": ["v1", "v2"], "daily_unit_limit": 2, "api_base": api.url}
    settings = load_settings(None, overrides={"database": {"url": database_url}, "sources": {"yt": source}})
    run = pipeline.collect_source(settings, engine, "yt")
    assert (run.requests, run.new_posts) == (2, 2)
    with Session(engine) as session:
        row = session.execute(select(Source).where(Source.name == "yt")).scalar_one()
        today = utcnow().astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%d")
        assert (row.budget_period, row.budget_used) == (today, 2)
    assert pipeline.collect_source(settings, engine, "yt").status == "budget"
    assert len(api.requests(THREADS)) == 2
