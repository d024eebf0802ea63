"""YouTube comments through the YouTube Data API v3 (google-api-python-client, API key).

Streams: the comment threads of the brand's channel (`allThreadsRelatedToChannelId`), of each
configured video, and optionally of the newest videos the source's query finds (`search.list`).
Every call spends the Google Cloud project's daily quota, counted here as the source's `Billing`
(units per Pacific-time day); the discovery document comes from the package, never the network.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr

from dangol.core.errors import AuthError, CollectError, ConfigError, PayloadError, RateLimited
from dangol.core.redact import redact_secrets
from dangol.core.registry import Options, required_secret
from dangol.core.types import AuthorIn, Billing, DeadLetterIn, Page, PostIn, utcnow
from listener import ratelimit
from listener.query import compile_youtube, parse_query
from listener.records import (
    field as required,
)
from listener.records import (
    load_json,
    optional,
    parse_iso,
    parse_records,
    text_field,
    whole_body_dead_letter,
)
from listener.walk import Budget

log = logging.getLogger(__name__)

PACIFIC = "America/Los_Angeles"  # the Data API's daily quota turns over at midnight Pacific time
# Quota units per call (developers.google.com/youtube/v3/determine_quota_cost, checked 2026-12-04).
COSTS = {"commentThreads": 1, "comments": 1, "search": 100}
DEFAULT_DAILY_UNITS = 10_000
# 403 reasons that say the key (or its project) may not use the API.
AUTH_REASONS = {"keyInvalid", "keyExpired", "accessNotConfigured", "ipRefererBlocked", "forbidden"}
# Answers that skip one video (or the channel, or a thread's replies) and let the run go on with
# the others; so does any 404 (a video, channel or thread deleted since it was listed).
SKIP_REASONS = {"commentsDisabled", "videoNotFound", "channelNotFound", "commentNotFound"}
THREAD_KINDS = ("youtube#commentThreadListResponse", "youtube#commentListResponse")


def parse_youtube(body: Any, *, video_id: str | None = None) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """Comments of one `commentThreads.list` answer (each thread's top-level comment and the
    replies it embeds) or one `comments.list` answer (replies: `video_id` gives them their link when
    their snippet has none). The text is `textOriginal`, never the HTML `textDisplay`."""
    try:
        doc = load_json(body)
        if not isinstance(doc, dict):
            raise PayloadError(f"a YouTube response is a JSON object, got {type(doc).__name__}", raw=doc)
        if isinstance(doc.get("error"), dict):
            error = api_error(doc)
            raise PayloadError(f"YouTube error {error.status}: {error.reason}: {error.message}", raw=doc)
        kind = doc.get("kind")
        if kind is not None and kind not in THREAD_KINDS:
            raise PayloadError(f"not a comment thread or comment list: kind {kind!r}", raw=doc)
        items = required(doc, "items", list)
    except PayloadError as exc:
        return whole_body_dead_letter("youtube", exc, body)
    posts: list[PostIn] = []
    dead: list[DeadLetterIn] = []
    for item in items:
        for record, thread in _comments(item):
            build = functools.partial(_comment, thread=thread, video_id=video_id)
            found, rejected = parse_records("youtube", [record], build)
            posts += found
            dead += rejected
    return posts, dead


def _comments(item: Any) -> list[tuple[Any, dict[str, Any] | None]]:
    """(comment, its thread or None) of one item: a thread gives its top-level comment and embedded replies."""
    snippet = item.get("snippet") if isinstance(item, dict) else None
    if not isinstance(snippet, dict) or not (
        "topLevelComment" in snippet or item.get("kind") == "youtube#commentThread"
    ):
        return [(item, None)]
    top = snippet.get("topLevelComment")
    if not isinstance(top, dict):
        return [(item, None)]  # a thread without its comment: a dead letter with the whole thread
    replies = item.get("replies")
    embedded = replies.get("comments") if isinstance(replies, dict) else None
    return [(top, item)] + [(reply, item) for reply in (embedded if isinstance(embedded, list) else [])]


def _comment(comment: Any, *, thread: dict[str, Any] | None, video_id: str | None) -> PostIn:
    comment_id = text_field(comment, "id")
    snippet = required(comment, "snippet", dict)
    if "topLevelComment" in snippet:
        raise PayloadError("comment thread without a usable topLevelComment")
    text = text_field(snippet, "textOriginal", where="snippet")
    created = parse_iso(text_field(snippet, "publishedAt", where="snippet"), "snippet.publishedAt")
    thread_snippet = thread.get("snippet") if thread else None
    thread_snippet = thread_snippet if isinstance(thread_snippet, dict) else {}
    parent = optional(snippet, "parentId", str)
    thread_id = parent or (optional(thread, "id", str) if thread else None) or comment_id
    video = optional(snippet, "videoId", str) or optional(thread_snippet, "videoId", str) or video_id
    metrics = {"likes": optional(snippet, "likeCount", int)}
    if parent is None and thread is not None:
        metrics["replies"] = optional(thread_snippet, "totalReplyCount", int)
    return PostIn(
        platform="youtube",
        external_id=comment_id,
        author=_author(snippet),
        text=text,
        created_at=created,
        url=f"https://www.youtube.com/watch?v={quote(video, safe='')}&lc={quote(comment_id, safe='')}"
        if video
        else None,
        reply_to_id=parent,
        thread_id=thread_id,
        is_reply=parent is not None,
        metrics={k: v for k, v in metrics.items() if v is not None},
        raw=comment,
    )


def _author(snippet: dict[str, Any]) -> AuthorIn:
    channel = optional(snippet, "authorChannelId", dict, {})
    channel_url = optional(snippet, "authorChannelUrl", str)
    author_id = optional(channel, "value", str) or channel_url
    if not author_id:
        raise PayloadError("comment without authorChannelId or authorChannelUrl")
    name = optional(snippet, "authorDisplayName", str, "")
    # Newer answers give the "@handle", older ones the channel's display name: the handle is that
    # name without its @, which brand.own_handles ("youtube:@marucoffee") is matched against.
    return AuthorIn(
        platform="youtube", platform_id=author_id, handle=name.removeprefix("@"), display_name=name, url=channel_url
    )


@dataclass(frozen=True, slots=True)
class ApiError:
    status: int
    reason: str
    domain: str
    message: str


def api_error(doc: Any, status: int = 0) -> ApiError:
    """The first error of a Google API error body (`{"error": {"code", "message", "errors": [...]}}`)."""
    error = doc.get("error") if isinstance(doc, dict) else None
    error = error if isinstance(error, dict) else {}
    errors = error.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = error.get("code")
    return ApiError(
        status=code if isinstance(code, int) and not status else status,
        reason=str(first.get("reason") or error.get("status") or ""),
        domain=str(first.get("domain") or ""),
        message=str(error.get("message") or first.get("message") or "")[:300],
    )


def next_pacific_midnight(now: datetime | None = None) -> datetime:
    """When the Data API's daily quota is reset: the next midnight in America/Los_Angeles, as UTC."""
    zone = ZoneInfo(PACIFIC)
    tomorrow = ((now or utcnow()).astimezone(zone) + timedelta(days=1)).date()
    return datetime.combine(tomorrow, time(0), tzinfo=zone).astimezone(UTC)


class YouTubeOptions(Options):
    """Options of `use = "youtube"`."""

    api_key: SecretStr | None = None
    # The brand's channel ("UC…"): every comment thread on its videos (allThreadsRelatedToChannelId).
    channel_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    video_ids: list[str] = Field(default_factory=list)
    # Also read the comments of the newest videos the source's query finds (search.list costs 100
    # units a call, so it is off by default and runs at most once per `search_every_hours`).
    search_videos: bool = False
    search_every_hours: int = Field(default=24, ge=1)
    search_max_videos: int = Field(default=10, ge=1, le=50)
    # The project's daily quota (10,000 units by default); lower it when other tools or other
    # YouTube sources share the project's key.
    daily_unit_limit: int = Field(default=DEFAULT_DAILY_UNITS, ge=1)
    max_results: int = Field(default=100, ge=1, le=100)
    backfill_pages: int = Field(default=3, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)
    # Another endpoint than Google's (tests point it at a local server).
    api_base: str | None = None


@dataclass
class _Answer:
    body: bytes = b""
    skipped: str | None = None  # the reason a video's or channel's comments were skipped


class YouTubeCollector:
    """Comment threads, newest first, with the replies of new threads; resumable after any page."""

    platform = "youtube"
    Options = YouTubeOptions

    def __init__(self, client: Any, query: str, options: YouTubeOptions, api_key: str = "") -> None:
        self.client = client
        self.options = options
        self.api_key = api_key
        self.native_query = compile_youtube(parse_query(query))

    @staticmethod
    def billing(options: YouTubeOptions) -> Billing:
        """Quota units per Pacific-time day. The worst case per request is one unit: the collector
        itself charges a search its 100 units against `max_requests`, which it reads as units."""
        return Billing(
            unit="units",
            period="day",
            timezone=PACIFIC,
            limit=options.daily_unit_limit,
            worst_case={"units": 1},
            price_note="YouTube Data API quota: commentThreads.list and comments.list 1 unit, search.list 100",
        )

    @classmethod
    def from_options(cls, name: str, query: str, options: YouTubeOptions) -> YouTubeCollector:
        """Require an API key and something to read, and build the API client."""
        key = required_secret(
            options,
            "api_key",
            f"sources.{name}",
            "YouTube needs an API key (Google Cloud console, YouTube Data API v3)",
        )
        if not options.channel_id and not options.video_ids and not options.search_videos:
            raise ConfigError(f"sources.{name}: YouTube needs channel_id, video_ids or search_videos = true")
        if options.search_videos and not compile_youtube(parse_query(query)):
            raise ConfigError(f"sources.{name}: search_videos needs a query with words to search for")
        return cls(make_client(key, options), query, options, key)

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """The video search when due, then each stream's new threads (and their replies).

        `max_requests` is read as quota units (the billing's worst case is one unit a request):
        a search is made only when its 100 units still fit, so no run spends more than allowed.
        """
        state: dict[str, Any] = {key: value for key, value in cursor.items() if value}
        units = Budget(max_requests)
        if self._search_due(state.get("search")) and units.afford(COSTS["search"]):
            units.take(COSTS["search"])
            state["search"] = self._search(state.get("search") or {})
            keys = {"search", *self._streams(state)}  # videos no longer searched leave the cursor
            state = {key: value for key, value in state.items() if key in keys}
            yield Page([], dict(state), billed={"units": COSTS["search"]})
        for key in self._streams(state):
            yield from self._walk(key, state, units)

    def _streams(self, state: dict[str, Any]) -> list[str]:
        keys = [f"channel:{self.options.channel_id}"] if self.options.channel_id else []
        found = (state.get("search") or {}).get("videos") or [] if self.options.search_videos else []
        for video in [*self.options.video_ids, *found]:
            if f"video:{video}" not in keys:
                keys.append(f"video:{video}")
        return keys

    def _search_due(self, search: dict[str, Any] | None) -> bool:
        if not self.options.search_videos or not self.native_query:
            return False
        last = (search or {}).get("at")
        if not isinstance(last, str):
            return True
        return utcnow() - parse_iso(last, "search.at") >= timedelta(hours=self.options.search_every_hours)

    def _search(self, search: dict[str, Any]) -> dict[str, Any]:
        request = self.client.search().list(
            part="id", type="video", order="date", q=self.native_query, maxResults=self.options.search_max_videos
        )
        answer = self._execute(request, "search.list")
        try:
            doc = load_json(answer.body)
            items = required(doc, "items", list)
        except PayloadError as exc:
            raise CollectError(f"YouTube search.list answered something that is not a search result: {exc}") from exc
        found = [
            item["id"]["videoId"]
            for item in items
            if isinstance(item, dict)
            and isinstance(item.get("id"), dict)
            and isinstance(item["id"].get("videoId"), str)
        ]
        videos = list(dict.fromkeys(found + list(search.get("videos") or [])))[: self.options.search_max_videos]
        return {"at": utcnow().isoformat(), "videos": videos}

    def _walk(self, key: str, state: dict[str, Any], units: Budget) -> Iterator[Page]:
        """One stream: queued reply pages first, then thread pages newest first until the last run's
        newest thread. `since`/`at_since`: newest thread time of finished runs and the threads at that
        time; `next`/`top`/`top_ids`/`pages`: the unfinished run; `pending`: threads whose replies are
        still to be read ([thread id, page token, video id])."""
        walked = False
        while units.afford(1):
            mine = dict(state.get(key) or {})
            pending = [list(p) for p in mine.get("pending") or []]
            if pending:
                thread_id, token, video = pending[0]
                units.take(COSTS["comments"])
                answer = self._replies(thread_id, token)
                if answer.skipped:
                    log.warning("YouTube %s: replies of thread %s skipped (%s)", key, thread_id, answer.skipped)
                posts, dead = parse_youtube(answer.body, video_id=video) if not answer.skipped else ([], [])
                following = _next_token(answer.body)
                if following and not answer.skipped:
                    pending[0] = [thread_id, following, video]
                else:
                    pending.pop(0)
                mine["pending"] = pending
                state[key] = {k: v for k, v in mine.items() if v}
                yield Page(posts, _clean(state), dead, billed={"units": COSTS["comments"]})
                continue
            if walked:
                return
            walked = True
            units.take(COSTS["commentThreads"])
            answer = self._threads(key, mine.get("next"))
            if answer.skipped:
                log.warning("YouTube %s: comments skipped (%s); going on with the others", key, answer.skipped)
                yield Page([], _clean(state), billed={"units": COSTS["commentThreads"]})
                return
            posts, dead, mine, broken = self._thread_page(answer.body, mine)
            state[key] = {k: v for k, v in mine.items() if v}
            yield Page(posts, _clean(state), dead, billed={"units": COSTS["commentThreads"]})
            if broken:
                return
            if "next" in mine:
                walked = False  # the unfinished run goes on with the next page

    def _thread_page(
        self, body: bytes, mine: dict[str, Any]
    ) -> tuple[list[PostIn], list[DeadLetterIn], dict[str, Any], bool]:
        try:
            doc = load_json(body)
            threads = required(doc, "items", list)
        except PayloadError as exc:
            return [], whole_body_dead_letter("youtube", exc, body)[1], mine, True
        since, at_since = mine.get("since"), list(mine.get("at_since") or [])
        top, top_ids = mine.get("top"), list(mine.get("top_ids") or [])
        pending = [list(p) for p in mine.get("pending") or []]
        fresh_items: list[Any] = []
        last_fresh = True
        for thread in threads:
            published = _published(thread)
            thread_id = thread.get("id") if isinstance(thread, dict) else None
            fresh = published is None or since is None or published > since
            fresh = fresh or (published == since and thread_id not in at_since)
            last_fresh = fresh
            if not fresh:
                continue
            if published is not None and (top is None or published > top):
                top, top_ids = published, [thread_id]
            elif published is not None and published == top and thread_id not in top_ids:
                top_ids.append(thread_id)
            if _needs_replies(thread):
                video = (thread.get("snippet") or {}).get("videoId")
                pending.append([thread_id, None, video if isinstance(video, str) else None])
                thread = {**thread, "replies": {"comments": []}}  # comments.list returns them all
            fresh_items.append(thread)
        posts, dead = parse_youtube({"items": fresh_items})
        pages = int(mine.get("pages", 0)) + 1
        following = _next_token(body)
        done = (
            not following or not threads or not last_fresh or (since is None and pages >= self.options.backfill_pages)
        )
        if done:
            newest, newest_ids = (top, top_ids) if top is not None else (since, at_since)
            new = {"since": newest, "at_since": newest_ids, "pending": pending}
        else:
            new = {"since": since, "at_since": at_since, "next": following, "top": top, "top_ids": top_ids}
            new |= {"pages": pages, "pending": pending}
        return posts, dead, {k: v for k, v in new.items() if v}, False

    def _threads(self, key: str, token: str | None) -> _Answer:
        kind, _, target = key.partition(":")
        params: dict[str, Any] = {"part": "snippet,replies", "maxResults": self.options.max_results, "order": "time"}
        params["allThreadsRelatedToChannelId" if kind == "channel" else "videoId"] = target
        if token:
            params["pageToken"] = token
        return self._execute(self.client.commentThreads().list(**params), "commentThreads.list", skip=True)

    def _replies(self, thread_id: str, token: str | None) -> _Answer:
        params: dict[str, Any] = {"part": "snippet", "parentId": thread_id, "maxResults": 100}
        if token:
            params["pageToken"] = token
        return self._execute(self.client.comments().list(**params), "comments.list", skip=True)

    def _execute(self, request: Any, what: str, *, skip: bool = False) -> _Answer:
        """One API call, its failures as Dangol's errors (the API key never in a message)."""
        import httplib2
        from googleapiclient.errors import HttpError

        try:
            body = request.execute(num_retries=0)
        except HttpError as exc:
            status = int(getattr(exc.resp, "status", 0) or 0)
            try:
                error = api_error(json.loads(exc.content), status)
            except (ValueError, TypeError, RecursionError):  # an error body nested too deeply: no reason
                error = ApiError(status, "", "", "")
            text = redact_secrets(f"HTTP {status} {error.reason}: {error.message}", [self.api_key])
            if error.reason == "quotaExceeded" or error.domain == "youtube.quota":
                when = next_pacific_midnight()
                raise RateLimited(
                    f"YouTube daily quota exhausted ({text}); retry at {when:%Y-%m-%d %H:%M} UTC (midnight Pacific)",
                    when,
                ) from exc
            if status == 429 or error.reason in ("rateLimitExceeded", "userRateLimitExceeded"):
                raise ratelimit.rate_limited("youtube", None) from exc
            if skip and (error.reason in SKIP_REASONS or status == 404):
                return _Answer(skipped=error.reason or "HTTP 404")
            if status in (401, 403) or error.reason in AUTH_REASONS:
                raise AuthError(f"YouTube refused the API key for {what} ({text})") from exc
            raise CollectError(f"YouTube {what} failed: {text}") from exc
        except (httplib2.HttpLib2Error, OSError) as exc:
            message = redact_secrets(f"{type(exc).__name__}: {exc}", [self.api_key])
            raise CollectError(f"YouTube {what} failed: {message}") from exc
        return _Answer(body=body if isinstance(body, bytes) else json.dumps(body).encode())


def _published(thread: Any) -> str | None:
    """The thread's top-level comment time as ISO UTC (comparable as text), None when unreadable."""
    try:
        comment = thread["snippet"]["topLevelComment"]["snippet"]
        return parse_iso(comment["publishedAt"], "publishedAt").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except (KeyError, TypeError, PayloadError, AttributeError):
        return None


def _needs_replies(thread: Any) -> bool:
    """More replies than the thread embeds (the API embeds at most five)."""
    snippet = thread.get("snippet") if isinstance(thread, dict) else None
    total = snippet.get("totalReplyCount") if isinstance(snippet, dict) else None
    if not isinstance(total, int) or isinstance(total, bool) or not isinstance(thread.get("id"), str):
        return False
    replies = thread.get("replies")
    embedded = replies.get("comments") if isinstance(replies, dict) else None
    return total > (len(embedded) if isinstance(embedded, list) else 0)


def _next_token(body: bytes) -> str | None:
    try:
        doc = load_json(body)
    except PayloadError:
        return None
    token = doc.get("nextPageToken") if isinstance(doc, dict) else None
    return token if isinstance(token, str) and token else None


def _clean(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if v}


def make_client(api_key: str, options: YouTubeOptions) -> Any:
    """A `youtube` v3 client from the packaged discovery document (no network to build it), with
    a timeout, no retries, and answers left as bytes for the parser."""
    import httplib2
    from googleapiclient.discovery import build
    from googleapiclient.model import JsonModel

    class _Bytes(JsonModel):  # type: ignore[misc]
        """Hands back the body as received: `load_json` and the parsers judge it, not the client."""

        def deserialize(self, content: Any) -> Any:
            return content

    client_options = {"api_endpoint": options.api_base.rstrip("/") + "/"} if options.api_base else None
    return build(
        "youtube",
        "v3",
        developerKey=api_key,
        http=httplib2.Http(timeout=options.timeout_seconds),
        model=_Bytes(),
        static_discovery=True,
        cache_discovery=False,
        client_options=client_options,
        num_retries=0,
    )
