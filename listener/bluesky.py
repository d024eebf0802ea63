"""Bluesky through the atproto SDK: app.bsky.feed.searchPosts, newest first, with its cursor."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import Field, SecretStr

from dangol.core.errors import AuthError, CollectError, ConfigError, PayloadError
from dangol.core.registry import Options
from dangol.core.types import AuthorIn, DeadLetterIn, Page, PostIn, Recheck
from listener import ratelimit
from listener.base import askable, batches
from listener.query import compile_bluesky, compile_each, matches, parse_query, search_key
from listener.records import (
    field,
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
    from atproto import Client

PUBLIC_API = "https://public.api.bsky.app"
# app.bsky.feed.getPosts takes at most 25 post URIs; a deleted post is simply left out of `posts`.
GET_POSTS_BATCH = 25
POST_URI = re.compile(r"^at://[A-Za-z0-9._:%-]+/app\.bsky\.feed\.post/[A-Za-z0-9._~:-]+$")
METRICS = {"likes": "likeCount", "reposts": "repostCount", "replies": "replyCount", "quotes": "quoteCount"}


def parse_bluesky(body: Any) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """Posts of a searchPosts result ({posts, cursor}), a thread ({thread}) or a single postView."""
    try:
        views = _post_views(load_json(body))
    except PayloadError as exc:
        return whole_body_dead_letter("bluesky", exc, body)
    return parse_records("bluesky", views, _post)


def _post_views(doc: Any) -> list[Any]:
    if isinstance(doc, dict):
        if "posts" in doc:
            return list(field(doc, "posts", list))
        if "thread" in doc:
            return _thread_posts(field(doc, "thread", dict))
        if "uri" in doc and "record" in doc:
            return [doc]
        if "error" in doc:
            raise PayloadError(f"Bluesky error {doc.get('error')}: {doc.get('message', '')}", raw=doc)
    raise PayloadError("a Bluesky response has posts (searchPosts) or thread (getPostThread)", raw=doc)


def _thread_posts(thread: dict[str, Any]) -> list[Any]:
    views = [thread["post"]] if "post" in thread else []
    parent = thread.get("parent")
    if isinstance(parent, dict):
        views = _thread_posts(parent) + views
    for reply in thread.get("replies") or []:
        if isinstance(reply, dict):
            views += _thread_posts(reply)
    return views


def _post(view: Any) -> PostIn:
    uri = text_field(view, "uri")
    record = field(view, "record", dict)
    author = field(view, "author", dict)
    handle = text_field(author, "handle", where="author")
    reply = optional(record, "reply", dict, {})
    parent = optional(optional(reply, "parent", dict, {}), "uri", str)
    root = optional(optional(reply, "root", dict, {}), "uri", str)
    quoted = _quoted_uri(optional(record, "embed", dict, {}))
    langs = optional(record, "langs", list, [])
    created = optional(record, "createdAt", str) or text_field(view, "indexedAt")
    return PostIn(
        platform="bluesky",
        external_id=uri,
        author=AuthorIn(
            platform="bluesky",
            platform_id=text_field(author, "did", where="author"),
            handle=handle,
            display_name=optional(author, "displayName", str, ""),
            followers=optional(author, "followersCount", int),
            url=f"https://bsky.app/profile/{handle}",
        ),
        text=text_field(record, "text", where="record"),
        created_at=parse_iso(created, "record.createdAt"),
        url=f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}",
        lang_hint=langs[0] if langs and isinstance(langs[0], str) else None,
        reply_to_id=parent,
        thread_id=root or uri,
        referenced_id=quoted,
        is_quote=quoted is not None,
        is_reply=parent is not None,
        metrics=metrics(view, METRICS),
        raw=view,
    )


def _quoted_uri(embed: dict[str, Any]) -> str | None:
    kind = embed.get("$type")
    if kind == "app.bsky.embed.record":
        return optional(optional(embed, "record", dict, {}), "uri", str)
    if kind == "app.bsky.embed.recordWithMedia":
        return _quoted_uri(optional(embed, "record", dict, {}))
    return None


def bluesky_key(uri: str) -> str:
    """Age order of posts: the record key is a TID, a base32 timestamp that sorts as text."""
    return uri.rsplit("/", 1)[-1]


class BlueskyOptions(Options):
    """Options of `use = "bluesky"`."""

    # Without a handle and app password the public AppView is searched anonymously.
    handle: SecretStr | None = None
    app_password: SecretStr | None = None
    service: str = "https://bsky.social"
    public_api: str = PUBLIC_API
    limit: int = Field(default=100, ge=1, le=100)
    backfill_pages: int = Field(default=3, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)


class BlueskyCollector:
    """searchPosts (sort=latest) for the source's query, resumable by the search cursor."""

    platform = "bluesky"
    Options = BlueskyOptions
    recheck_batch = GET_POSTS_BATCH
    recheck_billed_per_id: dict[str, int] = {}

    def __init__(self, client: Client, query: str, options: BlueskyOptions, tap: ResponseTap) -> None:
        self.client = client
        self.options = options
        self.tap = tap
        self.ast = parse_query(query)
        # searchPosts has no OR: each alternative of the query is searched on its own.
        self.native_queries = compile_each(self.ast, compile_bluesky) or []

    @classmethod
    def from_options(cls, name: str, query: str, options: BlueskyOptions) -> BlueskyCollector:
        """Check the query and the login pair; log in when a handle and app password are set."""
        if (options.handle is None) != (options.app_password is None):
            raise ConfigError(f"sources.{name}: set both handle and app_password, or neither (anonymous search)")
        if not compile_each(parse_query(query), compile_bluesky):
            raise ConfigError(f"sources.{name}.query: Bluesky needs words to search for in every OR branch")
        client, tap = make_client(options)
        return cls(client, query, options, tap)

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """Search pages newest first, per OR branch; each page's cursor covers all branches up to it."""
        streams: dict[str, Stream | None] = {
            search_key(q): Stream(functools.partial(self._search, q), key=bluesky_key) for q in self.native_queries
        }
        keep = functools.partial(matches, self.ast)
        yield from walk_streams(
            streams, cursor, max_requests=max_requests, backfill_pages=self.options.backfill_pages, keep=keep
        )

    def _search(self, query: str, token: str | None, seen: str | None) -> Fetched:
        from atproto import models

        params = models.AppBskyFeedSearchPosts.Params(q=query, sort="latest", limit=self.options.limit, cursor=token)
        return read_page(self._query("app.bsky.feed.searchPosts", params).content)

    def _query(self, nsid: str, params: Any) -> httpx.Response:
        """One XRPC query, its failures as Dangol's errors; the raw answer, which we parse ourselves
        (like replay does) rather than trust the SDK's models."""
        from atproto import exceptions

        self.tap.last = None
        try:
            self.client.invoke_query(nsid, params=params)
        except exceptions.RateLimitExceededError as exc:
            reset = ratelimit.header(self.tap.headers(), "ratelimit-reset")
            raise ratelimit.rate_limited("bluesky", ratelimit.from_epoch(reset)) from exc
        except exceptions.UnauthorizedError as exc:
            raise AuthError("Bluesky rejected the session; check the handle and app password") from exc
        except exceptions.AtProtocolError as exc:
            raise CollectError(f"Bluesky request failed: {type(exc).__name__}: {exc}") from exc
        except ValueError:
            pass  # the SDK could not decode the body; the tapped bytes are read by the caller
        if self.tap.last is None:
            raise CollectError("Bluesky request failed: no response")
        return self.tap.last

    def recheck(self, external_ids: Sequence[str], *, max_requests: int | None = None) -> Iterator[Recheck]:
        """getPosts 25 URIs at a time; yields, per request, the asked posts it left out (gone)."""
        uris, unsendable = askable(external_ids, POST_URI.match)  # a hashed over-long id is no URI
        if unsendable:
            yield unsendable
        for batch in batches(uris, self.recheck_batch, max_requests):
            shown = self._shown(batch)
            yield Recheck(checked=batch, gone=[u for u in batch if u not in shown])

    def _shown(self, uris: list[str]) -> set[str]:
        """The URIs of the posts getPosts returns for `uris`; raises unless the answer is a well-formed
        `{"posts": [...]}`, so that a failed request never makes a post look deleted."""
        from atproto import models

        answer = self._query("app.bsky.feed.getPosts", models.AppBskyFeedGetPosts.Params(uris=uris))
        try:
            doc = load_json(answer.content) if answer.status_code == 200 else None
        except PayloadError as exc:
            raise CollectError(f"Bluesky getPosts answered with something that is not JSON: {exc}") from exc
        views = doc.get("posts") if isinstance(doc, dict) else None
        if not isinstance(views, list):
            raise CollectError("Bluesky getPosts answered without a `posts` list; nothing is taken as deleted")
        return {v["uri"] for v in views if isinstance(v, dict) and isinstance(v.get("uri"), str)}


def read_page(content: bytes) -> Fetched:
    """One searchPosts body as posts, rejects and the cursor of the next (older) page."""
    try:
        doc = load_json(content)
        views = _post_views(doc)
    except PayloadError as exc:
        return Fetched(*whole_body_dead_letter("bluesky", exc, content), broken=True)
    posts, dead = parse_records("bluesky", views, _post)
    token = doc.get("cursor") if isinstance(doc, dict) else None
    return Fetched(posts, dead, token if isinstance(token, str) and token else None)


class ResponseTap:
    """An httpx response hook keeping the last response, so we parse the raw bytes like replay does."""

    def __init__(self) -> None:
        self.last: httpx.Response | None = None

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        self.last = response

    def headers(self) -> dict[str, str]:
        return dict(self.last.headers) if self.last is not None else {}


def make_client(options: BlueskyOptions) -> tuple[Client, ResponseTap]:
    """An atproto Client: logged in to `service` with an app password, or anonymous on the AppView."""
    from atproto import Client, exceptions
    from atproto_client.request import Request

    tap = ResponseTap()
    request = Request(timeout=options.timeout_seconds, event_hooks={"response": [tap]})
    if options.handle is None or options.app_password is None:
        return Client(base_url=options.public_api.rstrip("/") + "/xrpc", request=request), tap
    client = Client(base_url=options.service.rstrip("/") + "/xrpc", request=request)
    try:
        client.login(options.handle.get_secret_value(), options.app_password.get_secret_value())
    except exceptions.UnauthorizedError as exc:
        raise AuthError("Bluesky refused the handle and app password") from exc
    except exceptions.AtProtocolError as exc:
        raise CollectError(f"Bluesky login failed: {type(exc).__name__}: {exc}") from exc
    return client, tap
