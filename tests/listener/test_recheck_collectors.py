"""Each collector asks its platform, through the real client, which stored posts still exist; only
an explicit answer that a post is gone counts, never a failed request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dangol.core.errors import AuthError, CollectError, RateLimited
from dangol.core.types import utcnow
from listener.bluesky import BlueskyCollector, BlueskyOptions
from listener.bluesky import make_client as bluesky_client
from listener.mastodon import MastodonCollector, MastodonOptions
from listener.mastodon import make_client as mastodon_client
from listener.reddit import RedditCollector, RedditOptions
from listener.reddit import make_client as reddit_client
from listener.x import XCollector, XOptions
from listener.x import make_client as x_client
from tests.listener.conftest import FakeApi, Reply
from tests.listener.recheck_answers import (
    BLUESKY_GET_POSTS,
    NOT_FOUND,
    PROTECTED,
    REDDIT_INFO,
    X_LOOKUP,
    bluesky_get_posts,
    bluesky_uri,
    mastodon_gone,
    mastodon_status,
    reddit_info,
    x_lookup,
)
from tests.loopback import free_port

REDDIT_TOKEN = {"access_token": "read-only-token", "token_type": "bearer", "expires_in": 3600, "scope": "*"}
IDS = ["1261326399320715264", "1278347468690915330", "1293593516040269825"]


def x(api_url: str) -> XCollector:
    return XCollector(x_client("test-bearer", api_url, timeout=2), "maru", XOptions())


def mastodon(api: FakeApi) -> MastodonCollector:
    options = MastodonOptions(instance=api.url, hashtags=["coffee"], timeout_seconds=2)
    client, tap = mastodon_client(api.url, None, options.timeout_seconds)
    return MastodonCollector(client, "", options, tap)


def bluesky(api_url: str) -> BlueskyCollector:
    options = BlueskyOptions(public_api=api_url, timeout_seconds=2)
    client, tap = bluesky_client(options)
    return BlueskyCollector(client, '"maru coffee"', options, tap)


def test_x_names_deleted_and_protected_posts_gone_and_bills_the_posts_it_returns(api: FakeApi) -> None:
    api.add("GET", X_LOOKUP, x_lookup({IDS[0]}, {IDS[1]: PROTECTED}))
    [answer] = list(x(api.url).recheck(IDS))
    assert answer.checked == IDS and answer.gone == [IDS[1]]  # IDS[2]: X said nothing about it
    assert answer.billed == {"posts": 1, "users": 0}
    [request] = api.requests(X_LOOKUP)
    assert request.query["ids"] == [",".join(IDS)] and request.headers["Authorization"] == "Bearer test-bearer"
    assert "expansions" not in request.query  # nothing billed beyond the posts themselves


def test_x_resource_not_found_is_gone(api: FakeApi) -> None:
    api.add("GET", X_LOOKUP, x_lookup({IDS[0]}, {IDS[1]: NOT_FOUND, IDS[2]: NOT_FOUND}))
    [answer] = list(x(api.url).recheck(IDS))
    assert answer.gone == IDS[1:] and answer.billed["posts"] == 1


def test_x_asks_100_ids_a_request_and_stops_at_max_requests(api: FakeApi) -> None:
    ids = [str(10**18 + n) for n in range(250)]
    api.add("GET", X_LOOKUP, x_lookup(set(ids)))
    answers = list(x(api.url).recheck(ids, max_requests=2))
    assert [len(a.checked) for a in answers] == [100, 100]
    assert [len(r.query["ids"][0].split(",")) for r in api.requests(X_LOOKUP)] == [100, 100]


def test_x_never_sends_an_id_that_is_not_a_number(api: FakeApi) -> None:
    api.add("GET", X_LOOKUP, x_lookup({IDS[0]}))
    answers = list(x(api.url).recheck(["sha256:abc", IDS[0]]))
    assert [(a.checked, a.gone, a.requests) for a in answers] == [(["sha256:abc"], [], 0), ([IDS[0]], [], 1)]
    assert api.requests(X_LOOKUP)[0].query["ids"] == [IDS[0]]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(503, {"title": "Service Unavailable"}), CollectError),
        (Reply(500, b"<html>oops</html>", {"content-type": "text/html"}), CollectError),
        (Reply(401, {"title": "Unauthorized"}), AuthError),
        (Reply(200, {"meta": {}}), CollectError),
        (Reply(200, b"not json"), CollectError),
    ],
)
def test_x_failures_raise_and_take_nothing_as_deleted(api: FakeApi, reply: Reply, error: type) -> None:
    api.add("GET", X_LOOKUP, reply)
    with pytest.raises(error):
        list(x(api.url).recheck(IDS))


def test_x_429_is_rate_limited_until_its_reset(api: FakeApi) -> None:
    reset = int((utcnow() + timedelta(minutes=5)).timestamp())
    api.add("GET", X_LOOKUP, Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(reset)}))
    with pytest.raises(RateLimited) as info:
        list(x(api.url).recheck(IDS))
    assert info.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_x_unreachable_is_a_collect_error() -> None:
    with pytest.raises(CollectError):
        list(x(f"http://127.0.0.1:{free_port()}").recheck(IDS))


def test_mastodon_404_with_its_error_body_is_gone_and_a_shown_status_is_not(api: FakeApi) -> None:
    api.add("GET", "/api/v1/statuses/111", mastodon_status("111"))
    api.add("GET", "/api/v1/statuses/222", mastodon_gone())
    answers = list(mastodon(api).recheck(["111", "222"]))
    assert [(a.checked, a.gone) for a in answers] == [(["111"], []), (["222"], ["222"])]
    assert all("Authorization" not in r.headers for r in api.requests())  # public statuses: no token needed


def test_mastodon_410_is_gone(api: FakeApi) -> None:
    api.add("GET", "/api/v1/statuses/333", Reply(410, {"error": "Gone"}))
    assert [a.gone for a in mastodon(api).recheck(["333"])] == [["333"]]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(404, b"<html>Not Found</html>", {"content-type": "text/html"}), CollectError),  # a proxy, a wrong path
        (Reply(500, {"error": "Internal"}), CollectError),
        (Reply(503, b"", {"content-type": "text/plain"}), CollectError),
        (Reply(401, {"error": "This API requires an authenticated user"}), AuthError),
        (Reply(200, b"<html>maintenance</html>", {"content-type": "text/html"}), CollectError),
    ],
)
def test_mastodon_failures_raise_and_take_nothing_as_deleted(api: FakeApi, reply: Reply, error: type) -> None:
    api.add("GET", "/api/v1/statuses/111", reply)
    with pytest.raises(error):
        list(mastodon(api).recheck(["111"]))


def test_mastodon_429_is_rate_limited_until_its_reset(api: FakeApi) -> None:
    reset = (utcnow() + timedelta(minutes=4)).replace(microsecond=0)
    api.add(
        "GET",
        "/api/v1/statuses/111",
        Reply(429, {"error": "Too many requests"}, {"x-ratelimit-reset": reset.isoformat()}),
    )
    with pytest.raises(RateLimited) as info:
        list(mastodon(api).recheck(["111"]))
    assert info.value.retry_at == reset


def test_mastodon_asks_once_per_status_up_to_max_requests_and_never_sends_a_bad_id(api: FakeApi) -> None:
    for n in ("1", "2", "3"):
        api.add("GET", f"/api/v1/statuses/{n}", mastodon_status(n))
    answers = list(mastodon(api).recheck(["../admin", "1", "2", "3"], max_requests=2))
    assert [a.checked for a in answers] == [["../admin"], ["1"], ["2"]]
    assert [r.path for r in api.requests()] == ["/api/v1/statuses/1", "/api/v1/statuses/2"]


def test_bluesky_posts_left_out_of_get_posts_are_gone(api: FakeApi) -> None:
    uris = [bluesky_uri(k) for k in ("3kaheyt6vpc29", "3kaheyt6vpc28", "3kaheyt6vpc27")]
    api.add("GET", BLUESKY_GET_POSTS, bluesky_get_posts({uris[0], uris[2]}))
    [answer] = list(bluesky(api.url).recheck(uris))
    assert (answer.checked, answer.gone) == (uris, [uris[1]])
    assert api.requests(BLUESKY_GET_POSTS)[0].query["uris"] == uris


def test_bluesky_asks_25_uris_a_request(api: FakeApi) -> None:
    uris = [bluesky_uri(f"3kaheyt6vp{n:03d}") for n in range(30)]
    api.add("GET", BLUESKY_GET_POSTS, bluesky_get_posts(set(uris)))
    answers = list(bluesky(api.url).recheck(uris))
    assert [len(a.checked) for a in answers] == [25, 5] and not any(a.gone for a in answers)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(502, b"<html>bad gateway</html>", {"content-type": "text/html"}), CollectError),
        (Reply(500, {"error": "InternalServerError", "message": "oops"}), CollectError),
        (Reply(200, {"feed": []}), CollectError),
        (Reply(200, b"not json"), CollectError),
        (Reply(401, {"error": "AuthMissing", "message": "Authentication Required"}), AuthError),
        (Reply(429, {"error": "RateLimitExceeded", "message": "slow down"}), RateLimited),
    ],
)
def test_bluesky_failures_raise_and_take_nothing_as_deleted(api: FakeApi, reply: Reply, error: type) -> None:
    api.add("GET", BLUESKY_GET_POSTS, reply)
    with pytest.raises(error):
        list(bluesky(api.url).recheck([bluesky_uri("3kaheyt6vpc29")]))


def test_bluesky_unreachable_is_a_collect_error() -> None:
    with pytest.raises(CollectError):
        list(bluesky(f"http://127.0.0.1:{free_port()}").recheck([bluesky_uri("3kaheyt6vpc29")]))


REDDIT_IDS = ["t3_48fbm9", "t3_48fbjw", "t3_48fbin", "t3_48fbhz"]


def reddit(api: FakeApi) -> RedditCollector:
    api.add("POST", "/api/v1/access_token", Reply(body=REDDIT_TOKEN))
    options = RedditOptions(subreddits=["coffee"], oauth_url=api.url, reddit_url=api.url, timeout_seconds=2)
    client, limits = reddit_client("app-id", "app-secret", options)
    return RedditCollector(client, "", options, limits)


def test_reddit_names_deleted_removed_and_vanished_things_gone(api: FakeApi) -> None:
    kept, deleted, removed, vanished = REDDIT_IDS
    api.add("GET", REDDIT_INFO, reddit_info({kept}, deleted={deleted}, removed={removed}))
    [answer] = list(reddit(api).recheck(REDDIT_IDS))
    assert answer.checked == REDDIT_IDS and answer.gone == [deleted, removed, vanished]
    [request] = api.requests(REDDIT_INFO)
    assert request.query["id"] == [",".join(REDDIT_IDS)]
    assert request.headers["Authorization"] == "bearer read-only-token"


def test_reddit_asks_100_things_a_request_and_never_sends_what_is_not_a_fullname(api: FakeApi) -> None:
    ids = [f"t1_{n:x}" for n in range(10**6, 10**6 + 250)]
    api.add("GET", REDDIT_INFO, reddit_info(set(ids)))
    answers = list(reddit(api).recheck(["sha256:abc", "t3_../../x", *ids], max_requests=2))
    assert [(len(a.checked), a.gone, a.requests) for a in answers] == [(2, [], 0), (100, [], 1), (100, [], 1)]
    assert all("sha256" not in r.query["id"][0] and ".." not in r.query["id"][0] for r in api.requests(REDDIT_INFO))


@pytest.mark.parametrize(
    "reply",
    [Reply(status=500, body={"message": "Internal Server Error"}), Reply(body={"kind": "t3", "data": {}}),
     Reply(body={"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"title": "no name"}}]}}),
     Reply(body=b"<html>busy</html>", headers={"Content-Type": "text/html"})],
    ids=["server-error", "not-a-listing", "thing-without-name", "not-json"],
)  # fmt: skip
def test_reddit_failed_or_odd_answers_take_nothing_as_deleted(api: FakeApi, reply: Reply) -> None:
    api.add("GET", REDDIT_INFO, reply)
    with pytest.raises(CollectError):
        list(reddit(api).recheck(REDDIT_IDS))


def test_reddit_rate_limit_and_refused_credentials_are_named(api: FakeApi) -> None:
    expired = {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}
    api.add("GET", REDDIT_INFO, Reply(status=429, headers={"retry-after": "60"}), Reply(status=401, headers=expired))
    with pytest.raises(RateLimited):
        list(reddit(api).recheck(REDDIT_IDS))
    with pytest.raises(AuthError):
        list(reddit(api).recheck(REDDIT_IDS))
