"""Naver search (blog, news, cafe articles) over httpx with the app's client id and secret."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlparse

import httpx
from pydantic import Field, SecretStr

from dangol.core.errors import AuthError, CollectError, ConfigError, PayloadError
from dangol.core.redact import redact_secrets
from dangol.core.registry import Options, required_secret
from dangol.core.types import AuthorIn, Billing, DeadLetterIn, Page, PostIn
from listener import ratelimit
from listener.query import compile_naver, matches, parse_query
from listener.records import (
    field,
    join_title,
    load_json,
    optional,
    parse_records,
    strip_html,
    text_field,
    whole_body_dead_letter,
)
from listener.walk import walk_keys

API_BASE = "https://openapi.naver.com"
SEOUL = timezone(timedelta(hours=9))  # Korea has had no daylight saving time since 1988
Kind = Literal["blog", "news", "cafearticle"]
ALL_KINDS: tuple[Kind, ...] = ("blog", "news", "cafearticle")
# Naver refuses start > 1000; the cursor remembers this many links of finished runs.
MAX_START = 1000
SEEN_LIMIT = 500


def parse_naver(body: Any) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """Items of one Naver search response (blog, news or cafearticle, told apart by their fields)."""
    try:
        doc = load_json(body)
        if not isinstance(doc, dict):
            raise PayloadError(f"a Naver response is a JSON object, got {type(doc).__name__}", raw=doc)
        if "errorCode" in doc:
            raise PayloadError(f"Naver error {doc.get('errorCode')}: {doc.get('errorMessage')}", raw=doc)
        items = field(doc, "items", list)
        built = _rfc822(doc["lastBuildDate"]) if isinstance(doc.get("lastBuildDate"), str) else None
    except PayloadError as exc:
        return whole_body_dead_letter("naver", exc, body)
    return parse_records("naver", items, lambda item: _item(item, built))


def _rfc822(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"not an RFC-822 date: {value!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=SEOUL)).astimezone(UTC)


def _postdate(value: str) -> datetime:
    try:
        day = datetime.strptime(value, "%Y%m%d")
    except ValueError as exc:
        raise PayloadError(f"field 'postdate' must be YYYYMMDD, got {value!r}") from exc
    return day.replace(tzinfo=SEOUL).astimezone(UTC)


def _item(item: Any, built: datetime | None) -> PostIn:
    link = text_field(item, "link")
    title = strip_html(text_field(item, "title"))
    text = strip_html(text_field(item, "description"))
    if "postdate" in item or "bloggername" in item:
        created = _postdate(text_field(item, "postdate"))
        author = _author(optional(item, "bloggerlink", str) or link, optional(item, "bloggername", str, ""))
    elif "pubDate" in item or "originallink" in item:
        created = _rfc822(text_field(item, "pubDate"))
        origin = optional(item, "originallink", str) or link
        author = _author(urlparse(origin).netloc or origin, urlparse(origin).netloc)
    elif "cafename" in item or "cafeurl" in item:
        # Cafe results carry no date: the response's build time is the closest we know.
        if built is None:
            raise PayloadError("cafe article without a date, and the response has no lastBuildDate")
        created = built
        author = _author(text_field(item, "cafeurl"), optional(item, "cafename", str, ""))
    else:
        raise PayloadError("item is neither a blog post, a news article nor a cafe article")
    return PostIn(
        platform="naver",
        external_id=link,
        author=author,
        text=join_title(title, text),
        title=title,
        created_at=created,
        url=link,
        raw=item,
    )


def _author(link: str, name: str) -> AuthorIn:
    handle = link.rstrip("/").rsplit("/", 1)[-1]
    url = link if link.startswith("http") else f"https://{link}"
    return AuthorIn(platform="naver", platform_id=link, handle=handle, display_name=strip_html(name), url=url)


class NaverOptions(Options):
    """Options of `use = "naver"`."""

    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    kinds: list[Kind] = Field(default_factory=lambda: list(ALL_KINDS))
    display: int = Field(default=100, ge=10, le=100)
    # The search API allows 25,000 calls a day per application (developers.naver.com, 검색 API
    # 이용 안내; checked 2026-12-03); lower it when other tools share the application.
    daily_call_limit: int = Field(default=25_000, ge=1)
    backfill_pages: int = Field(default=3, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)
    api_base: str = API_BASE


class NaverCollector:
    """Each kind sorted by date, newest first, paged with start/display."""

    platform = "naver"
    Options = NaverOptions

    def __init__(self, client: httpx.Client, query: str, options: NaverOptions) -> None:
        self.client = client
        self.options = options
        self.ast = parse_query(query)
        native = compile_naver(self.ast)
        if not native:
            raise ConfigError(f"Naver search needs words, phrases, -exclusions or simple OR; got {query!r}")
        self.native_query = native

    @staticmethod
    def billing(options: NaverOptions) -> Billing:
        """Calls per day, counted in Seoul time, when Naver's daily limit turns over."""
        return Billing(unit="calls", period="day", timezone="Asia/Seoul", limit=options.daily_call_limit)

    @classmethod
    def from_options(cls, name: str, query: str, options: NaverOptions) -> NaverCollector:
        """Require the app's id and secret, and build an httpx client."""
        app_id, secret = (
            required_secret(options, key, f"sources.{name}", f"Naver needs {key} (developers.naver.com, 검색 API)")
            for key in ("client_id", "client_secret")
        )
        client = make_client(app_id, secret, options)
        try:
            return cls(client, query, options)
        except ConfigError as exc:
            raise ConfigError(f"sources.{name}.query: {exc}") from exc

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """Every kind in turn; each page's cursor covers all kinds up to it."""
        yield from walk_keys(self.options.kinds, cursor, self._page, functools.partial(matches, self.ast), max_requests)

    def _page(self, kind: str, state: dict[str, Any]) -> tuple[list[PostIn], list[DeadLetterIn], dict[str, Any], bool]:
        # `seen`: links of finished runs (stop there); `run`: links of the unfinished run (skip them,
        # since new posts push older ones to later offsets); `start`: where the unfinished run goes on.
        seen, run = list(state.get("seen") or []), list(state.get("run") or [])
        start = int(state.get("start", 1))
        content = self._get(kind, start)
        try:
            doc = load_json(content)
            if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
                raise PayloadError("a Naver response has an items list", raw=content)
        except PayloadError as exc:
            return [], whole_body_dead_letter("naver", exc, content)[1], state, True
        posts, dead = parse_naver(doc)
        # Results are newest first: everything from the first link already seen on was collected before.
        older = next((i for i, post in enumerate(posts) if post.external_id in seen), len(posts))
        fresh = [post for post in posts[:older] if post.external_id not in run]
        run = run + [post.external_id for post in fresh]
        next_start = start + self.options.display
        pages = (next_start - 1) // self.options.display
        done = (
            len(doc["items"]) < self.options.display
            or older < len(posts)
            or next_start > MAX_START
            or (not seen and pages >= self.options.backfill_pages)
        )
        new_state = {"seen": (run + seen)[:SEEN_LIMIT]} if done else {"seen": seen, "run": run, "start": next_start}
        return fresh, dead, new_state, done

    def _get(self, kind: str, start: int) -> bytes:
        params: dict[str, str | int] = {
            "query": self.native_query,
            "display": self.options.display,
            "start": start,
            "sort": "date",
        }
        try:
            response = self.client.get(f"/v1/search/{kind}.json", params=params)
        except httpx.HTTPError as exc:
            raise CollectError(f"Naver {kind} search failed: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 429:
            raise ratelimit.rate_limited("naver", ratelimit.from_retry_after(response.headers.get("retry-after")))
        if response.status_code in (401, 403):
            raise AuthError(f"Naver refused the client id/secret (HTTP {response.status_code}): {_message(response)}")
        if not response.is_success:
            raise CollectError(f"Naver {kind} search answered HTTP {response.status_code}: {_message(response)}")
        return response.content


def _message(response: httpx.Response) -> str:
    """Naver's error, first 200 characters, with the client id and secret taken out BEFORE the cut
    (cut first, a secret straddling character 200 would leave its first half behind)."""
    try:
        body = response.json()
        text = f"{body.get('errorCode')} {body.get('errorMessage')}" if isinstance(body, dict) else str(body)
    except ValueError:
        text = response.text
    request = response._request  # None for a response built without a request (tests)
    sent = [request.headers.get(h, "") for h in ("X-Naver-Client-Id", "X-Naver-Client-Secret")] if request else []
    return redact_secrets(text, sent)[:200]


def make_client(client_id: str, client_secret: str, options: NaverOptions) -> httpx.Client:
    """An httpx client that sends the app's id and secret with every request."""
    headers = {"X-Naver-Client-Id": client_id, "X-Naver-Client-Secret": client_secret}
    return httpx.Client(base_url=options.api_base, headers=headers, timeout=options.timeout_seconds)
