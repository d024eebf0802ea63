"""Each platform sender, with the real client library pointed at a loopback server playing the API."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
import yaml

from dangol.core.errors import SendError
from responder.senders.base import ReplyTarget, senders
from tests.conftest import FIXTURES
from tests.responder.platform_server import platform


def ok(body):
    return lambda _request: (200, body)


# --- Mastodon ------------------------------------------------------------------------------------


def _recorded_status() -> dict:
    """The status Mastodon 4.5 returned for POST /api/v1/statuses (Mastodon.py's cassette)."""
    cassette = yaml.safe_load((FIXTURES / "mastodon" / "test_status.yaml").read_text())
    post = next(i for i in cassette["interactions"] if i["request"]["method"] == "POST")
    return json.loads(post["response"]["body"]["string"])


def _mastodon(base: str):
    from mastodon import Mastodon

    return senders.get("mastodon")(
        Mastodon(api_base_url=base, access_token="t0ken", version_check_mode="none", request_timeout=5)
    )


def test_mastodon_reply_posts_in_reply_to_the_status():
    status = _recorded_status()
    with platform({("POST", "/api/v1/statuses"): ok(status)}) as (base, seen):
        sent = _mastodon(base).send(ReplyTarget(platform="mastodon", external_id="1090"), "Sorry, DM us?")
    form = seen[0].form() if seen[0].headers.get("Content-Type", "").startswith("application/x-www") else seen[0].json()
    assert sent.external_id == status["id"]
    assert (
        str(form["in_reply_to_id"][0] if isinstance(form["in_reply_to_id"], list) else form["in_reply_to_id"]) == "1090"
    )
    assert seen[0].headers["Authorization"] == "Bearer t0ken"


def test_mastodon_finds_a_reply_it_already_posted():
    status = _recorded_status() | {"in_reply_to_id": "1090", "content": "<p>Sorry, DM us?</p>"}
    account = status["account"]
    routes = {
        ("GET", "/api/v1/accounts/verify_credentials"): ok(account),
        ("GET", f"/api/v1/accounts/{account['id']}/statuses"): ok([status]),
    }
    with platform(routes) as (base, _seen):
        sender = _mastodon(base)
        target = ReplyTarget(platform="mastodon", external_id="1090")
        assert sender.find_existing(target, "Sorry, DM us?") == status["id"]
        assert sender.find_existing(target, "something else") is None


def test_mastodon_refusal_becomes_a_send_error():
    with platform({("POST", "/api/v1/statuses"): lambda _r: (422, {"error": "Validation failed: Text too long"})}) as (
        base,
        _,
    ):
        with pytest.raises(SendError, match="Mastodon refused the reply to 1090"):
            _mastodon(base).send(ReplyTarget(platform="mastodon", external_id="1090"), "x")


# --- X ---------------------------------------------------------------------------------------------


class Loopback(requests.adapters.HTTPAdapter):
    """Sends tweepy's api.twitter.com requests to the loopback server instead."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        request.url = request.url.replace("https://api.twitter.com", self.base)
        return super().send(request, **kwargs)


def _x(base: str):
    import tweepy

    client = tweepy.Client(consumer_key="ck", consumer_secret="cs", access_token="at", access_token_secret="ats")
    client.session.mount("https://api.twitter.com", Loopback(base))
    return senders.get("x")(client)


def test_x_reply_uses_create_tweet_in_reply_to_the_post():
    created = json.loads((FIXTURES / "x" / "docs-examples" / "tweet_tweet_resp.json").read_text())
    with platform({("POST", "/2/tweets"): lambda _r: (201, created)}) as (base, seen):
        sent = _x(base).send(ReplyTarget(platform="x", external_id="1577730467436138524"), "Sorry! DM us?")
    body = seen[0].json()
    assert sent.external_id == created["data"]["id"]
    assert body == {"text": "Sorry! DM us?", "reply": {"in_reply_to_tweet_id": "1577730467436138524"}}
    assert seen[0].headers["Authorization"].startswith("OAuth ")  # user context, not an app bearer token


def test_x_finds_an_earlier_reply_among_our_tweets():
    me = {"data": {"id": "1072250532645998596", "name": "Tweepy Testing", "username": "TweepyDev"}}
    ours = {
        "data": [
            {
                "id": "99",
                "edit_history_tweet_ids": ["99"],
                "text": "Sorry! DM us?",
                "referenced_tweets": [{"type": "replied_to", "id": "42"}],
            }
        ]
    }
    routes = {("GET", "/2/users/me"): ok(me), ("GET", "/2/users/1072250532645998596/tweets"): ok(ours)}
    with platform(routes) as (base, _seen):
        sender = _x(base)
        assert sender.find_existing(ReplyTarget(platform="x", external_id="42"), "Sorry! DM us?") == "99"
        assert sender.find_existing(ReplyTarget(platform="x", external_id="43"), "Sorry! DM us?") is None


def test_x_rejection_becomes_a_send_error():
    forbidden = {
        "title": "Forbidden",
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "status": 403,
    }
    with platform({("POST", "/2/tweets"): lambda _r: (403, forbidden)}) as (base, _):
        with pytest.raises(SendError, match="duplicate content"):
            _x(base).send(ReplyTarget(platform="x", external_id="1"), "again")


# --- Reddit ----------------------------------------------------------------------------------------


def _reddit(base: str):
    import praw

    reddit = praw.Reddit(
        client_id="cid", client_secret="secret", username="acme", password="pw", user_agent="dangol-test",
        oauth_url=base, reddit_url=base, timeout=5,
    )  # fmt: skip
    return senders.get("reddit")(reddit)


TOKEN = {"access_token": "tok", "token_type": "bearer", "expires_in": 3600, "scope": "*"}


def test_reddit_reply_to_a_comment_posts_to_its_fullname():
    comment = {
        "kind": "t1",
        "data": {"id": "abc123", "name": "t1_abc123", "body": "Sorry!", "parent_id": "t1_xyz", "link_id": "t3_p1"},
    }
    routes = {
        ("POST", "/api/v1/access_token"): ok(TOKEN),
        ("POST", "/api/comment/"): ok({"json": {"errors": [], "data": {"things": [comment]}}}),
    }
    with platform(routes) as (base, seen):
        sent = _reddit(base).send(ReplyTarget(platform="reddit", external_id="t1_xyz"), "Sorry!")
    posted = next(s for s in seen if s.path == "/api/comment/").form()
    assert sent.external_id == "t1_abc123"
    assert (posted["thing_id"], posted["text"]) == (["t1_xyz"], ["Sorry!"])


def test_reddit_refuses_an_id_that_is_not_a_post_or_comment():
    with pytest.raises(SendError, match="expected a t1_"):
        _reddit("http://127.0.0.1:9").send(ReplyTarget(platform="reddit", external_id="t5_sub"), "hi")


# --- Bluesky ---------------------------------------------------------------------------------------


def _jwt() -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {
        "scope": "com.atproto.access",
        "sub": "did:plc:acme",
        "iat": int(time.time()),
        "exp": int(time.time()) + 3600,
    }
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


def test_bluesky_reply_carries_root_and_parent_strong_refs():
    view = json.loads((FIXTURES / "bluesky" / "thread_view_post_with_embed_media.json").read_text())["thread"]["post"]
    root = {"uri": "at://did:plc:root/app.bsky.feed.post/1", "cid": "bafyroot"}
    view["record"]["reply"] = {"root": root, "parent": root}
    session = {"accessJwt": _jwt(), "refreshJwt": _jwt(), "handle": "acme.bsky.social", "did": "did:plc:acme"}
    profile = {"did": "did:plc:acme", "handle": "acme.bsky.social"}
    created = {"uri": "at://did:plc:acme/app.bsky.feed.post/3new", "cid": "bafynew"}
    routes = {
        ("POST", "/xrpc/com.atproto.server.createSession"): ok(session),
        ("GET", "/xrpc/app.bsky.actor.getProfile"): ok(profile),
        ("POST", "/xrpc/com.atproto.repo.createRecord"): ok(created),
    }
    from atproto import Client

    with platform(routes) as (base, seen):
        client = Client(base_url=base)
        client.login("acme.bsky.social", "app-password")
        sent = senders.get("bluesky")(client).send(
            ReplyTarget(platform="bluesky", external_id=view["uri"], raw=view), "Sorry!"
        )
    record = next(s for s in seen if s.path.endswith("createRecord")).json()["record"]
    assert sent.external_id == created["uri"]
    assert record["text"] == "Sorry!"
    refs = {k: {"uri": v["uri"], "cid": v["cid"]} for k, v in record["reply"].items() if k in ("root", "parent")}
    assert refs == {"root": root, "parent": {"uri": view["uri"], "cid": view["cid"]}}


def test_bluesky_post_without_a_cid_cannot_be_answered():
    with pytest.raises(SendError, match="has no cid"):
        senders.get("bluesky")(object()).send(ReplyTarget(platform="bluesky", external_id="at://x"), "hi")
