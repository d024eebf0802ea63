"""X (Twitter) API v2 through tweepy: recent search and mentions, paid reads counted."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from pydantic import Field, SecretStr
from requests.adapters import HTTPAdapter

from dangol.core.errors import AuthError, CollectError, ConfigError, PayloadError
from dangol.core.registry import Options, required_secret
from dangol.core.types import AuthorIn, Billing, DeadLetterIn, Page, PostIn, Recheck
from listener import ratelimit
from listener.base import askable, batches
from listener.query import compile_x, matches, parse_query
from listener.records import (
    load_json,
    metrics,
    optional,
    parse_iso,
    parse_records,
    text_field,
    whole_body_dead_letter,
)
from listener.walk import Fetched, Stream, walk_streams

if TYPE_CHECKING:
    import tweepy

API_BASE = "https://api.twitter.com"
TWEET_FIELDS = "created_at,lang,public_metrics,conversation_id,in_reply_to_user_id,referenced_tweets,author_id"
USER_FIELDS = "username,name,public_metrics,description,verified"
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
# X ids are snowflakes: the top bits are milliseconds since this epoch (2010-11-04).
SNOWFLAKE_EPOCH_MS = 1288834974657
STREAMS = ("search", "mentions")
# GET /2/tweets takes at most 100 ids. A post that is gone comes back as an entry of `errors` of
# one of these types instead of in `data`: deleted (or its account gone), or made protected,
# which X's developer terms treat alike (the content must no longer be shown or stored).
LOOKUP_BATCH = 100
GONE_PROBLEMS = (
    "https://api.twitter.com/2/problems/resource-not-found",
    "https://api.twitter.com/2/problems/not-authorized-for-resource",
)
METRICS = {"likes": "like_count", "reposts": "retweet_count", "replies": "reply_count", "quotes": "quote_count"}


def parse_x(body: Any) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """Posts of one X API v2 tweets response (`data` list or object, `includes.users`)."""
    try:
        doc = load_json(body)
        if not isinstance(doc, dict):
            raise PayloadError(f"an X response is a JSON object, got {type(doc).__name__}", raw=doc)
    except PayloadError as exc:
        return whole_body_dead_letter("x", exc, body)
    data = doc.get("data") or []
    tweets = data if isinstance(data, list) else [data]
    includes = doc.get("includes")
    includes = includes if isinstance(includes, dict) else {}
    listed = includes.get("users")
    listed = listed if isinstance(listed, list) else []
    users = {u["id"]: u for u in listed if isinstance(u, dict) and isinstance(u.get("id"), str)}
    return parse_records("x", tweets, lambda tweet: _tweet(tweet, users))


def snowflake_time(tweet_id: str) -> datetime:
    """When an X post was created, read from its id (used when `created_at` was not requested)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def _tweet(tweet: Any, users: dict[str, dict[str, Any]]) -> PostIn:
    tweet_id = text_field(tweet, "id")
    if not tweet_id.isdigit():
        raise PayloadError(f"field 'id' must be a numeric string, got {tweet_id!r}")
    text = text_field(tweet, "text")
    author = _author(text_field(tweet, "author_id"), users)
    created = tweet.get("created_at")
    created_at = parse_iso(created, "created_at") if isinstance(created, str) else snowflake_time(tweet_id)
    refs = {r.get("type"): r.get("id") for r in optional(tweet, "referenced_tweets", list, []) if isinstance(r, dict)}
    reply_to = refs.get("replied_to")
    referenced = refs.get("retweeted") or refs.get("quoted")
    url_handle = author.handle or "i/web"
    return PostIn(
        platform="x",
        external_id=tweet_id,
        author=author,
        text=text,
        created_at=created_at,
        url=f"https://x.com/{url_handle}/status/{tweet_id}",
        lang_hint=optional(tweet, "lang", str),
        reply_to_id=reply_to,
        thread_id=optional(tweet, "conversation_id", str),
        referenced_id=referenced,
        is_retweet="retweeted" in refs,
        is_quote="quoted" in refs,
        is_reply=reply_to is not None or optional(tweet, "in_reply_to_user_id", str) is not None,
        metrics=metrics(optional(tweet, "public_metrics", dict, {}), METRICS),
        raw=tweet,
    )


def _author(author_id: str, users: dict[str, dict[str, Any]]) -> AuthorIn:
    user = users.get(author_id)
    if user is None:  # the response did not expand authors; the id is all we know
        return AuthorIn(platform="x", platform_id=author_id, handle="")
    handle = text_field(user, "username", where="user")
    public = optional(user, "public_metrics", dict, {})
    return AuthorIn(
        platform="x",
        platform_id=author_id,
        handle=handle,
        display_name=optional(user, "name", str, ""),
        followers=optional(public, "followers_count", int),
        url=f"https://x.com/{handle}",
        bio=optional(user, "description", str),
    )


class XOptions(Options):
    """Options of `use = "x"`."""

    bearer_token: SecretStr | None = None
    # Also collect mentions of this account (its numeric user id).
    mentions_user_id: str | None = None
    # X bills every post and user object a read returns (pay-per-use; deduplicated by X per UTC
    # day, which Dangol does not model, so its count can only be high). Caps per calendar month;
    # the default prices are X's published ones, checked on `prices_checked`.
    monthly_post_reads: int | None = Field(default=None, ge=1)
    monthly_spend_usd: float | None = Field(default=None, gt=0)
    price_per_post_usd: float = Field(default=0.005, ge=0)
    price_per_user_usd: float = Field(default=0.010, ge=0)
    prices_checked: str = "2026-12-03 (docs.x.com/x-api/getting-started/pricing)"
    max_results: int = Field(default=100, ge=10, le=100)
    # Pages read on the very first run, before a since_id exists (recent search goes back 7 days).
    backfill_pages: int = Field(default=3, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)
    api_base: str = API_BASE


class XCollector:
    """Recent search (and optionally mentions) of X API v2, newest first, resumable."""

    platform = "x"
    Options = XOptions
    recheck_batch = LOOKUP_BATCH
    # A lookup asks for no expansions: X bills one post for each asked id still there, nothing else.
    recheck_billed_per_id = {"posts": 1}

    def __init__(self, client: tweepy.Client, query: str, options: XOptions) -> None:
        self.client = client
        self.options = options
        self.ast = parse_query(query)
        self.native_query = compile_x(self.ast)

    @staticmethod
    def billing(options: XOptions) -> Billing:
        """Posts read, capped by count and money (the worst page: `worst_page_objects`)."""
        worst = worst_page_objects(options.max_results)
        return Billing(
            unit="posts",
            period="month",
            limit=options.monthly_post_reads,
            spend_limit_micros=None if options.monthly_spend_usd is None else round(options.monthly_spend_usd * 1e6),
            prices_micros={
                "posts": round(options.price_per_post_usd * 1e6),
                "users": round(options.price_per_user_usd * 1e6),
            },
            worst_case={"posts": worst, "users": worst},
            price_note=f"X prices as of {options.prices_checked}",
        )

    @classmethod
    def from_options(cls, name: str, query: str, options: XOptions) -> XCollector:
        """Require a bearer token and something to read, and build a tweepy.Client."""
        token = required_secret(options, "bearer_token", f"sources.{name}", "X needs your app's bearer token")
        if not query and not options.mentions_user_id:
            raise ConfigError(f"sources.{name}: X needs a query, mentions_user_id, or both")
        return cls(make_client(token, options.api_base, options.timeout_seconds), query, options)

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """Search pages, then mentions pages; each page's cursor covers both streams up to it."""
        streams = {key: self._stream(key) for key in STREAMS}
        keep = functools.partial(matches, self.ast)
        yield from walk_streams(
            streams, cursor, max_requests=max_requests, backfill_pages=self.options.backfill_pages, keep=keep
        )

    def _stream(self, key: str) -> Stream | None:
        if key == "search" and self.native_query:
            query = self.native_query
            return Stream(lambda token, since: self._call("search", query, token, since), key=int)
        if key == "mentions" and self.options.mentions_user_id:
            user_id = self.options.mentions_user_id
            return Stream(lambda token, since: self._call("mentions", user_id, token, since), key=int)
        return None

    def _call(self, kind: str, first: str, token: str | None, since: str | None) -> Fetched:
        params: dict[str, Any] = {
            "max_results": self.options.max_results,
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "since_id": since,
        }
        method = self.client.search_recent_tweets if kind == "search" else self.client.get_users_mentions
        if token:
            params["next_token" if kind == "search" else "pagination_token"] = token
        return read_page(self._request(method, first, **params).content)

    def recheck(self, external_ids: Sequence[str], *, max_requests: int | None = None) -> Iterator[Recheck]:
        """Look the posts up 100 at a time (GET /2/tweets?ids=); yields which X says are gone."""
        ids, unsendable = askable(external_ids, lambda i: i.isascii() and i.isdigit())
        if unsendable:  # X would refuse the whole request for one id that is not a number
            yield unsendable
        for batch in batches(ids, self.recheck_batch, max_requests):
            yield read_lookup(batch, self._request(self.client.get_tweets, batch).content)

    def _request(self, method: Any, *args: Any, **params: Any) -> requests.Response:
        """One tweepy call, its failures as Dangol's errors."""
        import tweepy

        try:
            response: requests.Response = method(*args, **params)
        except tweepy.TooManyRequests as exc:
            reset = ratelimit.header(exc.response.headers, "x-rate-limit-reset")
            raise ratelimit.rate_limited("x", ratelimit.from_epoch(reset)) from exc
        except tweepy.Unauthorized as exc:
            raise AuthError("X rejected the bearer token (401); create a new one in the developer portal") from exc
        except tweepy.Forbidden as exc:
            raise AuthError(f"X refused access (403): {exc}") from exc
        except tweepy.TweepyException as exc:
            raise CollectError(f"X request failed: {exc}") from exc
        except requests.RequestException as exc:
            raise CollectError(f"X request failed: {type(exc).__name__}: {exc}") from exc
        return response


def read_lookup(asked: list[str], content: bytes) -> Recheck:
    """A GET /2/tweets?ids= answer: the asked ids that X names in `errors` as not found or no
    longer visible are gone; an id it says nothing about is not. Every post returned is billed."""
    try:
        doc = load_json(content)
    except PayloadError as exc:
        raise CollectError(f"X lookup answered with something that is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not ("data" in doc or "errors" in doc):
        raise CollectError("X lookup answered without `data` or `errors`; nothing is taken as deleted")
    data = doc.get("data")
    found = {t.get("id") for t in (data if isinstance(data, list) else [data]) if isinstance(t, dict)}
    problems = doc.get("errors")
    named = {
        str(p.get("resource_id") or p.get("value"))
        for p in (problems if isinstance(problems, list) else [])
        if isinstance(p, dict) and p.get("type") in GONE_PROBLEMS
    }
    gone = [i for i in asked if i in named and i not in found]
    return Recheck(checked=list(asked), gone=gone, billed=billed_objects(doc))


def read_page(content: bytes) -> Fetched:
    """One X response body as posts, rejects and the next page's token."""
    try:
        doc = load_json(content)
        if not isinstance(doc, dict):
            raise PayloadError(f"an X response is a JSON object, got {type(doc).__name__}", raw=content)
    except PayloadError as exc:
        return Fetched(*whole_body_dead_letter("x", exc, content), broken=True)
    posts, dead = parse_x(doc)
    meta = doc.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    token = meta.get("next_token")
    return Fetched(posts, dead, token if isinstance(token, str) else None, billed=billed_objects(doc))


def worst_page_objects(max_results: int) -> int:
    """The most post objects (and as many user objects) one X response can bill: `max_results`
    posts, and referenced posts twice over (a reply that quotes), with their authors."""
    return 3 * max_results


def billed_in_body(body: bytes) -> dict[str, int]:
    """`billed_objects` of a raw X response body; nothing for a body that is not a JSON object."""
    try:
        doc = load_json(body)
    except PayloadError:
        return {}
    return billed_objects(doc) if isinstance(doc, dict) else {}


def billed_objects(doc: dict[str, Any]) -> dict[str, int]:
    """The post and user objects an X response returned, which X bills, whether Dangol keeps them
    or not (posts outside the query, rejects, referenced posts in `includes`)."""
    found = doc.get("includes")
    includes: dict[str, Any] = found if isinstance(found, dict) else {}
    data = doc.get("data")
    posts = len(data) if isinstance(data, list) else int(isinstance(data, dict))

    def listed(key: str) -> int:
        value = includes.get(key)
        return len(value) if isinstance(value, list) else 0

    return {"posts": posts + listed("tweets"), "users": listed("users")}


def make_client(bearer_token: str, api_base: str = API_BASE, timeout: float = 30) -> tweepy.Client:
    """A tweepy.Client that never sleeps on limits, times out, and talks to `api_base`."""
    import tweepy

    client = tweepy.Client(bearer_token=bearer_token, return_type=requests.Response, wait_on_rate_limit=False)
    adapter = _Adapter(API_BASE, api_base.rstrip("/"), timeout)
    client.session.mount("https://", adapter)
    client.session.mount("http://", adapter)
    return client


class _Adapter(HTTPAdapter):
    """tweepy hard-codes api.twitter.com and sets no timeout; this adds both."""

    def __init__(self, old_base: str, new_base: str, timeout: float) -> None:
        super().__init__()
        self.old_base, self.new_base, self.timeout = old_base, new_base, timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        if request.url and request.url.startswith(self.old_base) and self.new_base != self.old_base:
            request.url = self.new_base + request.url[len(self.old_base) :]
        return super().send(request, stream=stream, timeout=self.timeout, verify=verify, cert=cert, proxies=proxies)
