"""What X, Mastodon and Bluesky answer when asked whether posts still exist, built from recorded
responses: each answer covers exactly the ids the request asked about, as the platforms do."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.conftest import FIXTURES
from tests.listener.conftest import Answer, Reply, Seen, cassette, mastodon_body, reddit_body

X_LOOKUP = "/2/tweets"
BLUESKY_GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
PROTECTED = "https://api.twitter.com/2/problems/not-authorized-for-resource"

# GET /2/tweets?ids=… as tweepy's cassette recorded it (data only, default fields).
_X_RECORDED = json.loads(
    cassette(FIXTURES / "x" / "decoded" / "test_client_get_tweets.yaml")[0]["response"]["body"]["string"]
)
_MASTODON_STATUS = json.loads(mastodon_body("test_status.yaml", "/api/v1/statuses/117020583223442465"))
BLUESKY_VIEW = json.loads((FIXTURES / "bluesky" / "thread_view_post_with_embed_media.json").read_text())["thread"][
    "post"
]


def x_problem(tweet_id: str, kind: str = NOT_FOUND) -> dict[str, str]:
    """One entry of `errors` for an id X will not return, in X API v2's documented shape."""
    if kind == PROTECTED:
        title, detail = "Authorization Error", f"Sorry, you are not authorized to see the Tweet with ids: [{tweet_id}]."
    else:
        title, detail = "Not Found Error", f"Could not find tweet with ids: [{tweet_id}]."
    return {
        "value": tweet_id,
        "detail": detail,
        "title": title,
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": tweet_id,
        "type": kind,
    }


def x_lookup(present: set[str], problems: dict[str, str] | None = None) -> Answer:
    """X's answer to GET /2/tweets?ids=: the asked ids in `present` as posts (the recorded post with
    its id set), those in `problems` (id -> problem type) as `errors`, the rest not mentioned."""
    problems = problems or {}

    def answer(seen: Seen) -> Reply:
        asked = seen.query["ids"][0].split(",")
        template = _X_RECORDED["data"][0]
        data = [{**template, "id": i, "edit_history_tweet_ids": [i]} for i in asked if i in present]
        body: dict[str, Any] = {"data": data} if data else {}
        errors = [x_problem(i, problems[i]) for i in asked if i in problems]
        if errors:
            body["errors"] = errors
        return Reply(body=body, headers={"x-rate-limit-remaining": "299", "x-rate-limit-reset": "1700000000"})

    return answer


def mastodon_status(status_id: str) -> Reply:
    """GET /api/v1/statuses/:id of a status that is there (the recorded status, its id set)."""
    return Reply(body={**_MASTODON_STATUS, "id": status_id}, headers={"x-ratelimit-remaining": "299"})


def mastodon_gone() -> Reply:
    """What Mastodon answers for a status that was deleted."""
    return Reply(404, {"error": "Record not found"})


def bluesky_uri(rkey: str) -> str:
    return BLUESKY_VIEW["uri"].rsplit("/", 1)[0] + "/" + rkey


def bluesky_view(rkey: str, text: str = "maru coffee post") -> dict[str, Any]:
    """The recorded postView as the post with record key `rkey`."""
    view = copy.deepcopy(BLUESKY_VIEW)
    view["uri"] = bluesky_uri(rkey)
    view["record"]["text"] = f"{text} {rkey}"
    return view


def bluesky_get_posts(present: set[str]) -> Answer:
    """getPosts: a view for each asked URI in `present`; the others are left out, as deleted ones are."""

    def answer(seen: Seen) -> Reply:
        asked = seen.query.get("uris", [])
        return Reply(body={"posts": [bluesky_view(u.rsplit("/", 1)[-1]) for u in asked if u in present]})

    return answer


REDDIT_INFO = "/api/info"
# The real posts of r/askreddit/new as praw's cassette recorded them.
_REDDIT_RECORDED = json.loads(reddit_body("TestSubredditListings.test_new.json", "/new"))["data"]["children"]


def reddit_info(present: set[str], deleted: set[str] = frozenset(), removed: set[str] = frozenset()) -> Answer:  # type: ignore[assignment]
    """Reddit's answer to GET /api/info?id=…: a Listing of the asked things it still has (a recorded
    post with its fullname set), those in `deleted` as the author left them ("[deleted]" author and
    text), those in `removed` as moderators left them ("[removed]" text); the rest left out."""

    def answer(seen: Seen) -> Reply:
        children = []
        for name in seen.query["id"][0].split(","):
            if name not in present | deleted | removed:
                continue
            thing = copy.deepcopy(_REDDIT_RECORDED[len(children) % len(_REDDIT_RECORDED)])
            thing["data"].update(name=name, id=name.removeprefix("t3_"))
            if name in deleted:
                thing["data"].update(author="[deleted]", selftext="[deleted]")
            if name in removed:
                thing["data"]["selftext"] = "[removed]"
            children.append(thing)
        return Reply(body={"kind": "Listing", "data": {"after": None, "before": None, "children": children}})

    return answer
