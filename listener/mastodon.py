"""Mastodon through Mastodon.py: hashtag timelines and status search on any instance."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import requests
from pydantic import Field, SecretStr

from dangol.core.errors import AuthError, CollectError, ConfigError, PayloadError
from dangol.core.registry import Options
from dangol.core.types import AuthorIn, DeadLetterIn, Page, PostIn, Recheck
from listener import ratelimit
from listener.base import askable, batches
from listener.query import compile_each, compile_mastodon, matches, parse_query, search_key
from listener.records import (
    field,
    load_json,
    metrics,
    optional,
    parse_iso,
    parse_records,
    strip_html,
    text_field,
    whole_body_dead_letter,
)
from listener.walk import Fetched, Stream, walk_streams

if TYPE_CHECKING:
    from mastodon import Mastodon

# Status ids are numbers on Mastodon and letters and digits on some compatible servers; anything
# else would change the path of GET /api/v1/statuses/:id and is never asked about.
STATUS_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# What a status that is gone answers: 404 (deleted, or its account deleted) or 410 (gone).
GONE_STATUS = (404, 410)
METRICS = {
    "replies": "replies_count",
    "reposts": "reblogs_count",
    "likes": "favourites_count",
    "quotes": "quotes_count",
}


def parse_mastodon(body: Any) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """Statuses of a timeline (array), a v2 search result, a context, or one status."""
    try:
        statuses = _statuses(load_json(body))
    except PayloadError as exc:
        return whole_body_dead_letter("mastodon", exc, body)
    return parse_records("mastodon", statuses, _status)


def _statuses(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        if "statuses" in doc:
            return list(field(doc, "statuses", list))
        if "ancestors" in doc or "descendants" in doc:
            return list(doc.get("ancestors") or []) + list(doc.get("descendants") or [])
        if "content" in doc and "id" in doc:
            return [doc]
        if "error" in doc:
            raise PayloadError(f"Mastodon error response: {doc['error']}", raw=doc)
    raise PayloadError("a Mastodon response is a status array, a search result or a status", raw=doc)


def _status(status: Any) -> PostIn:
    status_id = text_field(status, "id")
    reblog = status.get("reblog") if isinstance(status, dict) else None
    # A boost carries no text of its own: analyse the boosted status, keep the booster as author.
    shown = reblog if isinstance(reblog, dict) else status
    text = strip_html(text_field(shown, "content"))
    quote = optional(shown, "quote", dict, {})
    quoted = optional(quote, "quoted_status", dict, {})
    reply_to = optional(status, "in_reply_to_id", str)
    spoiler = optional(shown, "spoiler_text", str) or None
    return PostIn(
        platform="mastodon",
        external_id=status_id,
        author=_account(field(status, "account", dict)),
        text=text,
        created_at=parse_iso(text_field(status, "created_at"), "created_at"),
        url=optional(status, "url", str) or optional(status, "uri", str),
        lang_hint=optional(shown, "language", str),
        title=spoiler,
        reply_to_id=reply_to,
        referenced_id=reblog["id"] if isinstance(reblog, dict) else optional(quoted, "id", str),
        is_retweet=isinstance(reblog, dict),
        is_quote=bool(quoted),
        is_reply=reply_to is not None,
        metrics=metrics(status, METRICS),
        raw=status,
    )


def _account(account: dict[str, Any]) -> AuthorIn:
    note = optional(account, "note", str)
    return AuthorIn(
        platform="mastodon",
        platform_id=text_field(account, "id", where="account"),
        handle=text_field(account, "acct", where="account"),
        display_name=optional(account, "display_name", str, ""),
        followers=optional(account, "followers_count", int),
        url=optional(account, "url", str),
        bio=strip_html(note) if note else None,
    )


class MastodonOptions(Options):
    """Options of `use = "mastodon"`."""

    instance: str = "https://mastodon.social"
    # Needed for search on most instances; hashtag timelines are public.
    access_token: SecretStr | None = None
    hashtags: list[str] = Field(default_factory=list)
    # Also run the query through the instance's status search (needs a token and full-text search).
    search: bool = True
    limit: int = Field(default=40, ge=1, le=40)
    backfill_pages: int = Field(default=3, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)


class MastodonCollector:
    """Hashtag timelines, then status search, each newest first and resumable."""

    platform = "mastodon"
    Options = MastodonOptions
    recheck_batch = 1  # GET /api/v1/statuses/:id, one status a request
    recheck_billed_per_id: dict[str, int] = {}

    def __init__(self, client: Mastodon, query: str, options: MastodonOptions, tap: ResponseTap) -> None:
        self.client = client
        self.options = options
        self.tap = tap
        self.ast = parse_query(query)
        # Mastodon search has no OR: each alternative of the query is searched on its own.
        self.native_queries = compile_each(self.ast, compile_mastodon) or []

    @classmethod
    def from_options(cls, name: str, query: str, options: MastodonOptions) -> MastodonCollector:
        """Require something to read (a token is optional) and build a Mastodon.py client."""
        searchable = compile_each(parse_query(query), compile_mastodon)
        if not options.hashtags and not (options.search and searchable):
            raise ConfigError(f"sources.{name}: Mastodon needs hashtags, or search = true with a searchable query")
        token = options.access_token.get_secret_value() if options.access_token else None
        client, tap = make_client(options.instance, token, options.timeout_seconds)
        return cls(client, query, options, tap)

    def stream_names(self) -> list[str]:
        """The cursor keys of this source: one per hashtag, and one per OR branch of the searched query."""
        names = [f"tag:{tag.lstrip('#').lower()}" for tag in self.options.hashtags]
        return names + ([search_key(q) for q in self.native_queries] if self.options.search else [])

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """Every hashtag timeline, then the search; each page's cursor covers all streams up to it."""
        streams: dict[str, Stream | None] = {
            key: Stream(functools.partial(self._get, key), key=int) for key in self.stream_names()
        }
        keep = functools.partial(matches, self.ast)
        yield from walk_streams(
            streams, cursor, max_requests=max_requests, backfill_pages=self.options.backfill_pages, keep=keep
        )

    def _get(self, key: str, max_id: str | None, since_id: str | None) -> Fetched:
        from mastodon import errors

        try:
            with self._asking():
                if key.startswith("search:"):
                    self.client.search_v2(
                        key.removeprefix("search:"),
                        result_type="statuses",
                        max_id=max_id,
                        limit=self.options.limit,
                        exclude_unreviewed=False,
                    )
                else:
                    tag = key.removeprefix("tag:")
                    self.client.timeline_hashtag(tag, max_id=max_id, since_id=since_id, limit=self.options.limit)
        except errors.MastodonAPIError as exc:
            if self.tap.last is not None and self.tap.last.ok:  # a 200 whose body is not JSON
                content = self.tap.last.content
                error = PayloadError("response is not valid JSON", raw=content[:2000])
                return Fetched(*whole_body_dead_letter("mastodon", error, content), broken=True)
            raise CollectError(f"{self.options.instance} request failed: {exc}") from exc
        except errors.MastodonError as exc:
            raise CollectError(f"{self.options.instance} request failed: {exc}") from exc
        assert self.tap.last is not None
        return read_page(self.tap.last.content, self.options.limit)

    def recheck(self, external_ids: Sequence[str], *, max_requests: int | None = None) -> Iterator[Recheck]:
        """Fetch each status (GET /api/v1/statuses/:id); yields, one by one, whether it is gone."""
        ids, unsendable = askable(external_ids, STATUS_ID.match)
        if unsendable:
            yield unsendable
        for [status_id] in batches(ids, self.recheck_batch, max_requests):
            yield Recheck(checked=[status_id], gone=[status_id] if self._gone(status_id) else [])

    def _gone(self, status_id: str) -> bool:
        """True when the instance answers that the status is gone, False when it shows it; any
        other answer (5xx, 401, a 404 that is not Mastodon's own, a network error) raises."""
        from mastodon import errors

        try:
            with self._asking():
                self.client.status(status_id)
        except errors.MastodonError as exc:
            if self._says_gone():
                return True
            raise CollectError(f"{self.options.instance} could not show status {status_id}: {exc}") from exc
        return False

    @contextmanager
    def _asking(self) -> Iterator[None]:
        """One request: the tap cleared before it, Mastodon.py's rate-limit and token errors raised
        as Dangol's after it; its other errors are left to the caller."""
        from mastodon import errors

        self.tap.last = None
        try:
            yield
        except errors.MastodonRatelimitError as exc:
            reset = ratelimit.header(self.tap.headers(), "x-ratelimit-reset")
            raise ratelimit.rate_limited("mastodon", ratelimit.from_iso(reset)) from exc
        except errors.MastodonUnauthorizedError as exc:
            raise AuthError(f"{self.options.instance} rejected the access token (401)") from exc

    def _says_gone(self) -> bool:
        """The last answer was a 404 or 410 with Mastodon's JSON error body ({"error": "Record not
        found"}): a proxy's or a wrong path's 404 page is not taken to mean the status was deleted."""
        last = self.tap.last
        if last is None or last.status_code not in GONE_STATUS:
            return False
        try:
            body = load_json(last.content)
        except PayloadError:
            return False
        return isinstance(body, dict) and isinstance(body.get("error"), str)


def read_page(content: bytes, limit: int) -> Fetched:
    """One response body as posts, rejects, and the max_id of the next (older) page."""
    try:
        statuses = _statuses(load_json(content))
    except PayloadError as exc:
        return Fetched(*whole_body_dead_letter("mastodon", exc, content), broken=True)
    posts, dead = parse_records("mastodon", statuses, _status)
    ids = [int(s["id"]) for s in statuses if isinstance(s, dict) and str(s.get("id", "")).isdigit()]
    # A short page is the last one; otherwise the next page starts below the oldest id seen.
    next_token = str(min(ids)) if ids and len(statuses) >= limit else None
    return Fetched(posts, dead, next_token)


class ResponseTap:
    """A requests hook keeping the last raw response: we parse its bytes ourselves, like replay does."""

    def __init__(self) -> None:
        self.last: requests.Response | None = None

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last = response

    def headers(self) -> dict[str, str]:
        return dict(self.last.headers) if self.last is not None else {}


def make_client(instance: str, access_token: str | None, timeout: float) -> tuple[Mastodon, ResponseTap]:
    """A Mastodon.py client that raises on limits (we schedule the retry) and never probes versions."""
    from mastodon import Mastodon

    tap = ResponseTap()
    session = requests.Session()
    session.hooks["response"].append(tap)
    client = Mastodon(
        api_base_url=instance.rstrip("/"),
        access_token=access_token,
        ratelimit_method="throw",
        request_timeout=timeout,
        # A declared version stops Mastodon.py from probing /api/v2/instance before calls.
        mastodon_version="4.0.0",
        version_check_mode="none",
        session=session,
    )
    return client, tap
