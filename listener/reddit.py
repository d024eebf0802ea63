"""Reddit through praw, read-only (application-only OAuth): search, new posts, new comments."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import requests
from pydantic import Field, SecretStr

from dangol.core.errors import AuthError, CollectError, ConfigError, PayloadError
from dangol.core.registry import Options, required_secret
from dangol.core.types import AuthorIn, DeadLetterIn, Page, PostIn, Recheck, utcnow
from listener import ratelimit
from listener.base import askable, batches
from listener.query import compile_reddit, matches, parse_query
from listener.records import (
    check_text,
    field,
    join_title,
    load_json,
    metrics,
    optional,
    optional_text,
    parse_records,
    text_field,
    whole_body_dead_letter,
)
from listener.walk import Fetched, Stream, walk_streams

if TYPE_CHECKING:
    import praw

REDDIT = "https://www.reddit.com"
# A post (t3_) or comment (t1_) fullname: a base-36 id; anything else is never sent to /api/info.
FULLNAME = re.compile(r"t[13]_[0-9a-z]{1,13}")
INFO_BATCH = 100  # /api/info answers up to 100 fullnames a request
StreamName = Literal["search", "posts", "comments"]
ALL_STREAMS: tuple[StreamName, ...] = ("search", "posts", "comments")


def parse_reddit(body: Any) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """Posts and comments of one Reddit Listing (or the [post, comments] pair a thread returns)."""
    try:
        doc = load_json(body)
        children = _children(doc)
    except PayloadError as exc:
        return whole_body_dead_letter("reddit", exc, body)
    # "more" stubs are placeholders for unloaded comments, not records.
    things = [c for c in children if not (isinstance(c, dict) and c.get("kind") == "more")]
    return parse_records("reddit", things, _thing)


def _children(doc: Any) -> list[Any]:
    listings = doc if isinstance(doc, list) else [doc]
    children: list[Any] = []
    for listing in listings:
        if not isinstance(listing, dict) or listing.get("kind") != "Listing":
            raise PayloadError("a Reddit response is a Listing ({'kind': 'Listing', 'data': ...})", raw=doc)
        children.extend(field(field(listing, "data", dict), "children", list, where="data"))
    return children


def _thing(thing: Any) -> PostIn:
    kind = text_field(thing, "kind")
    if kind not in ("t1", "t3"):
        raise PayloadError(f"unsupported Reddit kind {kind!r}; expected t1 (comment) or t3 (post)")
    data = field(thing, "data", dict)
    name = text_field(data, "name", where="data")
    created: float = field(data, "created_utc", (int, float), where="data")
    author_name = text_field(data, "author", where="data")
    author = AuthorIn(
        platform="reddit",
        platform_id=optional(data, "author_fullname", str) or author_name,
        handle=author_name,
        url=f"{REDDIT}/user/{author_name}" if author_name != "[deleted]" else None,
    )
    permalink = optional(data, "permalink", str)
    link_id = optional(data, "link_id", str)
    if permalink is None and kind == "t1" and link_id:  # old comment payloads carry no permalink
        permalink = f"/comments/{link_id.removeprefix('t3_')}/_/{name.removeprefix('t1_')}/"
    common: dict[str, Any] = {
        "platform": "reddit",
        "external_id": name,
        "author": author,
        "created_at": datetime.fromtimestamp(created, UTC),
        "url": f"{REDDIT}{permalink}" if permalink else None,
        "raw": thing,
        "deleted": _is_deleted(author_name, data.get("selftext" if kind == "t3" else "body")),
    }
    if kind == "t3":
        title = text_field(data, "title", where="data")
        body = optional_text(data, "selftext") or ""
        counts = metrics(data, {"score": "score", "replies": "num_comments"})
        return PostIn(**common, text=join_title(title, body), title=title, thread_id=name, metrics=counts)
    text = check_text(field(data, "body", str, where="data"), "data.body")
    parent = optional(data, "parent_id", str)
    return PostIn(
        **common,
        text=text,
        title=optional(data, "link_title", str),
        reply_to_id=parent,
        thread_id=optional(data, "link_id", str),
        is_reply=parent is not None,
        metrics=metrics(data, {"score": "score"}),
    )


def _is_deleted(author_name: str, body: Any) -> bool:
    """Reddit keeps deleted things in listings with "[deleted]"/"[removed]" in place of the text."""
    return body == "[removed]" or (author_name == "[deleted]" and body == "[deleted]")


def reddit_key(fullname: str) -> int:
    """Age order of Reddit things of one kind: their base-36 ids grow with time."""
    return int(fullname.rpartition("_")[2], 36)


class RedditOptions(Options):
    """Options of `use = "reddit"`."""

    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    user_agent: str = "dangol:listener:0.1 (self-hosted social listening)"
    # Without subreddits only the search runs, over all of Reddit.
    subreddits: list[str] = Field(default_factory=list)
    streams: list[StreamName] = Field(default_factory=lambda: list(ALL_STREAMS))
    limit: int = Field(default=100, ge=1, le=100)
    backfill_pages: int = Field(default=3, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)
    # Only for tests and proxies: where OAuth requests and token requests go.
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = REDDIT


class RedditCollector:
    """Search, new posts and new comments of the chosen subreddits, newest first, resumable."""

    platform = "reddit"
    Options = RedditOptions
    recheck_batch = INFO_BATCH
    recheck_billed_per_id: dict[str, int] = {}

    def __init__(self, client: praw.Reddit, query: str, options: RedditOptions, limits: RateLimitHeaders) -> None:
        self.client = client
        self.options = options
        self.limits = limits
        self.ast = parse_query(query)
        self.native_query = compile_reddit(self.ast)

    @classmethod
    def from_options(cls, name: str, query: str, options: RedditOptions) -> RedditCollector:
        """Require the app's id and secret, and build a read-only praw.Reddit."""
        app_id, secret = (
            required_secret(options, key, f"sources.{name}", f"Reddit needs {key} (reddit.com/prefs/apps, 'script')")
            for key in ("client_id", "client_secret")
        )
        if not options.subreddits and set(options.streams) - {"search"}:
            raise ConfigError(f"sources.{name}.subreddits: posts and comments streams need at least one subreddit")
        client, limits = make_client(app_id, secret, options)
        return cls(client, query, options, limits)

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """Each configured stream in turn; every page's cursor covers all streams up to it."""
        streams: dict[str, Stream | None] = {key: self._stream(key) for key in self.options.streams}
        keep = functools.partial(matches, self.ast)
        yield from walk_streams(
            streams, cursor, max_requests=max_requests, backfill_pages=self.options.backfill_pages, keep=keep
        )

    def _stream(self, key: str) -> Stream | None:
        where = "+".join(self.options.subreddits) or "all"
        if key == "search":
            if not self.native_query:
                return None
            params = {"q": self.native_query, "sort": "new", "syntax": "lucene", "restrict_sr": "on", "t": "all"}
            return Stream(lambda token, seen: self._get(f"/r/{where}/search", params, token), key=reddit_key)
        path = f"/r/{where}/new" if key == "posts" else f"/r/{where}/comments"
        return Stream(lambda token, seen: self._get(path, {}, token), key=reddit_key)

    def recheck(self, external_ids: Sequence[str], *, max_requests: int | None = None) -> Iterator[Recheck]:
        """/api/info 100 fullnames at a time; gone are the things it marks deleted or removed, and
        those it no longer returns at all (purged, or in a banned subreddit)."""
        names, unsendable = askable(external_ids, FULLNAME.fullmatch)
        if unsendable:
            yield unsendable
        for batch in batches(names, self.recheck_batch, max_requests):
            standing = self._standing(batch)
            yield Recheck(checked=batch, gone=[n for n in batch if n not in standing])

    def _standing(self, names: list[str]) -> set[str]:
        """The fullnames /api/info still shows with their text; raises unless every thing of the answer
        can be read, so that a failed or odd answer never makes a post look deleted."""
        import prawcore

        self.limits.check()
        try:
            doc = self.client.request(method="GET", path="/api/info", params={"id": ",".join(names), "raw_json": 1})
            things = _children(doc)
        except prawcore.BadJSON as exc:
            raise CollectError("Reddit /api/info answered with something that is not JSON") from exc
        except PayloadError as exc:
            raise CollectError(f"Reddit /api/info answered without a Listing: {exc}") from exc
        except prawcore.PrawcoreException as exc:
            raise _request_error(exc) from exc
        standing = set()
        for thing in things:
            data = thing.get("data") if isinstance(thing, dict) else None
            name = data.get("name") if isinstance(data, dict) else None
            if not isinstance(data, dict) or not isinstance(name, str):
                raise CollectError("Reddit /api/info answered with a thing without a name; nothing is taken as deleted")
            body = data.get("selftext" if thing.get("kind") == "t3" else "body")
            if not _is_deleted(str(data.get("author") or ""), body):
                standing.add(name)
        return standing

    def _get(self, path: str, params: dict[str, Any], after: str | None) -> Fetched:
        import prawcore

        self.limits.check()
        query = {**params, "limit": self.options.limit, "raw_json": 1}
        if after:
            query["after"] = after
        try:
            doc = self.client.request(method="GET", path=path, params=query)
        except prawcore.BadJSON as exc:
            error = PayloadError("response is not valid JSON", raw=exc.response.content[:2000])
            return Fetched(*whole_body_dead_letter("reddit", error, exc.response.content), broken=True)
        except prawcore.PrawcoreException as exc:
            raise _request_error(exc) from exc
        posts, dead = parse_reddit(doc)
        data = doc.get("data") if isinstance(doc, dict) else None
        after_token = data.get("after") if isinstance(data, dict) else None
        if dead and not posts and isinstance(doc, dict) and doc.get("kind") != "Listing":
            return Fetched(posts, dead, broken=True)
        return Fetched(posts, dead, after_token if isinstance(after_token, str) else None)


def _request_error(exc: Exception) -> Exception:
    """What a failed praw request means to the caller: rate limited, refused credentials, or failed."""
    import prawcore

    if isinstance(exc, prawcore.TooManyRequests):
        return ratelimit.rate_limited("reddit", _retry_at(exc.response.headers))
    refused = isinstance(exc, (prawcore.OAuthException, prawcore.InvalidToken, prawcore.Forbidden))
    if refused or (isinstance(exc, prawcore.ResponseException) and exc.response.status_code == 401):
        return AuthError(f"Reddit rejected the app credentials: {exc}")
    return CollectError(f"Reddit request failed: {exc}")


def _retry_at(headers: Any) -> datetime | None:
    return ratelimit.from_seconds(ratelimit.header(headers, "retry-after")) or ratelimit.from_seconds(
        ratelimit.header(headers, "x-ratelimit-reset")
    )


class RateLimitHeaders:
    """Reddit's x-ratelimit-remaining/reset as last seen, so we stop instead of sleeping out a window."""

    def __init__(self) -> None:
        self.remaining: float | None = None
        self.reset_at: datetime | None = None

    def observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """A requests response hook: remember the newest rate-limit headers."""
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            self.remaining = float(remaining)
            self.reset_at = utcnow() + timedelta(seconds=float(reset))
        except ValueError:
            return

    def check(self) -> None:
        """Raise RateLimited when the window is spent (praw would otherwise sleep until it resets)."""
        if self.remaining is not None and self.remaining < 1 and self.reset_at and self.reset_at > utcnow():
            raise ratelimit.rate_limited("reddit", self.reset_at)


class TimeoutSession(requests.Session):
    """A session that never waits longer than `limit` seconds (prawcore always asks for 16)."""

    def __init__(self, limit: float) -> None:
        super().__init__()
        self.limit = limit

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["timeout"] = min(kwargs.get("timeout") or self.limit, self.limit)
        return super().request(*args, **kwargs)


def make_client(client_id: str, client_secret: str, options: RedditOptions) -> tuple[praw.Reddit, RateLimitHeaders]:
    """A read-only praw.Reddit (client credentials) whose rate-limit headers we watch."""
    import praw

    limits = RateLimitHeaders()
    session = TimeoutSession(options.timeout_seconds)
    session.hooks["response"].append(limits.observe)
    client = praw.Reddit(
        client_id=client_id,
        client_secret=client_secret,
        user_agent=options.user_agent,
        oauth_url=options.oauth_url,
        reddit_url=options.reddit_url,
        check_for_updates=False,
        requestor_kwargs={"session": session},
    )
    client.read_only = True
    return client, limits
